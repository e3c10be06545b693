//! The flow of `immutag scan`: the repositories and repository creation templates of every
//! target, evaluated like `immutag evaluate` evaluates files (same parameters, same
//! verdicts), and the registry's coverage: one NON_COMPLIANT finding per registry whose
//! pull-through cache or replication rules no creation template covers
//! ([`immutag_core::coverage`]).
//!
//! Calls: per account and region, `ecr:DescribeRepositories` and
//! `ecr:DescribeRepositoryCreationTemplates` with `maxResults=1000` (`ceil(N/1000)` calls,
//! nothing per repository), `ecr:DescribeRegistry` and `ecr:DescribePullThroughCacheRules`
//! (`maxResults=1000`) once the templates are read; `sts:GetCallerIdentity` once;
//! `sts:AssumeRole` once per other account; `organizations:ListAccounts` with `--org`;
//! `ec2:DescribeRegions` per account with `--all-regions`; `ecr:ListTagsForResource` per
//! repository only when `ExemptionTagKey` is set.
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

use crate::ecr::RegistryRules;
use crate::error::AwsError;
use crate::targets::{
    Failure, Progress, Skipped, Target, TargetOptions, Warning, sweep, target_failure,
};

/// What a scan found.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanReport {
    /// The targets read (or attempted), sorted.
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
}

impl ScanReport {
    /// True when some target or repository could not be read (exit 3).
    pub fn incomplete(&self) -> bool {
        !self.failures.is_empty()
    }
}

/// Scans every target of `opts` and evaluates each repository and creation template with
/// `params`, then the coverage of each registry.
pub async fn scan(
    base: &SdkConfig,
    opts: &TargetOptions,
    params: &RuleParameters,
    progress: &dyn Progress,
) -> Result<ScanReport, AwsError> {
    let reads = Reads {
        tags: params.exemption_tag_key.is_some(),
        coverage: true,
    };
    let inv = inventory(base, opts, reads, progress).await?;
    let mut evaluations = evaluate_all(&inv.resources, params);
    evaluations.extend(assess(&inv.registries));
    evaluations.sort_by(|a, b| order(a).cmp(&order(b)));
    Ok(ScanReport {
        targets: inv.targets,
        evaluations,
        failures: inv.failures,
        warnings: inv.warnings,
        skipped: inv.skipped,
        dropped: inv.dropped,
    })
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
    inv.resources.sort_by(|a, b| {
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
