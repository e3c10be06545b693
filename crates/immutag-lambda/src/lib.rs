//! # immutag-lambda
//!
//! The AWS Config custom-rule Lambda: the event of an invocation ([`event`], read by
//! immutag-core's one rule-event reader), the handler ([`handle`]), and one invocation with
//! its log span and summary line ([`invoke`]). `main.rs` only wires [`invoke`] to
//! `lambda_runtime` and installs the JSON log subscriber of [`logging`].
//!
//! The handler reads the event, checks whose account it is about (the function serves an
//! account other than its own only through `ExecutionRoleName`), evaluates every resource it
//! concerns through immutag-core, optionally remediates, and reports with PutEvaluations
//! through `immutag_aws::config`. Clients come from a [`ClientProvider`] built once per
//! container, so tests inject mocked clients.
#![forbid(unsafe_code)]

pub mod clients;
pub mod event;
pub mod item;
pub mod logging;
pub mod remediation;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_types::DateTime;
use immutag_aws::AwsError;
use immutag_aws::clients::{EcrClients, Scope};
use immutag_aws::config::{self, ConfigError, ConfigEvaluation, RetryPolicy};
use immutag_aws::ecr::ReadState;
use immutag_core::change::RepoKey;
use immutag_core::evaluate::clamp_annotation;
use immutag_core::{
    Compliance, ECR_CREATION_TEMPLATE_TYPE, ECR_REPOSITORY_TYPE, Evaluation, FilterSetting,
    InputKind, MutabilitySetting, RemediationMode, Repository, ResourceStatus, ResourceType,
    RuleParameters, TagMutability, TemplatePrefix, evaluate,
};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;
use tracing::Instrument;
use tracing::level_filters::LevelFilter;

pub use clients::{AwsClientProvider, Clients, OwnAccount};
pub use event::{Invocation, InvokingEvent, RuleEvent, RuleEventError, date_time, parse_event};

/// The log level named by `RUST_LOG`: `error`, `warn`, `info`, `debug`, `trace` or `off`
/// (any case, surrounding blanks ignored). Unset means `info`; any other value, such as an
/// `env_logger`-style directive, is returned as `Err` with the level to use instead (`info`),
/// so that `main` can say so in the log.
///
/// ```
/// use immutag_lambda::log_level;
/// use tracing::level_filters::LevelFilter;
///
/// assert_eq!(log_level(None), Ok(LevelFilter::INFO));
/// assert_eq!(log_level(Some(" DEBUG ")), Ok(LevelFilter::DEBUG));
/// assert_eq!(log_level(Some("immutag=debug")), Err(LevelFilter::INFO));
/// ```
pub fn log_level(rust_log: Option<&str>) -> Result<LevelFilter, LevelFilter> {
    match rust_log {
        None => Ok(LevelFilter::INFO),
        Some(v) => v.trim().parse().map_err(|_| LevelFilter::INFO),
    }
}

