//! The remediation journal: one [`JournalRecord`] per line (JSON lines), written by the AWS
//! edge before and after every change; [`parse_journal`] reads it back and [`summarize`] says
//! what happened to each repository (an `intent` with no result is an unknown outcome).
//!
//! ```
//! use immutag_core::journal::{parse_journal, summarize, Outcome};
//! let text = r#"{"run":"r1","seq":1,"time":"2026-11-26T15:22:48Z","operation":"remediate","phase":"intent","account":"111122223333","region":"eu-west-1","repository":"web","previous":{"mode":"MUTABLE"},"new":{"mode":"IMMUTABLE"}}"#;
//! let journal = parse_journal(text).unwrap();
//! let entries = summarize(&journal.records);
//! assert_eq!(entries[0].outcome, Outcome::Unknown); // an intent with no result
//! ```

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::change::{Attribute, RepoKey, State};

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
    /// Written (and flushed to disk) before PutImageTagMutability (or PutLifecyclePolicy,
    /// DeleteLifecyclePolicy) is called.
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
    /// The state before the change: a tag mutability setting (`{"mode": ...}`) or a
    /// lifecycle policy (`{"lifecycle_policy": ...}`).
    pub previous: State,
    /// The state the change sets.
    pub new: State,
    /// For `mismatch`: the state read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<State>,
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

/// One repository's history in a journal, for one attribute (its tag mutability, or its
/// lifecycle policy: a repository whose both were changed has two entries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JournalEntry {
    /// Account, region, repository.
    #[serde(flatten)]
    pub key: RepoKey,
    /// The operation of the last change that may be in effect (else of the last change).
    pub operation: Operation,
    /// The state before the first change in the journal.
    pub previous: State,
    /// The state of the last change that may be in effect (else the last change's target).
    pub new: State,
    /// What happened to that change.
    pub outcome: Outcome,
    /// The last error, when the last change failed or has an unknown outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Every state the journal's changes may have left the repository in (targets of
    /// changes applied, verified, mismatched or of unknown outcome), in journal order.
    #[serde(skip)]
    pub produced: Vec<State>,
}

impl JournalEntry {
    /// The attribute its changes switch.
    pub fn attribute(&self) -> Attribute {
        self.new.attribute()
    }
}

/// One change of a repository, as its records tell it.
struct ChangeHistory {
    operation: Operation,
    new: State,
    outcome: Outcome,
    error: Option<String>,
}

/// Reads journal records back into one entry per repository (in order of first record).
/// Records of several runs for the same repository (a remediation, then a rollback appended
/// to the same journal) are chained: `previous` is the setting before the first change; `new`
/// and `outcome` are those of the last change that may be in effect (a change that failed,
/// with AWS's answer that nothing changed, does not hide the one before it).
pub fn summarize(records: &[JournalRecord]) -> Vec<JournalEntry> {
    let mut order: Vec<(RepoKey, Attribute)> = Vec::new();
    let mut map: BTreeMap<(RepoKey, Attribute), (State, Vec<ChangeHistory>)> = BTreeMap::new();
    for r in records {
        let id = (r.key.clone(), r.new.attribute());
        let (_, changes) = map.entry(id.clone()).or_insert_with(|| {
            order.push(id);
            (r.previous.clone(), Vec::new())
        });
        let outcome = outcome_of(r.phase, r.outcome_known);
        let open = changes
            .last_mut()
            .filter(|c| r.phase != Phase::Intent && c.new == r.new);
        let change = match open {
            Some(c) => c,
            None => {
                changes.push(ChangeHistory {
                    operation: r.operation,
                    new: r.new.clone(),
                    outcome: Outcome::Unknown,
                    error: None,
                });
                let Some(c) = changes.last_mut() else {
                    continue;
                };
                c
            }
        };
        change.outcome = outcome;
        if r.phase == Phase::Failed {
            change.error = Some(match (&r.error_code, &r.error) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.clone(),
                (None, Some(m)) => m.clone(),
                (None, None) => "unknown error".to_owned(),
            });
        }
    }
    order
        .into_iter()
        .filter_map(|id| {
            let (previous, changes) = map.remove(&id)?;
            let key = id.0;
            let last = changes.last()?;
            let in_effect = changes
                .iter()
                .rev()
                .find(|c| c.outcome != Outcome::Failed)
                .unwrap_or(last);
            Some(JournalEntry {
                key,
                operation: in_effect.operation,
                previous,
                new: in_effect.new.clone(),
                outcome: in_effect.outcome,
                error: last.error.clone(),
                produced: changes
                    .iter()
                    .filter(|c| c.outcome != Outcome::Failed)
                    .map(|c| c.new.clone())
                    .collect(),
            })
        })
        .collect()
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

