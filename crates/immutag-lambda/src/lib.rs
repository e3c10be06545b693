//! # immutag-lambda
//!
//! The AWS Config custom-rule Lambda: event parsing ([`event`]) and the handler
//! ([`handle`]). `main.rs` only wires the handler to `lambda_runtime`.
//!
//! The handler reads the event, evaluates every resource it concerns through immutag-core,
//! optionally remediates, and reports with PutEvaluations through `immutag_aws::config`.
//! Clients come from a [`ClientProvider`] built once per container, so tests inject mocked
//! clients.
#![forbid(unsafe_code)]

pub mod clients;
pub mod event;
pub mod item;
pub mod remediation;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use aws_smithy_types::DateTime;
use immutag_aws::config::{self, ConfigError, ConfigEvaluation, RetryPolicy};
use immutag_core::evaluate::clamp_annotation;
use immutag_core::{
    Compliance, ECR_CREATION_TEMPLATE_TYPE, ECR_REPOSITORY_TYPE, Evaluation, InputKind,
    RemediationMode, Repository, ResourceStatus, RuleParameters, TemplatePrefix, evaluate,
};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;
use tracing::level_filters::LevelFilter;

pub use clients::{AwsClientProvider, Clients};
pub use event::{EventError, InvokingEvent, RuleEvent, parse_event};
use event::{ItemChange, OversizedChange};

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
/// invalid, or when the resources cannot be read.
#[derive(Debug, Error)]
pub enum HandlerError {
    /// The event (or its rule parameters) cannot be read.
    #[error(transparent)]
    Event(#[from] EventError),
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
    /// Auto-remediation stopped: a change record could not be written.
    #[error("auto-remediation stopped: {0}")]
    Remediation(String),
}

/// Gives the clients to read and report with for one event.
///
/// Built once per container (in `main`); [`handle`] asks it for the clients of the event's
/// account. With the rule parameter `ExecutionRoleName`, the production provider assumes that
/// role in the event's account.
pub trait ClientProvider: Send + Sync {
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
    /// [`report_margin`]); `None`: no limit.
    pub deadline: Option<tokio::time::Instant>,
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

/// An evaluation on its way to Config.
struct Pending {
    evaluation: Evaluation,
    ordering: DateTime,
}

/// Handles one Config rule event: parse, evaluate, remediate if asked, report.
pub async fn handle<P: ClientProvider>(
    payload: Value,
    provider: &P,
    options: &HandlerOptions,
) -> Result<Summary, HandlerError> {
    let event = parse_event(payload)?;
    let params = &event.parameters;
    let clients = provider
        .clients_for(
            &event.account_id,
            event.partition(),
            params.execution_role_name.as_deref(),
        )
        .await?;
    let test_mode = event.result_token == config::TEST_MODE_TOKEN;
    let mut vanished_checked = false;
    let mut templates_not_read = None;

    let mut pending: Vec<Pending> = match &event.message {
        // Creation templates are evaluated live by the periodic sweep, not from items whose
        // recorded shape is unconfirmed: an event for one (the rule's scope widened by hand)
        // reports nothing, so the sweep's verdict stands (docs/config-rule.md).
        InvokingEvent::ConfigurationItemChange(ItemChange { header: h, .. })
        | InvokingEvent::OversizedConfigurationItemChange(OversizedChange { header: h, .. })
            if h.resource_type == ECR_CREATION_TEMPLATE_TYPE =>
        {
            tracing::warn!(
                resource_id = %h.resource_id,
                "change event for a repository creation template: not evaluated from the item; the periodic sweep evaluates templates live"
            );
            Vec::new()
        }
        InvokingEvent::ConfigurationItemChange(change) => {
            let h = &change.header;
            let repo = if h.resource_type != ECR_REPOSITORY_TYPE
                || event.event_left_scope
                || h.resource_status() != ResourceStatus::Active
            {
                out_of_scope(h, event.event_left_scope)
            } else {
                item::repository_from_item(&change.item).map_err(|problem| HandlerError::Item {
                    resource_type: h.resource_type.clone(),
                    resource_id: h.resource_id.clone(),
                    problem,
                })?
            };
            vec![Pending {
                evaluation: evaluate(&repo, params),
                ordering: h.capture_time,
            }]
        }
        InvokingEvent::OversizedConfigurationItemChange(change) => {
            let h = &change.header;
            let repo = if h.resource_type != ECR_REPOSITORY_TYPE
                || event.event_left_scope
                || h.resource_status() != ResourceStatus::Active
            {
                out_of_scope(h, event.event_left_scope)
            } else {
                let api_item = config::fetch_configuration_item(
                    &clients.config,
                    &h.resource_type,
                    &h.resource_id,
                    h.capture_time,
                )
                .await?;
                item::repository_from_item(&api_item).map_err(|problem| HandlerError::Item {
                    resource_type: h.resource_type.clone(),
                    resource_id: h.resource_id.clone(),
                    problem,
                })?
            };
            vec![Pending {
                evaluation: evaluate(&repo, params),
                ordering: h.capture_time,
            }]
        }
        InvokingEvent::Scheduled(p) | InvokingEvent::ConfigurationSnapshotDeliveryCompleted(p) => {
            let ordering = p.notification_creation_time;
            let mut repos =
                immutag_aws::ecr::inventory(&clients.ecr, &event.account_id, &clients.region)
                    .await
                    .map_err(|e| HandlerError::Inventory(e.to_string()))?;
            if params.exemption_tag_key.is_some() {
                repos = immutag_aws::ecr::fill_tags_all(&clients.ecr, repos, TAG_CONCURRENCY)
                    .await
                    .map_err(|e| HandlerError::Inventory(e.to_string()))?;
            }
            let templates = match immutag_aws::ecr::creation_templates(
                &clients.ecr,
                &event.account_id,
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
                let rule = event
                    .config_rule_name
                    .as_deref()
                    .ok_or(HandlerError::MissingRuleName)?;
                vanished_checked = true;
                for earlier in config::reported_resources(&clients.config, rule).await? {
                    let checked = earlier.resource_type == ECR_REPOSITORY_TYPE
                        || (earlier.resource_type == ECR_CREATION_TEMPLATE_TYPE
                            && templates.is_some());
                    if checked
                        && !present.contains(&(
                            earlier.resource_type.as_str(),
                            earlier.resource_id.as_str(),
                        ))
                    {
                        vanished.push((earlier.resource_type, earlier.resource_id));
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
                evaluation: vanished_evaluation(&event.account_id, &kind, &id),
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
            &event.account_id,
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
    let put = config::put_evaluations(
        &clients.config,
        &event.result_token,
        &to_send,
        &options.retry,
    )
    .await?;

    let mut counts = BTreeMap::new();
    for e in &to_send {
        *counts.entry(e.compliance).or_insert(0) += 1;
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
        message_type: event.message.message_type().to_owned(),
        account_id: event.account_id.clone(),
        test_mode: put.test_mode,
        put_evaluations_calls: put.calls,
        counts,
        remediated,
        remediation_failures,
        vanished_checked,
        templates_not_read,
        evaluations_omitted: to_send.len() - evaluations.len(),
        evaluations,
    })
}

/// A resource that is not to be evaluated: not a repository, deleted, not recorded, or out
/// of scope. immutag-core gives it NOT_APPLICABLE with the right annotation.
fn out_of_scope(h: &event::ItemHeader, left_scope: bool) -> Repository {
    let mut repo = Repository::new(h.resource_id.clone(), InputKind::Config);
    repo.resource_type = immutag_core::ResourceType::parse(&h.resource_type);
    repo.account_id = h.account_id.clone();
    repo.region = h.region.clone();
    repo.arn = h.arn.clone();
    repo.status = if left_scope {
        ResourceStatus::LeftScope
    } else {
        h.resource_status()
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