/// Why an invocation failed. Nothing is reported when the event or the parameters are
/// invalid, when the event is for another account without `ExecutionRoleName`, or when the
/// resources cannot be read.
#[derive(Debug, Error)]
pub enum HandlerError {
    /// The event (or its rule parameters) cannot be read.
    #[error(transparent)]
    Event(#[from] RuleEventError),
    /// The function's own account could not be read (`sts:GetCallerIdentity`).
    #[error("cannot tell the function's own account, so nothing was read or reported: {0}")]
    OwnAccount(AwsError),
    /// The event is for another account and names no `ExecutionRoleName`: the function's own
    /// role never acts for another account.
    #[error(
        "the event is for account {event_account}, but the function's credentials are of account {own_account}: another account is served only through the rule parameter ExecutionRoleName (a role in that account), so nothing was read or reported"
    )]
    ForeignAccount {
        /// The account the event names.
        event_account: String,
        /// The account of the function's credentials.
        own_account: String,
    },
    /// The clients for the event's account could not be built (role assumption failed).
    #[error("{0}")]
    Clients(String),
    /// The configuration item cannot be read as a repository.
    #[error("configuration item of {resource_type} `{resource_id}`: {problem}")]
    Item {
        /// Its resource type.
        resource_type: String,
        /// Its resource id.
        resource_id: String,
        /// What is wrong.
        problem: String,
    },
    /// The item lists no exclusion filters for an exclusion mode, and reading the repository
    /// live failed: nothing is decided on a guess.
    #[error(
        "the configuration item of repository `{repository}` says {mode} without exclusion filters, and reading them live (ecr:DescribeRepositories) failed: {error}"
    )]
    LiveRead {
        /// The repository.
        repository: String,
        /// The mode the item names.
        mode: String,
        /// The error of DescribeRepositories (code and message).
        error: String,
    },
    /// The repositories of the account and region could not be listed.
    #[error("cannot list the ECR repositories: {0}")]
    Inventory(String),
    /// A periodic run needs `configRuleName` to find resources reported earlier.
    #[error(
        "the periodic event has no configRuleName, which is needed to find resources reported earlier"
    )]
    MissingRuleName,
    /// Reading from or reporting to AWS Config failed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Every evaluation was reported, but the resources reported earlier could not be read
    /// back, so none that vanished since was marked NOT_APPLICABLE.
    #[error(
        "every repository found was reported, but the resources reported earlier could not be read back, so none that vanished was marked NOT_APPLICABLE: {0}"
    )]
    VanishedCheck(ConfigError),
    /// Auto-remediation stopped: a change record could not be written.
    #[error("auto-remediation stopped: {0}")]
    Remediation(String),
}

/// Gives the clients to read and report with for one event.
///
/// Built once per container (in `main`); [`handle`] asks it for the function's own account
/// and for the clients of the event's account. With the rule parameter `ExecutionRoleName`,
/// the production provider assumes that role in the event's account.
pub trait ClientProvider: Send + Sync {
    /// The account of the function's own credentials (`sts:GetCallerIdentity`, once per
    /// container: see [`OwnAccount`]).
    fn own_account(&self) -> impl Future<Output = Result<String, AwsError>> + Send;

    /// The clients for `account_id`, assuming `role_name` there when given.
    fn clients_for(
        &self,
        account_id: &str,
        partition: &str,
        role_name: Option<&str>,
    ) -> impl Future<Output = Result<Clients, HandlerError>> + Send;
}

/// Knobs of the handler.
#[derive(Debug, Clone, Default)]
pub struct HandlerOptions {
    /// Retry policy for `FailedEvaluations`.
    pub retry: RetryPolicy,
    /// When auto-remediation must stop starting changes (the invocation deadline less
    /// [`report_margin`]); `None`: no limit. [`invoke`] sets it from the Lambda context
    /// ([`HandlerOptions::for_context`]).
    pub deadline: Option<tokio::time::Instant>,
}

impl HandlerOptions {
    /// These options with the deadline of the invocation `context`
    /// ([`remediation_deadline`] of `context.deadline`).
    pub fn for_context(&self, context: &lambda_runtime::Context) -> Self {
        let mut o = self.clone();
        o.deadline = remediation_deadline(context.deadline);
        o
    }
}

/// When auto-remediation must stop starting changes: the invocation deadline (from the Lambda
/// context) less the time kept to report ([`report_margin`]).
///
/// Lambda sends the deadline as milliseconds since the epoch. A value before the year 2000
/// cannot be one: `cargo lambda watch` sends the function's timeout there (600000), so such a
/// value is read as the time left from now.
pub fn remediation_deadline(deadline_ms: u64) -> Option<tokio::time::Instant> {
    const YEAR_2000_MS: u64 = 946_684_800_000;
    let left_ms = if deadline_ms < YEAR_2000_MS {
        deadline_ms
    } else {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_millis();
        u64::try_from(u128::from(deadline_ms).saturating_sub(now_ms)).unwrap_or(u64::MAX)
    };
    let left = Duration::from_millis(left_ms);
    Some(tokio::time::Instant::now() + left.saturating_sub(report_margin(left)))
}

/// The time kept free before the invocation deadline to report what was evaluated: a quarter
/// of the time left, at most 10 seconds.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(immutag_lambda::report_margin(Duration::from_secs(300)), Duration::from_secs(10));
/// assert_eq!(immutag_lambda::report_margin(Duration::from_secs(3)), Duration::from_millis(750));
/// ```
pub fn report_margin(left: std::time::Duration) -> std::time::Duration {
    (left / 4).min(std::time::Duration::from_secs(10))
}