/// A journal read back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalContents {
    /// The records, in file order.
    pub records: Vec<JournalRecord>,
    /// Problems that did not stop the read (a last line cut short by a crash).
    pub warnings: Vec<String>,
}

/// A line of a journal that is not a record (and is not an incomplete last line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: not a journal record: {problem}")]
pub struct JournalParseError {
    /// The 1-based line.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

/// Reads the text of a journal. A last line that is not a complete record (a crash
/// mid-write) is reported in `warnings`; any other line that is not a record is an error.
/// Blank lines are skipped.
pub fn parse_journal(text: &str) -> Result<JournalContents, JournalParseError> {
    let mut out = JournalContents::default();
    let lines: Vec<&str> = text.lines().collect();
    let last = lines.iter().rposition(|l| !l.trim().is_empty());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<JournalRecord>(line) {
            Ok(r) => out.records.push(r),
            Err(e) if Some(i) == last => out.warnings.push(format!(
                "line {}: incomplete last record ignored (the writer stopped mid-line): {e}",
                i + 1
            )),
            Err(e) => {
                return Err(JournalParseError {
                    line: i + 1,
                    problem: crate::text::printable(&e.to_string()).into_owned(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::change::{LifecyclePolicy, Setting};
    use crate::model::TagMutability;

    #[test]
    fn lifecycle_changes_are_entries_of_their_own_and_old_records_still_read() {
        let m = Setting::new(TagMutability::Mutable, vec![]);
        let i = Setting::immutable();
        let none = LifecyclePolicy::none();
        let policy = LifecyclePolicy::text(r#"{"rules":[]}"#);
        let records = vec![
            rec(1, "a", Phase::Intent, m.clone(), i.clone()),
            rec(2, "a", Phase::Intent, none.clone(), policy.clone()),
            rec(3, "a", Phase::Verified, m.clone(), i.clone()),
            rec(4, "a", Phase::Applied, none.clone(), policy.clone()),
        ];
        let s = summarize(&records);
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].attribute(), s[0].outcome),
            (Attribute::TagMutability, Outcome::Verified)
        );
        assert_eq!(
            (s[1].attribute(), s[1].outcome),
            (Attribute::LifecyclePolicy, Outcome::Applied)
        );
        assert_eq!(s[1].previous, State::Lifecycle(none));
        let line = serde_json::to_string(&records[1]).unwrap();
        assert!(
            line.contains(r#""previous":{"lifecycle_policy":null}"#),
            "{line}"
        );
        assert_eq!(
            serde_json::from_str::<JournalRecord>(&line).unwrap(),
            records[1]
        );
        // A record of the previous version (mutability only) reads as before.
        let old = r#"{"run":"r","seq":1,"time":"2026-11-26T15:22:48Z","operation":"remediate","phase":"intent","repository":"web","previous":{"mode":"MUTABLE"},"new":{"mode":"IMMUTABLE"}}"#;
        let r: JournalRecord = serde_json::from_str(old).unwrap();
        assert_eq!(r.new, State::Mutability(i));
        // A state that is neither is an error, not a lifecycle policy of none.
        let bad = old.replace(r#"{"mode":"IMMUTABLE"}"#, "{}");
        assert!(serde_json::from_str::<JournalRecord>(&bad).is_err());
    }

    pub(crate) fn rec(
        seq: u64,
        name: &str,
        phase: Phase,
        prev: impl Into<State>,
        new: impl Into<State>,
    ) -> JournalRecord {
        JournalRecord {
            run: "r1".into(),
            seq,
            time: "2026-11-26T15:00:00Z".into(),
            operation: Operation::Remediate,
            phase,
            key: RepoKey::new(Some("111111111111"), Some("eu-west-1"), name),
            previous: prev.into(),
            new: new.into(),
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

    #[test]
    fn a_cut_last_line_is_a_warning_but_a_bad_middle_line_is_an_error() {
        let good = serde_json::to_string(&rec(
            1,
            "a",
            Phase::Intent,
            Setting::new(TagMutability::Mutable, vec![]),
            Setting::immutable(),
        ))
        .unwrap();
        let ok = parse_journal(&format!("{good}\n{}", &good[..good.len() / 2])).unwrap();
        assert_eq!(ok.records.len(), 1);
        assert_eq!(ok.warnings.len(), 1);
        assert!(ok.warnings[0].contains("line 2"));
        let err = parse_journal(&format!("{{oops\n{good}")).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
