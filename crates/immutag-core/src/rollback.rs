//! Rollback: from a journal's entries and the state read again from AWS, what to restore.
//! Only a repository still at the setting the journal made is restored; one changed since
//! is left alone and named.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::change::{Attribute, Change, RepoKey, State};
use crate::journal::{JournalEntry, Outcome};

/// What the rollback does with one repository of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum RollbackDecision {
    /// Restore `to` (the journal's previous setting).
    Restore {
        /// The current state (the journal's new one).
        from: State,
        /// The state to restore.
        to: State,
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
    /// The state read from AWS now (`None`: the repository no longer exists).
    pub current: Option<State>,
    /// What to do.
    #[serde(flatten)]
    pub decision: RollbackDecision,
}

impl RollbackItem {
    /// The change that restores it, when the decision is to restore.
    pub fn change(&self) -> Option<Change> {
        match &self.decision {
            RollbackDecision::Restore { from, to } => Some(Change {
                key: self.entry.key.clone(),
                from: from.clone(),
                to: to.clone(),
            }),
            RollbackDecision::Skip { .. } => None,
        }
    }
}

/// Decides what to restore. `current` is the state read from AWS now for each journal
/// entry, by repository and attribute (absent when the repository is gone): its tag
/// mutability, or its lifecycle policy (none is a state: a policy the journal put is restored
/// to none by deleting it). A repository is restored only when its
/// current setting is still what the journal set, whatever the journal's outcome (so an
/// unknown outcome is resolved by the state read again); one that someone changed since is
/// left alone and reported.
pub fn plan_rollback(
    entries: &[JournalEntry],
    current: &BTreeMap<(RepoKey, Attribute), State>,
) -> Vec<RollbackItem> {
    entries
        .iter()
        .map(|e| {
            let now = current.get(&(e.key.clone(), e.attribute())).cloned();
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
                Some(now) if e.produced.iter().any(|p| now.same_as(p)) || now.same_as(&e.new) => {
                    RollbackDecision::Restore {
                        from: now.clone(),
                        to: e.previous.clone(),
                    }
                }
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
    use crate::change::Setting;
    use crate::journal::tests::rec;
    use crate::journal::{Phase, summarize};
    use crate::model::{ExclusionFilter, TagMutability};

    #[test]
    fn rollback_restores_only_what_is_still_at_the_journal_setting() {
        let m: State = Setting::new(TagMutability::Mutable, vec![]).into();
        let mx: State = Setting::new(
            TagMutability::MutableWithExclusion,
            vec![ExclusionFilter::wildcard("v*")],
        )
        .into();
        let i: State = Setting::immutable().into();
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
        current.insert((k("applied"), Attribute::TagMutability), i.clone());
        current.insert((k("unknown-done"), Attribute::TagMutability), i.clone());
        current.insert((k("unknown-not-done"), Attribute::TagMutability), m.clone());
        current.insert(
            (k("changed-since"), Attribute::TagMutability),
            State::from(Setting::new(
                TagMutability::ImmutableWithExclusion,
                vec![ExclusionFilter::wildcard("latest")],
            )),
        );
        let items = plan_rollback(&entries, &current);
        let restores: Vec<(&str, State)> = items
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
    fn a_journal_with_a_remediation_and_a_later_rollback_restores_the_first_state() {
        let m: State = Setting::new(TagMutability::Mutable, vec![]).into();
        let i: State = Setting::immutable().into();
        let k = |n: &str| RepoKey::new(Some("111111111111"), Some("eu-west-1"), n);
        let rollback = |seq, name: &str, phase| {
            let mut r = rec(seq, name, phase, i.clone(), m.clone());
            r.operation = crate::journal::Operation::Rollback;
            r
        };
        let mut refused = rollback(8, "rollback-failed", Phase::Failed);
        refused.error_code = Some("AccessDeniedException".into());
        refused.outcome_known = Some(true);
        let records = vec![
            // Remediated, then rolled back (appended to the same journal): back at MUTABLE.
            rec(1, "rolled-back", Phase::Intent, m.clone(), i.clone()),
            rec(2, "rolled-back", Phase::Verified, m.clone(), i.clone()),
            rollback(3, "rolled-back", Phase::Intent),
            rollback(4, "rolled-back", Phase::Verified),
            // Remediated, then a rollback AWS refused: still IMMUTABLE, to be restored.
            rec(5, "rollback-failed", Phase::Intent, m.clone(), i.clone()),
            rec(6, "rollback-failed", Phase::Verified, m.clone(), i.clone()),
            rollback(7, "rollback-failed", Phase::Intent),
            refused,
            // Remediated, then a rollback that crashed before its result: read decides.
            rec(9, "rollback-cut", Phase::Intent, m.clone(), i.clone()),
            rec(10, "rollback-cut", Phase::Applied, m.clone(), i.clone()),
            rollback(11, "rollback-cut", Phase::Intent),
        ];
        let entries = summarize(&records);
        assert_eq!(entries.len(), 3);
        let mut current = BTreeMap::new();
        current.insert((k("rolled-back"), Attribute::TagMutability), m.clone());
        current.insert((k("rollback-failed"), Attribute::TagMutability), i.clone());
        current.insert((k("rollback-cut"), Attribute::TagMutability), i.clone());
        let items = plan_rollback(&entries, &current);
        let decision = |n: &str| {
            items
                .iter()
                .find(|it| it.entry.key.repository == n)
                .map(|it| it.decision.clone())
        };
        assert!(matches!(
            decision("rolled-back"),
            Some(RollbackDecision::Skip { reason }) if reason.contains("already at the previous")
        ));
        assert_eq!(
            decision("rollback-failed"),
            Some(RollbackDecision::Restore {
                from: i.clone(),
                to: m.clone()
            })
        );
        assert_eq!(
            decision("rollback-cut"),
            Some(RollbackDecision::Restore {
                from: i.clone(),
                to: m.clone()
            })
        );
    }
}