/// The most evaluations listed one by one in a [`Summary`] (a Lambda response is at most
/// 6 MB); the rest are counted in [`Summary::evaluations_omitted`].
pub const MAX_LISTED_EVALUATIONS: usize = 5_000;

/// ListTagsForResource calls in flight at once (only with `ExemptionTagKey`).
const TAG_CONCURRENCY: usize = 8;

/// One reported evaluation, as listed in the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportedEvaluation {
    /// `ComplianceResourceType`.
    pub resource_type: String,
    /// `ComplianceResourceId`.
    pub resource_id: String,
    /// `ComplianceType`.
    pub compliance: Compliance,
    /// `Annotation`, as sent (1 to 256 characters).
    pub annotation: String,
}

/// What an invocation reported: the handler's JSON result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The `messageType` handled.
    pub message_type: String,
    /// The account evaluated.
    pub account_id: String,
    /// Whether PutEvaluations was sent with `TestMode=true`.
    pub test_mode: bool,
    /// PutEvaluations calls made (retries included).
    pub put_evaluations_calls: usize,
    /// Evaluations reported, by compliance type.
    pub counts: BTreeMap<Compliance, usize>,
    /// Repositories switched to IMMUTABLE by auto-remediation.
    pub remediated: usize,
    /// Auto-remediations that failed (those repositories stay NON_COMPLIANT).
    pub remediation_failures: usize,
    /// Repositories deleted between DescribeRepositories and ListTagsForResource: left out
    /// of the run (they no longer exist), counted here and named in the log.
    pub dropped: usize,
    /// Whether resources reported earlier were looked up (periodic runs; not in test mode,
    /// where Config stores nothing).
    pub vanished_checked: bool,
    /// Why the repository creation templates were not evaluated in a periodic run (the
    /// endpoint does not implement DescribeRepositoryCreationTemplates, or the call failed);
    /// absent when they were, and in change-triggered runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templates_not_read: Option<String>,
    /// The evaluations reported, in order (at most [`MAX_LISTED_EVALUATIONS`]).
    pub evaluations: Vec<ReportedEvaluation>,
    /// Evaluations reported but not listed.
    pub evaluations_omitted: usize,
}

/// What an invocation did so far: the fields of its summary log line, filled as the handler
/// goes, so that a failed invocation is summarized too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// The `messageType`, once the event is read.
    pub message_type: Option<&'static str>,
    /// The account, once the event is read.
    pub account_id: Option<String>,
    /// Evaluations made (sent or about to be sent), by compliance type.
    pub counts: BTreeMap<Compliance, usize>,
    /// PutEvaluations calls made.
    pub put_evaluations_calls: usize,
    /// Evaluations AWS Config accepted.
    pub reported: usize,
    /// Evaluations AWS Config did not accept (named in the error and the log).
    pub not_accepted: usize,
    /// Repositories switched by auto-remediation.
    pub remediated: usize,
    /// Auto-remediations that failed.
    pub remediation_failures: usize,
    /// Repositories deleted while being read, left out.
    pub dropped: usize,
    /// Repositories whose exclusion filters were read live.
    pub filters_read_live: usize,
}

impl Tally {
    /// Evaluations made.
    pub fn evaluated(&self) -> usize {
        self.counts.values().sum()
    }

    fn count(&self, c: Compliance) -> usize {
        self.counts.get(&c).copied().unwrap_or(0)
    }

    /// Writes the invocation's summary line: `info` when it succeeded, `error` (with the
    /// error) when it failed.
    pub fn log(&self, error: Option<&HandlerError>) {
        let (message_type, account) = (
            self.message_type.unwrap_or("?"),
            self.account_id.as_deref().unwrap_or("?"),
        );
        macro_rules! line {
            ($level:ident, $outcome:expr, $error:expr) => {
                tracing::$level!(
                    outcome = $outcome,
                    message_type,
                    account_id = account,
                    evaluated = self.evaluated(),
                    compliant = self.count(Compliance::Compliant),
                    non_compliant = self.count(Compliance::NonCompliant),
                    not_applicable = self.count(Compliance::NotApplicable),
                    put_evaluations_calls = self.put_evaluations_calls,
                    reported = self.reported,
                    not_accepted = self.not_accepted,
                    remediated = self.remediated,
                    remediation_failures = self.remediation_failures,
                    dropped = self.dropped,
                    filters_read_live = self.filters_read_live,
                    error = %$error,
                    "invocation summary"
                )
            };
        }
        match error {
            None => line!(info, "reported", ""),
            Some(e) => line!(error, "failed", e),
        }
    }
}

