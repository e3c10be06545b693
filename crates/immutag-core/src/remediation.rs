//! Remediation decisions: what `immutag remediate` (and the Config rule's auto-remediation)
//! would change. Pure: no I/O, no clock, no AWS.
//!
//! [`decide`] turns the current (live) state of each repository, what the plan proposes for it
//! (from `immutag plan`, or plain IMMUTABLE with `--mode immutable`), the rule parameters
//! (exemptions, allowed exclusions) and the `--repositories` patterns into one [`Decision`]
//! per repository: a [`Change`](crate::change::Change) from the current [`Setting`] to the
//! target, or a skip with the reason. Only a repository that is NON_COMPLIANT under the rule
//! parameters is ever changed: a compliant one is kept, whatever the plan or the mode says.
//! Deciding twice against the state the first decisions produced gives only skips
//! (idempotent).
//!
//! ```
//! use immutag_core::plan::Proposal;
//! use immutag_core::remediation::{decide, Action, Candidate, RemediationOptions, SkipReason};
//! use immutag_core::{InputKind, Repository, RuleParameters, TagMutability};
//!
//! let repos = vec![
//!     Candidate::new(Repository::new("api", InputKind::Live).with_mutability(TagMutability::Mutable), Proposal::Immutable),
//!     Candidate::new(Repository::new("web", InputKind::Live).with_mutability(TagMutability::Immutable), Proposal::Immutable),
//! ];
//! let decisions = decide(&repos, &RemediationOptions::default(), &RuleParameters::default());
//! assert!(decisions[0].change().is_some());
//! assert_eq!(decisions[1].action, Action::Skip { reason: SkipReason::Compliant });
//! ```

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::change::{Change, LifecyclePolicy, RepoKey, Setting, State};
use crate::evaluate::{Compliance, Reason, evaluate};
use crate::model::{Repository, ResourceKind, ResourceStatus, ResourceType};
use crate::params::RuleParameters;
use crate::plan::{Proposal, Recommendation};
use crate::wildcard;

/// How the target of each repository is chosen (`--mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The plan's proposal (the default).
    #[default]
    Plan,
    /// Plain `IMMUTABLE` for every non-compliant repository in scope that is not exempt and
    /// not marked for review, whatever the plan proposes.
    Immutable,
}

/// One repository to decide for: its current state and what the plan proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The current state (as read from AWS).
    pub repository: Repository,
    /// What the plan proposes.
    pub proposal: Proposal,
}

impl Candidate {
    /// A candidate.
    pub fn new(repository: Repository, proposal: Proposal) -> Self {
        Self {
            repository,
            proposal,
        }
    }

    /// A candidate to make plain IMMUTABLE if it is non-compliant (a live scan with no plan,
    /// the Config rule's auto-remediation).
    pub fn immutable(repository: Repository) -> Self {
        Self::new(repository, Proposal::Immutable)
    }

    /// A candidate from a plan's recommendation and the repository's current state.
    pub fn from_recommendation(recommendation: &Recommendation, repository: Repository) -> Self {
        Self::new(repository, recommendation.proposal.clone())
    }
}

/// Options of [`decide`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemediationOptions {
    /// How targets are chosen.
    pub mode: Mode,
    /// Repository name patterns (`*` wildcard, whole name). When neither these nor
    /// `templates` are given, every repository and template is selected; otherwise only what
    /// they match.
    pub repositories: Vec<String>,
    /// Creation template prefix patterns (`*` wildcard, whole prefix; `ROOT` is the default
    /// template). See `repositories`.
    pub templates: Vec<String>,
}

