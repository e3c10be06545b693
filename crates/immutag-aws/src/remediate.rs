//! The flow of `immutag remediate`: switch repositories to their target tag mutability, dry
//! run unless asked to apply, journaled, verified.
//!
//! The work list comes from a plan (`immutag plan --output json`) or from a live read of the
//! targets: with [`Mode::Plan`](immutag_core::remediation::Mode::Plan) the plan is made on the
//! spot as `immutag plan` makes it; with
//! [`Mode::Immutable`](immutag_core::remediation::Mode::Immutable) every non-compliant
//! repository targets plain IMMUTABLE. Either way every repository that would change is read
//! again right before deciding ([`crate::change::decide_live`]), so a stale plan can neither
//! overwrite a change made since nor journal a wrong previous setting, and only what is still
//! non-compliant is changed.
//!
//! With [`RemediateOptions::lifecycle`] (`--lifecycle`), the lifecycle policy the plan
//! suggests (expire untagged images) is applied too, through the same journaled apply path,
//! where a repository has none (read live with GetLifecyclePolicy right before deciding:
//! `LifecyclePolicyNotFoundException` means none); a repository with a lifecycle policy of its
//! own is left alone and listed. A rollback deletes the policies the journal put.
//!
//! With [`Source::SecurityHub`] the work list is the repositories of the open ECR.2 findings
//! (`GetFindings`, or a file of its output), read live and planned like the others; after
//! the changes, each finding of a repository that changed gets a note
//! (`BatchUpdateFindings`: what immutag changed, when, the journal).

use std::path::PathBuf;

use aws_types::SdkConfig;
use immutag_core::RuleParameters;
use immutag_core::change::{Attribute, RepoKey};
use immutag_core::finding::Finding;
use immutag_core::journal::Operation;
use immutag_core::plan::{Plan, recommend};
use immutag_core::remediation::{
    Action, Candidate, Decision, Mode, RemediationOptions, SkipReason, decide, decide_lifecycle,
    key_of,
};
use immutag_core::{Compliance, InputKind, Repository, ResourceKind, TemplatePrefix, evaluate};

use crate::change::{self, ApplyError, ApplyOptions, ChangeReport};
use crate::clients::{EcrClients, Scope, clients_for_scopes};
use crate::ecr::{self, PolicyRead, ReadState};
use crate::error::AwsError;
use crate::journal::{self, Journal, JournalError, JournalMode};
use crate::plan::Planned;
use crate::securityhub::{self, FindingUpdate, UpdateReport};
use crate::targets::{Failure, Progress, TargetOptions, Warning};

/// Where the work list comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A plan read from a file: it names the accounts and regions.
    Plan(Box<Plan>),
    /// A live read of these targets.
    Live(TargetOptions),
    /// The repositories of the open ECR.2 findings (`--from-securityhub`).
    SecurityHub(Findings),
}

/// Where the Security Hub findings come from.
#[derive(Debug, Clone)]
pub enum Findings {
    /// `securityhub:GetFindings` in the configured region.
    Live,
    /// Findings read from a file of `aws securityhub get-findings` output.
    File(Vec<Finding>),
}

/// What a remediation from Security Hub read and wrote there.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FindingsReport {
    /// Findings read (open ECR.2 failures only are worked on).
    pub read: usize,
    /// Open ECR.2 failures that name a repository: the work list.
    pub open: usize,
    /// The notes written on the findings of the repositories that changed (with `--apply`).
    pub notes: Option<UpdateReport>,
}

/// Where the journal of an applied run goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalTarget {
    /// The file; `None`: `immutag-journal-YYYYMMDDTHHMMSSZ.jsonl` (or
    /// `immutag-rollback-journal-...`) in the current directory.
    pub path: Option<PathBuf>,
    /// A new file, or add to an existing one.
    pub mode: JournalMode,
}

impl Default for JournalTarget {
    fn default() -> Self {
        Self {
            path: None,
            mode: JournalMode::Create,
        }
    }
}

impl JournalTarget {
    /// Opens the journal for a run of `operation`.
    pub fn open(&self, operation: Operation) -> Result<Journal, JournalError> {
        let (prefix, run) = match operation {
            Operation::Remediate => ("immutag-journal", "remediate"),
            Operation::Rollback => ("immutag-rollback-journal", "rollback"),
        };
        let path = self
            .path
            .clone()
            .unwrap_or_else(|| journal::default_path(prefix));
        Journal::open(
            path,
            format!("{run}-{}", journal::compact_timestamp()),
            self.mode,
        )
    }
}