/// An evaluation on its way to Config.
struct Pending {
    evaluation: Evaluation,
    ordering: DateTime,
}

/// One invocation, as `main` runs it: the handler inside a span that carries the Lambda
/// request id (so every log line of the invocation does), the context's deadline passed
/// to the handler, and one summary line at the end. Returns the [`Summary`] as JSON, or the
/// error as the Lambda runtime reports it.
pub async fn invoke<P: ClientProvider>(
    event: LambdaEvent<Value>,
    provider: &P,
    options: &HandlerOptions,
) -> Result<Value, Diagnostic> {
    let LambdaEvent { payload, context } = event;
    let span = tracing::info_span!("invocation", request_id = %context.request_id);
    let options = options.for_context(&context);
    async move {
        let mut tally = Tally::default();
        let result = handle_counted(payload, provider, &options, &mut tally).await;
        tally.log(result.as_ref().err());
        match result {
            Ok(summary) => serde_json::to_value(summary).map_err(|e| Diagnostic {
                error_type: "ImmutagSummary".into(),
                error_message: e.to_string(),
            }),
            Err(err) => Err(Diagnostic {
                error_type: "ImmutagError".into(),
                error_message: err.to_string(),
            }),
        }
    }
    .instrument(span)
    .await
}

/// Handles one Config rule event: parse, check the account, evaluate, remediate if asked,
/// report.
pub async fn handle<P: ClientProvider>(
    payload: Value,
    provider: &P,
    options: &HandlerOptions,
) -> Result<Summary, HandlerError> {
    handle_counted(payload, provider, options, &mut Tally::default()).await
}