impl RemediationOptions {
    /// True when the resource of `key` is selected by the patterns (see
    /// [`RemediationOptions::repositories`]).
    pub fn selects(&self, key: &RepoKey) -> bool {
        if self.repositories.is_empty() && self.templates.is_empty() {
            return true;
        }
        let patterns = match key.kind {
            ResourceKind::Repository => &self.repositories,
            ResourceKind::CreationTemplate => &self.templates,
        };
        patterns
            .iter()
            .any(|p| wildcard::matches(p, &key.repository))
    }
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
    /// Compliant under the rule parameters (as read now): kept.
    Compliant,
    /// Not selected by the `--repositories` / `--templates` patterns.
    FilteredOut,
    /// Not an active ECR repository (or creation template) with a known name (prefix) and
    /// setting.
    NotApplicable {
        /// Why.
        detail: String,
    },
    /// The proposed target is not a setting ECR accepts.
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
    /// `--lifecycle`: the repository has a lifecycle policy of its own, left alone.
    HasLifecyclePolicy,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Review { detail } => write!(f, "marked for review: {detail}"),
            Self::Exempt { detail } => write!(f, "exempt: {detail}"),
            Self::AlreadyAtTarget => f.write_str("already at the target"),
            Self::Compliant => f.write_str("compliant: kept"),
            Self::FilteredOut => f.write_str("not selected by --repositories / --templates"),
            Self::NotApplicable { detail } => write!(f, "not applicable: {detail}"),
            Self::InvalidTarget { detail } => write!(f, "invalid target: {detail}"),
            Self::Unreadable { detail } => write!(f, "current setting unreadable: {detail}"),
            Self::HasLifecyclePolicy => f.write_str(
                "has a lifecycle policy of its own: left alone (the suggested one is not applied)",
            ),
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
            Self::HasLifecyclePolicy => "has-lifecycle-policy",
        }
    }
}

/// What to do with one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Action {
    /// Call PutImageTagMutability (UpdateRepositoryCreationTemplate for a template; for a
    /// lifecycle policy, PutLifecyclePolicy).
    Change {
        /// The current state.
        from: State,
        /// The target.
        to: State,
    },
    /// Leave it.
    Skip {
        /// Why.
        #[serde(flatten)]
        reason: SkipReason,
    },
}

/// The decision for one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    /// Where and which.
    #[serde(flatten)]
    pub key: RepoKey,
    /// What to do.
    #[serde(flatten)]
    pub action: Action,
}

impl Decision {
    /// A skip of `key` for `reason`.
    pub fn skip(key: RepoKey, reason: SkipReason) -> Self {
        Self {
            key,
            action: Action::Skip { reason },
        }
    }

    /// The change, when the decision is one.
    pub fn change(&self) -> Option<Change> {
        match &self.action {
            Action::Change { from, to } => Some(Change {
                key: self.key.clone(),
                from: from.clone(),
                to: to.clone(),
            }),
            Action::Skip { .. } => None,
        }
    }

    /// True when nothing could be decided because the repository could not be read.
    pub fn is_unreadable(&self) -> bool {
        matches!(
            self.action,
            Action::Skip {
                reason: SkipReason::Unreadable { .. }
            }
        )
    }
}

/// The key of a repository: account, region, name (or resource id); of a creation template:
/// account, region, prefix (or resource id when the prefix is not known).
pub fn key_of(repo: &Repository) -> RepoKey {
    let (account, region) = (repo.account_id.as_deref(), repo.region.as_deref());
    match &repo.resource_type {
        ResourceType::CreationTemplate(scope) => match &scope.prefix {
            Some(prefix) => RepoKey::template(account, region, prefix),
            None => RepoKey {
                kind: ResourceKind::CreationTemplate,
                ..RepoKey::new(account, region, &repo.resource_id)
            },
        },
        _ => {
            let name = repo.name.as_deref().unwrap_or(&repo.resource_id);
            RepoKey::new(account, region, name)
        }
    }
}

/// Decides every candidate, in order. See the module documentation.
pub fn decide(
    candidates: &[Candidate],
    opts: &RemediationOptions,
    params: &RuleParameters,
) -> Vec<Decision> {
    candidates
        .iter()
        .map(|c| {
            let key = key_of(&c.repository);
            let action = decide_one(c, &key, opts, params);
            Decision { key, action }
        })
        .collect()
}

