//! The one apply path of immutag: `immutag remediate`, `immutag rollback` and the Config
//! rule's auto-remediation all change repositories through this module.
//!
//! * [`decide_live`] reads every candidate's live setting (DescribeRepositories, at most 100
//!   names per call) right before deciding, and its tags when `ExemptionTagKey` is set, so
//!   nothing is decided on a stale plan or configuration item: only what is still
//!   non-compliant live is changed.
//! * [`apply`] makes the changes: PutImageTagMutability per repository
//!   (UpdateRepositoryCreationTemplate per creation template; for a lifecycle-policy change,
//!   PutLifecyclePolicy, or DeleteLifecyclePolicy to restore none) with bounded concurrency,
//!   each change recorded before and after (the CLI's journal on disk, the Lambda's log
//!   lines), then reads every changed repository and template back (verification:
//!   DescribeRepositories, DescribeRepositoryCreationTemplates, GetLifecyclePolicy). A change
//!   whose turn comes after the deadline is not sent and is reported as such.
//!
//! A template is updated from what is read of it right before the call: UpdateRepository-
//! CreationTemplate may reset what it is not given (the API reference says an omitted
//! `imageTagMutability` becomes MUTABLE), so every other member read (description,
//! encryption, resource tags, policies, `appliedFor`, `customRoleArn`) is sent back unchanged,
//! and the call is not sent when the template no longer has the setting the change was
//! decided on. Sending `customRoleArn` back needs `iam:PassRole` on that role.
//!
//! Creation-template and lifecycle-policy changes are compiled with feature `fleet` (the
//! CLI). Without it (the Config rule Lambda, which switches repositories only) their calls
//! (UpdateRepositoryCreationTemplate, Put/Get/DeleteLifecyclePolicy) are not linked and such a
//! change fails with `UnsupportedChange`, nothing sent.
//!
//! Failures are per repository: a RepositoryNotFoundException, AccessDeniedException or
//! InvalidParameterException on one repository is recorded and reported, and the others
//! continue. Throttling is retried by the SDK (see [`crate::clients::retry_config`]: adaptive
//! retry, exponential backoff with jitter). Only a record that cannot be written stops the
//! run, because a change that cannot be recorded must not be made.

use std::future::Future;

use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecr::operation::put_image_tag_mutability::PutImageTagMutabilityError;
#[cfg(feature = "fleet")]
use aws_sdk_ecr::operation::put_lifecycle_policy::PutLifecyclePolicyError;
#[cfg(feature = "fleet")]
use aws_sdk_ecr::operation::update_repository_creation_template::UpdateRepositoryCreationTemplateError;
use aws_sdk_ecr::types::{ImageTagMutability, ImageTagMutabilityExclusionFilter};
use futures::stream::{self, StreamExt};
use immutag_core::change::{Attribute, Change, LifecyclePolicy, RepoKey, Setting, State};
use immutag_core::journal::{JournalRecord, Operation, Phase};
use immutag_core::remediation::{
    Candidate, Decision, RemediationOptions, SkipReason, decide, key_of,
};
use immutag_core::{ResourceKind, RuleParameters};
use serde::Serialize;
use tokio::time::Instant;

use crate::clients::{EcrClients, Scope};
use crate::ecr::{self, PolicyRead, ReadState};
use crate::error::error_chain;

/// The default number of changes in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// How one change went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ChangeResult {
    /// PutImageTagMutability (PutLifecyclePolicy, DeleteLifecyclePolicy) succeeded.
    Applied,
    /// It failed.
    Failed {
        /// The AWS error code (`RepositoryNotFoundException`, ...), or a transport class.
        code: String,
        /// The message.
        message: String,
        /// True when AWS answered with an error, so nothing changed; false when the request
        /// may have been applied (timeout, connection lost, server error).
        outcome_known: bool,
    },
    /// Not sent: the deadline passed before its turn (nothing changed).
    NotAttempted {
        /// Why.
        reason: String,
    },
}

/// What verification found for a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verification", rename_all = "snake_case")]
pub enum Verification {
    /// Read back as the target.
    Verified,
    /// Read back as something else.
    Mismatch {
        /// What was read.
        observed: State,
    },
    /// The repository was not found when reading back.
    Missing,
    /// It could not be read back.
    Unreadable {
        /// Why.
        error: String,
    },
}