/// [`handle`], keeping count in `tally` as it goes (for the summary line).
pub async fn handle_counted<P: ClientProvider>(
    payload: Value,
    provider: &P,
    options: &HandlerOptions,
    tally: &mut Tally,
) -> Result<Summary, HandlerError> {
    let inv = parse_event(&payload)?;
    tally.message_type = Some(inv.event.message.message_type());
    tally.account_id = Some(inv.account_id.clone());
    let params = &inv.parameters;
    let role = params.execution_role_name.as_deref();
    if role.is_none() {
        // Without ExecutionRoleName the function acts with its own role: only for its own
        // account, whatever the event (any account's Config can invoke an organization rule).
        let own = provider
            .own_account()
            .await
            .map_err(HandlerError::OwnAccount)?;
        if own != inv.account_id {
            return Err(HandlerError::ForeignAccount {
                event_account: inv.account_id.clone(),
                own_account: own,
            });
        }
    }
    let clients = provider
        .clients_for(&inv.account_id, inv.event.partition(), role)
        .await?;
    let test_mode = inv.result_token == config::TEST_MODE_TOKEN;
    let mut vanished_checked = false;
    let mut vanished_error = None;
    let mut templates_not_read = None;

    let mut pending: Vec<Pending> = match &inv.event.message {
        // Creation templates are evaluated live by the periodic sweep, not from items whose
        // recorded shape is unconfirmed: an event for one (the rule's scope widened by hand)
        // reports nothing, so the sweep's verdict stands (docs/config-rule.md).
        InvokingEvent::ConfigurationItemChange(change)
            if change.repository.resource_type.template().is_some() =>
        {
            template_change_ignored(&change.repository.resource_id)
        }
        InvokingEvent::OversizedConfigurationItemChange(change)
            if change.summary.resource_type == ECR_CREATION_TEMPLATE_TYPE =>
        {
            template_change_ignored(&change.summary.resource_id)
        }
        InvokingEvent::ConfigurationItemChange(change) => {
            let evaluation =
                evaluate_live_if_needed(&clients, &inv, change.repository.clone(), tally).await?;
            vec![Pending {
                evaluation,
                ordering: date_time(change.capture_time),
            }]
        }
        InvokingEvent::OversizedConfigurationItemChange(change) => {
            let s = &change.summary;
            let evaluation = if s.resource_type != ECR_REPOSITORY_TYPE
                || inv.event.event_left_scope
                || s.status != ResourceStatus::Active
            {
                evaluate(&out_of_scope(s, inv.event.event_left_scope), params)
            } else {
                let api_item = config::fetch_configuration_item(
                    &clients.config,
                    &s.resource_type,
                    &s.resource_id,
                    date_time(s.capture_time),
                )
                .await?;
                let repo = item::repository_from_item(&api_item).map_err(|problem| {
                    HandlerError::Item {
                        resource_type: s.resource_type.clone(),
                        resource_id: s.resource_id.clone(),
                        problem,
                    }
                })?;
                evaluate_live_if_needed(&clients, &inv, repo, tally).await?
            };
            vec![Pending {
                evaluation,
                ordering: date_time(s.capture_time),
            }]
        }
        InvokingEvent::Scheduled(p) | InvokingEvent::ConfigurationSnapshotDeliveryCompleted(p) => {
            let ordering = date_time(p.notification_creation_time);
            let mut repos =
                immutag_aws::ecr::inventory(&clients.ecr, &inv.account_id, &clients.region)
                    .await
                    .map_err(|e| HandlerError::Inventory(e.to_string()))?;
            if params.exemption_tag_key.is_some() {
                let tagged = immutag_aws::ecr::fill_tags_all(&clients.ecr, repos, TAG_CONCURRENCY)
                    .await
                    .map_err(|e| HandlerError::Inventory(e.to_string()))?;
                if !tagged.dropped.is_empty() {
                    tracing::warn!(
                        dropped = tagged.dropped.len(),
                        repositories = %tagged.dropped.join(","),
                        "repositories deleted since DescribeRepositories listed them; left out"
                    );
                }
                tally.dropped = tagged.dropped.len();
                repos = tagged.repositories;
            }
            let templates = match immutag_aws::ecr::creation_templates(
                &clients.ecr,
                &inv.account_id,
                &clients.region,
            )
            .await
            {
                Ok(t) => Some(t),
                Err(e) => {
                    // The repositories are still reported; the templates keep their last
                    // verdicts (and none is taken for vanished).
                    if matches!(e, immutag_aws::AwsError::Unsupported { .. }) {
                        tracing::warn!(error = %e, "repository creation templates not evaluated");
                    } else {
                        tracing::error!(error = %e, "repository creation templates not evaluated");
                    }
                    templates_not_read = Some(e.to_string());
                    None
                }
            };
            let present: BTreeSet<(&str, &str)> = repos
                .iter()
                .chain(templates.iter().flatten())
                .map(|r| (r.resource_type.as_str(), r.resource_id.as_str()))
                .collect();
            let mut vanished = Vec::new();
            if !test_mode {
                let rule = inv
                    .event
                    .config_rule_name
                    .as_deref()
                    .ok_or(HandlerError::MissingRuleName)?;
                // A failed read-back does not stop the run: what was found is still
                // reported, and the invocation fails at the end saying what is missing.
                match config::reported_resources(&clients.config, rule).await {
                    Ok(earlier) => {
                        vanished_checked = true;
                        for e in earlier {
                            let checked = e.resource_type == ECR_REPOSITORY_TYPE
                                || (e.resource_type == ECR_CREATION_TEMPLATE_TYPE
                                    && templates.is_some());
                            if checked
                                && !present
                                    .contains(&(e.resource_type.as_str(), e.resource_id.as_str()))
                            {
                                vanished.push((e.resource_type, e.resource_id));
                            }
                        }
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "cannot read back the resources reported earlier");
                        vanished_error = Some(err);
                    }
                }
            }
            let mut out: Vec<Pending> = repos
                .iter()
                .chain(templates.iter().flatten())
                .map(|r| Pending {
                    evaluation: evaluate(r, params),
                    ordering,
                })
                .collect();
            out.extend(vanished.into_iter().map(|(kind, id)| Pending {
                evaluation: vanished_evaluation(&inv.account_id, &kind, &id),
                ordering,
            }));
            out
        }
    };

    let (remediated, remediation_failures) = if params.remediation == RemediationMode::Immutable {
        let mut evaluations: Vec<&mut Evaluation> =
            pending.iter_mut().map(|p| &mut p.evaluation).collect();
        let done = remediation::remediate(
            &clients,
            &inv.account_id,
            params,
            &mut evaluations,
            options.deadline,
        )
        .await
        .map_err(|e| HandlerError::Remediation(e.to_string()))?;
        (done.remediated, done.failures)
    } else {
        (0, 0)
    };
    tally.remediated = remediated;
    tally.remediation_failures = remediation_failures;

    let to_send: Vec<ConfigEvaluation> = pending
        .iter()
        .map(|p| ConfigEvaluation {
            resource_type: p.evaluation.resource_type.to_string(),
            resource_id: p.evaluation.resource_id.clone(),
            compliance: p.evaluation.compliance,
            annotation: clamp_annotation(&p.evaluation.annotation),
            ordering_timestamp: p.ordering,
        })
        .collect();
    for e in &to_send {
        *tally.counts.entry(e.compliance).or_insert(0) += 1;
    }
    let put =
        match config::put_evaluations(&clients.config, &inv.result_token, &to_send, &options.retry)
            .await
        {
            Ok(put) => put,
            Err(err) => {
                if let ConfigError::FailedEvaluations { failed, .. } = &err {
                    tally.not_accepted = failed.len();
                    tally.reported = to_send.len().saturating_sub(failed.len());
                }
                if let ConfigError::FailedEvaluations { calls, .. } = &err {
                    tally.put_evaluations_calls = *calls;
                }
                if let Some(v) = &vanished_error {
                    tracing::error!(error = %v, "the read-back of earlier results failed too");
                }
                return Err(err.into());
            }
        };
    tally.put_evaluations_calls = put.calls;
    tally.reported = put.reported;
    if let Some(err) = vanished_error {
        return Err(HandlerError::VanishedCheck(err));
    }

    let evaluations: Vec<ReportedEvaluation> = to_send
        .iter()
        .take(MAX_LISTED_EVALUATIONS)
        .map(|e| ReportedEvaluation {
            resource_type: e.resource_type.clone(),
            resource_id: e.resource_id.clone(),
            compliance: e.compliance,
            annotation: e.annotation.clone(),
        })
        .collect();
    Ok(Summary {
        message_type: inv.event.message.message_type().to_owned(),
        account_id: inv.account_id.clone(),
        test_mode: put.test_mode,
        put_evaluations_calls: put.calls,
        counts: tally.counts.clone(),
        remediated,
        remediation_failures,
        dropped: tally.dropped,
        vanished_checked,
        templates_not_read,
        evaluations_omitted: to_send.len() - evaluations.len(),
        evaluations,
    })
}

