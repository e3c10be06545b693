//! The flow of `immutag scan`: the repositories (and repository creation templates) of a
//! *source*, evaluated like `immutag evaluate` evaluates files (same parameters, same
//! verdicts). The source is one of [`ScanSource`]: the live targets, a Config aggregator, or
//! the caller's own Config. A live scan also assesses each registry's coverage: one
//! NON_COMPLIANT finding per registry whose pull-through cache or replication rules no
//! creation template covers ([`immutag_core::coverage`]).
//!
//! Calls of a live scan: per account and region, `ecr:DescribeRepositories` and
//! `ecr:DescribeRepositoryCreationTemplates` with `maxResults=1000` (`ceil(N/1000)` calls,
//! nothing per repository), `ecr:DescribeRegistry` and `ecr:DescribePullThroughCacheRules`
//! (`maxResults=1000`) once the templates are read; `sts:GetCallerIdentity` once;
//! `sts:AssumeRole` once per other account; `organizations:ListAccounts` with `--org`;
//! `ec2:DescribeRegions` per account with `--all-regions`; `ecr:ListTagsForResource` per
//! repository only when `ExemptionTagKey` is set. The calls of the recorded sources are listed
//! in [`crate::config_query`]; those of `--suppress-allowed` in [`crate::securityhub`].
//!
//! The template and registry reads are separate from the repositories': an endpoint that does
//! not implement them ([`AwsError::Unsupported`], moto) gives one [`Warning`] per account and
//! region and changes nothing else; any other error on them (access denied, an error that
//! persists after the retries) is a [`Failure`] (the scan is incomplete), and the
//! repositories are still evaluated.

use aws_types::SdkConfig;
use immutag_core::change::RepoKey;
use immutag_core::coverage::{RegistryFacts, assess};
use immutag_core::{Evaluation, Repository, ResourceType, RuleParameters, evaluate_all};

