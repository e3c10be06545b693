//! The Config rule's auto-remediation (`Remediation=IMMUTABLE`), on the one apply path of
//! immutag ([`immutag_aws::change`]): every NON_COMPLIANT, non-exempt repository of the
//! invocation is read again live right before deciding (a configuration item may be stale),
//! switched to IMMUTABLE only if it is still non-compliant, read back (verified), and its
//! evaluation updated to say what happened. Changes run several at once and stop at the
//! deadline (the invocation's, less the time needed to report); what could not be changed in
//! time is reported NON_COMPLIANT with an annotation saying so, never lost.

use immutag_aws::change::{self, ApplyOptions, ChangeResult, LogRecorder, Verification};
use immutag_aws::clients::{EcrClients, Scope};
use immutag_core::evaluate::clamp_annotation;
use immutag_core::journal::Operation;
use immutag_core::remediation::{Action, Candidate, Mode, RemediationOptions, SkipReason};
use immutag_core::{
    Compliance, Evaluation, InputKind, MutabilitySetting, Reason, Repository, ResourceType,
    RuleParameters,
};
use tokio::time::Instant;

use crate::Clients;

/// Changes in flight at once.
pub const CONCURRENCY: usize = 8;

/// What auto-remediation did, for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Repositories switched to IMMUTABLE and verified.
    pub remediated: usize,
    /// Repositories that stay NON_COMPLIANT: the change failed, could not be verified, was
    /// not sent in time, or the live setting could not be read.
    pub failures: usize,
}

/// Remediates the NON_COMPLIANT, non-exempt repositories among `evaluations` (in place),
/// in `account_id` and the clients' region, stopping new work at `deadline`.
pub async fn remediate(
    clients: &Clients,
    account_id: &str,
    params: &RuleParameters,
    evaluations: &mut [&mut Evaluation],
    deadline: Option<Instant>,
) -> Result<Outcome, change::ApplyError> {
    let scope = Scope {
        account: Some(account_id.to_owned()),
        region: Some(clients.region.clone()),
    };
    let ecr = EcrClients::single(scope.clone(), clients.ecr.clone());
    let targets: Vec<usize> = evaluations
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.compliance == Compliance::NonCompliant
                && e.resource_type == ResourceType::Repository
                && !matches!(e.reason, Reason::ExemptByName | Reason::ExemptByTag)
        })
        .map(|(i, _)| i)
        .collect();
    if targets.is_empty() {
        return Ok(Outcome::default());
    }
    let candidates: Vec<Candidate> = targets
        .iter()
        .map(|&i| {
            let e = &evaluations[i];
            let mut repo = Repository::new(e.resource_id.clone(), InputKind::Live);
            repo.account_id = scope.account.clone();
            repo.region = scope.region.clone();
            repo.arn = e.arn.clone();
            Candidate::immutable(repo)
        })
        .collect();
    let opts = RemediationOptions {
        mode: Mode::Immutable,
        ..RemediationOptions::default()
    };
    let decisions = change::decide_live(&ecr, candidates, &opts, params, CONCURRENCY).await;
    let changes: Vec<_> = decisions.iter().filter_map(|d| d.change()).collect();
    let reports = change::apply(
        &ecr,
        changes,
        &LogRecorder,
        ApplyOptions {
            concurrency: CONCURRENCY,
            operation: Operation::Remediate,
            verify: true,
            deadline,
        },
    )
    .await?;

    let mut outcome = Outcome::default();
    let mut reports = reports.into_iter();
    for (&i, decision) in targets.iter().zip(&decisions) {
        let e = &mut evaluations[i];
        match &decision.action {
            Action::Change { from, .. } => {
                let Some(report) = reports.next() else {
                    continue;
                };
                if report.succeeded() {
                    outcome.remediated += 1;
                    tracing::info!(repository = %e.resource_id, previous = %from, "remediated to IMMUTABLE");
                    e.compliance = Compliance::Compliant;
                    e.reason = Reason::Immutable;
                    e.annotation = clamp_annotation(&format!(
                        "immutag changed imageTagMutability to IMMUTABLE (rule parameter Remediation=IMMUTABLE) and read it back; it was {}.",
                        describe_previous(e)
                    ));
                    continue;
                }
                outcome.failures += 1;
                let why = match (&report.result, &report.verification) {
                    (ChangeResult::NotAttempted { .. }, _) => {
                        "not changed in time: the invocation's deadline came first; the next run retries".to_owned()
                    }
                    (ChangeResult::Failed { code, message, .. }, _) => {
                        format!("Auto-remediation failed: {code}: {message}")
                    }
                    (ChangeResult::Applied, Some(v)) => format!(
                        "Auto-remediation sent IMMUTABLE but {}",
                        match v {
                            Verification::Mismatch { observed } => format!("it reads back as {observed}"),
                            Verification::Missing => "the repository is gone".to_owned(),
                            Verification::Unreadable { error } => format!("it could not be read back ({error})"),
                            Verification::Verified => "it was verified".to_owned(),
                        }
                    ),
                    (ChangeResult::Applied, None) => "Auto-remediation was not verified".to_owned(),
                };
                tracing::error!(repository = %e.resource_id, error = %why, "auto-remediation failed");
                e.annotation = clamp_annotation(&format!("{why}. {}", e.annotation));
            }
            Action::Skip { reason } => apply_skip(e, reason, &mut outcome),
        }
    }
    Ok(outcome)
}

/// What the live read said instead of a change.
fn apply_skip(e: &mut Evaluation, reason: &SkipReason, outcome: &mut Outcome) {
    match reason {
        SkipReason::Compliant => {
            e.compliance = Compliance::Compliant;
            e.annotation = clamp_annotation(&format!(
                "The live setting (read now) is compliant; the configuration item said {}. Nothing changed.",
                describe_previous(e)
            ));
        }
        SkipReason::NotApplicable { detail } => {
            e.compliance = Compliance::NotApplicable;
            e.reason = Reason::Deleted;
            e.annotation = clamp_annotation(&format!("Read now: {detail}; nothing to evaluate."));
        }
        SkipReason::Exempt { detail } => {
            e.compliance = Compliance::NotApplicable;
            e.reason = Reason::ExemptByTag;
            e.annotation = clamp_annotation(detail);
        }
        other => {
            outcome.failures += 1;
            tracing::error!(repository = %e.resource_id, reason = %other, "auto-remediation skipped");
            e.annotation = clamp_annotation(&format!(
                "Auto-remediation skipped: {other}. {}",
                e.annotation
            ));
        }
    }
}

/// The setting an evaluation describes, for annotations.
fn describe_previous(e: &Evaluation) -> String {
    let mode = match &e.tag_mutability {
        MutabilitySetting::Set { value } => value.as_str().to_owned(),
        MutabilitySetting::Absent => "unset (MUTABLE by default)".to_owned(),
        MutabilitySetting::Unresolved { reason } => format!("unresolved ({reason})"),
    };
    let filters: Vec<&str> = e
        .exclusion_filters
        .filters()
        .iter()
        .map(|f| f.filter.as_str())
        .collect();
    if filters.is_empty() {
        mode
    } else {
        format!("{mode} with filters {}", filters.join(", "))
    }
}
