//! The *targets*: which (account, region) pairs to read, with which credentials, and a
//! sweep that runs work over them with bounded concurrency.
//!
//! A pair that cannot be read (access denied, a region that is not enabled, an error that
//! persists after the SDK's retries) becomes a [`Failure`] in the result; the other pairs
//! still complete. Only problems that stop everything (no region at all, the caller's own
//! identity, the organization's account list) are returned as errors.

use std::future::Future;

use aws_types::SdkConfig;
use futures::StreamExt;
use serde::Serialize;

use immutag_core::change::RepoKey;

use crate::error::{AwsError, check_account_id, check_region};
use crate::session::{self, Identity};

/// Which accounts to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AccountSelection {
    /// The account of the base credentials.
    #[default]
    Current,
    /// These accounts (`--accounts`); the current one is read directly, the others through
    /// the role.
    Listed(Vec<String>),
    /// Every ACTIVE account of the organization (`--org`).
    Organization,
}

/// Which regions to read in each account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RegionSelection {
    /// The configured region (`AWS_REGION`, the profile, `--region`).
    #[default]
    Configured,
    /// These regions (`--regions`).
    Listed(Vec<String>),
    /// Every region enabled for each account (`--all-regions`, `ec2:DescribeRegions`).
    AllEnabled,
}

/// What to fan out over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetOptions {
    /// Accounts.
    pub accounts: AccountSelection,
    /// Regions.
    pub regions: RegionSelection,
    /// The role assumed in accounts other than the caller's.
    pub role_name: String,
    /// How many (account, region) pairs are read at once.
    pub concurrency: usize,
}

impl Default for TargetOptions {
    fn default() -> Self {
        Self {
            accounts: AccountSelection::Current,
            regions: RegionSelection::Configured,
            role_name: session::DEFAULT_ROLE_NAME.to_owned(),
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// Default number of (account, region) pairs read at once.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// One (account, region) pair.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Target {
    /// The account id.
    pub account_id: String,
    /// The region.
    pub region: String,
}

/// Something that could not be read (an account, a region, a repository). Reported in every
/// output and in the exit status.
pub use immutag_core::plan::ReadFailure as Failure;

/// Something an endpoint does not implement, so it was not checked (reported; not a failure).
pub use immutag_core::plan::ReadWarning as Warning;

/// The failure of `target` with `err`.
pub fn target_failure(target: &Target, err: &AwsError) -> Failure {
    Failure {
        account_id: Some(target.account_id.clone()),
        region: Some(target.region.clone()),
        repository: None,
        code: err.code().map(str::to_owned),
        error: err.to_string(),
    }
}

/// A region left out on purpose (`--all-regions` and the region is not enabled).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Skipped {
    /// The account.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// Why (the opt-in status).
    pub reason: String,
}

/// What a sweep over the targets produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep<T> {
    /// The pairs that were attempted, sorted.
    pub targets: Vec<Target>,
    /// Everything the work returned, in completion order.
    pub items: Vec<T>,
    /// What could not be read, sorted.
    pub failures: Vec<Failure>,
    /// Regions left out because they are not enabled, sorted.
    pub skipped: Vec<Skipped>,
    /// Repositories deleted while they were being read (listed, then not found), left out.
    pub dropped: Vec<RepoKey>,
}

/// Progress reports (the CLI draws a progress bar from them).
pub trait Progress: Send + Sync {
    /// The number of pairs is known.
    fn start(&self, targets: usize);
    /// One pair finished: `Ok(items)` or the error.
    fn finish(&self, target: &Target, result: Result<usize, &AwsError>);
}

/// A [`Progress`] that reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: usize) {}
    fn finish(&self, _: &Target, _: Result<usize, &AwsError>) {}
}

/// Runs `work` over `targets`, `concurrency` at a time (`buffer_unordered`). Each target
/// carries its own context `C` (for example an `SdkConfig` or a client). Failed targets become
/// [`Failure`]s; the others' items are collected.
pub async fn run_targets<C, T, F, Fut>(
    targets: Vec<(C, Target)>,
    concurrency: usize,
    progress: &dyn Progress,
    work: F,
) -> (Vec<T>, Vec<Failure>)
where
    F: Fn(C, Target) -> Fut,
    Fut: Future<Output = Result<Vec<T>, AwsError>>,
{
    progress.start(targets.len());
    let work = &work;
    let mut stream = futures::stream::iter(targets.into_iter().map(|(ctx, target)| async move {
        let result = work(ctx, target.clone()).await;
        (target, result)
    }))
    .buffer_unordered(concurrency.max(1));
    let mut items = Vec::new();
    let mut failures = Vec::new();
    while let Some((target, result)) = stream.next().await {
        match result {
            Ok(found) => {
                progress.finish(&target, Ok(found.len()));
                items.extend(found);
            }
            Err(err) => {
                tracing::warn!(account = %target.account_id, region = %target.region, error = %err, "target failed");
                progress.finish(&target, Err(&err));
                failures.push(target_failure(&target, &err));
            }
        }
    }
    failures.sort();
    (items, failures)
}

