//! The reads behind `immutag plan`: the inventory of each (account, region), the evaluation of
//! each repository, and the images of every non-compliant one (`ecr:DescribeImages`,
//! paginated). The recommendation itself is pure: [`immutag_core::plan::recommend`].

use aws_types::SdkConfig;
use futures::StreamExt;
use immutag_core::change::RepoKey;
use immutag_core::plan::{PLAN_SCHEMA_VERSION, PlanDocument, RepositoryPlan, recommend};
use immutag_core::{Compliance, Repository, RuleParameters, evaluate};

use crate::error::AwsError;
use crate::fanout::{Failure, FanOutOptions, Progress, Target, fan_out};

/// The result for one repository.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanItem {
    /// A plan.
    Plan(Box<RepositoryPlan>),
    /// Its images could not be read.
    Failed(Failure),
    /// It was deleted while being read (listed, then not found): left out of the plan.
    Dropped(RepoKey),
}

/// Plans the non-compliant repositories of one (account, region): reads the inventory,
/// evaluates it with `params`, and reads the images of each non-compliant repository,
/// `concurrency` repositories at a time. A repository whose images cannot be read becomes a
/// [`PlanItem::Failed`]; the others are still planned.
pub async fn plan_target(
    config: &SdkConfig,
    target: &Target,
    params: &RuleParameters,
    concurrency: usize,
) -> Result<Vec<PlanItem>, AwsError> {
    let client = aws_sdk_ecr::Client::new(config);
    plan_target_with(&client, target, params, concurrency).await
}

/// [`plan_target`] with an ECR client of the target's account and region.
pub async fn plan_target_with(
    client: &aws_sdk_ecr::Client,
    target: &Target,
    params: &RuleParameters,
    concurrency: usize,
) -> Result<Vec<PlanItem>, AwsError> {
    let client = client.clone();
    let mut repos = crate::ecr::inventory(&client, &target.account_id, &target.region).await?;
    let mut dropped = Vec::new();
    if params.exemption_tag_key.is_some() {
        let tagged = crate::ecr::fill_tags_all(&client, repos, concurrency).await?;
        repos = tagged.repositories;
        dropped = tagged.dropped;
    }
    let open: Vec<Repository> = repos
        .into_iter()
        .filter(|r| evaluate(r, params).compliance == Compliance::NonCompliant)
        .collect();
    let client = &client;
    let items = futures::stream::iter(open.into_iter().map(|repo| async move {
        let name = repo
            .name
            .clone()
            .unwrap_or_else(|| repo.resource_id.clone());
        match crate::ecr::images(client, repo.account_id.as_deref(), &name).await {
            Ok(images) => PlanItem::Plan(Box::new(recommend(&repo, &images, params))),
            Err(err) if err.code() == Some("RepositoryNotFoundException") => PlanItem::Dropped(
                RepoKey::new(repo.account_id.as_deref(), repo.region.as_deref(), &name),
            ),
            Err(err) => PlanItem::Failed(Failure {
                account_id: repo.account_id.clone(),
                region: repo.region.clone(),
                repository: Some(name),
                code: err.code().map(str::to_owned),
                error: err.to_string(),
            }),
        }
    }))
    .buffer_unordered(concurrency.max(1))
    .collect::<Vec<_>>()
    .await;
    let mut items = items;
    items.extend(dropped.into_iter().map(|name| {
        PlanItem::Dropped(RepoKey::new(
            Some(&target.account_id),
            Some(&target.region),
            &name,
        ))
    }));
    Ok(items)
}

/// Plans every selected (account, region): the document `immutag plan --output json` prints.
pub async fn plan(
    base: &SdkConfig,
    opts: &FanOutOptions,
    params: &RuleParameters,
    progress: &dyn Progress,
) -> Result<PlanDocument, AwsError> {
    let concurrency = opts.concurrency;
    let out = fan_out(base, opts, progress, |config, target| async move {
        plan_target(&config, &target, params, concurrency).await
    })
    .await?;
    Ok(document(out.items, out.failures))
}

/// Assembles a sorted [`PlanDocument`].
pub fn document(items: Vec<PlanItem>, mut failures: Vec<Failure>) -> PlanDocument {
    let mut repositories = Vec::new();
    for item in items {
        match item {
            PlanItem::Plan(p) => repositories.push(*p),
            PlanItem::Failed(f) => failures.push(f),
            PlanItem::Dropped(key) => tracing::info!(
                repository = %key.repository,
                "deleted while the plan read it; left out"
            ),
        }
    }
    repositories.sort_by(|a, b| {
        (&a.account_id, &a.region, &a.name).cmp(&(&b.account_id, &b.region, &b.name))
    });
    failures.sort();
    PlanDocument {
        schema_version: PLAN_SCHEMA_VERSION,
        repositories,
        failures,
    }
}
