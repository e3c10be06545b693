//! The flow of `immutag scan`: the repositories of a *source*, evaluated like `immutag
//! evaluate` evaluates files (same parameters, same verdicts). The source is one of
//! [`ScanSource`]: the live targets, a Config aggregator, or the caller's own Config.
//!
//! Calls of a live scan: per account and region, `ecr:DescribeRepositories` with
//! `maxResults=1000` (`ceil(N/1000)` calls, nothing per repository); `sts:GetCallerIdentity`
//! once; `sts:AssumeRole` once per other account; `organizations:ListAccounts` with `--org`;
//! `ec2:DescribeRegions` per account with `--all-regions`; `ecr:ListTagsForResource` per
//! repository only when `ExemptionTagKey` is set. The calls of the recorded sources are listed
//! in [`crate::config_query`]; those of `--suppress-allowed` in [`crate::securityhub`].

use aws_types::SdkConfig;
use immutag_core::{Evaluation, Repository, RuleParameters, evaluate_all};

use crate::config_query::{self, Calls, NoData, QueryFilter, Store};
use crate::error::AwsError;
use crate::securityhub::SuppressReport;
use crate::targets::{
    AccountSelection, Failure, Progress, Skipped, Sweep, Target, TargetOptions, run_targets, sweep,
};

/// Where a scan reads the repositories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanSource {
    /// The live ECR API of these targets (a role in every other account).
    Live(TargetOptions),
    /// The recorded state of a Config aggregator (`--aggregator NAME`): the accounts and
    /// regions of `filter` (empty: every one the aggregator holds).
    Aggregator {
        /// The aggregator's name (it lives in the configured region).
        name: String,
        /// Accounts and regions, pushed down into the query.
        filter: QueryFilter,
    },
    /// The recorded state of the caller's own Config (`--config-query`), in the regions of
    /// the options (their accounts must be the caller's).
    ConfigQuery(TargetOptions),
}

/// Options of [`scan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOptions {
    /// Where the repositories are read.
    pub source: ScanSource,
    /// `--suppress-allowed`: suppress the ECR.2 findings of repositories compliant under the
    /// rule's parameters; `Some(apply)`.
    pub suppress_allowed: Option<bool>,
}

impl ScanOptions {
    /// A live scan of `targets`, nothing suppressed.
    pub fn live(targets: TargetOptions) -> Self {
        Self {
            source: ScanSource::Live(targets),
            suppress_allowed: None,
        }
    }
}

/// What a scan found.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanReport {
    /// The targets read (or attempted), sorted; for a recorded source, the (account, region)
    /// pairs that hold a repository.
    pub targets: Vec<Target>,
    /// One evaluation per repository, sorted by account, region, name.
    pub evaluations: Vec<Evaluation>,
    /// What could not be read.
    pub failures: Vec<Failure>,
    /// Regions left out because they are not enabled.
    pub skipped: Vec<Skipped>,
    /// Accounts and regions the recorded state has no data for (their repositories are
    /// absent from the report).
    pub no_data: Vec<NoData>,
    /// The Config calls of a recorded source.
    pub calls: Option<Calls>,
    /// What `--suppress-allowed` found and did.
    pub suppression: Option<SuppressReport>,
}

impl ScanReport {
    /// True when some target, repository or finding could not be read or updated (exit 3).
    pub fn incomplete(&self) -> bool {
        !self.failures.is_empty() || self.suppression.as_ref().is_some_and(|s| s.incomplete())
    }

    fn of(targets: Vec<Target>, mut repos: Vec<Repository>, params: &RuleParameters) -> Self {
        sort_repositories(&mut repos);
        Self {
            targets,
            evaluations: evaluate_all(&repos, params),
            failures: Vec::new(),
            skipped: Vec::new(),
            no_data: Vec::new(),
            calls: None,
            suppression: None,
        }
    }
}

/// Scans the source of `opts` and evaluates each repository with `params`; then, with
/// `--suppress-allowed`, updates the Security Hub findings of the compliant ones.
pub async fn scan(
    base: &SdkConfig,
    opts: &ScanOptions,
    params: &RuleParameters,
    progress: &dyn Progress,
) -> Result<ScanReport, AwsError> {
    let mut report = match &opts.source {
        ScanSource::Live(targets) => {
            let inv =
                inventory(base, targets, params.exemption_tag_key.is_some(), progress).await?;
            let mut r = ScanReport::of(inv.targets, inv.items, params);
            r.failures = inv.failures;
            r.skipped = inv.skipped;
            r
        }
        ScanSource::Aggregator { name, filter } => aggregator(base, name, filter, params).await?,
        ScanSource::ConfigQuery(targets) => own_config(base, targets, params, progress).await?,
    };
    if let Some(apply) = opts.suppress_allowed {
        let client = aws_sdk_securityhub::Client::new(base);
        match crate::securityhub::suppress_allowed(&client, &report.evaluations, params, apply)
            .await
        {
            Ok(s) => report.suppression = Some(s),
            Err(err) => report.failures.push(Failure {
                account_id: None,
                region: None,
                repository: None,
                code: err.code().map(str::to_owned),
                error: format!("--suppress-allowed: {err}"),
            }),
        }
    }
    report.failures.sort();
    Ok(report)
}

fn sort_repositories(repos: &mut [Repository]) {
    repos.sort_by(|a, b| {
        (&a.account_id, &a.region, &a.resource_type, &a.resource_id).cmp(&(
            &b.account_id,
            &b.region,
            &b.resource_type,
            &b.resource_id,
        ))
    });
}

