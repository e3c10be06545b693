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

use crate::change::{RepoKey, Setting};
use crate::evaluate::{Compliance, Reason, evaluate};
use crate::model::{
    ECR_REPOSITORY_TYPE, ExclusionFilter, Repository, ResourceStatus, TagMutability,
};
use crate::params::RuleParameters;
use crate::wildcard;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FilterSetting, InputKind, MutabilitySetting};

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
}