/// The report for one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeReport {
    /// The change.
    #[serde(flatten)]
    pub change: Change,
    /// How the call went.
    #[serde(flatten)]
    pub result: ChangeResult,
    /// What reading it back found (after a successful or uncertain call).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
}

impl ChangeReport {
    /// True when the change is applied and verified (or applied and verification was off).
    pub fn succeeded(&self) -> bool {
        matches!(self.result, ChangeResult::Applied)
            && matches!(self.verification, None | Some(Verification::Verified))
    }
}

/// Where the records of each change go: the CLI's journal file, or the Lambda's log.
pub trait Recorder: Sync {
    /// Records `record` durably before returning (a change is sent only after its intent is
    /// recorded).
    fn record(&self, record: JournalRecord)
    -> impl Future<Output = Result<(), RecordError>> + Send;
}

/// A record that could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RecordError(pub String);

/// A [`Recorder`] that writes each record as one log line (`tracing`, target
/// `immutag::journal`): the Config rule's journal is its CloudWatch log.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogRecorder;

impl Recorder for LogRecorder {
    async fn record(&self, record: JournalRecord) -> Result<(), RecordError> {
        let line = serde_json::to_string(&record).map_err(|e| RecordError(e.to_string()))?;
        tracing::info!(target: "immutag::journal", record = %line, "change record");
        Ok(())
    }
}

/// Options of [`apply`].
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// Changes in flight at once (at least 1).
    pub concurrency: usize,
    /// Which command is running (written into each record).
    pub operation: Operation,
    /// Read every changed repository back afterwards.
    pub verify: bool,
    /// No change is sent, and nothing is read back, after this instant (the Lambda's
    /// invocation deadline less the time it needs to report).
    pub deadline: Option<Instant>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            operation: Operation::Remediate,
            verify: true,
            deadline: None,
        }
    }
}