fn decide_one(
    c: &Candidate,
    key: &RepoKey,
    opts: &RemediationOptions,
    params: &RuleParameters,
) -> Action {
    let skip = |reason| Action::Skip { reason };
    let repo = &c.repository;
    let Some(kind) = repo.kind() else {
        return skip(SkipReason::NotApplicable {
            detail: format!(
                "{} is not an ECR repository or creation template",
                crate::text::printable(repo.resource_type.as_str())
            ),
        });
    };
    if repo.status != ResourceStatus::Active {
        return skip(SkipReason::NotApplicable {
            detail: "the resource is deleted or out of scope".to_owned(),
        });
    }
    let known = match kind {
        ResourceKind::Repository => repo.name.is_some(),
        ResourceKind::CreationTemplate => repo
            .resource_type
            .template()
            .is_some_and(|t| t.prefix.is_some()),
    };
    if !known {
        return skip(SkipReason::NotApplicable {
            detail: match kind {
                ResourceKind::Repository => "the repository name is not known",
                ResourceKind::CreationTemplate => "the template prefix is not known",
            }
            .to_owned(),
        });
    }
    if !opts.selects(key) {
        return skip(SkipReason::FilteredOut);
    }
    let eval = evaluate(repo, params);
    if matches!(eval.reason, Reason::ExemptByName | Reason::ExemptByTag) {
        return skip(SkipReason::Exempt {
            detail: eval.annotation,
        });
    }
    if eval.compliance != Compliance::NonCompliant {
        return skip(SkipReason::Compliant);
    }
    let current = match Setting::of(repo) {
        Ok(s) => s,
        Err(detail) => return skip(SkipReason::NotApplicable { detail }),
    };
    let target = match (&c.proposal, opts.mode) {
        (Proposal::Review { reason, .. }, _) => {
            return skip(SkipReason::Review {
                detail: reason.clone(),
            });
        }
        (_, Mode::Immutable) => Setting::immutable(),
        (proposal, Mode::Plan) => match proposal.target() {
            Some(target) => target,
            None => Setting::immutable(),
        },
    };
    if let Err(detail) = target.validate_target() {
        return skip(SkipReason::InvalidTarget { detail });
    }
    if current.same_as(&target) {
        return skip(SkipReason::AlreadyAtTarget);
    }
    Action::Change {
        from: current.into(),
        to: target.into(),
    }
}

/// Decides the suggested lifecycle policy (`suggested`, the plan's `lifecycle_policy`) of the
/// repository `key` with its lifecycle policy read live (`current`): applied where it has
/// none, left alone (listed) where it has one of its own, not selected outside the
/// patterns of `opts`.
///
/// ```
/// use immutag_core::change::{LifecyclePolicy, RepoKey};
/// use immutag_core::plan::untagged_lifecycle_policy;
/// use immutag_core::remediation::{decide_lifecycle, Action, RemediationOptions, SkipReason};
/// let key = RepoKey::new(Some("111122223333"), Some("eu-west-1"), "web");
/// let policy = untagged_lifecycle_policy();
/// let all = RemediationOptions::default();
/// assert!(decide_lifecycle(&key, &policy, &LifecyclePolicy::none(), &all).change().is_some());
/// let own = LifecyclePolicy::text(r#"{"rules":[]}"#);
/// assert_eq!(decide_lifecycle(&key, &policy, &own, &all).action, Action::Skip { reason: SkipReason::HasLifecyclePolicy });
/// ```
pub fn decide_lifecycle(
    key: &RepoKey,
    suggested: &serde_json::Value,
    current: &LifecyclePolicy,
    opts: &RemediationOptions,
) -> Decision {
    if !opts.selects(key) {
        return Decision::skip(key.clone(), SkipReason::FilteredOut);
    }
    if current.lifecycle_policy.is_some() {
        return Decision::skip(key.clone(), SkipReason::HasLifecyclePolicy);
    }
    let target = State::Lifecycle(LifecyclePolicy::text(suggested.to_string()));
    if let Err(detail) = target.validate_target() {
        return Decision::skip(key.clone(), SkipReason::InvalidTarget { detail });
    }
    Decision {
        key: key.clone(),
        action: Action::Change {
            from: State::Lifecycle(current.clone()),
            to: target,
        },
    }
}

