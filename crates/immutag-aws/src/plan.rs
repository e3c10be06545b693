//! The flow of `immutag plan`: the inventory of each (account, region) target (repositories
//! and creation templates), the evaluation of each, and the images of every non-compliant
//! repository (`ecr:DescribeImages`, paginated), turned into the *plan*. The recommendation
//! itself is pure: [`immutag_core::plan::recommend`]. Templates are planned without images;
//! an endpoint that does not implement the template reads gives a warning in the plan.

use aws_types::SdkConfig;
use futures::StreamExt;
use immutag_core::change::RepoKey;
use immutag_core::plan::{PLAN_SCHEMA_VERSION, Plan, Recommendation, recommend};
use immutag_core::{Compliance, Repository, RuleParameters, evaluate};

use crate::error::AwsError;
use crate::targets::{Failure, Progress, Target, TargetOptions, Warning, sweep, target_failure};

/// The result for one repository (or creation template, or a target's templates).
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    /// Its recommendation.
    Recommendation(Box<Recommendation>),
    /// Its images (or the target's templates) could not be read.
    Failed(Failure),
    /// It was deleted while being read (listed, then not found): left out of the plan.
    Dropped(RepoKey),
    /// The endpoint does not implement the template reads: templates not planned.
    Warning(Warning),
}

/// Plans the non-compliant repositories of one target: reads the inventory, evaluates it with
/// `params`, and reads the images of each non-compliant repository, `concurrency`
/// repositories at a time. A repository whose images cannot be read becomes a
/// [`Planned::Failed`]; the others are still planned.
pub async fn plan_target(
    config: &SdkConfig,
    target: &Target,
    params: &RuleParameters,
    concurrency: usize,
) -> Result<Vec<Planned>, AwsError> {
    let client = aws_sdk_ecr::Client::new(config);
    plan_target_with(&client, target, params, concurrency).await
}

/// [`plan_target`] with an ECR client of the target's account and region.
pub async fn plan_target_with(
    client: &aws_sdk_ecr::Client,
    target: &Target,
    params: &RuleParameters,
    concurrency: usize,
) -> Result<Vec<Planned>, AwsError> {
    let client = client.clone();
    let mut repos = crate::ecr::inventory(&client, &target.account_id, &target.region).await?;
    let mut dropped = Vec::new();
    if params.exemption_tag_key.is_some() {
        let tagged = crate::ecr::fill_tags_all(&client, repos, concurrency).await?;
        repos = tagged.repositories;
        dropped = tagged.dropped;
    }
    let mut planned = Vec::new();
    match crate::ecr::creation_templates(&client, &target.account_id, &target.region).await {
        Ok(templates) => planned.extend(
            templates
                .iter()
                .filter(|t| evaluate(t, params).compliance == Compliance::NonCompliant)
                .map(|t| Planned::Recommendation(Box::new(recommend(t, &[], params)))),
        ),
        Err(e @ AwsError::Unsupported { .. }) => planned.push(Planned::Warning(Warning {
            account_id: target.account_id.clone(),
            region: target.region.clone(),
            message: format!("{e}: creation templates not planned"),
        })),
        Err(e) => {
            let mut f = target_failure(target, &e);
            f.error = format!("{}: creation templates not planned", f.error);
            planned.push(Planned::Failed(f));
        }
    }
    let open: Vec<Repository> = repos
        .into_iter()
        .filter(|r| evaluate(r, params).compliance == Compliance::NonCompliant)
        .collect();
    let client = &client;
    planned.extend(recommend_repositories(open, params, concurrency, |_| Some(client)).await);
    planned.extend(dropped.into_iter().map(|name| {
        Planned::Dropped(RepoKey::new(
            Some(&target.account_id),
            Some(&target.region),
            &name,
        ))
    }));
    Ok(planned)
}

/// Reads the images of each repository (`ecr:DescribeImages`, paginated) with the client
/// `client_of` gives for it, `concurrency` at once, and recommends its target
/// ([`recommend`]). A repository without a client or whose images cannot be read becomes a
/// [`Planned::Failed`].
pub async fn recommend_repositories<'c>(
    repos: Vec<Repository>,
    params: &RuleParameters,
    concurrency: usize,
    client_of: impl Fn(&Repository) -> Option<&'c aws_sdk_ecr::Client>,
) -> Vec<Planned> {
    let client_of = &client_of;
    futures::stream::iter(repos.into_iter().map(|repo| async move {
        let name = repo
            .name
            .clone()
            .unwrap_or_else(|| repo.resource_id.clone());
        let failed = |code: Option<&str>, error: String| {
            Planned::Failed(Failure {
                account_id: repo.account_id.clone(),
                region: repo.region.clone(),
                repository: Some(name.clone()),
                code: code.map(str::to_owned),
                error,
            })
        };
        let Some(client) = client_of(&repo) else {
            return failed(None, "no credentials for its account and region".into());
        };
        match crate::ecr::images(client, repo.account_id.as_deref(), &name).await {
            Ok(images) => Planned::Recommendation(Box::new(recommend(&repo, &images, params))),
            // Deleted since it was listed: left out, counted.
            Err(err) if err.code() == Some("RepositoryNotFoundException") => Planned::Dropped(
                RepoKey::new(repo.account_id.as_deref(), repo.region.as_deref(), &name),
            ),
            Err(err) => failed(err.code(), err.to_string()),
        }
    }))
    .buffer_unordered(concurrency.max(1))
    .collect::<Vec<_>>()
    .await
}

/// Plans every target of `opts`: the plan `immutag plan --output json` prints.
pub async fn plan(
    base: &SdkConfig,
    opts: &TargetOptions,
    params: &RuleParameters,
    progress: &dyn Progress,
) -> Result<Plan, AwsError> {
    let concurrency = opts.concurrency;
    let out = sweep(base, opts, progress, |config, target| async move {
        plan_target(&config, &target, params, concurrency).await
    })
    .await?;
    Ok(assemble(out.items, out.failures))
}

/// Assembles a sorted [`Plan`].
pub fn assemble(items: Vec<Planned>, mut failures: Vec<Failure>) -> Plan {
    let mut repositories = Vec::new();
    let mut warnings = Vec::new();
    for item in items {
        match item {
            Planned::Recommendation(p) => repositories.push(*p),
            Planned::Failed(f) => failures.push(f),
            Planned::Dropped(key) => tracing::info!(
                repository = %key.repository,
                "deleted while the plan read it; left out"
            ),
            Planned::Warning(w) => warnings.push(w),
        }
    }
    repositories.sort_by(|a, b| {
        (&a.account_id, &a.region, a.resource_kind, &a.name).cmp(&(
            &b.account_id,
            &b.region,
            b.resource_kind,
            &b.name,
        ))
    });
    failures.sort();
    warnings.sort();
    Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        repositories,
        failures,
        warnings,
    }
}
