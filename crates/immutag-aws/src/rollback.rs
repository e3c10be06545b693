//! The flow of `immutag rollback JOURNAL`: restore the previous settings of what a journal
//! changed. Dry run unless asked to apply; journaled itself.
//!
//! The current state of every repository the journal names is read first
//! (DescribeRepositories, 100 names per call; GetLifecyclePolicy for the lifecycle policies
//! `remediate --lifecycle` put, which a rollback deletes). A repository is restored only when it is still
//! at a setting the journal made; one changed since, one whose change failed, and one that no
//! longer exists are left alone and reported. An intent without a result (a crash) is
//! resolved by that same read.

use std::collections::BTreeMap;
use std::path::PathBuf;

use aws_types::SdkConfig;
use immutag_core::change::{Attribute, Change, RepoKey};
use immutag_core::journal::{JournalEntry, Operation, Outcome, summarize};
use immutag_core::rollback::{RollbackDecision, RollbackItem, plan_rollback};

use crate::change::{self, ApplyError, ApplyOptions, ChangeReport};
use crate::clients::{Scope, clients_for_scopes};
use crate::ecr::{self, PolicyRead, ReadState};
use crate::error::AwsError;
use crate::journal::{self, JournalError};
use crate::remediate::RunOptions;

/// Options of [`rollback`].
#[derive(Debug, Clone)]
pub struct RollbackOptions {
    /// The journal to roll back.
    pub from: PathBuf,
    /// Restore or not, the rollback's own journal, concurrency, role.
    pub run: RunOptions,
}

/// What a rollback decided and did.
#[derive(Debug, Clone)]
pub struct RollbackReport {
    /// Whether restores were made.
    pub applied: bool,
    /// Problems reading the journal that did not stop the read (a cut last line).
    pub warnings: Vec<String>,
    /// Journal entries with no result (an interrupted run): the state read decides.
    pub interrupted: Vec<JournalEntry>,
    /// One decision per repository the journal names.
    pub items: Vec<RollbackItem>,
    /// Repositories whose current setting could not be read, with the error.
    pub unreadable: Vec<String>,
    /// One report per restore attempted.
    pub reports: Vec<ChangeReport>,
    /// The rollback's journal, when restores were made.
    pub journal: Option<PathBuf>,
}

impl RollbackReport {
    /// True when something could not be read or restored (exit 3).
    pub fn incomplete(&self) -> bool {
        !self.unreadable.is_empty() || self.reports.iter().any(|r| !r.succeeded())
    }

    /// True when restores are pending (a dry run) (exit 1).
    pub fn findings(&self) -> bool {
        !self.applied
            && self
                .items
                .iter()
                .any(|i| matches!(i.decision, RollbackDecision::Restore { .. }))
    }
}

/// The errors that stop a rollback.
#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    /// The journal to roll back cannot be read, or records no change (an input error).
    #[error(transparent)]
    Input(#[from] JournalError),
    /// The clients could not be set up.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A record of the rollback's own journal could not be written.
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

/// Runs a rollback (see the module documentation).
pub async fn rollback(
    base: &SdkConfig,
    opts: &RollbackOptions,
) -> Result<RollbackReport, RollbackError> {
    let concurrency = opts.run.concurrency.max(1);
    let contents = journal::read(&opts.from)?;
    let entries = summarize(&contents.records);
    if entries.is_empty() {
        return Err(JournalError::Empty {
            path: opts.from.clone(),
        }
        .into());
    }
    let interrupted = entries
        .iter()
        .filter(|e| e.outcome == Outcome::Unknown)
        .cloned()
        .collect();
    let scopes: Vec<Scope> = entries.iter().map(|e| Scope::of(&e.key)).collect();
    let clients = clients_for_scopes(base, scopes, &opts.run.role_name).await?;
    let keys_of = |attribute: Attribute| -> Vec<RepoKey> {
        entries
            .iter()
            .filter(|e| e.attribute() == attribute)
            .map(|e| e.key.clone())
            .collect()
    };
    let settings =
        ecr::read_settings(&clients, &keys_of(Attribute::TagMutability), concurrency).await;
    let policies =
        ecr::read_lifecycle_policies(&clients, &keys_of(Attribute::LifecyclePolicy), concurrency)
            .await;
    let mut unreadable = Vec::new();
    let mut current = BTreeMap::new();
    for (k, v) in &settings {
        match (v, v.setting()) {
            (_, Some(Ok(s))) => {
                current.insert((k.clone(), Attribute::TagMutability), s.into());
            }
            (_, Some(Err(e))) => unreadable.push(format!("{k}: {e}")),
            (ReadState::Error(e), _) => unreadable.push(format!("{k}: {e}")),
            _ => {}
        }
    }
    for (k, v) in &policies {
        match v {
            PolicyRead::Found(_) => {
                if let Some(state) = v.state() {
                    current.insert((k.clone(), Attribute::LifecyclePolicy), state);
                }
            }
            PolicyRead::Error(e) => unreadable.push(format!("{k}: {e}")),
            PolicyRead::Missing => {}
        }
    }
    let mut items = plan_rollback(&entries, &current);
    // A repository that could not be read is not "gone": say so.
    for item in &mut items {
        let error = match item.entry.attribute() {
            Attribute::TagMutability => match settings.get(&item.entry.key) {
                Some(ReadState::Error(e)) => Some(e),
                _ => None,
            },
            Attribute::LifecyclePolicy => match policies.get(&item.entry.key) {
                Some(PolicyRead::Error(e)) => Some(e),
                _ => None,
            },
        };
        if let Some(e) = error {
            item.decision = RollbackDecision::Skip {
                reason: format!("current state unreadable: {e}"),
            };
        }
    }
    let changes: Vec<Change> = items.iter().filter_map(RollbackItem::change).collect();
    let mut report = RollbackReport {
        applied: opts.run.apply,
        warnings: contents.warnings,
        interrupted,
        items,
        unreadable,
        reports: Vec::new(),
        journal: None,
    };
    if !opts.run.apply || changes.is_empty() {
        return Ok(report);
    }
    let journal = opts
        .run
        .journal
        .open(Operation::Rollback)
        .map_err(RollbackError::Input)?;
    let reports = change::apply(
        &clients,
        changes,
        &journal,
        ApplyOptions {
            concurrency,
            operation: Operation::Rollback,
            verify: true,
            deadline: None,
        },
    )
    .await;
    journal.close();
    report.reports = reports?;
    report.journal = Some(journal.path().to_owned());
    Ok(report)
}