/// Whether a repository's item names an exclusion mode but lists no filters: whether Config
/// items carry the filters at all is not documented, so the rule then reads them live.
fn needs_live_filters(repo: &Repository) -> Option<TagMutability> {
    let mode = match &repo.tag_mutability {
        MutabilitySetting::Set {
            value: m @ (TagMutability::ImmutableWithExclusion | TagMutability::MutableWithExclusion),
        } => m.clone(),
        _ => return None,
    };
    let none_listed =
        matches!(&repo.exclusion_filters, FilterSetting::Listed { filters } if filters.is_empty());
    (repo.status == ResourceStatus::Active
        && repo.resource_type == ResourceType::Repository
        && none_listed)
        .then_some(mode)
}

/// Evaluates the repository of a configuration item, reading it live first when the item
/// names an exclusion mode without filters (then the live setting decides, and the
/// annotation says the filters were read live).
async fn evaluate_live_if_needed(
    clients: &Clients,
    inv: &Invocation,
    repo: Repository,
    tally: &mut Tally,
) -> Result<Evaluation, HandlerError> {
    let params = &inv.parameters;
    let Some(mode) = needs_live_filters(&repo) else {
        return Ok(evaluate(&repo, params));
    };
    let name = repo
        .name
        .clone()
        .unwrap_or_else(|| repo.resource_id.clone());
    let account = repo
        .account_id
        .clone()
        .unwrap_or_else(|| inv.account_id.clone());
    let region = repo
        .region
        .clone()
        .unwrap_or_else(|| clients.region.clone());
    // The same live read as the apply path's (immutag_aws::ecr::read_settings).
    let scope = Scope {
        account: Some(account.clone()),
        region: Some(region.clone()),
    };
    let key = RepoKey::new(Some(&account), Some(&region), &name);
    let read = immutag_aws::ecr::read_settings(
        &EcrClients::single(scope, clients.ecr.clone()),
        std::slice::from_ref(&key),
        1,
    )
    .await;
    let live = match read.get(&key) {
        Some(ReadState::Found(repo)) => Some((**repo).clone()),
        Some(ReadState::Missing) => None,
        Some(ReadState::Error(error)) => {
            return Err(HandlerError::LiveRead {
                repository: name.clone(),
                mode: mode.as_str().to_owned(),
                error: error.clone(),
            });
        }
        None => {
            return Err(HandlerError::LiveRead {
                repository: name.clone(),
                mode: mode.as_str().to_owned(),
                error: "not read".into(),
            });
        }
    };
    tally.filters_read_live += 1;
    tracing::info!(repository = %name, found = live.is_some(), "exclusion filters read live");
    let Some(mut live) = live else {
        let mut gone = repo.clone();
        gone.status = ResourceStatus::Deleted;
        let mut e = evaluate(&gone, params);
        e.annotation = clamp_annotation(&format!(
            "Repository {} no longer exists (read live with DescribeRepositories because its configuration item lists no exclusion filters); nothing to evaluate.",
            immutag_core::text::printable(&name)
        ));
        return Ok(e);
    };
    // DescribeRepositories returns no tags: the item's tags (and identity) stay.
    live.resource_id = repo.resource_id.clone();
    live.tags = repo.tags.clone();
    live.arn = live.arn.or(repo.arn.clone());
    live.captured_at = repo.captured_at.clone();
    live.source = repo.source.clone();
    let mut e = evaluate(&live, params);
    e.annotation = clamp_annotation(&format!(
        "Exclusion filters read live (the configuration item lists none): {}",
        e.annotation
    ));
    Ok(e)
}