/// The accounts and regions selected by `opts`, each with its credentials, resolved from
/// `base` (whose identity is `identity`).
pub struct Targets {
    /// Pairs to read, each with the configuration to read it with (region set).
    pub targets: Vec<(SdkConfig, Target)>,
    /// Account-level failures (region list unreadable).
    pub failures: Vec<Failure>,
    /// Regions not enabled.
    pub skipped: Vec<Skipped>,
}

/// Resolves the (account, region) pairs of `opts`.
pub async fn resolve(
    base: &SdkConfig,
    identity: &Identity,
    opts: &TargetOptions,
) -> Result<Targets, AwsError> {
    let accounts: Vec<String> = match &opts.accounts {
        AccountSelection::Current => vec![identity.account_id.clone()],
        AccountSelection::Listed(ids) => {
            for id in ids {
                check_account_id(id)?;
            }
            let mut ids = ids.clone();
            ids.sort();
            ids.dedup();
            ids
        }
        AccountSelection::Organization => {
            let org = aws_sdk_organizations::Client::new(base);
            crate::org::active_accounts(&org)
                .await?
                .into_iter()
                .map(|a| a.id)
                .collect()
        }
    };
    let listed_regions = match &opts.regions {
        RegionSelection::Configured => {
            let region = base.region().ok_or(AwsError::NoRegion)?;
            Some(vec![region.as_ref().to_owned()])
        }
        RegionSelection::Listed(rs) => {
            if rs.is_empty() {
                return Err(AwsError::NoRegion);
            }
            for r in rs {
                check_region(r)?;
            }
            let mut rs = rs.clone();
            rs.sort();
            rs.dedup();
            Some(rs)
        }
        RegionSelection::AllEnabled => None,
    };

    let mut account_configs = Vec::with_capacity(accounts.len());
    for account in &accounts {
        let config = if *account == identity.account_id {
            base.clone()
        } else {
            let arn = session::role_arn(&identity.partition, account, &opts.role_name)?;
            session::assume_role(base, &arn).await
        };
        account_configs.push((account.clone(), config));
    }

    let mut plan = Targets {
        targets: Vec::new(),
        failures: Vec::new(),
        skipped: Vec::new(),
    };
    match listed_regions {
        Some(regions) => {
            for (account, config) in &account_configs {
                for region in &regions {
                    plan.targets.push((
                        session::with_region(config, region),
                        Target {
                            account_id: account.clone(),
                            region: region.clone(),
                        },
                    ));
                }
            }
        }
        None => {
            let lookups =
                futures::stream::iter(account_configs.iter().map(|(account, config)| async move {
                    let ec2 = aws_sdk_ec2::Client::new(config);
                    (account, config, crate::org::regions(&ec2).await)
                }))
                .buffer_unordered(opts.concurrency.max(1))
                .collect::<Vec<_>>()
                .await;
            for (account, config, result) in lookups {
                match result {
                    Ok(regions) => {
                        for region in regions.enabled {
                            plan.targets.push((
                                session::with_region(config, &region),
                                Target {
                                    account_id: account.clone(),
                                    region,
                                },
                            ));
                        }
                        for (region, status) in regions.disabled {
                            plan.skipped.push(Skipped {
                                account_id: account.clone(),
                                region,
                                reason: format!("region not enabled ({status})"),
                            });
                        }
                    }
                    Err(err) => plan.failures.push(Failure {
                        account_id: Some(account.clone()),
                        region: None,
                        repository: None,
                        code: err.code().map(str::to_owned),
                        error: err.to_string(),
                    }),
                }
            }
        }
    }
    plan.targets.sort_by(|a, b| a.1.cmp(&b.1));
    plan.failures.sort();
    plan.skipped.sort();
    Ok(plan)
}

/// The control-plane configuration: `base`, or `base` in the first listed region when `base`
/// has none (STS, Organizations and EC2 need a region to resolve their endpoint).
pub fn control_config(base: &SdkConfig, opts: &TargetOptions) -> Result<SdkConfig, AwsError> {
    if base.region().is_some() {
        return Ok(base.clone());
    }
    match &opts.regions {
        RegionSelection::Listed(rs) => match rs.first() {
            Some(r) => {
                check_region(r)?;
                Ok(session::with_region(base, r))
            }
            None => Err(AwsError::NoRegion),
        },
        _ => Err(AwsError::NoRegion),
    }
}

/// Resolves the pairs of `opts` and runs `work` over them (a sweep).
pub async fn sweep<T, F, Fut>(
    base: &SdkConfig,
    opts: &TargetOptions,
    progress: &dyn Progress,
    work: F,
) -> Result<Sweep<T>, AwsError>
where
    F: Fn(SdkConfig, Target) -> Fut,
    Fut: Future<Output = Result<Vec<T>, AwsError>>,
{
    let control = control_config(base, opts)?;
    let identity = session::caller_identity(&control).await?;
    let plan = resolve(&control, &identity, opts).await?;
    let targets: Vec<Target> = plan.targets.iter().map(|(_, t)| t.clone()).collect();
    let (items, mut failures) = run_targets(plan.targets, opts.concurrency, progress, work).await;
    failures.extend(plan.failures);
    failures.sort();
    Ok(Sweep {
        targets,
        items,
        failures,
        skipped: plan.skipped,
        dropped: Vec::new(),
    })
}
