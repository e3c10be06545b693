//! The flow of `immutag scan`: the repositories of every target, evaluated like
//! `immutag evaluate` evaluates files (same parameters, same verdicts).
//!
//! Calls: per account and region, `ecr:DescribeRepositories` with `maxResults=1000`
//! (`ceil(N/1000)` calls, nothing per repository); `sts:GetCallerIdentity` once;
//! `sts:AssumeRole` once per other account; `organizations:ListAccounts` with `--org`;
//! `ec2:DescribeRegions` per account with `--all-regions`; `ecr:ListTagsForResource` per
//! repository only when `ExemptionTagKey` is set.

use aws_types::SdkConfig;
use immutag_core::change::RepoKey;
use immutag_core::{Evaluation, Repository, RuleParameters, evaluate_all};

use crate::error::AwsError;
use crate::targets::{Failure, Progress, Skipped, Sweep, Target, TargetOptions, sweep};

/// What a scan found.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanReport {
    /// The targets read (or attempted), sorted.
    pub targets: Vec<Target>,
    /// One evaluation per repository, sorted by account, region, name.
    pub evaluations: Vec<Evaluation>,
    /// What could not be read.
    pub failures: Vec<Failure>,
    /// Regions left out because they are not enabled.
    pub skipped: Vec<Skipped>,
    /// Repositories deleted while they were being read, left out (counted, not failed).
    pub dropped: Vec<RepoKey>,
}

impl ScanReport {
    /// True when some target or repository could not be read (exit 3).
    pub fn incomplete(&self) -> bool {
        !self.failures.is_empty()
    }
}

/// Scans every target of `opts` and evaluates each repository with `params`.
pub async fn scan(
    base: &SdkConfig,
    opts: &TargetOptions,
    params: &RuleParameters,
    progress: &dyn Progress,
) -> Result<ScanReport, AwsError> {
    let inv = inventory(base, opts, params.exemption_tag_key.is_some(), progress).await?;
    Ok(ScanReport {
        targets: inv.targets,
        evaluations: evaluate_all(&inv.items, params),
        failures: inv.failures,
        skipped: inv.skipped,
        dropped: inv.dropped,
    })
}

/// Reads the repository inventory of every selected (account, region) pair. With
/// `with_tags`, also reads each repository's tags (one `ecr:ListTagsForResource` per
/// repository; needed only for `ExemptionTagKey`).
pub async fn inventory(
    base: &SdkConfig,
    opts: &TargetOptions,
    with_tags: bool,
    progress: &dyn Progress,
) -> Result<Sweep<Repository>, AwsError> {
    let concurrency = opts.concurrency;
    let dropped = std::sync::Mutex::new(Vec::new());
    let mut out = sweep(base, opts, progress, |config, target| {
        let dropped = &dropped;
        async move {
            let client = aws_sdk_ecr::Client::new(&config);
            let repos = crate::ecr::inventory(&client, &target.account_id, &target.region).await?;
            if !with_tags {
                return Ok(repos);
            }
            // A repository deleted between the listing and its tags is dropped and counted.
            let tagged = crate::ecr::fill_tags_all(&client, repos, concurrency).await?;
            if let Ok(mut d) = dropped.lock() {
                d.extend(tagged.dropped.iter().map(|name| {
                    RepoKey::new(Some(&target.account_id), Some(&target.region), name)
                }));
            }
            Ok(tagged.repositories)
        }
    })
    .await?;
    out.dropped = dropped.into_inner().unwrap_or_default();
    out.dropped.sort();
    out.items.sort_by(|a, b| {
        (&a.account_id, &a.region, &a.resource_id).cmp(&(&b.account_id, &b.region, &b.resource_id))
    });
    Ok(out)
}
