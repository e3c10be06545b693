//! Remediation planning: what `immutag remediate` would change, and what
//! `immutag rollback` would restore. Pure: no I/O, no clock, no AWS.
//!
//! [`plan`] turns the current state of each repository, the recommendation for it (from
//! `immutag plan`, or forced with `--mode immutable`), the rule parameters (exemptions) and
//! the `--repositories` patterns into one [`Decision`] per repository: a change from the
//! current [`Setting`] to the target, or a skip with the reason. Planning twice against the
//! state the first plan produced gives only skips (idempotent).
//!
//! [`JournalRecord`] is one line of the remediation journal; [`summarize`] reads a journal
//! back (an `intent` with no result is an unknown outcome), and [`plan_rollback`] decides,
//! from the journal and the state read again from AWS, what to restore.
//!
//! ```
//! use immutag_core::remediation::{plan, Candidate, Decision, Mode, PlanOptions, Recommendation, SkipReason};
//! use immutag_core::{InputKind, Repository, RuleParameters, TagMutability};
//!
//! let repos = vec![
//!     Candidate::new(Repository::new("api", InputKind::Live).with_mutability(TagMutability::Mutable), Recommendation::Immutable),
//!     Candidate::new(Repository::new("web", InputKind::Live).with_mutability(TagMutability::Immutable), Recommendation::Immutable),
//! ];
//! let items = plan(&repos, &PlanOptions::default(), &RuleParameters::default());
//! assert!(matches!(items[0].decision, Decision::Change { .. }));
//! assert_eq!(items[1].decision, Decision::Skip { reason: SkipReason::AlreadyAtTarget });
//! ```

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evaluate::{Compliance, Reason, evaluate};
use crate::model::{
    ECR_REPOSITORY_TYPE, ExclusionFilter, FilterSetting, MutabilitySetting, Repository,
    ResourceStatus, TagMutability,
};
use crate::params::RuleParameters;
use crate::wildcard;

/// The most exclusion filters the ECR API accepts on one repository.
pub const MAX_EXCLUSION_FILTERS: usize = 5;

/// A concrete tag mutability setting: the mode and its exclusion filters (empty for the
/// modes that take none).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Setting {
    /// `imageTagMutability`.
    pub mode: TagMutability,
    /// `imageTagMutabilityExclusionFilters`, in API order.
    #[serde(default)]
    pub filters: Vec<ExclusionFilter>,
}

impl Setting {
    /// Plain `IMMUTABLE`.
    pub fn immutable() -> Self {
        Self {
            mode: TagMutability::Immutable,
            filters: Vec::new(),
        }
    }

    /// `mode` with `filters`.
    pub fn new(mode: TagMutability, filters: Vec<ExclusionFilter>) -> Self {
        Self { mode, filters }
    }

    /// The concrete setting a repository description states: an absent setting is the
    /// API default `MUTABLE`; an unresolved one (a template expression) has none.
    pub fn of(repo: &Repository) -> Result<Self, String> {
        let mode = match &repo.tag_mutability {
            MutabilitySetting::Set { value } => value.clone(),
            MutabilitySetting::Absent => TagMutability::Mutable,
            MutabilitySetting::Unresolved { reason } => {
                return Err(format!("the tag mutability is unresolved: {reason}"));
            }
        };
        let filters = match &repo.exclusion_filters {
            FilterSetting::Listed { filters } => filters.clone(),
            FilterSetting::Unresolved { reason } => {
                return Err(format!("the exclusion filters are unresolved: {reason}"));
            }
        };
        Ok(Self { mode, filters })
    }

    /// True when both settings have the same effect: same mode and, for the modes that take
    /// filters, the same set of filters (order and duplicates do not matter).
    pub fn same_as(&self, other: &Setting) -> bool {
        if self.mode != other.mode {
            return false;
        }
        if !self.mode.takes_filters() {
            return true;
        }
        let mut a: Vec<&ExclusionFilter> = self.filters.iter().collect();
        let mut b: Vec<&ExclusionFilter> = other.filters.iter().collect();
        a.sort();
        a.dedup();
        b.sort();
        b.dedup();
        a == b
    }