/// How a run that may change repositories runs: shared by [`remediate`] and
/// [`crate::rollback::rollback`].
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Make the changes (without it: decide and report only).
    pub apply: bool,
    /// The journal of an applied run.
    pub journal: JournalTarget,
    /// Reads and changes in flight at once.
    pub concurrency: usize,
    /// The role assumed in accounts other than the caller's.
    pub role_name: String,
}

/// Options of [`remediate`].
#[derive(Debug, Clone)]
pub struct RemediateOptions {
    /// The work list.
    pub source: Source,
    /// How targets are chosen, which repositories are in scope.
    pub remediation: RemediationOptions,
    /// Apply or not, journal, concurrency, role.
    pub run: RunOptions,
    /// Also apply the plan's suggested lifecycle policy (expire untagged images) where a
    /// repository has none. The suggestion comes from a plan: a file, or the live plan of
    /// [`Mode::Plan`].
    pub lifecycle: bool,
}

/// What a remediation decided and did.
#[derive(Debug, Clone)]
pub struct RemediateReport {
    /// Whether changes were made.
    pub applied: bool,
    /// One decision per repository (unreadable targets and repositories included), in order;
    /// with `--lifecycle`, then one per suggested lifecycle policy.
    pub decisions: Vec<Decision>,
    /// One report per change attempted (empty in a dry run).
    pub reports: Vec<ChangeReport>,
    /// The journal written, when changes were made.
    pub journal: Option<PathBuf>,
    /// What could not be read (also listed among the decisions as unreadable).
    pub failures: Vec<Failure>,
    /// What the endpoints do not implement (creation templates on an emulator): not read,
    /// not a failure.
    pub warnings: Vec<Warning>,
    /// Notes on the creation templates to change (the plan's: a template decides only the
    /// repositories ECR creates from now on; for a pull-through cache template, what
    /// IMMUTABLE does to cached upstream tags), in decision order.
    pub notes: Vec<(RepoKey, String)>,
    /// With [`Source::SecurityHub`]: the findings read and the notes written.
    pub findings: Option<FindingsReport>,
}

impl RemediateReport {
    /// True when something could not be read or changed, or a finding could not be noted
    /// (exit 3).
    pub fn incomplete(&self) -> bool {
        self.decisions.iter().any(Decision::is_unreadable)
            || self.reports.iter().any(|r| !r.succeeded())
            || self
                .findings
                .as_ref()
                .and_then(|f| f.notes.as_ref())
                .is_some_and(|n| !n.unprocessed.is_empty())
    }

    /// True when work is left: changes not made (a dry run), or repositories a person must
    /// decide on (review, a target ECR would refuse) (exit 1).
    pub fn findings(&self) -> bool {
        self.decisions.iter().any(|d| match &d.action {
            Action::Change { .. } => !self.applied,
            Action::Skip { reason } => matches!(
                reason,
                SkipReason::Review { .. } | SkipReason::InvalidTarget { .. }
            ),
        })
    }
}

