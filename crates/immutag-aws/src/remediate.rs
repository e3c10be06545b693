//! Applying a remediation (or rollback) plan: PutImageTagMutability per repository with
//! bounded concurrency, each change journaled before and after, then verification by
//! reading every changed repository back with DescribeRepositories (names in batches of
//! at most 100, never one call per repository).
//!
//! Failures are per repository: a RepositoryNotFoundException, AccessDeniedException or
//! InvalidParameterException on one repository is recorded and reported, and the others
//! continue. Throttling is retried by the SDK (see [`remediation_client`]: adaptive retry,
//! exponential backoff with jitter). Only a journal write failure stops the run, because a
//! change that cannot be journaled must not be made.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_ecr::Client;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecr::operation::put_image_tag_mutability::PutImageTagMutabilityError;
use aws_sdk_ecr::types::{ImageTagMutability, ImageTagMutabilityExclusionFilter};
use futures::stream::{self, StreamExt};
use immutag_core::change::{Change, RepoKey, Setting};
use immutag_core::journal::{JournalRecord, Operation, Phase};
use immutag_core::{ExclusionFilter, FilterType, TagMutability};
use serde::Serialize;

use crate::journal::{Journal, JournalError};

/// The most repository names DescribeRepositories accepts in one call.
pub const DESCRIBE_BATCH: usize = 100;

/// The default number of changes in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// The attempts the remediation client makes per call (first try included).
pub const MAX_ATTEMPTS: u32 = 8;

/// Builds the ECR client used to remediate from an SDK configuration (credentials, region,
/// endpoint), with adaptive retry: exponential backoff with jitter on throttling and
/// transient errors, a client-side rate limiter that slows down when ECR throttles, and
/// [`MAX_ATTEMPTS`] attempts per call.
pub fn remediation_client(sdk: &aws_config::SdkConfig) -> Client {
    let conf = aws_sdk_ecr::config::Builder::from(sdk)
        .retry_config(retry_config())
        .build();
    Client::from_conf(conf)
}

/// The retry configuration of [`remediation_client`]: adaptive, [`MAX_ATTEMPTS`] attempts,
/// backoff from 100 ms up to 20 s.
pub fn retry_config() -> aws_sdk_ecr::config::retry::RetryConfig {
    aws_sdk_ecr::config::retry::RetryConfig::adaptive()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(20))
}

/// Account and region: which client serves a repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    /// The account; `None`: the credentials' own.
    pub account: Option<String>,
    /// The region; `None`: the configured one.
    pub region: Option<String>,
}

impl Scope {
    /// The scope of a repository key.
    pub fn of(key: &RepoKey) -> Self {
        Self {
            account: key.account.clone(),
            region: key.region.clone(),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}",
            self.account.as_deref().unwrap_or("(default account)"),
            self.region.as_deref().unwrap_or("(default region)")
        )
    }
}

/// ECR clients per account and region.
#[derive(Debug, Clone, Default)]
pub struct Clients {
    map: HashMap<Scope, Client>,
}

impl Clients {
    /// No clients.
    pub fn new() -> Self {
        Self::default()
    }

    /// One client for every scope (tests, single-account use with a fixed region).
    pub fn single(scope: Scope, client: Client) -> Self {
        let mut c = Self::new();
        c.insert(scope, client);
        c
    }

    /// Adds the client for a scope.
    pub fn insert(&mut self, scope: Scope, client: Client) {
        self.map.insert(scope, client);
    }

    /// The client for a scope.
    pub fn get(&self, scope: &Scope) -> Option<&Client> {
        self.map.get(scope)
    }
}

/// How one change went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ChangeResult {
    /// PutImageTagMutability succeeded.
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
        observed: Setting,
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

/// Options of [`apply`].
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// Changes in flight at once (at least 1).
    pub concurrency: usize,
    /// Which command is running (written into the journal).
    pub operation: Operation,
    /// Read every changed repository back afterwards.
    pub verify: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            operation: Operation::Remediate,
            verify: true,
        }
    }
}