    /// Checks that ECR would accept this setting as a target: a known mode, 1 to 5 valid
    /// `WILDCARD` filters (none a catch-all) exactly when the mode takes filters.
    pub fn validate_target(&self) -> Result<(), String> {
        if let TagMutability::Unknown(v) = &self.mode {
            return Err(format!("`{v}` is not a tag mutability ECR knows"));
        }
        if !self.mode.takes_filters() {
            if !self.filters.is_empty() {
                return Err(format!("{} takes no exclusion filters", self.mode));
            }
            return Ok(());
        }
        if self.filters.is_empty() || self.filters.len() > MAX_EXCLUSION_FILTERS {
            return Err(format!(
                "{} needs 1 to {MAX_EXCLUSION_FILTERS} exclusion filters, found {}",
                self.mode,
                self.filters.len()
            ));
        }
        for f in &self.filters {
            if f.filter_type != crate::model::FilterType::Wildcard {
                return Err(format!(
                    "exclusion filter type `{}` is not WILDCARD",
                    f.filter_type.as_str()
                ));
            }
            if !wildcard::is_valid_filter(&f.filter) {
                return Err(format!(
                    "`{}` is not a valid exclusion filter (1 to 128 characters of 0-9 a-z A-Z . _ * -)",
                    f.filter
                ));
            }
            if self.mode == TagMutability::ImmutableWithExclusion && f.is_catch_all() {
                return Err(format!(
                    "`{}` matches every tag and would leave the repository fully mutable",
                    f.filter
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mode.as_str())?;
        if self.mode.takes_filters() || !self.filters.is_empty() {
            let list: Vec<&str> = self.filters.iter().map(|x| x.filter.as_str()).collect();
            write!(f, " [{}]", list.join(", "))?;
        }
        Ok(())
    }
}

/// What the plan recommends for a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Recommendation {
    /// Switch to plain `IMMUTABLE`.
    Immutable,
    /// Switch to `IMMUTABLE_WITH_EXCLUSION` with these filters (tags pipelines re-push).
    ImmutableWithExclusion {
        /// The exclusion filters.
        filters: Vec<ExclusionFilter>,
    },
    /// A human must decide first (for example: a pipeline re-pushes many tags).
    Review {
        /// Why.
        reason: String,
    },
    /// Nothing to do: the repository is already compliant.
    Keep,
}

/// How the target of each repository is chosen (`--mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The plan's recommendation (the default).
    #[default]
    Plan,
    /// Plain `IMMUTABLE` for every repository in scope that is not exempt and not marked for
    /// review, whatever the plan recommends.
    Immutable,
}

/// One repository to plan for: its current state and the recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Candidate {
    /// The current state (as read from AWS or from the plan file).
    pub repository: Repository,
    /// The plan's recommendation.
    pub recommendation: Recommendation,
}

impl Candidate {
    /// A candidate.
    pub fn new(repository: Repository, recommendation: Recommendation) -> Self {
        Self {
            repository,
            recommendation,
        }
    }

    /// A candidate whose recommendation follows from evaluation alone: `Keep` when the
    /// repository is compliant or not applicable, `Immutable` otherwise. For a live scan
    /// with no plan.
    pub fn from_evaluation(repository: Repository, params: &RuleParameters) -> Self {
        let recommendation = match evaluate(&repository, params).compliance {
            Compliance::NonCompliant => Recommendation::Immutable,
            Compliance::Compliant | Compliance::NotApplicable => Recommendation::Keep,
        };
        Self::new(repository, recommendation)
    }
}

/// Options of a planning run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// How targets are chosen.
    pub mode: Mode,
    /// Repository name patterns (`*` wildcard, whole name); empty means all.
    pub repositories: Vec<String>,
}