/// The errors that stop a remediation before or while it changes anything.
#[derive(Debug, thiserror::Error)]
pub enum RemediateError {
    /// The targets, the plan reads or the clients could not be set up.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The journal could not be opened.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A journal record could not be written: no further change was made.
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

/// Runs a remediation (see the module documentation). Progress of the live reads is
/// reported to `progress`.
pub async fn remediate(
    base: &SdkConfig,
    opts: &RemediateOptions,
    params: &RuleParameters,
    progress: &dyn Progress,
) -> Result<RemediateReport, RemediateError> {
    let concurrency = opts.run.concurrency.max(1);
    let WorkList {
        candidates,
        scopes,
        failures,
        lifecycle,
        warnings,
        notes,
        decided,
        findings,
    } = work_list(base, opts, params, progress).await?;
    let clients = clients_for_scopes(base, scopes, &opts.run.role_name).await?;

    // Decide on what was read; re-read (live, right now) only what would change.
    let first = decide(&candidates, &opts.remediation, params);
    let mut decisions: Vec<Option<Decision>> = Vec::with_capacity(first.len());
    let mut recheck = Vec::new();
    for (decision, candidate) in first.into_iter().zip(candidates) {
        if decision.change().is_some() {
            recheck.push(candidate);
            decisions.push(None);
        } else {
            decisions.push(Some(decision));
        }
    }
    let mut live = change::decide_live(&clients, recheck, &opts.remediation, params, concurrency)
        .await
        .into_iter();
    let mut decisions: Vec<Decision> = decisions
        .into_iter()
        .filter_map(|d| d.or_else(|| live.next()))
        .collect();
    decisions.extend(decided);
    decisions.extend(failures.iter().map(unreadable));
    let notes: Vec<(RepoKey, String)> = decisions
        .iter()
        .filter(|d| d.change().is_some())
        .flat_map(|d| notes.iter().filter(move |(k, _)| *k == d.key).cloned())
        .collect();
    if opts.lifecycle {
        decisions
            .extend(decide_lifecycles(&clients, lifecycle, &opts.remediation, concurrency).await);
    }

    let mut report = RemediateReport {
        applied: opts.run.apply,
        decisions,
        reports: Vec::new(),
        journal: None,
        failures,
        warnings,
        notes,
        findings: findings.as_ref().map(|(read, open)| FindingsReport {
            read: *read,
            open: open.len(),
            notes: None,
        }),
    };
    let changes: Vec<_> = report
        .decisions
        .iter()
        .filter_map(Decision::change)
        .collect();
    if !opts.run.apply || changes.is_empty() {
        return Ok(report);
    }
    let journal = opts.run.journal.open(Operation::Remediate)?;
    let reports = change::apply(
        &clients,
        changes,
        &journal,
        ApplyOptions {
            concurrency,
            operation: Operation::Remediate,
            verify: true,
            deadline: None,
        },
    )
    .await;
    journal.close();
    report.reports = reports?;
    report.journal = Some(journal.path().to_owned());
    if let (Some((_, open)), Some(f)) = (&findings, report.findings.as_mut()) {
        let groups = note_groups(&report.reports, open, journal.path(), journal.run());
        if !groups.is_empty() {
            let client = aws_sdk_securityhub::Client::new(base);
            f.notes = Some(securityhub::update_groups(&client, &groups).await);
        }
    }
    Ok(report)
}

/// The lifecycle policies a plan suggests, read live and decided: applied where a repository
/// has none, left alone where it has one.
async fn decide_lifecycles(
    clients: &EcrClients,
    suggested: Vec<(RepoKey, serde_json::Value)>,
    opts: &RemediationOptions,
    concurrency: usize,
) -> Vec<Decision> {
    let keys: Vec<RepoKey> = suggested.iter().map(|(k, _)| k.clone()).collect();
    let read = ecr::read_lifecycle_policies(clients, &keys, concurrency).await;
    suggested
        .into_iter()
        .map(|(key, policy)| match read.get(&key) {
            Some(PolicyRead::Found(current)) => decide_lifecycle(&key, &policy, current, opts),
            Some(PolicyRead::Missing) => Decision::skip(
                key,
                SkipReason::NotApplicable {
                    detail: "the repository no longer exists".into(),
                },
            ),
            Some(PolicyRead::Error(detail)) => Decision::skip(
                key,
                SkipReason::Unreadable {
                    detail: detail.clone(),
                },
            ),
            None => Decision::skip(
                key,
                SkipReason::Unreadable {
                    detail: "its lifecycle policy was not read".into(),
                },
            ),
        })
        .collect()
}

/// The notes to write after the changes: one per target setting, on the findings of every
/// repository changed (and verified) to it.
fn note_groups<'f>(
    reports: &[ChangeReport],
    open: &'f [(RepoKey, Finding)],
    journal: &std::path::Path,
    run: &str,
) -> Vec<(FindingUpdate, Vec<&'f Finding>)> {
    let now = immutag_core::time::rfc3339(securityhub::unix_now());
    let mut groups: std::collections::BTreeMap<String, Vec<&'f Finding>> = Default::default();
    // Only the tag mutability is what ECR.2 is about (a lifecycle policy put with
    // `--lifecycle` is not noted on the finding).
    for r in reports
        .iter()
        .filter(|r| r.succeeded() && r.change.attribute() == Attribute::TagMutability)
    {
        for (_, f) in open.iter().filter(|(k, _)| *k == r.change.key) {
            groups.entry(r.change.to.to_string()).or_default().push(f);
        }
    }
    groups
        .into_iter()
        .map(|(to, findings)| {
            let note = format!(
                "immutag remediate set this repository's tag mutability to {to} at {now} (verified \
                 by reading it back). The previous setting is in the journal {} (run {run}); \
                 `immutag rollback --journal` restores it. Config's re-evaluation resolves this finding.",
                journal.display()
            );
            (
                FindingUpdate {
                    note,
                    suppress: false,
                },
                findings,
            )
        })
        .collect()
}