impl ApplyOptions {
    fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// Errors that stop a run.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A record could not be written: no further change is made.
    #[error("stopped: {0}; changes already made are recorded")]
    Record(#[from] RecordError),
}

fn record(op: Operation, phase: Phase, change: &Change) -> JournalRecord {
    JournalRecord {
        run: String::new(),
        seq: 0,
        time: String::new(),
        operation: op,
        phase,
        key: change.key.clone(),
        previous: change.from.clone(),
        new: change.to.clone(),
        observed: None,
        error_code: None,
        error: None,
        outcome_known: None,
    }
}

/// Reads the live state of every candidate and decides on it (see the module documentation):
/// a candidate that no longer exists is skipped as not applicable, one that cannot be read is
/// skipped as unreadable (counted as a failure by the callers), the others are decided by
/// [`immutag_core::remediation::decide`] with their live setting (and live tags when
/// `params` names an `ExemptionTagKey`). Decisions come back in the order of `candidates`.
pub async fn decide_live(
    clients: &EcrClients,
    candidates: Vec<Candidate>,
    opts: &RemediationOptions,
    params: &RuleParameters,
    concurrency: usize,
) -> Vec<Decision> {
    let keys: Vec<RepoKey> = candidates.iter().map(|c| key_of(&c.repository)).collect();
    let read = ecr::read_settings(clients, &keys, concurrency).await;
    let with_tags = params.exemption_tag_key.is_some();
    let live: Vec<Result<Candidate, Decision>> = stream::iter(candidates.into_iter().zip(keys))
        .map(|(mut candidate, key)| {
            let state = read.get(&key).cloned();
            async move {
                match state {
                    Some(ReadState::Found(repo)) => {
                        let mut repo = *repo;
                        repo.account_id = key.account.clone();
                        repo.region = key.region.clone();
                        if with_tags {
                            let Some(client) = clients.get(&Scope::of(&key)) else {
                                return Err(unreadable(
                                    key,
                                    "no credentials for its account and region".into(),
                                ));
                            };
                            match ecr::fill_tags(client, &mut repo).await {
                                Ok(ecr::Presence::Present) => {}
                                Ok(ecr::Presence::Deleted) => return Err(gone(key)),
                                Err(e) => {
                                    return Err(unreadable(key, format!("its tags: {e}")));
                                }
                            }
                        }
                        candidate.repository = repo;
                        Ok(candidate)
                    }
                    Some(ReadState::Missing) => Err(gone(key)),
                    Some(ReadState::Error(e)) => Err(unreadable(key, e)),
                    None => Err(unreadable(key, "not read".into())),
                }
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let found: Vec<Candidate> = live
        .iter()
        .filter_map(|c| c.as_ref().ok().cloned())
        .collect();
    let mut decided = decide(&found, opts, params).into_iter();
    live.into_iter()
        .filter_map(|c| match c {
            Ok(_) => decided.next(),
            Err(skip) => Some(skip),
        })
        .collect()
}

fn gone(key: RepoKey) -> Decision {
    Decision::skip(
        key,
        SkipReason::NotApplicable {
            detail: "the repository no longer exists".into(),
        },
    )
}

fn unreadable(key: RepoKey, detail: String) -> Decision {
    Decision::skip(key, SkipReason::Unreadable { detail })
}

/// Applies `changes`: for each, record the intent, call PutImageTagMutability, record the
/// result. At most `opts.concurrency` at once; none started after `opts.deadline`. Then, when
/// `opts.verify`, reads every repository whose call succeeded or whose outcome is unknown
/// back and records `verified` or `mismatch`. Reports come back in the order of `changes`.
///
/// Dropping the returned future mid-run (a crash) leaves a record in which every change sent
/// has its intent recorded; an intent without a result is an unknown outcome.
pub async fn apply<R: Recorder>(
    clients: &EcrClients,
    changes: Vec<Change>,
    recorder: &R,
    opts: ApplyOptions,
) -> Result<Vec<ChangeReport>, ApplyError> {
    let op = opts.operation;
    let results: Vec<(usize, Result<ChangeResult, ApplyError>)> =
        stream::iter(changes.iter().enumerate())
            .map(|(i, change)| async move {
                let r: Result<ChangeResult, ApplyError> = async {
                    if opts.expired() {
                        return Ok(ChangeResult::NotAttempted {
                            reason: "not sent: the time left for changes ran out".into(),
                        });
                    }
                    recorder.record(record(op, Phase::Intent, change)).await?;
                    let result = put(clients, change).await;
                    let mut rec = record(
                        op,
                        match result {
                            ChangeResult::Applied => Phase::Applied,
                            ChangeResult::Failed { .. } | ChangeResult::NotAttempted { .. } => {
                                Phase::Failed
                            }
                        },
                        change,
                    );
                    if let ChangeResult::Failed {
                        code,
                        message,
                        outcome_known,
                    } = &result
                    {
                        rec.error_code = Some(code.clone());
                        rec.error = Some(message.clone());
                        rec.outcome_known = Some(*outcome_known);
                    }
                    recorder.record(rec).await?;
                    Ok(result)
                }
                .await;
                (i, r)
            })
            .buffer_unordered(opts.concurrency.max(1))
            .collect()
            .await;

    let mut by_index: Vec<Option<ChangeResult>> = vec![None; changes.len()];
    let mut first_error = None;
    for (i, r) in results {
        match r {
            Ok(res) => by_index[i] = Some(res),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    let mut reports: Vec<ChangeReport> = changes
        .into_iter()
        .zip(by_index)
        .map(|(change, result)| ChangeReport {
            change,
            result: result.unwrap_or(ChangeResult::NotAttempted {
                reason: "the change was not run".into(),
            }),
            verification: None,
        })
        .collect();

    if opts.verify {
        verify(clients, &mut reports, recorder, opts).await?;
    }
    Ok(reports)
}

/// Reads back every report whose call succeeded or whose outcome is unknown, sets its
/// `verification`, and records `verified` / `mismatch`. After the deadline nothing is read:
/// those reports say they could not be read back.
pub async fn verify<R: Recorder>(
    clients: &EcrClients,
    reports: &mut [ChangeReport],
    recorder: &R,
    opts: ApplyOptions,
) -> Result<(), ApplyError> {
    let to_read: Vec<(RepoKey, Attribute)> = reports
        .iter()
        .filter(|r| {
            matches!(
                r.result,
                ChangeResult::Applied
                    | ChangeResult::Failed {
                        outcome_known: false,
                        ..
                    }
            )
        })
        .map(|r| (r.change.key.clone(), r.change.attribute()))
        .collect();
    if opts.expired() {
        for report in reports.iter_mut() {
            if to_read.contains(&(report.change.key.clone(), report.change.attribute())) {
                report.verification = Some(Verification::Unreadable {
                    error: "not read back: the time left ran out".into(),
                });
            }
        }
        return Ok(());
    }
    let keys_of = |attribute: Attribute| -> Vec<RepoKey> {
        to_read
            .iter()
            .filter(|(_, a)| *a == attribute)
            .map(|(k, _)| k.clone())
            .collect()
    };
    let settings = ecr::read_settings(
        clients,
        &keys_of(Attribute::TagMutability),
        opts.concurrency,
    )
    .await;
    #[cfg(feature = "fleet")]
    let policies = ecr::read_lifecycle_policies(
        clients,
        &keys_of(Attribute::LifecyclePolicy),
        opts.concurrency,
    )
    .await;
    // Without `fleet` no lifecycle change is ever applied (see `put_lifecycle`): none to read.
    #[cfg(not(feature = "fleet"))]
    let policies = std::collections::BTreeMap::<RepoKey, PolicyRead>::new();
    let mut records = Vec::new();
    for report in reports.iter_mut() {
        let key = &report.change.key;
        let read = match report.change.attribute() {
            Attribute::TagMutability => settings.get(key).map(observed_setting),
            Attribute::LifecyclePolicy => policies.get(key).map(observed_policy),
        };
        let Some(read) = read else {
            continue;
        };
        let v = match read {
            Ok(Some(s)) if s.same_as(&report.change.to) => Verification::Verified,
            Ok(Some(s)) => Verification::Mismatch { observed: s },
            Ok(None) => Verification::Missing,
            Err(error) => Verification::Unreadable { error },
        };
        // An unknown outcome that reads back as the target was applied after all.
        if matches!(v, Verification::Verified)
            && matches!(
                report.result,
                ChangeResult::Failed {
                    outcome_known: false,
                    ..
                }
            )
        {
            report.result = ChangeResult::Applied;
        }
        let phase = match &v {
            Verification::Verified => Some(Phase::Verified),
            Verification::Mismatch { .. } | Verification::Missing => Some(Phase::Mismatch),
            Verification::Unreadable { .. } => None,
        };
        if let Some(phase) = phase {
            let mut rec = record(opts.operation, phase, &report.change);
            if let Verification::Mismatch { observed } = &v {
                rec.observed = Some(observed.clone());
            }
            if matches!(v, Verification::Missing) {
                rec.error = Some("the repository was not found when read back".into());
            }
            records.push(rec);
        }
        report.verification = Some(v);
    }
    // Queued together, the verification records share the journal writer's fsyncs.
    let written = futures::future::join_all(records.into_iter().map(|r| recorder.record(r))).await;
    for w in written {
        w?;
    }
    Ok(())
}

/// What a mutability read found: the state, `Ok(None)` when the repository is gone.
fn observed_setting(state: &ReadState) -> Result<Option<State>, String> {
    match (state, state.setting()) {
        (_, Some(Ok(s))) => Ok(Some(s.into())),
        (_, Some(Err(e))) => Err(e),
        (ReadState::Missing, None) => Ok(None),
        (ReadState::Error(e), None) => Err(e.clone()),
        (ReadState::Found(_), None) => Err("not read".into()),
    }
}

/// What a lifecycle-policy read found: the state, `Ok(None)` when the repository is gone.
fn observed_policy(read: &PolicyRead) -> Result<Option<State>, String> {
    match read {
        PolicyRead::Found(p) => Ok(Some(State::Lifecycle(p.clone()))),
        PolicyRead::Missing => Ok(None),
        PolicyRead::Error(e) => Err(e.clone()),
    }
}

async fn put(clients: &EcrClients, change: &Change) -> ChangeResult {
    let scope = Scope::of(&change.key);
    let Some(client) = clients.get(&scope) else {
        return ChangeResult::Failed {
            code: "NoClient".into(),
            message: format!("no credentials for {scope}"),
            outcome_known: true,
        };
    };
    match (&change.from, &change.to) {
        (State::Mutability(_), State::Mutability(to)) => put_mutability(client, change, to).await,
        (State::Lifecycle(_), State::Lifecycle(to)) => put_lifecycle(client, change, to).await,
        _ => ChangeResult::Failed {
            code: "InvalidChange".into(),
            message: format!(
                "a change from {} to {} switches two attributes",
                change.from, change.to
            ),
            outcome_known: true,
        },
    }
}

/// PutLifecyclePolicy, or DeleteLifecyclePolicy for none (a policy already gone is none).
#[cfg(feature = "fleet")]
async fn put_lifecycle(
    client: &aws_sdk_ecr::Client,
    change: &Change,
    to: &LifecyclePolicy,
) -> ChangeResult {
    match &to.lifecycle_policy {
        Some(text) => {
            let call = client
                .put_lifecycle_policy()
                .set_registry_id(change.key.account.clone())
                .repository_name(&change.key.repository)
                .lifecycle_policy_text(text);
            match call.send().await {
                Ok(_) => ChangeResult::Applied,
                Err(e) => {
                    let modeled = e.as_service_error().and_then(|se| match se {
                        PutLifecyclePolicyError::InvalidParameterException(_) => {
                            Some("InvalidParameterException")
                        }
                        PutLifecyclePolicyError::RepositoryNotFoundException(_) => {
                            Some("RepositoryNotFoundException")
                        }
                        PutLifecyclePolicyError::ServerException(_) => Some("ServerException"),
                        _ => None,
                    });
                    classify(e, modeled)
                }
            }
        }
        None => {
            let call = client
                .delete_lifecycle_policy()
                .set_registry_id(change.key.account.clone())
                .repository_name(&change.key.repository);
            match call.send().await {
                Ok(_) => ChangeResult::Applied,
                Err(e) if e.code() == Some("LifecyclePolicyNotFoundException") => {
                    ChangeResult::Applied
                }
                Err(e) => classify(e, None),
            }
        }
    }
}

async fn put_mutability(
    client: &aws_sdk_ecr::Client,
    change: &Change,
    to: &Setting,
) -> ChangeResult {
    if change.key.kind == ResourceKind::CreationTemplate {
        return put_template(client, change, to).await;
    }
    let filters = api_filters(to);
    let call = client
        .put_image_tag_mutability()
        .set_registry_id(change.key.account.clone())
        .repository_name(&change.key.repository)
        .image_tag_mutability(ImageTagMutability::from(to.mode.as_str()))
        .set_image_tag_mutability_exclusion_filters((!filters.is_empty()).then_some(filters));
    match call.send().await {
        Ok(_) => ChangeResult::Applied,
        Err(e) => {
            let modeled = e.as_service_error().and_then(|se| match se {
                PutImageTagMutabilityError::InvalidParameterException(_) => {
                    Some("InvalidParameterException")
                }
                PutImageTagMutabilityError::RepositoryNotFoundException(_) => {
                    Some("RepositoryNotFoundException")
                }
                PutImageTagMutabilityError::ServerException(_) => Some("ServerException"),
                _ => None,
            });
            classify(e, modeled)
        }
    }
}

/// The API filters of a target setting (none for the modes that take none).
fn api_filters(to: &Setting) -> Vec<ImageTagMutabilityExclusionFilter> {
    if !to.mode.takes_filters() {
        return Vec::new();
    }
    to.filters
        .iter()
        .filter_map(|f| {
            ImageTagMutabilityExclusionFilter::builder()
                .filter_type(f.filter_type.as_str().into())
                .filter(&f.filter)
                .build()
                .ok()
        })
        .collect()
}

/// Switches a creation template: read it, check it still has the setting the change was
/// decided on, send UpdateRepositoryCreationTemplate with everything else as read (see the
/// module documentation).
#[cfg(feature = "fleet")]
async fn put_template(client: &aws_sdk_ecr::Client, change: &Change, to: &Setting) -> ChangeResult {
    let prefix = &change.key.repository;
    let refused = |code: &str, message: String| ChangeResult::Failed {
        code: code.to_owned(),
        message,
        outcome_known: true,
    };
    let live = match ecr::describe_templates(client, std::slice::from_ref(prefix)).await {
        Ok(found) => found
            .into_iter()
            .find(|t| t.prefix() == Some(prefix.as_str())),
        Err(e) => {
            return refused(
                "ReadFailed",
                format!("not sent: the template could not be read first: {e}"),
            );
        }
    };
    let Some(live) = live else {
        return refused(
            "TemplateNotFoundException",
            format!("not sent: no creation template with prefix {prefix}"),
        );
    };
    let now = ecr::template_setting_of(&live);
    if !State::from(now.clone()).same_as(&change.from) {
        return refused(
            "ChangedSinceDecided",
            format!(
                "not sent: the template is now {now}, not {} as decided",
                change.from
            ),
        );
    }
    let filters = api_filters(to);
    let call = client
        .update_repository_creation_template()
        .prefix(prefix)
        .set_description(live.description().map(str::to_owned))
        .set_encryption_configuration(live.encryption_configuration().cloned())
        .set_resource_tags(Some(live.resource_tags().to_vec()))
        .set_repository_policy(live.repository_policy().map(str::to_owned))
        .set_lifecycle_policy(live.lifecycle_policy().map(str::to_owned))
        .set_applied_for(Some(live.applied_for().to_vec()))
        .set_custom_role_arn(live.custom_role_arn().map(str::to_owned))
        .image_tag_mutability(ImageTagMutability::from(to.mode.as_str()))
        .set_image_tag_mutability_exclusion_filters((!filters.is_empty()).then_some(filters));
    match call.send().await {
        Ok(_) => ChangeResult::Applied,
        Err(e) => {
            let modeled = e.as_service_error().and_then(|se| match se {
                UpdateRepositoryCreationTemplateError::InvalidParameterException(_) => {
                    Some("InvalidParameterException")
                }
                UpdateRepositoryCreationTemplateError::TemplateNotFoundException(_) => {
                    Some("TemplateNotFoundException")
                }
                UpdateRepositoryCreationTemplateError::ValidationException(_) => {
                    Some("ValidationException")
                }
                UpdateRepositoryCreationTemplateError::ServerException(_) => {
                    Some("ServerException")
                }
                _ => None,
            });
            classify(e, modeled)
        }
    }
}

/// Without `fleet` (the Config rule Lambda, which switches repositories only) the calls of
/// the other kinds of change are not linked: such a change is refused, nothing is sent.
#[cfg(not(feature = "fleet"))]
fn not_in_this_build(what: &str) -> ChangeResult {
    ChangeResult::Failed {
        code: "UnsupportedChange".into(),
        message: format!(
            "not sent: {what} are changed by the immutag command (immutag-aws feature `fleet`), not by this build"
        ),
        outcome_known: true,
    }
}

#[cfg(not(feature = "fleet"))]
async fn put_lifecycle(
    _client: &aws_sdk_ecr::Client,
    _change: &Change,
    _to: &LifecyclePolicy,
) -> ChangeResult {
    not_in_this_build("lifecycle policies")
}

#[cfg(not(feature = "fleet"))]
async fn put_template(
    _client: &aws_sdk_ecr::Client,
    _change: &Change,
    _to: &Setting,
) -> ChangeResult {
    not_in_this_build("repository creation templates")
}

/// Turns an SDK error into a failed result: an error answer from AWS (4xx) is a known
/// outcome (nothing changed); no answer, a server error, or a success answer that cannot be
/// read is an unknown one.
/// `modeled` names the modeled error when the response carried no code.
fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    e: SdkError<E>,
    modeled: Option<&'static str>,
) -> ChangeResult {
    match &e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            let status = se.raw().status().as_u16();
            // A success status whose body the SDK could not read: the change was most
            // likely made, so the outcome is unknown (and verification reads it back).
            let unreadable_success = (200..300).contains(&status);
            let fallback = if unreadable_success {
                "UnreadableResponse"
            } else {
                "UnknownError"
            };
            let code = err.code().or(modeled).unwrap_or(fallback).to_owned();
            let message = err
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| err.to_string());
            let server_side = code == "ServerException" || status >= 500;
            ChangeResult::Failed {
                code,
                message,
                outcome_known: !(server_side || unreadable_success),
            }
        }
        SdkError::ConstructionFailure(_) => ChangeResult::Failed {
            code: "ConstructionFailure".into(),
            message: error_chain(&e),
            outcome_known: true,
        },
        SdkError::TimeoutError(_) => ChangeResult::Failed {
            code: "Timeout".into(),
            message: error_chain(&e),
            outcome_known: false,
        },
        _ => ChangeResult::Failed {
            code: "TransportError".into(),
            message: error_chain(&e),
            outcome_known: false,
        },
    }
}