/// A change event for a repository creation template: logged, nothing reported (the periodic
/// sweep evaluates templates live).
fn template_change_ignored(prefix: &str) -> Vec<Pending> {
    tracing::warn!(
        resource_id = %immutag_core::text::printable(prefix),
        "change event for a repository creation template: not evaluated from the item; the periodic sweep evaluates templates live"
    );
    Vec::new()
}

/// A resource of an oversized change that is not to be evaluated: not a repository,
/// deleted, not recorded, or out of scope. immutag-core gives it NOT_APPLICABLE with the
/// right annotation.
fn out_of_scope(s: &event::ItemSummary, left_scope: bool) -> Repository {
    let mut repo = Repository::new(s.resource_id.clone(), InputKind::Config);
    repo.resource_type = ResourceType::parse(&s.resource_type);
    repo.account_id = s.account_id.clone();
    repo.region = s.region.clone();
    repo.arn = s.arn.clone();
    repo.status = if left_scope {
        ResourceStatus::LeftScope
    } else {
        s.status
    };
    repo
}

/// The NOT_APPLICABLE evaluation of a repository (or creation template) reported earlier that
/// the sweep no longer finds.
fn vanished_evaluation(account_id: &str, resource_type: &str, resource_id: &str) -> Evaluation {
    let (mut repo, what, read) = if resource_type == ECR_CREATION_TEMPLATE_TYPE {
        (
            Repository::creation_template(
                TemplatePrefix::parse(resource_id),
                Vec::new(),
                InputKind::Live,
            ),
            "Creation template",
            "DescribeRepositoryCreationTemplates",
        )
    } else {
        (
            Repository::new(resource_id.to_owned(), InputKind::Live),
            "Repository",
            "DescribeRepositories",
        )
    };
    repo.account_id = Some(account_id.to_owned());
    repo.status = ResourceStatus::Deleted;
    let mut e = evaluate(&repo, &RuleParameters::default());
    e.annotation = clamp_annotation(&format!(
        "{what} {resource_id} no longer exists in this account and region (reported earlier, absent from {read}); nothing to evaluate."
    ));
    e
}
