//! The flow of `immutag plan`: the inventory of each (account, region) target, the
//! evaluation of each repository, and the images of every non-compliant one
//! (`ecr:DescribeImages`, paginated), turned into the *plan*. The recommendation itself is
//! pure: [`immutag_core::plan::recommend`].

use aws_types::SdkConfig;
use futures::StreamExt;
use immutag_core::plan::{PLAN_SCHEMA_VERSION, Plan, Recommendation, recommend};
use immutag_core::{Compliance, Repository, RuleParameters, evaluate};

use crate::error::AwsError;
use crate::targets::{Failure, Progress, Target, TargetOptions, sweep};

/// The result for one repository.
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    /// Its recommendation.
    Recommendation(Box<Recommendation>),
    /// Its images could not be read.
    Failed(Failure),
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
    let mut repos = crate::ecr::inventory(&client, &target.account_id, &target.region).await?;
    if params.exemption_tag_key.is_some() {
        repos = crate::ecr::fill_tags_all(&client, repos, concurrency).await?;
    }
    let open: Vec<Repository> = repos
        .into_iter()
        .filter(|r| evaluate(r, params).compliance == Compliance::NonCompliant)
        .collect();
    let client = &client;
    Ok(recommend_repositories(open, params, concurrency, |_| Some(client)).await)
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
    for item in items {
        match item {
            Planned::Recommendation(p) => repositories.push(*p),
            Planned::Failed(f) => failures.push(f),
        }
    }
    repositories.sort_by(|a, b| {
        (&a.account_id, &a.region, &a.name).cmp(&(&b.account_id, &b.region, &b.name))
    });
    failures.sort();
    Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        repositories,
        failures,
    }
}