use crate::config_query::{self, Calls, NoData, QueryFilter, Store};
use crate::ecr::RegistryRules;
use crate::error::AwsError;
use crate::securityhub::SuppressReport;
use crate::targets::{
    AccountSelection, Failure, Progress, Skipped, Target, TargetOptions, Warning, run_targets,
    sweep, target_failure,
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
    /// One evaluation per repository and creation template, then the coverage findings,
    /// sorted by account, region, kind, id.
    pub evaluations: Vec<Evaluation>,
    /// What could not be read.
    pub failures: Vec<Failure>,
    /// What the endpoints do not implement (not checked; not a failure).
    pub warnings: Vec<Warning>,
    /// Regions left out because they are not enabled.
    pub skipped: Vec<Skipped>,
    /// Repositories deleted while they were being read, left out (counted, not failed).
    pub dropped: Vec<RepoKey>,
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
            warnings: Vec::new(),
            skipped: Vec::new(),
            dropped: Vec::new(),
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
            let reads = Reads {
                tags: params.exemption_tag_key.is_some(),
                coverage: true,
            };
            let inv = inventory(base, targets, reads, progress).await?;
            let mut r = ScanReport::of(inv.targets, inv.resources, params);
            r.evaluations.extend(assess(&inv.registries));
            r.evaluations.sort_by(|a, b| order(a).cmp(&order(b)));
            r.failures = inv.failures;
            r.warnings = inv.warnings;
            r.skipped = inv.skipped;
            r.dropped = inv.dropped;
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

/// Sorts by account, region, kind (repositories first), id.
fn sort_repositories(repos: &mut [Repository]) {
    repos.sort_by(|a, b| {
        let key = |r: &Repository| {
            (
                r.account_id.clone(),
                r.region.clone(),
                r.kind(),
                r.resource_id.clone(),
            )
        };
        key(a).cmp(&key(b))
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
        return Err(AwsError::UnsupportedOptions(
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

/// The sort key of an evaluation: account, region, repositories then templates then the
/// registry, id.
fn order(e: &Evaluation) -> (&Option<String>, &Option<String>, u8, &str) {
    let rank = match e.resource_type {
        ResourceType::Repository => 0,
        ResourceType::CreationTemplate(_) => 1,
        ResourceType::Registry => 2,
        ResourceType::Other(_) => 3,
    };
    (&e.account_id, &e.region, rank, &e.resource_id)
}

/// What [`inventory`] reads besides the repositories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reads {
    /// Each repository's tags (one `ecr:ListTagsForResource` per repository; needed only
    /// for `ExemptionTagKey`).
    pub tags: bool,
    /// The registry's rules (`ecr:DescribeRegistry`, `ecr:DescribePullThroughCacheRules`),
    /// for the coverage assessment.
    pub coverage: bool,
}

/// The repositories and creation templates of every target, and what each registry holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    /// The targets read (or attempted), sorted.
    pub targets: Vec<Target>,
    /// The repositories and creation templates, sorted by account, region, id (repositories
    /// first).
    pub resources: Vec<Repository>,
    /// One per target whose repositories were read (templates `None` when not read), sorted.
    pub registries: Vec<RegistryFacts>,
    /// What could not be read.
    pub failures: Vec<Failure>,
    /// What the endpoints do not implement.
    pub warnings: Vec<Warning>,
    /// Regions left out because they are not enabled.
    pub skipped: Vec<Skipped>,
    /// Repositories deleted while they were being read, left out (counted, not failed).
    pub dropped: Vec<RepoKey>,
}

/// What one target holds: its repositories and creation templates, the registry's facts
/// (for the coverage assessment), and what could not be read or is not implemented.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetRead {
    /// The repositories, then the creation templates.
    pub resources: Vec<Repository>,
    /// The registry: its templates (`None` when not read) and rules.
    pub registry: RegistryFacts,
    /// What the endpoint does not implement (one per target at most).
    pub warnings: Vec<Warning>,
    /// What could not be read besides the repositories.
    pub failures: Vec<Failure>,
    /// Repositories deleted between the listing and their tags: left out, counted.
    pub dropped: Vec<RepoKey>,
}

/// Reads one target with `client` (configured for its account and region): the repositories
/// (an error here fails the whole target), with their tags when `reads.tags`; the creation
/// templates and, with `reads.coverage`, the registry's rules, whose errors are kept in the
/// result (see the module documentation).
pub async fn read_target(
    client: &aws_sdk_ecr::Client,
    target: &Target,
    reads: Reads,
    concurrency: usize,
) -> Result<TargetRead, AwsError> {
    let (repos, mut read) = futures::join!(
        async {
            let repos = crate::ecr::inventory(client, &target.account_id, &target.region).await?;
            if reads.tags {
                // A repository deleted between the listing and its tags is dropped, counted.
                crate::ecr::fill_tags_all(client, repos, concurrency).await
            } else {
                Ok(crate::ecr::Tagged {
                    repositories: repos,
                    dropped: Vec::new(),
                })
            }
        },
        templates_of(client, target, reads.coverage)
    );
    let tagged = repos?;
    read.dropped = tagged
        .dropped
        .iter()
        .map(|name| RepoKey::new(Some(&target.account_id), Some(&target.region), name))
        .collect();
    let mut resources = tagged.repositories;
    resources.append(&mut read.resources);
    read.resources = resources;
    Ok(read)
}

/// Reads the repositories and creation templates of every selected (account, region) pair
/// (see the module documentation for the calls and how their failures count).
pub async fn inventory(
    base: &SdkConfig,
    opts: &TargetOptions,
    reads: Reads,
    progress: &dyn Progress,
) -> Result<Inventory, AwsError> {
    let concurrency = opts.concurrency;
    let out = sweep(base, opts, progress, |config, target| async move {
        let client = aws_sdk_ecr::Client::new(&config);
        Ok(vec![
            read_target(&client, &target, reads, concurrency).await?,
        ])
    })
    .await?;
    let mut inv = Inventory {
        targets: out.targets,
        resources: Vec::new(),
        registries: Vec::new(),
        failures: out.failures,
        warnings: Vec::new(),
        skipped: out.skipped,
        dropped: Vec::new(),
    };
    for read in out.items {
        inv.resources.extend(read.resources);
        inv.dropped.extend(read.dropped);
        inv.registries.push(read.registry);
        inv.warnings.extend(read.warnings);
        inv.failures.extend(read.failures);
    }
    sort_repositories(&mut inv.resources);
    inv.registries
        .sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
    inv.failures.sort();
    inv.warnings.sort();
    inv.dropped.sort();
    Ok(inv)
}

/// The creation templates of one target, then (with `coverage`) its registry rules.
async fn templates_of(client: &aws_sdk_ecr::Client, target: &Target, coverage: bool) -> TargetRead {
    let mut read = TargetRead {
        resources: Vec::new(),
        registry: RegistryFacts::new(&target.account_id, &target.region),
        warnings: Vec::new(),
        failures: Vec::new(),
        dropped: Vec::new(),
    };
    match crate::ecr::creation_templates(client, &target.account_id, &target.region).await {
        Ok(templates) => {
            read.registry.templates = Some(
                templates
                    .iter()
                    .filter_map(|t| t.resource_type.template().cloned())
                    .collect(),
            );
            read.resources = templates;
            if coverage {
                match crate::ecr::registry_rules(client).await {
                    Ok(RegistryRules {
                        pull_through_cache,
                        replication,
                    }) => {
                        read.registry.pull_through_cache = pull_through_cache;
                        read.registry.replication = replication;
                    }
                    // Without the rules the coverage of this registry is unknown: no finding
                    // for it; the warning or failure says why.
                    Err(e) => not_read(&mut read, target, &e, "registry coverage not checked"),
                }
            }
        }
        Err(e) => not_read(
            &mut read,
            target,
            &e,
            "creation templates and registry coverage not checked",
        ),
    }
    read
}

/// Records `e`: a warning when the endpoint does not implement the call, a failure otherwise.
fn not_read(read: &mut TargetRead, target: &Target, e: &AwsError, what: &str) {
    tracing::warn!(account = %target.account_id, region = %target.region, error = %e, "{what}");
    match e {
        AwsError::Unsupported { .. } => read.warnings.push(Warning {
            account_id: target.account_id.clone(),
            region: target.region.clone(),
            message: format!("{e}: {what}"),
        }),
        _ => {
            let mut f = target_failure(target, e);
            f.error = format!("{}: {what}", f.error);
            read.failures.push(f);
        }
    }
}