/// Why a repository is left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum SkipReason {
    /// The plan marks it for review.
    Review {
        /// The plan's reason.
        detail: String,
    },
    /// Exempt under the rule parameters.
    Exempt {
        /// Which pattern or tag exempts it.
        detail: String,
    },
    /// The current setting already is the target.
    AlreadyAtTarget,
    /// The plan recommends nothing (compliant) and no mode forces a change.
    Compliant,
    /// The name matches none of the `--repositories` patterns.
    FilteredOut,
    /// Not an active ECR repository with a known name and setting.
    NotApplicable {
        /// Why.
        detail: String,
    },
    /// The recommended target is not a setting ECR accepts.
    InvalidTarget {
        /// Why.
        detail: String,
    },
    /// The current setting could not be read from AWS, so nothing is decided (counted as a
    /// failure).
    Unreadable {
        /// The error.
        detail: String,
    },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Review { detail } => write!(f, "marked for review: {detail}"),
            Self::Exempt { detail } => write!(f, "exempt: {detail}"),
            Self::AlreadyAtTarget => f.write_str("already at the target"),
            Self::Compliant => f.write_str("compliant, nothing recommended"),
            Self::FilteredOut => f.write_str("not selected by --repositories"),
            Self::NotApplicable { detail } => write!(f, "not applicable: {detail}"),
            Self::InvalidTarget { detail } => write!(f, "invalid target: {detail}"),
            Self::Unreadable { detail } => write!(f, "current setting unreadable: {detail}"),
        }
    }
}

impl SkipReason {
    /// A short stable identifier (kebab-case), for counting and JSON.
    pub fn id(&self) -> &'static str {
        match self {
            Self::Review { .. } => "review",
            Self::Exempt { .. } => "exempt",
            Self::AlreadyAtTarget => "already-at-target",
            Self::Compliant => "compliant",
            Self::FilteredOut => "filtered-out",
            Self::NotApplicable { .. } => "not-applicable",
            Self::InvalidTarget { .. } => "invalid-target",
            Self::Unreadable { .. } => "unreadable",
        }
    }
}

/// What to do with one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Call PutImageTagMutability.
    Change {
        /// The current setting.
        from: Setting,
        /// The target.
        to: Setting,
    },
    /// Leave it.
    Skip {
        /// Why.
        #[serde(flatten)]
        reason: SkipReason,
    },
}

/// Where a repository lives and what it is called: the key of a change.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct RepoKey {
    /// The account (registry id); `None`: the account of the credentials in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The region; `None`: the region configured for the credentials in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The repository name.
    pub repository: String,
}

impl RepoKey {
    /// A key.
    pub fn new(account: Option<&str>, region: Option<&str>, repository: &str) -> Self {
        Self {
            account: account.map(str::to_owned),
            region: region.map(str::to_owned),
            repository: repository.to_owned(),
        }
    }
}

impl fmt::Display for RepoKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.account.as_deref().unwrap_or("-"),
            self.region.as_deref().unwrap_or("-"),
            self.repository
        )
    }
}

/// The plan for one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanItem {
    /// Where and which.
    #[serde(flatten)]
    pub key: RepoKey,
    /// What to do.
    #[serde(flatten)]
    pub decision: Decision,
}

impl PlanItem {
    /// The change, when the decision is one: (key, from, to).
    pub fn change(&self) -> Option<(&RepoKey, &Setting, &Setting)> {
        match &self.decision {
            Decision::Change { from, to } => Some((&self.key, from, to)),
            Decision::Skip { .. } => None,
        }
    }
}

/// True when `name` is selected by the `--repositories` patterns (empty selects all).
pub fn selected(name: &str, patterns: &[String]) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| wildcard::matches(p, name))
}

/// Plans every candidate, in order. See the module documentation.
pub fn plan(
    candidates: &[Candidate],
    opts: &PlanOptions,
    params: &RuleParameters,
) -> Vec<PlanItem> {
    candidates
        .iter()
        .map(|c| {
            let repo = &c.repository;
            let name = repo
                .name
                .clone()
                .unwrap_or_else(|| repo.resource_id.clone());
            let key = RepoKey::new(repo.account_id.as_deref(), repo.region.as_deref(), &name);
            PlanItem {
                key,
                decision: decide(c, &name, opts, params),
            }
        })
        .collect()
}