/// The work list of a remediation.
struct WorkList {
    /// The repositories and templates whose tag mutability may change.
    candidates: Vec<Candidate>,
    /// The scopes that serve them.
    scopes: Vec<Scope>,
    /// What could not be read.
    failures: Vec<Failure>,
    /// What the endpoints do not implement (creation templates on an emulator).
    warnings: Vec<Warning>,
    /// The notes of the creation templates among the candidates.
    notes: Vec<(RepoKey, String)>,
    /// Repositories decided already (a finding whose repository no longer exists).
    decided: Vec<Decision>,
    /// With Security Hub: the findings read, and the open ones with their repository.
    findings: Option<(usize, Vec<(RepoKey, Finding)>)>,
    /// The lifecycle policies the plan suggests, by repository.
    lifecycle: Vec<(RepoKey, serde_json::Value)>,
}

/// The candidates, the scopes that serve them, what could not be read, and the suggested
/// lifecycle policies.
async fn work_list(
    base: &SdkConfig,
    opts: &RemediateOptions,
    params: &RuleParameters,
    progress: &dyn Progress,
) -> Result<WorkList, AwsError> {
    let plan = match (&opts.source, opts.remediation.mode) {
        (Source::SecurityHub(findings), mode) => {
            return securityhub_work_list(base, opts, params, findings, mode).await;
        }
        (Source::Plan(plan), _) => Some((**plan).clone()),
        // A live scan in the default mode plans on the spot, exactly as `immutag plan`
        // does, so that a repository whose pipelines re-push `latest` is fenced with an
        // exclusion rather than switched to a plain IMMUTABLE that breaks them.
        (Source::Live(targets), Mode::Plan) => {
            let inputs = crate::plan::PlanInputs::guess(params);
            Some(crate::plan::plan(base, targets, &inputs, progress).await?)
        }
        (Source::Live(_), Mode::Immutable) => None,
    };
    if let Some(plan) = plan {
        let scopes = plan
            .repositories
            .iter()
            .map(|r| Scope::of(&r.key()))
            .collect();
        let candidates = plan
            .repositories
            .iter()
            .map(|r| {
                // The state comes from the live read; the plan says only where and what.
                let mut repo = match r.resource_kind {
                    ResourceKind::Repository => Repository::new(&r.name, InputKind::Live),
                    ResourceKind::CreationTemplate => Repository::creation_template(
                        TemplatePrefix::parse(&r.name),
                        Vec::new(),
                        InputKind::Live,
                    ),
                };
                repo.account_id = r.account_id.clone();
                repo.region = r.region.clone();
                repo.arn = r.arn.clone();
                Candidate::from_recommendation(r, repo)
            })
            .collect();
        let lifecycle = plan
            .repositories
            .iter()
            .filter_map(|r| r.lifecycle_policy.clone().map(|p| (r.key(), p)))
            .collect();
        let notes = plan
            .repositories
            .iter()
            .filter(|r| r.resource_kind == ResourceKind::CreationTemplate)
            .flat_map(|r| r.basis.notes.iter().map(|n| (r.key(), n.clone())))
            .collect();
        let mut list = WorkList::of(candidates, scopes, plan.failures);
        list.warnings = plan.warnings;
        list.notes = notes;
        list.lifecycle = lifecycle;
        return Ok(list);
    }
    let Source::Live(targets) = &opts.source else {
        return Ok(WorkList::of(Vec::new(), Vec::new(), Vec::new()));
    };
    let reads = crate::scan::Reads {
        tags: params.exemption_tag_key.is_some(),
        coverage: false,
    };
    let inv = crate::scan::inventory(base, targets, reads, progress).await?;
    let scopes = inv
        .targets
        .iter()
        .map(|t| Scope {
            account: Some(t.account_id.clone()),
            region: Some(t.region.clone()),
        })
        .collect();
    let notes = inv
        .resources
        .iter()
        .filter(|r| r.kind() == Some(ResourceKind::CreationTemplate))
        .flat_map(|t| {
            let key = key_of(t);
            recommend(t, &[], params)
                .basis
                .notes
                .into_iter()
                .map(move |n| (key.clone(), n))
        })
        .collect();
    let candidates = inv
        .resources
        .into_iter()
        .map(Candidate::immutable)
        .collect();
    let mut list = WorkList::of(candidates, scopes, inv.failures);
    list.warnings = inv.warnings;
    list.notes = notes;
    Ok(list)
}

impl WorkList {
    fn of(candidates: Vec<Candidate>, scopes: Vec<Scope>, failures: Vec<Failure>) -> Self {
        Self {
            candidates,
            scopes,
            failures,
            warnings: Vec::new(),
            notes: Vec::new(),
            decided: Vec::new(),
            findings: None,
            lifecycle: Vec::new(),
        }
    }
}