/// Errors that stop a run.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A journal record could not be written: no further change is made.
    #[error("stopped: {0}; changes already made are in the journal")]
    Journal(#[from] JournalError),
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

/// Applies `changes`: for each, journal the intent (on disk), call PutImageTagMutability,
/// journal the result (on disk). At most `opts.concurrency` at once. Then, when
/// `opts.verify`, reads every repository whose call succeeded or whose outcome is unknown
/// back and journals `verified` or `mismatch`. Reports come back in the order of `changes`.
///
/// Dropping the returned future mid-run (a crash) leaves a journal in which every change
/// sent has its intent on disk; an intent without a result is an unknown outcome.
pub async fn apply(
    clients: &Clients,
    changes: Vec<Change>,
    journal: &Journal,
    opts: ApplyOptions,
) -> Result<Vec<ChangeReport>, ApplyError> {
    let op = opts.operation;
    let results: Vec<(usize, Result<ChangeResult, ApplyError>)> =
        stream::iter(changes.iter().enumerate())
            .map(|(i, change)| async move {
                let r: Result<ChangeResult, ApplyError> = async {
                    journal.append(record(op, Phase::Intent, change)).await?;
                    let result = put(clients, change).await;
                    let mut rec = record(
                        op,
                        match result {
                            ChangeResult::Applied => Phase::Applied,
                            ChangeResult::Failed { .. } => Phase::Failed,
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
                    journal.append(rec).await?;
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
            result: result.unwrap_or(ChangeResult::Failed {
                code: "NotRun".into(),
                message: "the change was not run".into(),
                outcome_known: true,
            }),
            verification: None,
        })
        .collect();

    if opts.verify {
        verify(clients, &mut reports, journal, opts).await?;
    }
    Ok(reports)
}

/// Reads back every report whose call succeeded or whose outcome is unknown, sets its
/// `verification`, and journals `verified` / `mismatch`.
pub async fn verify(
    clients: &Clients,
    reports: &mut [ChangeReport],
    journal: &Journal,
    opts: ApplyOptions,
) -> Result<(), ApplyError> {
    let to_read: Vec<RepoKey> = reports
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
        .map(|r| r.change.key.clone())
        .collect();
    let read = read_settings(clients, &to_read, opts.concurrency).await;
    let mut records = Vec::new();
    for report in reports.iter_mut() {
        let key = &report.change.key;
        let Some(state) = read.get(key) else {
            continue;
        };
        let v = match state {
            ReadState::Found(s) if s.same_as(&report.change.to) => Verification::Verified,
            ReadState::Found(s) => Verification::Mismatch {
                observed: s.clone(),
            },
            ReadState::Missing => Verification::Missing,
            ReadState::Error(e) => Verification::Unreadable { error: e.clone() },
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
    // Queued together, the verification records share the writer's fsyncs.
    let written = futures::future::join_all(records.into_iter().map(|r| journal.append(r))).await;
    for w in written {
        w?;
    }
    Ok(())
}

async fn put(clients: &Clients, change: &Change) -> ChangeResult {
    let scope = Scope::of(&change.key);
    let Some(client) = clients.get(&scope) else {
        return ChangeResult::Failed {
            code: "NoClient".into(),
            message: format!("no credentials for {scope}"),
            outcome_known: true,
        };
    };
    let filters: Vec<ImageTagMutabilityExclusionFilter> = if change.to.mode.takes_filters() {
        change
            .to
            .filters
            .iter()
            .filter_map(|f| {
                ImageTagMutabilityExclusionFilter::builder()
                    .filter_type(f.filter_type.as_str().into())
                    .filter(&f.filter)
                    .build()
                    .ok()
            })
            .collect()
    } else {
        Vec::new()
    };
    let call = client
        .put_image_tag_mutability()
        .set_registry_id(change.key.account.clone())
        .repository_name(&change.key.repository)
        .image_tag_mutability(ImageTagMutability::from(change.to.mode.as_str()))
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

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// What reading a repository found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadState {
    /// Its setting.
    Found(Setting),
    /// It does not exist.
    Missing,
    /// It could not be read.
    Error(String),
}

/// The setting of an SDK repository.
pub fn setting_of(repo: &aws_sdk_ecr::types::Repository) -> Setting {
    let mode = repo
        .image_tag_mutability()
        .map(|m| TagMutability::parse(m.as_str()))
        .unwrap_or(TagMutability::Mutable);
    let filters = repo
        .image_tag_mutability_exclusion_filters()
        .iter()
        .map(|f| ExclusionFilter {
            filter_type: FilterType::parse(f.filter_type().as_str()),
            filter: f.filter().to_owned(),
        })
        .collect();
    Setting::new(mode, filters)
}

/// Reads the current setting of each repository with DescribeRepositories, naming at most
/// [`DESCRIBE_BATCH`] repositories per call, `concurrency` calls at once. When a batch names
/// a repository that does not exist, ECR fails the whole batch with
/// RepositoryNotFoundException; the batch is then split in halves until the missing
/// repositories are isolated.
pub async fn read_settings(
    clients: &Clients,
    keys: &[RepoKey],
    concurrency: usize,
) -> BTreeMap<RepoKey, ReadState> {
    let mut by_scope: BTreeMap<Scope, Vec<String>> = BTreeMap::new();
    for k in keys {
        by_scope
            .entry(Scope::of(k))
            .or_default()
            .push(k.repository.clone());
    }
    let mut batches: Vec<(Scope, Vec<String>)> = Vec::new();
    for (scope, mut names) in by_scope {
        names.sort();
        names.dedup();
        for chunk in names.chunks(DESCRIBE_BATCH) {
            batches.push((scope.clone(), chunk.to_vec()));
        }
    }
    let results: Vec<Vec<(RepoKey, ReadState)>> = stream::iter(batches)
        .map(|(scope, names)| async move { read_batch(clients, scope, names).await })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    results.into_iter().flatten().collect()
}

async fn read_batch(
    clients: &Clients,
    scope: Scope,
    names: Vec<String>,
) -> Vec<(RepoKey, ReadState)> {
    let key = |n: &str| RepoKey::new(scope.account.as_deref(), scope.region.as_deref(), n);
    let Some(client) = clients.get(&scope) else {
        return names
            .iter()
            .map(|n| {
                (
                    key(n),
                    ReadState::Error(format!("no credentials for {scope}")),
                )
            })
            .collect();
    };
    let mut out = Vec::with_capacity(names.len());
    let mut pending: Vec<Vec<String>> = vec![names];
    while let Some(batch) = pending.pop() {
        let resp = client
            .describe_repositories()
            .set_registry_id(scope.account.clone())
            .set_repository_names(Some(batch.clone()))
            .send()
            .await;
        match resp {
            Ok(o) => {
                let mut seen = std::collections::BTreeSet::new();
                for r in o.repositories() {
                    if let Some(name) = r.repository_name()
                        && batch.iter().any(|b| b == name)
                    {
                        seen.insert(name.to_owned());
                        out.push((key(name), ReadState::Found(setting_of(r))));
                    }
                }
                for n in batch.iter().filter(|n| !seen.contains(*n)) {
                    out.push((key(n), ReadState::Missing));
                }
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_repository_not_found_exception())
                    || e.code() == Some("RepositoryNotFoundException") =>
            {
                if batch.len() == 1 {
                    out.push((key(&batch[0]), ReadState::Missing));
                } else {
                    let mid = batch.len() / 2;
                    pending.push(batch[mid..].to_vec());
                    pending.push(batch[..mid].to_vec());
                }
            }
            Err(e) => {
                let msg = format!(
                    "{}: {}",
                    e.code().unwrap_or("error"),
                    e.message()
                        .map(str::to_owned)
                        .unwrap_or_else(|| error_chain(&e))
                );
                for n in &batch {
                    out.push((key(n), ReadState::Error(msg.clone())));
                }
            }
        }
    }
    out
}

/// Clients for the scopes named by a plan or a journal, from the base configuration:
/// the caller's own account directly, any other account through `role_name` (STS
/// AssumeRole, see [`crate::session::assume_role`]), each region by name. A scope without an
/// account is the caller's; one without a region is the base configuration's region.
/// Credentials are fetched lazily: a refused AssumeRole shows up as the per-repository error
/// of the calls made with that client.
pub async fn clients_for_scopes(
    base: &aws_config::SdkConfig,
    scopes: impl IntoIterator<Item = Scope>,
    role_name: &str,
) -> Result<Clients, crate::AwsError> {
    let mut scopes: Vec<Scope> = scopes.into_iter().collect();
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Ok(Clients::new());
    }
    let control = match (base.region(), scopes.iter().find_map(|s| s.region.clone())) {
        (Some(_), _) => base.clone(),
        (None, Some(r)) => crate::session::with_region(base, &r),
        (None, None) => return Err(crate::AwsError::NoRegion),
    };
    let needs_identity = scopes.iter().any(|s| s.account.is_some());
    let identity = if needs_identity {
        Some(crate::session::caller_identity(&control).await?)
    } else {
        None
    };
    let mut per_account: BTreeMap<Option<String>, aws_config::SdkConfig> = BTreeMap::new();
    let mut clients = Clients::new();
    for scope in scopes {
        let config = match per_account.get(&scope.account) {
            Some(c) => c.clone(),
            None => {
                let c = match (&scope.account, &identity) {
                    (Some(account), Some(id)) if *account != id.account_id => {
                        let arn = crate::session::role_arn(&id.partition, account, role_name)?;
                        crate::session::assume_role(&control, &arn).await
                    }
                    _ => control.clone(),
                };
                per_account.insert(scope.account.clone(), c.clone());
                c
            }
        };
        let config = match &scope.region {
            Some(r) => {
                crate::error::check_region(r)?;
                crate::session::with_region(&config, r)
            }
            None if base.region().is_none() => return Err(crate::AwsError::NoRegion),
            None => config,
        };
        clients.insert(scope, remediation_client(&config));
    }
    Ok(clients)
}