fn decide(c: &Candidate, name: &str, opts: &PlanOptions, params: &RuleParameters) -> Decision {
    let skip = |reason| Decision::Skip { reason };
    let repo = &c.repository;
    if repo.resource_type != ECR_REPOSITORY_TYPE {
        return skip(SkipReason::NotApplicable {
            detail: format!("{} is not {ECR_REPOSITORY_TYPE}", repo.resource_type),
        });
    }
    if repo.status != ResourceStatus::Active {
        return skip(SkipReason::NotApplicable {
            detail: "the resource is deleted or out of scope".to_owned(),
        });
    }
    if repo.name.is_none() {
        return skip(SkipReason::NotApplicable {
            detail: "the repository name is not known".to_owned(),
        });
    }
    if !selected(name, &opts.repositories) {
        return skip(SkipReason::FilteredOut);
    }
    let eval = evaluate(repo, params);
    if matches!(eval.reason, Reason::ExemptByName | Reason::ExemptByTag) {
        return skip(SkipReason::Exempt {
            detail: eval.annotation,
        });
    }
    let current = match Setting::of(repo) {
        Ok(s) => s,
        Err(detail) => return skip(SkipReason::NotApplicable { detail }),
    };
    let target = match (&c.recommendation, opts.mode) {
        (Recommendation::Review { reason }, _) => {
            return skip(SkipReason::Review {
                detail: reason.clone(),
            });
        }
        (_, Mode::Immutable) => Setting::immutable(),
        (Recommendation::Keep, Mode::Plan) => return skip(SkipReason::Compliant),
        (Recommendation::Immutable, Mode::Plan) => Setting::immutable(),
        (Recommendation::ImmutableWithExclusion { filters }, Mode::Plan) => {
            Setting::new(TagMutability::ImmutableWithExclusion, filters.clone())
        }
    };
    if let Err(detail) = target.validate_target() {
        return skip(SkipReason::InvalidTarget { detail });
    }
    if current.same_as(&target) {
        return skip(SkipReason::AlreadyAtTarget);
    }
    Decision::Change {
        from: current,
        to: target,
    }
}

/// Counts of a plan: changes, and skips per reason id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanCounts {
    /// Repositories to change.
    pub changes: usize,
    /// Skipped repositories per [`SkipReason::id`].
    pub skipped: BTreeMap<String, usize>,
}

/// Counts the decisions of a plan.
pub fn count(items: &[PlanItem]) -> PlanCounts {
    let mut c = PlanCounts::default();
    for item in items {
        match &item.decision {
            Decision::Change { .. } => c.changes += 1,
            Decision::Skip { reason } => *c.skipped.entry(reason.id().to_owned()).or_default() += 1,
        }
    }
    c
}

// ---------------------------------------------------------------------------------------
// The journal
// ---------------------------------------------------------------------------------------

/// Which command wrote a journal record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `immutag remediate`.
    Remediate,
    /// `immutag rollback`.
    Rollback,
}

/// The phase a journal record reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Written (and flushed to disk) before PutImageTagMutability is called.
    Intent,
    /// The call succeeded.
    Applied,
    /// The call failed; `outcome_known` says whether AWS certainly did not apply it.
    Failed,
    /// Read back afterwards: the setting is the target.
    Verified,
    /// Read back afterwards: the setting is not the target (`observed` says what it is).
    Mismatch,
}

/// One line of the journal (JSON lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JournalRecord {
    /// The run that wrote it (one journal file may hold several runs).
    pub run: String,
    /// Order within the run, from 1.
    pub seq: u64,
    /// When the record was written, RFC 3339 UTC.
    pub time: String,
    /// Which command.
    pub operation: Operation,
    /// Which phase.
    pub phase: Phase,
    /// Account, region, repository.
    #[serde(flatten)]
    pub key: RepoKey,
    /// The setting before the change.
    pub previous: Setting,
    /// The setting the change sets.
    pub new: Setting,
    /// For `mismatch`: the setting read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<Setting>,
    /// For `failed`: the error code (for example `RepositoryNotFoundException`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// For `failed`: the error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For `failed`: true when AWS answered with an error (nothing changed); false when the
    /// request may or may not have been applied (timeout, connection lost).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_known: Option<bool>,
}

/// What a journal says happened to one repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Changed, and read back as the target.
    Verified,
    /// Changed (not, or not yet, read back).
    Applied,
    /// Changed, but read back as something else.
    Mismatch,
    /// Not changed: AWS refused.
    Failed,
    /// Unknown: an intent with no result (a crash), or a request whose answer was lost.
    Unknown,
}