/// Counts of decisions: changes, and skips per reason id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DecisionCounts {
    /// Repositories to change.
    pub changes: usize,
    /// Skipped repositories per [`SkipReason::id`].
    pub skipped: BTreeMap<String, usize>,
}

/// Counts decisions.
pub fn count(decisions: &[Decision]) -> DecisionCounts {
    let mut c = DecisionCounts::default();
    for d in decisions {
        match &d.action {
            Action::Change { .. } => c.changes += 1,
            Action::Skip { reason } => *c.skipped.entry(reason.id().to_owned()).or_default() += 1,
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        ExclusionFilter, FilterSetting, InputKind, MutabilitySetting, TagMutability,
    };

    fn repo(name: &str, mode: TagMutability) -> Repository {
        let mut r = Repository::new(name, InputKind::Live).with_mutability(mode);
        r.account_id = Some("111111111111".into());
        r.region = Some("eu-west-1".into());
        r
    }

    fn apply(items: &[Decision], candidates: &mut [Candidate]) {
        for (item, c) in items.iter().zip(candidates.iter_mut()) {
            if let Some(Change {
                to: State::Mutability(to),
                ..
            }) = item.change()
            {
                c.repository.tag_mutability = MutabilitySetting::set(to.mode.clone());
                c.repository.exclusion_filters = FilterSetting::listed(to.filters.clone());
            }
        }
    }

    #[test]
    fn plan_then_apply_then_plan_is_a_no_op() {
        let mut cands = vec![
            Candidate::new(repo("a", TagMutability::Mutable), Proposal::Immutable),
            Candidate::new(
                repo("b", TagMutability::Mutable),
                Proposal::ImmutableWithExclusion {
                    filters: vec![ExclusionFilter::wildcard("latest")],
                },
            ),
            Candidate::new(Repository::new("c", InputKind::Live), Proposal::Immutable),
        ];
        let params = RuleParameters::default();
        let opts = RemediationOptions::default();
        let first = decide(&cands, &opts, &params);
        assert_eq!(count(&first).changes, 3);
        assert_eq!(
            first[1].action,
            Action::Change {
                from: Setting::new(TagMutability::Mutable, vec![]).into(),
                to: Setting::new(
                    TagMutability::ImmutableWithExclusion,
                    vec![ExclusionFilter::wildcard("latest")]
                )
                .into(),
            }
        );
        // The absent setting is the API default MUTABLE.
        assert_eq!(
            first[2]
                .change()
                .and_then(|c| c.from.setting().map(|s| s.mode.clone())),
            Some(TagMutability::Mutable)
        );
        apply(&first, &mut cands);
        let second = decide(&cands, &opts, &params);
        assert_eq!(count(&second).changes, 0);
        // What is now compliant is kept; what is at its target (an exclusion the default
        // parameters do not allow) is left alone.
        let ids: Vec<&str> = second
            .iter()
            .map(|i| match &i.action {
                Action::Change { .. } => "change",
                Action::Skip { reason } => reason.id(),
            })
            .collect();
        assert_eq!(ids, ["compliant", "already-at-target", "compliant"]);
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
                Proposal::Review {
                    filters: vec![],
                    reason: "pipeline re-pushes 40 tags".into(),
                },
            ),
            Candidate::new(
                repo("sandbox-x", TagMutability::Mutable),
                Proposal::Immutable,
            ),
            Candidate::new(
                repo("tagged", TagMutability::Mutable).with_tag("immutag:exempt", "yes"),
                Proposal::Immutable,
            ),
            Candidate::new(repo("other", TagMutability::Mutable), Proposal::Immutable),
            Candidate::new(
                repo("team-a-api", TagMutability::Immutable),
                Proposal::Immutable,
            ),
            Candidate::new(
                repo("team-a-web", TagMutability::Mutable),
                Proposal::Immutable,
            ),
        ];
        let opts = RemediationOptions {
            mode: Mode::Plan,
            repositories: vec![
                "team-a-*".into(),
                "legacy".into(),
                "sandbox-*".into(),
                "tagged".into(),
            ],
            templates: vec![],
        };
        let items = decide(&cands, &opts, &params);
        let ids: Vec<&str> = items
            .iter()
            .map(|i| match &i.action {
                Action::Change { .. } => "change",
                Action::Skip { reason } => reason.id(),
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
        let Action::Skip { reason } = &items[0].action else {
            panic!("expected a skip")
        };
        assert!(reason.to_string().contains("40 tags"));
    }

    #[test]
    fn mode_immutable_forces_plain_immutable_but_not_over_review() {
        let cands = vec![
            Candidate::new(
                repo("a", TagMutability::Mutable),
                Proposal::ImmutableWithExclusion {
                    filters: vec![ExclusionFilter::wildcard("latest")],
                },
            ),
            Candidate::new(
                repo("b", TagMutability::ImmutableWithExclusion)
                    .with_filters(vec![ExclusionFilter::wildcard("latest")]),
                Proposal::Immutable,
            ),
            Candidate::new(
                repo("c", TagMutability::Mutable),
                Proposal::Review {
                    filters: vec![],
                    reason: "r".into(),
                },
            ),
        ];
        let opts = RemediationOptions {
            mode: Mode::Immutable,
            ..RemediationOptions::default()
        };
        let items = decide(&cands, &opts, &RuleParameters::default());
        assert_eq!(
            items[0].change().map(|c| c.to),
            Some(Setting::immutable().into())
        );
        assert_eq!(
            items[1].change().map(|c| c.to),
            Some(Setting::immutable().into())
        );
        assert!(matches!(
            items[2].action,
            Action::Skip {
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
                Proposal::ImmutableWithExclusion {
                    filters: vec![ExclusionFilter::wildcard("*")],
                },
            ),
            Candidate::new(
                repo("none", TagMutability::Mutable),
                Proposal::ImmutableWithExclusion { filters: vec![] },
            ),
        ];
        let items = decide(
            &cands,
            &RemediationOptions::default(),
            &RuleParameters::default(),
        );
        for item in &items {
            assert!(matches!(
                item.action,
                Action::Skip {
                    reason: SkipReason::InvalidTarget { .. }
                }
            ));
        }
    }

    #[test]
    fn no_mode_changes_a_compliant_repository() {
        // IMMUTABLE_WITH_EXCLUSION [latest] with latest allowed is COMPLIANT: kept in both
        // modes, shown as kept.
        let params = RuleParameters::from_json(r#"{"AllowedExclusionFilters":"latest"}"#).unwrap();
        let fenced = repo("fenced", TagMutability::ImmutableWithExclusion)
            .with_filters(vec![ExclusionFilter::wildcard("latest")]);
        for mode in [Mode::Plan, Mode::Immutable] {
            let opts = RemediationOptions {
                mode,
                ..RemediationOptions::default()
            };
            let items = decide(&[Candidate::immutable(fenced.clone())], &opts, &params);
            assert_eq!(
                items[0].action,
                Action::Skip {
                    reason: SkipReason::Compliant
                },
                "{mode:?}"
            );
            assert_eq!(SkipReason::Compliant.to_string(), "compliant: kept");
        }
    }
}