/// The work list of the open ECR.2 findings: each finding's repository read live (a finding
/// that names none is a failure, one whose repository is gone is skipped), then planned as
/// `immutag plan` plans (images read for the non-compliant ones) or, with `--mode
/// immutable`, targeted at plain IMMUTABLE.
async fn securityhub_work_list(
    base: &SdkConfig,
    opts: &RemediateOptions,
    params: &RuleParameters,
    findings: &Findings,
    mode: Mode,
) -> Result<WorkList, AwsError> {
    let all = match findings {
        Findings::Live => {
            securityhub::open_findings(&aws_sdk_securityhub::Client::new(base)).await?
        }
        Findings::File(f) => f.clone(),
    };
    let read = all.len();
    let mut failures = Vec::new();
    let mut open = Vec::new();
    for f in all.into_iter().filter(Finding::is_open) {
        match f.repository() {
            Ok(key) => open.push((key, f)),
            Err(why) => failures.push(Failure {
                account_id: f.account_id.clone(),
                region: f.region.clone(),
                repository: None,
                code: Some("NoRepository".into()),
                error: format!("Security Hub finding {} {why}", f.id),
            }),
        }
    }
    let mut keys: Vec<RepoKey> = open.iter().map(|(k, _)| k.clone()).collect();
    keys.sort();
    keys.dedup();
    let scopes: Vec<Scope> = keys.iter().map(Scope::of).collect();
    let clients = clients_for_scopes(base, scopes.clone(), &opts.run.role_name).await?;
    let concurrency = opts.run.concurrency.max(1);
    let mut found = Vec::new();
    let mut decided = Vec::new();
    for (key, state) in crate::ecr::read_settings(&clients, &keys, concurrency).await {
        match state {
            ReadState::Found(repo) => {
                let mut repo = *repo;
                repo.account_id = key.account.clone();
                repo.region = key.region.clone();
                found.push(repo);
            }
            ReadState::Missing => decided.push(Decision::skip(
                key,
                SkipReason::NotApplicable {
                    detail: "the repository no longer exists (the finding is stale)".into(),
                },
            )),
            ReadState::Error(error) => failures.push(Failure {
                account_id: key.account.clone(),
                region: key.region.clone(),
                repository: Some(key.repository.clone()),
                code: None,
                error,
            }),
        }
    }
    let mut lifecycle = Vec::new();
    let candidates = match mode {
        Mode::Immutable => found.into_iter().map(Candidate::immutable).collect(),
        Mode::Plan => {
            let (open_repos, kept): (Vec<Repository>, Vec<Repository>) = found
                .into_iter()
                .partition(|r| evaluate(r, params).compliance == Compliance::NonCompliant);
            let by_key: std::collections::BTreeMap<RepoKey, Repository> =
                open_repos.iter().map(|r| (key_of(r), r.clone())).collect();
            let inputs = crate::plan::PlanInputs::guess(params);
            let planned =
                crate::plan::recommend_repositories(open_repos, &inputs, concurrency, |r| {
                    clients.get(&Scope::of(&key_of(r)))
                })
                .await;
            let mut candidates: Vec<Candidate> =
                kept.into_iter().map(Candidate::immutable).collect();
            for p in planned {
                match p {
                    Planned::Recommendation(rec) => {
                        if let Some(policy) = &rec.lifecycle_policy {
                            lifecycle.push((rec.key(), policy.clone()));
                        }
                        if let Some(repo) = by_key.get(&rec.key()) {
                            candidates.push(Candidate::from_recommendation(&rec, repo.clone()));
                        }
                    }
                    Planned::Failed(f) => failures.push(f),
                    Planned::Dropped(key) => decided.push(Decision::skip(
                        key,
                        SkipReason::NotApplicable {
                            detail: "the repository was deleted while being read".into(),
                        },
                    )),
                    // Only a target's template read warns; none is read here.
                    Planned::Warning(_) => {}
                }
            }
            candidates
        }
    };
    Ok(WorkList {
        candidates,
        scopes,
        failures,
        warnings: Vec::new(),
        notes: Vec::new(),
        decided,
        findings: Some((read, open)),
        lifecycle,
    })
}

/// A read failure as an unreadable decision (nothing is decided for it; counted as a failure).
fn unreadable(f: &Failure) -> Decision {
    Decision::skip(
        RepoKey::new(
            f.account_id.as_deref(),
            f.region.as_deref(),
            f.repository.as_deref().unwrap_or("*"),
        ),
        SkipReason::Unreadable {
            detail: f.error.clone(),
        },
    )
}