/// One repository's history in a journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JournalEntry {
    /// Account, region, repository.
    #[serde(flatten)]
    pub key: RepoKey,
    /// The operation of the last intent.
    pub operation: Operation,
    /// The setting before the first change in the journal.
    pub previous: Setting,
    /// The setting of the last change in the journal.
    pub new: Setting,
    /// What happened.
    pub outcome: Outcome,
    /// The last error, when the outcome is failed or unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Reads journal records back into one entry per repository (in order of first intent).
/// Records of different runs for the same repository are chained: `previous` is the setting
/// before the first change, `new` the last target.
pub fn summarize(records: &[JournalRecord]) -> Vec<JournalEntry> {
    let mut order: Vec<RepoKey> = Vec::new();
    let mut map: BTreeMap<RepoKey, JournalEntry> = BTreeMap::new();
    for r in records {
        match r.phase {
            Phase::Intent => match map.get_mut(&r.key) {
                Some(e) => {
                    e.new = r.new.clone();
                    e.operation = r.operation;
                    e.outcome = Outcome::Unknown;
                    e.error = None;
                }
                None => {
                    order.push(r.key.clone());
                    map.insert(
                        r.key.clone(),
                        JournalEntry {
                            key: r.key.clone(),
                            operation: r.operation,
                            previous: r.previous.clone(),
                            new: r.new.clone(),
                            outcome: Outcome::Unknown,
                            error: None,
                        },
                    );
                }
            },
            phase => {
                let Some(e) = map.get_mut(&r.key) else {
                    // A result with no intent: keep it, the outcome says what it says.
                    order.push(r.key.clone());
                    map.insert(
                        r.key.clone(),
                        JournalEntry {
                            key: r.key.clone(),
                            operation: r.operation,
                            previous: r.previous.clone(),
                            new: r.new.clone(),
                            outcome: outcome_of(phase, r.outcome_known),
                            error: r.error.clone(),
                        },
                    );
                    continue;
                };
                e.outcome = outcome_of(phase, r.outcome_known);
                if phase == Phase::Failed {
                    e.error = Some(match (&r.error_code, &r.error) {
                        (Some(c), Some(m)) => format!("{c}: {m}"),
                        (Some(c), None) => c.clone(),
                        (None, Some(m)) => m.clone(),
                        (None, None) => "unknown error".to_owned(),
                    });
                }
            }
        }
    }
    order.into_iter().filter_map(|k| map.remove(&k)).collect()
}

fn outcome_of(phase: Phase, outcome_known: Option<bool>) -> Outcome {
    match phase {
        Phase::Intent => Outcome::Unknown,
        Phase::Applied => Outcome::Applied,
        Phase::Verified => Outcome::Verified,
        Phase::Mismatch => Outcome::Mismatch,
        Phase::Failed if outcome_known == Some(true) => Outcome::Failed,
        Phase::Failed => Outcome::Unknown,
    }
}

/// What the rollback does with one repository of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum RollbackDecision {
    /// Restore `to` (the journal's previous setting).
    Restore {
        /// The current setting (the journal's new one).
        from: Setting,
        /// The setting to restore.
        to: Setting,
    },
    /// Leave it.
    Skip {
        /// Why, in words.
        reason: String,
    },
}

/// The rollback plan for one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RollbackItem {
    /// The journal's account of it.
    pub entry: JournalEntry,
    /// The setting read from AWS now (`None`: the repository no longer exists).
    pub current: Option<Setting>,
    /// What to do.
    #[serde(flatten)]
    pub decision: RollbackDecision,
}