/// The (account, region) pairs that hold a repository.
fn targets_of(repos: &[Repository]) -> Vec<Target> {
    let mut t: Vec<Target> = repos
        .iter()
        .filter_map(|r| {
            Some(Target {
                account_id: r.account_id.clone()?,
                region: r.region.clone()?,
            })
        })
        .collect();
    t.sort();
    t.dedup();
    t
}

/// A failure that is not one repository's (a coverage read, a region).
fn general_failure(account_id: Option<&str>, region: Option<&str>, err: &AwsError) -> Failure {
    Failure {
        account_id: account_id.map(str::to_owned),
        region: region.map(str::to_owned),
        repository: None,
        code: err.code().map(str::to_owned),
        error: err.to_string(),
    }
}

/// `--aggregator NAME`: the aggregator's description (it must exist), the select pages and
/// batch reads, and the accounts and regions it has no data for.
async fn aggregator(
    base: &SdkConfig,
    name: &str,
    filter: &QueryFilter,
    params: &RuleParameters,
) -> Result<ScanReport, AwsError> {
    config_query::check_aggregator_name(name)?;
    let filter = filter.clone().checked()?;
    if base.region().is_none() {
        return Err(AwsError::NoRegion);
    }
    let client = aws_sdk_config::Client::new(base);
    let scope = config_query::describe_aggregator(&client, name).await?;
    let expressions = config_query::select_expressions(&filter)?;
    let recorded = config_query::read(&client, Store::Aggregator(name), &expressions).await?;
    let mut calls = recorded.calls;
    calls.coverage += 1;
    let mut failures = recorded.failures;
    let mut all_regions = None;
    if scope.all_regions && filter.regions.is_empty() {
        calls.coverage += 1;
        match crate::org::regions(&aws_sdk_ec2::Client::new(base)).await {
            Ok(r) => all_regions = Some(r.enabled),
            Err(err) => failures.push(general_failure(None, None, &err)),
        }
    }
    let (no_data, coverage_calls) = match config_query::aggregator_coverage(
        &client,
        name,
        &scope,
        &filter,
        all_regions.as_deref(),
    )
    .await
    {
        Ok(c) => c,
        Err(err) => {
            failures.push(general_failure(None, None, &err));
            (Vec::new(), 0)
        }
    };
    calls.coverage += coverage_calls;
    let mut report = ScanReport::of(
        targets_of(&recorded.repositories),
        recorded.repositories,
        params,
    );
    report.failures = failures;
    report.no_data = no_data;
    report.calls = Some(calls);
    Ok(report)
}

/// `--config-query`: the caller's own Config, region by region (`SelectResourceConfig`,
/// `BatchGetResourceConfig`, `GetDiscoveredResourceCounts`).
async fn own_config(
    base: &SdkConfig,
    targets: &TargetOptions,
    params: &RuleParameters,
    progress: &dyn Progress,
) -> Result<ScanReport, AwsError> {
    if targets.accounts != AccountSelection::Current {
        return Err(AwsError::Unsupported(
            "--config-query reads the caller's own account only (use --aggregator for others)",
        ));
    }
    let control = crate::targets::control_config(base, targets)?;
    let identity = crate::session::caller_identity(&control).await?;
    let plan = crate::targets::resolve(&control, &identity, targets).await?;
    let expressions = config_query::select_expressions(&QueryFilter::default())?;
    let expressions = &expressions;
    enum Part {
        Read(config_query::Recorded),
        NoData(NoData),
    }
    let (parts, mut failures) = run_targets(
        plan.targets,
        targets.concurrency,
        progress,
        |config, target| async move {
            let client = aws_sdk_config::Client::new(&config);
            let mut parts = Vec::new();
            if !config_query::own_has_data(&client).await? {
                parts.push(Part::NoData(NoData {
                    account_id: Some(target.account_id.clone()),
                    region: Some(target.region.clone()),
                }));
            }
            parts.push(Part::Read(
                config_query::read(&client, Store::Own, expressions).await?,
            ));
            Ok(parts)
        },
    )
    .await;
    failures.extend(plan.failures);
    let mut repos = Vec::new();
    let mut no_data = Vec::new();
    let mut calls = Calls::default();
    for part in parts {
        match part {
            Part::Read(r) => {
                repos.extend(r.repositories);
                failures.extend(r.failures);
                calls.select_pages += r.calls.select_pages;
                calls.batch_reads += r.calls.batch_reads;
                calls.coverage += 1;
            }
            Part::NoData(n) => no_data.push(n),
        }
    }
    no_data.sort();
    let mut report = ScanReport::of(targets_of(&repos), repos, params);
    report.failures = failures;
    report.skipped = plan.skipped;
    report.no_data = no_data;
    report.calls = Some(calls);
    Ok(report)
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
    let mut out = sweep(base, opts, progress, |config, target| async move {
        let client = aws_sdk_ecr::Client::new(&config);
        let repos = crate::ecr::inventory(&client, &target.account_id, &target.region).await?;
        if with_tags {
            crate::ecr::fill_tags_all(&client, repos, concurrency).await
        } else {
            Ok(repos)
        }
    })
    .await?;
    out.items.sort_by(|a, b| {
        (&a.account_id, &a.region, &a.resource_id).cmp(&(&b.account_id, &b.region, &b.resource_id))
    });
    Ok(out)
}
