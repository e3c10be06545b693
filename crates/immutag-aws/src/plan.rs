//! The flow of `immutag plan`: the inventory of each (account, region) target (repositories
//! and creation templates), the evaluation of each, and the images of every non-compliant
//! repository (`ecr:DescribeImages`, paginated), turned into the *plan*, on *evidence* when it
//! is given (the moves read by [`crate::evidence::read`]). The recommendation itself is pure:
//! [`immutag_core::plan::recommend_on_evidence`], or [`immutag_core::plan::recommend`] (a
//! guess from tag names) without evidence. Templates are planned without images; an endpoint
//! that does not implement the template reads gives a warning in the plan.

use aws_types::SdkConfig;
use futures::StreamExt;
use immutag_core::change::RepoKey;
use immutag_core::evidence::Evidence;
use immutag_core::plan::{
    DEFAULT_STORAGE_PRICE, ImageRecord, Plan, Recommendation, recommend, recommend_on_evidence,
};
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

/// What a plan rests on besides the repositories: the rule parameters, the evidence (none: a
/// guess from tag names) and the storage price of the untagged-image estimates.
#[derive(Debug, Clone, Copy)]
pub struct PlanInputs<'a> {
    /// The rule parameters: the verdicts and the exclusions the rule accepts.
    pub params: &'a RuleParameters,
    /// The tag moves read from CloudTrail; `None`: guess re-use from tag names.
    pub evidence: Option<&'a Evidence>,
    /// USD per GB-month.
    pub storage_price: f64,
}

impl<'a> PlanInputs<'a> {
    /// A guess from tag names, at the default storage price.
    pub fn guess(params: &'a RuleParameters) -> Self {
        Self {
            params,
            evidence: None,
            storage_price: DEFAULT_STORAGE_PRICE,
        }
    }

    /// The recommendation for `repo` with its `images`.
    pub fn recommend(&self, repo: &Repository, images: &[ImageRecord]) -> Recommendation {
        match self.evidence {
            None => recommend(repo, images, self.params),
            Some(evidence) => {
                let name = repo.name.as_deref().unwrap_or(&repo.resource_id);
                let seen =
                    evidence.repository(repo.account_id.as_deref(), repo.region.as_deref(), name);
                recommend_on_evidence(repo, images, &seen, self.params)
            }
        }
    }
}

/// Plans the non-compliant repositories of one target: reads the inventory, evaluates it with
/// `params`, and reads the images of each non-compliant repository, `concurrency`
/// repositories at a time. A repository whose images cannot be read becomes a
/// [`Planned::Failed`]; the others are still planned.
pub async fn plan_target(
    config: &SdkConfig,
    target: &Target,
    inputs: &PlanInputs<'_>,
    concurrency: usize,
) -> Result<Vec<Planned>, AwsError> {
    let client = aws_sdk_ecr::Client::new(config);
    plan_target_with(&client, target, inputs, concurrency).await
}

/// [`plan_target`] with an ECR client of the target's account and region.
pub async fn plan_target_with(
    client: &aws_sdk_ecr::Client,
    target: &Target,
    inputs: &PlanInputs<'_>,
    concurrency: usize,
) -> Result<Vec<Planned>, AwsError> {
    let params = inputs.params;
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
    planned.extend(recommend_repositories(open, inputs, concurrency, |_| Some(client)).await);
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
/// ([`PlanInputs::recommend`]: on evidence, or a guess). A repository without a client or
/// whose images cannot be read becomes a [`Planned::Failed`].
pub async fn recommend_repositories<'c>(
    repos: Vec<Repository>,
    inputs: &PlanInputs<'_>,
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
            Ok(images) => Planned::Recommendation(Box::new(inputs.recommend(&repo, &images))),
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
    inputs: &PlanInputs<'_>,
    progress: &dyn Progress,
) -> Result<Plan, AwsError> {
    let concurrency = opts.concurrency;
    let out = sweep(base, opts, progress, |config, target| async move {
        plan_target(&config, &target, inputs, concurrency).await
    })
    .await?;
    Ok(assemble(out.items, out.failures, inputs.storage_price))
}

/// Assembles a sorted [`Plan`], its untagged images priced at `storage_price` USD per
/// GB-month.
pub fn assemble(items: Vec<Planned>, mut failures: Vec<Failure>, storage_price: f64) -> Plan {
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
    let mut plan = Plan::new(repositories, failures, storage_price);
    plan.warnings = warnings;
    plan
}