/// Decides what to restore. `current` is the setting read from AWS now for each journal
/// entry (`None` when the repository is gone). A repository is restored only when its
/// current setting is still what the journal set, whatever the journal's outcome (so an
/// unknown outcome is resolved by the state read again); one that someone changed since is
/// left alone and reported.
pub fn plan_rollback(
    entries: &[JournalEntry],
    current: &BTreeMap<RepoKey, Setting>,
) -> Vec<RollbackItem> {
    entries
        .iter()
        .map(|e| {
            let now = current.get(&e.key).cloned();
            let decision = match &now {
                None => RollbackDecision::Skip {
                    reason: "the repository no longer exists".to_owned(),
                },
                Some(_) if e.outcome == Outcome::Failed => RollbackDecision::Skip {
                    reason: format!(
                        "the change failed, nothing to undo ({})",
                        e.error.as_deref().unwrap_or("no error recorded")
                    ),
                },
                Some(now) if now.same_as(&e.previous) => RollbackDecision::Skip {
                    reason: format!("already at the previous setting {}", e.previous),
                },
                Some(now) if now.same_as(&e.new) => RollbackDecision::Restore {
                    from: now.clone(),
                    to: e.previous.clone(),
                },
                Some(now) => RollbackDecision::Skip {
                    reason: format!(
                        "changed since the journal: now {now}, the journal set {}; restore it by hand if intended",
                        e.new
                    ),
                },
            };
            RollbackItem {
                entry: e.clone(),
                current: now,
                decision,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::InputKind;

    fn repo(name: &str, mode: TagMutability) -> Repository {
        let mut r = Repository::new(name, InputKind::Live).with_mutability(mode);
        r.account_id = Some("111111111111".into());
        r.region = Some("eu-west-1".into());
        r
    }

    fn apply(items: &[PlanItem], candidates: &mut [Candidate]) {
        for (item, c) in items.iter().zip(candidates.iter_mut()) {
            if let Some((_, _, to)) = item.change() {
                c.repository.tag_mutability = MutabilitySetting::set(to.mode.clone());
                c.repository.exclusion_filters = FilterSetting::listed(to.filters.clone());
            }
        }
    }

    #[test]
    fn plan_then_apply_then_plan_is_a_no_op() {
        let mut cands = vec![
            Candidate::new(repo("a", TagMutability::Mutable), Recommendation::Immutable),
            Candidate::new(
                repo("b", TagMutability::Mutable),
                Recommendation::ImmutableWithExclusion {
                    filters: vec![ExclusionFilter::wildcard("latest")],
                },
            ),
            Candidate::new(
                Repository::new("c", InputKind::Live),
                Recommendation::Immutable,
            ),
        ];
        let params = RuleParameters::default();
        let opts = PlanOptions::default();
        let first = plan(&cands, &opts, &params);
        assert_eq!(count(&first).changes, 3);
        assert_eq!(
            first[1].decision,
            Decision::Change {
                from: Setting::new(TagMutability::Mutable, vec![]),
                to: Setting::new(
                    TagMutability::ImmutableWithExclusion,
                    vec![ExclusionFilter::wildcard("latest")]
                ),
            }
        );
        // The absent setting is the API default MUTABLE.
        assert_eq!(
            first[2].change().map(|c| c.1.mode.clone()),
            Some(TagMutability::Mutable)
        );
        apply(&first, &mut cands);
        let second = plan(&cands, &opts, &params);
        assert_eq!(count(&second).changes, 0);
        assert!(second.iter().all(|i| i.decision
            == Decision::Skip {
                reason: SkipReason::AlreadyAtTarget
            }));
    }

    #[test]
    fn review_exempt_filtered_and_compliant_are_skipped_with_reasons() {
        let params = RuleParameters::from_json(
            r#"{"ExemptRepositoryPatterns":"sandbox-*","ExemptionTagKey":"immutag:exempt"}"#,
        )
        .unwrap();
        let cands = vec![
            Candidate::new(
                repo("legacy", TagMutability::Mutable),
                Recommendation::Review {
                    reason: "pipeline re-pushes 40 tags".into(),
                },
            ),
            Candidate::new(
                repo("sandbox-x", TagMutability::Mutable),
                Recommendation::Immutable,
            ),
            Candidate::new(
                repo("tagged", TagMutability::Mutable).with_tag("immutag:exempt", "yes"),
                Recommendation::Immutable,
            ),
            Candidate::new(
                repo("other", TagMutability::Mutable),
                Recommendation::Immutable,
            ),
            Candidate::new(
                repo("team-a-api", TagMutability::Immutable),
                Recommendation::Keep,
            ),
            Candidate::new(
                repo("team-a-web", TagMutability::Mutable),
                Recommendation::Immutable,
            ),
        ];
        let opts = PlanOptions {
            mode: Mode::Plan,
            repositories: vec![
                "team-a-*".into(),
                "legacy".into(),
                "sandbox-*".into(),
                "tagged".into(),
            ],
        };
        let items = plan(&cands, &opts, &params);
        let ids: Vec<&str> = items
            .iter()
            .map(|i| match &i.decision {
                Decision::Change { .. } => "change",
                Decision::Skip { reason } => reason.id(),
            })
            .collect();
        assert_eq!(
            ids,
            [
                "review",
                "exempt",
                "exempt",
                "filtered-out",
                "compliant",
                "change"
            ]
        );
        let Decision::Skip { reason } = &items[0].decision else {
            panic!("expected a skip")
        };
        assert!(reason.to_string().contains("40 tags"));
    }

    #[test]
    fn mode_immutable_forces_plain_immutable_but_not_over_review() {
        let cands = vec![
            Candidate::new(
                repo("a", TagMutability::Mutable),
                Recommendation::ImmutableWithExclusion {
                    filters: vec![ExclusionFilter::wildcard("latest")],
                },
            ),
            Candidate::new(
                repo("b", TagMutability::ImmutableWithExclusion)
                    .with_filters(vec![ExclusionFilter::wildcard("latest")]),
                Recommendation::Keep,
            ),
            Candidate::new(
                repo("c", TagMutability::Mutable),
                Recommendation::Review { reason: "r".into() },
            ),
        ];
        let opts = PlanOptions {
            mode: Mode::Immutable,
            repositories: vec![],
        };
        let items = plan(&cands, &opts, &RuleParameters::default());
        assert_eq!(
            items[0].change().map(|c| c.2.clone()),
            Some(Setting::immutable())
        );
        assert_eq!(
            items[1].change().map(|c| c.2.clone()),
            Some(Setting::immutable())
        );
        assert!(matches!(
            items[2].decision,
            Decision::Skip {
                reason: SkipReason::Review { .. }
            }
        ));
    }

    #[test]
    fn filters_compare_as_sets_and_invalid_targets_are_refused() {
        let a = Setting::new(
            TagMutability::ImmutableWithExclusion,
            vec![
                ExclusionFilter::wildcard("x"),
                ExclusionFilter::wildcard("y"),
            ],
        );
        let b = Setting::new(
            TagMutability::ImmutableWithExclusion,
            vec![
                ExclusionFilter::wildcard("y"),
                ExclusionFilter::wildcard("x"),
            ],
        );
        assert!(a.same_as(&b));
        assert!(!a.same_as(&Setting::immutable()));
        let cands = vec![
            Candidate::new(
                repo("star", TagMutability::Mutable),
                Recommendation::ImmutableWithExclusion {
                    filters: vec![ExclusionFilter::wildcard("*")],
                },
            ),
            Candidate::new(
                repo("none", TagMutability::Mutable),
                Recommendation::ImmutableWithExclusion { filters: vec![] },
            ),
        ];
        let items = plan(&cands, &PlanOptions::default(), &RuleParameters::default());
        for item in &items {
            assert!(matches!(
                item.decision,
                Decision::Skip {
                    reason: SkipReason::InvalidTarget { .. }
                }
            ));
        }
    }

    fn rec(seq: u64, name: &str, phase: Phase, prev: Setting, new: Setting) -> JournalRecord {
        JournalRecord {
            run: "r1".into(),
            seq,
            time: "2026-11-26T15:00:00Z".into(),
            operation: Operation::Remediate,
            phase,
            key: RepoKey::new(Some("111111111111"), Some("eu-west-1"), name),
            previous: prev,
            new,
            observed: None,
            error_code: None,
            error: None,
            outcome_known: None,
        }
    }

    #[test]
    fn summary_reports_intent_without_result_as_unknown() {
        let m = Setting::new(TagMutability::Mutable, vec![]);
        let i = Setting::immutable();
        let mut failed = rec(5, "c", Phase::Failed, m.clone(), i.clone());
        failed.error_code = Some("RepositoryNotFoundException".into());
        failed.outcome_known = Some(true);
        let records = vec![
            rec(1, "a", Phase::Intent, m.clone(), i.clone()),
            rec(2, "a", Phase::Applied, m.clone(), i.clone()),
            rec(3, "b", Phase::Intent, m.clone(), i.clone()),
            rec(4, "c", Phase::Intent, m.clone(), i.clone()),
            failed,
            rec(6, "a", Phase::Verified, m.clone(), i.clone()),
        ];
        let s = summarize(&records);
        let outcomes: Vec<(&str, Outcome)> = s
            .iter()
            .map(|e| (e.key.repository.as_str(), e.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("a", Outcome::Verified),
                ("b", Outcome::Unknown),
                ("c", Outcome::Failed)
            ]
        );
        assert!(
            s[2].error
                .as_deref()
                .unwrap_or("")
                .contains("RepositoryNotFound")
        );
    }

    #[test]
    fn rollback_restores_only_what_is_still_at_the_journal_setting() {
        let m = Setting::new(TagMutability::Mutable, vec![]);
        let mx = Setting::new(
            TagMutability::MutableWithExclusion,
            vec![ExclusionFilter::wildcard("v*")],
        );
        let i = Setting::immutable();
        let records = vec![
            rec(1, "applied", Phase::Intent, m.clone(), i.clone()),
            rec(2, "applied", Phase::Applied, m.clone(), i.clone()),
            rec(3, "unknown-done", Phase::Intent, mx.clone(), i.clone()),
            rec(4, "unknown-not-done", Phase::Intent, m.clone(), i.clone()),
            rec(5, "changed-since", Phase::Intent, m.clone(), i.clone()),
            rec(6, "changed-since", Phase::Applied, m.clone(), i.clone()),
            rec(7, "gone", Phase::Intent, m.clone(), i.clone()),
            rec(8, "gone", Phase::Applied, m.clone(), i.clone()),
        ];
        let entries = summarize(&records);
        let mut current = BTreeMap::new();
        let k = |n: &str| RepoKey::new(Some("111111111111"), Some("eu-west-1"), n);
        current.insert(k("applied"), i.clone());
        current.insert(k("unknown-done"), i.clone());
        current.insert(k("unknown-not-done"), m.clone());
        current.insert(
            k("changed-since"),
            Setting::new(
                TagMutability::ImmutableWithExclusion,
                vec![ExclusionFilter::wildcard("latest")],
            ),
        );
        let items = plan_rollback(&entries, &current);
        let restores: Vec<(&str, Setting)> = items
            .iter()
            .filter_map(|it| match &it.decision {
                RollbackDecision::Restore { to, .. } => {
                    Some((it.entry.key.repository.as_str(), to.clone()))
                }
                RollbackDecision::Skip { .. } => None,
            })
            .collect();
        assert_eq!(
            restores,
            [("applied", m.clone()), ("unknown-done", mx.clone())]
        );
        let skip_reason = |n: &str| {
            items
                .iter()
                .find(|it| it.entry.key.repository == n)
                .and_then(|it| match &it.decision {
                    RollbackDecision::Skip { reason } => Some(reason.clone()),
                    RollbackDecision::Restore { .. } => None,
                })
                .unwrap_or_default()
        };
        assert!(skip_reason("changed-since").contains("changed since"));
        assert!(skip_reason("gone").contains("no longer exists"));
        assert!(skip_reason("unknown-not-done").contains("already at the previous"));
    }

    #[test]
    fn journal_record_round_trips_as_one_json_line() {
        let mut r = rec(
            1,
            "a",
            Phase::Failed,
            Setting::new(TagMutability::Mutable, vec![]),
            Setting::immutable(),
        );
        r.error_code = Some("AccessDeniedException".into());
        r.outcome_known = Some(true);
        let line = serde_json::to_string(&r).unwrap();
        assert!(!line.contains('\n'));
        assert!(line.contains(r#""account":"111111111111""#));
        assert!(line.contains(r#""phase":"failed""#));
        let back: JournalRecord = serde_json::from_str(&line).unwrap();
        assert_eq!(back, r);
    }
}
