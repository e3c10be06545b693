//! The AWS Config side of immutag: reporting evaluations (PutEvaluations), fetching an
//! oversized configuration item (GetResourceConfigHistory), and reading back what the rule
//! reported earlier (GetComplianceDetailsByConfigRule).
//!
//! Limits and conventions follow `aws-facts.md` §6-7: at most 100 evaluations per call,
//! annotations of 1 to 256 characters, `FailedEvaluations` retried and never dropped, and the
//! result token `TESTMODE` (an AWS Config RDK convention) sent with `TestMode=true`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_sdk_config::Client;
use aws_sdk_config::types::{ComplianceType, ConfigurationItem, Evaluation, ResourceType};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::DateTime;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use immutag_core::Compliance;
use immutag_core::evaluate::clamp_annotation;
use serde_json::{Map, Value, json};
use thiserror::Error;

/// PutEvaluations accepts at most this many evaluations per call.
pub const MAX_EVALUATIONS_PER_CALL: usize = 100;

/// The result token that makes the rule call PutEvaluations with `TestMode=true`
/// (an AWS Config RDK convention, not an AWS one).
pub const TEST_MODE_TOKEN: &str = "TESTMODE";

/// One evaluation to report to AWS Config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEvaluation {
    /// `ComplianceResourceType`, for example `AWS::ECR::Repository`.
    pub resource_type: String,
    /// `ComplianceResourceId` (for a repository: its name).
    pub resource_id: String,
    /// `ComplianceType`.
    pub compliance: Compliance,
    /// `Annotation`; cut to 1 to 256 characters when sent.
    pub annotation: String,
    /// `OrderingTimestamp`: the item's capture time for change events, the notification
    /// creation time for periodic ones.
    pub ordering_timestamp: DateTime,
}

/// How often and how patiently `FailedEvaluations` are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts per batch at most).
    pub max_retries: u32,
    /// Delay before the first retry; doubled for each further retry.
    pub base_delay: Duration,
    /// Upper bound of one delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// No waiting between retries (tests).
    pub fn immediate(max_retries: u32) -> Self {
        Self {
            max_retries,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    fn delay(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// What a report sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PutSummary {
    /// PutEvaluations calls made (retries included).
    pub calls: usize,
    /// Evaluations accepted.
    pub reported: usize,
    /// Whether `TestMode=true` was sent.
    pub test_mode: bool,
}

/// An evaluation that AWS Config did not accept, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedEvaluation {
    /// Its resource type.
    pub resource_type: String,
    /// Its resource id.
    pub resource_id: String,
    /// The compliance type that was sent.
    pub compliance: String,
    /// The 1-based batch it was sent in.
    pub batch: usize,
    /// The service error code of the failed call (`ServerException`, `AccessDeniedException`,
    /// ...); `None` when Config listed the evaluation in `FailedEvaluations`, or when the
    /// call got no answer (timeout, connection lost).
    pub code: Option<String>,
    /// Attempts made: the PutEvaluations calls that carried it (when Config kept listing it
    /// in `FailedEvaluations`), or the HTTP attempts of the call that failed (the SDK's
    /// retries included).
    pub attempts: u32,
    /// What happened, for example `rejected in FailedEvaluations after 4 attempt(s)`.
    pub reason: String,
}

impl std::fmt::Display for FailedEvaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ({})",
            self.resource_type, self.resource_id, self.compliance
        )
    }
}

/// The most failed evaluations named in the text of [`ConfigError::FailedEvaluations`]; the
/// error value holds them all, and the log names each (one line per batch).
pub const MAX_NAMED_FAILURES: usize = 100;

/// The text of [`ConfigError::FailedEvaluations`]: the count, then each cause (a batch whose
/// call failed, or the rejections of a batch) with the resources it concerns.
fn failed_text(failed: &[FailedEvaluation], attempts: u32) -> String {
    let mut out = format!(
        "AWS Config did not accept {} evaluation(s) after {attempts} attempt(s): ",
        failed.len()
    );
    let mut named = 0usize;
    let mut groups: Vec<(&str, usize, Vec<&FailedEvaluation>)> = Vec::new();
    for f in failed {
        match groups.last_mut() {
            Some((reason, batch, members)) if *reason == f.reason && *batch == f.batch => {
                members.push(f)
            }
            _ => groups.push((&f.reason, f.batch, vec![f])),
        }
    }
    let mut first = true;
    for (reason, _, members) in groups {
        if !first {
            out.push_str("; ");
        }
        first = false;
        out.push_str(reason);
        out.push_str(": ");
        let shown: Vec<String> = members
            .iter()
            .take(MAX_NAMED_FAILURES.saturating_sub(named))
            .map(ToString::to_string)
            .collect();
        named += shown.len();
        out.push_str(&shown.join(", "));
        if shown.len() < members.len() {
            out.push_str(&format!(
                "{}and {} more (each named in the log)",
                if shown.is_empty() { "" } else { ", " },
                members.len() - shown.len()
            ));
        }
    }
    out
}

/// A resource that the rule reported earlier, as AWS Config remembers it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReportedResource {
    /// Its resource type.
    pub resource_type: String,
    /// Its resource id.
    pub resource_id: String,
    /// The compliance type last reported.
    pub compliance: String,
}

/// The errors of the Config side.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The result token is empty (Config always sends one; PutEvaluations requires it).
    #[error("the event carries no resultToken; PutEvaluations needs it")]
    MissingResultToken,
    /// An evaluation could not be built (a required field is empty).
    #[error("cannot build the evaluation of {resource_type} `{resource_id}`: {problem}")]
    InvalidEvaluation {
        /// Its resource type.
        resource_type: String,
        /// Its resource id.
        resource_id: String,
        /// What is wrong.
        problem: String,
    },
    /// AWS Config did not accept some evaluations: a batch whose PutEvaluations call failed
    /// (after the SDK's retries), or evaluations it kept listing in `FailedEvaluations`. Every
    /// batch was still sent; `failed` lists each evaluation not accepted.
    #[error("{}", failed_text(failed, *attempts))]
    FailedEvaluations {
        /// The evaluations not accepted, in the order they were sent.
        failed: Vec<FailedEvaluation>,
        /// The most attempts made for one of them.
        attempts: u32,
        /// PutEvaluations calls made (retries of `FailedEvaluations` included).
        calls: usize,
    },
    /// GetResourceConfigHistory failed.
    #[error("GetResourceConfigHistory for {resource_type} `{resource_id}` failed: {message}")]
    History {
        /// The resource type asked for.
        resource_type: String,
        /// The resource id asked for.
        resource_id: String,
        /// The SDK error.
        message: String,
    },
    /// GetResourceConfigHistory returned no item.
    #[error(
        "GetResourceConfigHistory returned no configuration item for {resource_type} `{resource_id}` at or before {later_time}"
    )]
    HistoryEmpty {
        /// The resource type asked for.
        resource_type: String,
        /// The resource id asked for.
        resource_id: String,
        /// The `laterTime` sent.
        later_time: String,
    },
    /// GetComplianceDetailsByConfigRule failed.
    #[error("GetComplianceDetailsByConfigRule for rule `{rule}` failed: {message}")]
    ComplianceDetails {
        /// The rule name.
        rule: String,
        /// The SDK error.
        message: String,
    },
}

fn compliance_type(c: Compliance) -> ComplianceType {
    match c {
        Compliance::Compliant => ComplianceType::Compliant,
        Compliance::NonCompliant => ComplianceType::NonCompliant,
        Compliance::NotApplicable => ComplianceType::NotApplicable,
    }
}

fn to_sdk(e: &ConfigEvaluation) -> Result<Evaluation, ConfigError> {
    let invalid = |problem: &str| ConfigError::InvalidEvaluation {
        resource_type: e.resource_type.clone(),
        resource_id: e.resource_id.clone(),
        problem: problem.to_owned(),
    };
    if e.resource_type.is_empty() {
        return Err(invalid("empty resource type"));
    }
    if e.resource_id.is_empty() {
        return Err(invalid("empty resource id"));
    }
    Evaluation::builder()
        .compliance_resource_type(&e.resource_type)
        .compliance_resource_id(&e.resource_id)
        .compliance_type(compliance_type(e.compliance))
        .annotation(clamp_annotation(&e.annotation))
        .ordering_timestamp(e.ordering_timestamp)
        .build()
        .map_err(|err| invalid(&err.to_string()))
}

fn key(e: &Evaluation) -> (String, String) {
    (
        e.compliance_resource_type().to_owned(),
        e.compliance_resource_id().to_owned(),
    )
}

/// Reports `evaluations` with PutEvaluations, in batches of at most
/// [`MAX_EVALUATIONS_PER_CALL`], in order, and sends **every** batch whatever happens to the
/// ones before it.
///
/// Every evaluation is built (and checked) before the first call, so an invalid one reports
/// nothing. `FailedEvaluations` of a batch are sent again (only those) after a backoff, at
/// most `retry.max_retries` times. Throttling, 5xx and timeouts on the call itself are
/// retried by the SDK's retry strategy. What is still not accepted at the end (a batch whose
/// call failed, evaluations Config kept refusing) is returned as
/// [`ConfigError::FailedEvaluations`], listing each with its batch, error code and attempts;
/// each failed batch is also logged with the resources it held. With the token
/// [`TEST_MODE_TOKEN`], `TestMode=true` is sent. The result token never appears in a log line
/// or an error.
pub async fn put_evaluations(
    client: &Client,
    result_token: &str,
    evaluations: &[ConfigEvaluation],
    retry: &RetryPolicy,
) -> Result<PutSummary, ConfigError> {
    if result_token.is_empty() {
        return Err(ConfigError::MissingResultToken);
    }
    let test_mode = result_token == TEST_MODE_TOKEN;
    let built = evaluations
        .iter()
        .map(to_sdk)
        .collect::<Result<Vec<_>, _>>()?;
    let mut summary = PutSummary {
        test_mode,
        ..PutSummary::default()
    };
    let mut failures: Vec<FailedEvaluation> = Vec::new();
    for (index, batch) in built.chunks(MAX_EVALUATIONS_PER_CALL).enumerate() {
        let batch_no = index + 1;
        let mut pending: Vec<Evaluation> = batch.to_vec();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let mut request = client
                .put_evaluations()
                .set_evaluations(Some(pending.clone()))
                .result_token(result_token);
            if test_mode {
                request = request.test_mode(true);
            }
            summary.calls += 1;
            let http_attempts = AttemptCounter::default();
            let sent = request
                .customize()
                .interceptor(http_attempts.clone())
                .send()
                .await;
            let output = match sent {
                Ok(output) => output,
                Err(err) => {
                    let code = err
                        .as_service_error()
                        .and_then(|e| e.code())
                        .map(str::to_owned);
                    // The code is named beside the attempts; the message says the rest.
                    let message = match err.as_service_error().and_then(|e| e.message()) {
                        Some(m) => m.to_owned(),
                        None => crate::error::sdk_error_message(&err),
                    };
                    let message = redact(&message, result_token);
                    let attempts = http_attempts.get().max(1);
                    let reason = format!(
                        "batch {batch_no} ({} evaluations, {} sent before it): PutEvaluations failed after {attempts} attempt(s){}: {message}",
                        pending.len(),
                        summary.reported,
                        code.as_deref()
                            .map(|c| format!(" ({c})"))
                            .unwrap_or_default(),
                    );
                    tracing::error!(
                        batch = batch_no,
                        size = pending.len(),
                        attempts,
                        code = code.as_deref().unwrap_or(""),
                        error = %message,
                        resources = %ids(&pending),
                        "PutEvaluations failed"
                    );
                    failures.extend(pending.iter().map(|e| FailedEvaluation {
                        batch: batch_no,
                        code: code.clone(),
                        attempts,
                        reason: reason.clone(),
                        ..failed_of(e)
                    }));
                    break;
                }
            };
            let failed: BTreeSet<(String, String)> =
                output.failed_evaluations().iter().map(key).collect();
            let accepted =
                pending.len() - pending.iter().filter(|e| failed.contains(&key(e))).count();
            summary.reported += accepted;
            tracing::info!(
                batch = batch_no,
                attempt,
                size = pending.len(),
                accepted,
                failed = failed.len(),
                test_mode,
                "PutEvaluations batch"
            );
            if failed.is_empty() {
                break;
            }
            let still: Vec<Evaluation> = pending
                .iter()
                .filter(|e| failed.contains(&key(e)))
                .cloned()
                .collect();
            // Config named evaluations that were not in this batch: nothing to resend, so
            // report what it named.
            let unmatched = still.is_empty();
            if unmatched || attempt > retry.max_retries {
                let listed: Vec<Evaluation> = if unmatched {
                    output.failed_evaluations().to_vec()
                } else {
                    still
                };
                let reason = format!(
                    "batch {batch_no}: rejected in FailedEvaluations after {attempt} attempt(s)"
                );
                tracing::error!(
                    batch = batch_no,
                    attempts = attempt,
                    failed = listed.len(),
                    resources = %ids(&listed),
                    "AWS Config did not accept some evaluations"
                );
                failures.extend(listed.iter().map(|e| FailedEvaluation {
                    batch: batch_no,
                    attempts: attempt,
                    reason: reason.clone(),
                    ..failed_of(e)
                }));
                break;
            }
            tokio::time::sleep(retry.delay(attempt)).await;
            pending = still;
        }
    }
    if failures.is_empty() {
        Ok(summary)
    } else {
        let attempts = failures.iter().map(|f| f.attempts).max().unwrap_or(1);
        Err(ConfigError::FailedEvaluations {
            failed: failures,
            attempts,
            calls: summary.calls,
        })
    }
}

fn failed_of(e: &Evaluation) -> FailedEvaluation {
    FailedEvaluation {
        resource_type: e.compliance_resource_type().to_owned(),
        resource_id: e.compliance_resource_id().to_owned(),
        compliance: e.compliance_type().as_str().to_owned(),
        batch: 0,
        code: None,
        attempts: 0,
        reason: String::new(),
    }
}

/// The resource ids of `evaluations`, comma-separated (for a log line).
fn ids(evaluations: &[Evaluation]) -> String {
    evaluations
        .iter()
        .map(Evaluation::compliance_resource_id)
        .collect::<Vec<_>>()
        .join(",")
}

/// `text` with every occurrence of the result token replaced: the token is a credential of
/// the rule's invocation and is never logged.
fn redact(text: &str, result_token: &str) -> String {
    if result_token.is_empty() {
        text.to_owned()
    } else {
        text.replace(result_token, "<resultToken>")
    }
}

/// Counts the HTTP attempts of one call (the SDK's retries included).
#[derive(Debug, Clone, Default)]
struct AttemptCounter(Arc<AtomicU32>);

impl AttemptCounter {
    fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Intercept for AttemptCounter {
    fn name(&self) -> &'static str {
        "immutag::AttemptCounter"
    }

    fn read_before_attempt(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Fetches the configuration item of an oversized change notification with
/// `GetResourceConfigHistory(resourceType, resourceId, laterTime = capture_time, limit = 1)`
/// and returns it in the API form as JSON (`accountId`, `arn`, `version`,
/// `configurationItemMD5Hash`, and `configuration` as a JSON **string**), which the
/// Config input parser of immutag-core reads.
pub async fn fetch_configuration_item(
    client: &Client,
    resource_type: &str,
    resource_id: &str,
    capture_time: DateTime,
) -> Result<Value, ConfigError> {
    let output = client
        .get_resource_config_history()
        .resource_type(ResourceType::from(resource_type))
        .resource_id(resource_id)
        .later_time(capture_time)
        .limit(1)
        .send()
        .await
        .map_err(|err| ConfigError::History {
            resource_type: resource_type.to_owned(),
            resource_id: resource_id.to_owned(),
            message: crate::error::sdk_error_message(&err),
        })?;
    let Some(item) = output.configuration_items().first() else {
        return Err(ConfigError::HistoryEmpty {
            resource_type: resource_type.to_owned(),
            resource_id: resource_id.to_owned(),
            later_time: fmt_time(&capture_time),
        });
    };
    Ok(api_form(item))
}

fn fmt_time(t: &DateTime) -> String {
    t.fmt(Format::DateTime)
        .unwrap_or_else(|_| t.secs().to_string())
}

/// The API (GetResourceConfigHistory / BatchGetResourceConfig) form of a configuration item
/// as JSON, with the member names of the AWS API and CLI.
pub fn api_form(item: &ConfigurationItem) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), v);
        }
    };
    let s = |v: Option<&str>| v.map(|s| Value::String(s.to_owned()));
    put("version", s(item.version()));
    put("accountId", s(item.account_id()));
    put(
        "configurationItemCaptureTime",
        item.configuration_item_capture_time()
            .map(|t| Value::String(fmt_time(t))),
    );
    put(
        "configurationItemStatus",
        item.configuration_item_status()
            .map(|v| Value::String(v.as_str().to_owned())),
    );
    put("configurationStateId", s(item.configuration_state_id()));
    put(
        "configurationItemMD5Hash",
        s(item.configuration_item_md5_hash()),
    );
    put("arn", s(item.arn()));
    put(
        "resourceType",
        item.resource_type()
            .map(|v| Value::String(v.as_str().to_owned())),
    );
    put("resourceId", s(item.resource_id()));
    put("resourceName", s(item.resource_name()));
    put("awsRegion", s(item.aws_region()));
    put("availabilityZone", s(item.availability_zone()));
    put(
        "resourceCreationTime",
        item.resource_creation_time()
            .map(|t| Value::String(fmt_time(t))),
    );
    put(
        "tags",
        item.tags().map(|tags| {
            let sorted: BTreeMap<&String, &String> = tags.iter().collect();
            json!(sorted)
        }),
    );
    put("configuration", s(item.configuration()));
    put(
        "supplementaryConfiguration",
        item.supplementary_configuration().map(|sc| {
            let sorted: BTreeMap<&String, &String> = sc.iter().collect();
            json!(sorted)
        }),
    );
    Value::Object(m)
}

/// Lists every resource the rule `rule_name` last reported COMPLIANT or NON_COMPLIANT, with
/// GetComplianceDetailsByConfigRule, following `NextToken` to the end.
///
/// A periodic run reports NOT_APPLICABLE for those that no longer exist.
pub async fn reported_resources(
    client: &Client,
    rule_name: &str,
) -> Result<Vec<ReportedResource>, ConfigError> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = client
            .get_compliance_details_by_config_rule()
            .config_rule_name(rule_name)
            .compliance_types(ComplianceType::Compliant)
            .compliance_types(ComplianceType::NonCompliant)
            .limit(100)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|err| ConfigError::ComplianceDetails {
                rule: rule_name.to_owned(),
                message: crate::error::sdk_error_message(&err),
            })?;
        for result in page.evaluation_results() {
            let Some(q) = result
                .evaluation_result_identifier()
                .and_then(|i| i.evaluation_result_qualifier())
            else {
                continue;
            };
            let (Some(t), Some(id)) = (q.resource_type(), q.resource_id()) else {
                continue;
            };
            out.push(ReportedResource {
                resource_type: t.to_owned(),
                resource_id: id.to_owned(),
                compliance: result
                    .compliance_type()
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default(),
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_config::operation::get_compliance_details_by_config_rule::GetComplianceDetailsByConfigRuleOutput;
    use aws_sdk_config::operation::get_resource_config_history::GetResourceConfigHistoryOutput;
    use aws_sdk_config::operation::put_evaluations::PutEvaluationsOutput;
    use aws_sdk_config::types::{
        ConfigurationItemStatus, EvaluationResult, EvaluationResultIdentifier,
        EvaluationResultQualifier,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_types::body::SdkBody;
    use std::sync::{Arc, Mutex};

    fn evals(n: usize) -> Vec<ConfigEvaluation> {
        (0..n)
            .map(|i| ConfigEvaluation {
                resource_type: "AWS::ECR::Repository".into(),
                resource_id: format!("repo-{i:04}"),
                compliance: if i % 2 == 0 {
                    Compliance::Compliant
                } else {
                    Compliance::NonCompliant
                },
                annotation: format!("annotation {i}"),
                ordering_timestamp: DateTime::from_secs(1_700_000_000),
            })
            .collect()
    }

    #[tokio::test]
    async fn batches_of_100_in_order_with_test_mode() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let rule = mock!(Client::put_evaluations)
            .match_requests(move |req| {
                seen.lock().unwrap().push((
                    req.evaluations().len(),
                    req.test_mode(),
                    req.evaluations()
                        .first()
                        .map(|e| e.compliance_resource_id().to_owned()),
                ));
                true
            })
            .then_output(|| PutEvaluationsOutput::builder().build());
        let client = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&rule]);
        let summary = put_evaluations(&client, "TESTMODE", &evals(250), &RetryPolicy::default())
            .await
            .unwrap();
        assert_eq!(summary.calls, 3);
        assert_eq!(summary.reported, 250);
        assert!(summary.test_mode);
        let sizes = sizes.lock().unwrap().clone();
        assert_eq!(
            sizes,
            vec![
                (100, Some(true), Some("repo-0000".into())),
                (100, Some(true), Some("repo-0100".into())),
                (50, Some(true), Some("repo-0200".into())),
            ]
        );
    }

    #[tokio::test]
    async fn real_token_does_not_set_test_mode() {
        let rule = mock!(Client::put_evaluations)
            .match_requests(|req| req.test_mode().is_none() && req.result_token() == Some("tok"))
            .then_output(|| PutEvaluationsOutput::builder().build());
        let client = mock_client!(aws_sdk_config, [&rule]);
        let s = put_evaluations(&client, "tok", &evals(3), &RetryPolicy::default())
            .await
            .unwrap();
        assert_eq!((s.calls, s.reported, s.test_mode), (1, 3, false));
        assert_eq!(rule.num_calls(), 1);
    }

    fn failed(ids: &[&str]) -> PutEvaluationsOutput {
        PutEvaluationsOutput::builder()
            .set_failed_evaluations(Some(
                ids.iter()
                    .map(|id| {
                        Evaluation::builder()
                            .compliance_resource_type("AWS::ECR::Repository")
                            .compliance_resource_id(*id)
                            .compliance_type(ComplianceType::NonCompliant)
                            .ordering_timestamp(DateTime::from_secs(1_700_000_000))
                            .build()
                            .unwrap()
                    })
                    .collect(),
            ))
            .build()
    }

    #[tokio::test]
    async fn failed_evaluations_are_retried_then_succeed() {
        let resent = Arc::new(Mutex::new(Vec::new()));
        let r = resent.clone();
        let rule = mock!(Client::put_evaluations)
            .match_requests(move |req| {
                r.lock().unwrap().push(
                    req.evaluations()
                        .iter()
                        .map(|e| e.compliance_resource_id().to_owned())
                        .collect::<Vec<_>>(),
                );
                true
            })
            .sequence()
            .output(|| failed(&["repo-0001"]))
            .output(|| PutEvaluationsOutput::builder().build())
            .build();
        let client = mock_client!(aws_sdk_config, [&rule]);
        let s = put_evaluations(&client, "tok", &evals(3), &RetryPolicy::immediate(3))
            .await
            .unwrap();
        assert_eq!((s.calls, s.reported), (2, 3));
        let resent = resent.lock().unwrap().clone();
        assert_eq!(resent[1], vec!["repo-0001".to_owned()]);
    }

    #[tokio::test]
    async fn failed_evaluations_that_persist_are_an_error_listing_them() {
        let rule =
            mock!(Client::put_evaluations).then_output(|| failed(&["repo-0001", "repo-0002"]));
        let client = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&rule]);
        let err = put_evaluations(&client, "tok", &evals(3), &RetryPolicy::immediate(2))
            .await
            .unwrap_err();
        assert_eq!(rule.num_calls(), 3, "1 attempt + 2 retries");
        match &err {
            ConfigError::FailedEvaluations {
                failed, attempts, ..
            } => {
                assert_eq!(*attempts, 3);
                let ids: Vec<&str> = failed.iter().map(|f| f.resource_id.as_str()).collect();
                assert_eq!(ids, ["repo-0001", "repo-0002"]);
            }
            other => panic!("unexpected {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.contains("repo-0001") && text.contains("repo-0002"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn throttling_is_retried_by_the_sdk() {
        let rule = mock!(Client::put_evaluations)
            .sequence()
            .http_response(|| {
                HttpResponse::new(
                    400.try_into().unwrap(),
                    SdkBody::from(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#),
                )
            })
            .output(|| PutEvaluationsOutput::builder().build())
            .build();
        let client = mock_client!(aws_sdk_config, [&rule]);
        let s = put_evaluations(&client, "tok", &evals(5), &RetryPolicy::immediate(0))
            .await
            .unwrap();
        assert_eq!(rule.num_calls(), 2, "one throttle, then success");
        assert_eq!((s.calls, s.reported), (1, 5));
    }

    #[tokio::test]
    async fn a_hard_failure_names_the_batch() {
        let rule = mock!(Client::put_evaluations)
            .sequence()
            .output(|| PutEvaluationsOutput::builder().build())
            .http_response(|| {
                HttpResponse::new(
                    400.try_into().unwrap(),
                    SdkBody::from(
                        r#"{"__type":"InvalidResultTokenException","message":"bad token"}"#,
                    ),
                )
            })
            .build();
        let client = mock_client!(aws_sdk_config, [&rule]);
        let err = put_evaluations(&client, "tok", &evals(150), &RetryPolicy::immediate(0))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("batch 2")
                && text.contains("100 sent before")
                && text.contains("InvalidResultToken"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn empty_token_and_invalid_items_report_nothing() {
        let rule =
            mock!(Client::put_evaluations).then_output(|| PutEvaluationsOutput::builder().build());
        let client = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&rule]);
        assert!(matches!(
            put_evaluations(&client, "", &evals(1), &RetryPolicy::default()).await,
            Err(ConfigError::MissingResultToken)
        ));
        let mut bad = evals(150);
        bad[120].resource_id.clear();
        let err = put_evaluations(&client, "tok", &bad, &RetryPolicy::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, ConfigError::InvalidEvaluation { .. }),
            "{err}"
        );
        assert_eq!(rule.num_calls(), 0);
    }

    #[tokio::test]
    async fn long_annotations_are_cut_to_256() {
        let rule = mock!(Client::put_evaluations)
            .match_requests(|req| {
                req.evaluations()
                    .iter()
                    .all(|e| e.annotation().map(|a| a.chars().count()) == Some(256))
            })
            .then_output(|| PutEvaluationsOutput::builder().build());
        let client = mock_client!(aws_sdk_config, [&rule]);
        let mut e = evals(1);
        e[0].annotation = "é".repeat(400);
        put_evaluations(&client, "tok", &e, &RetryPolicy::default())
            .await
            .unwrap();
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn oversized_fetch_asks_for_one_item_at_capture_time() {
        let capture = DateTime::from_str("2026-11-20T10:00:00.123Z", Format::DateTime).unwrap();
        let rule = mock!(Client::get_resource_config_history)
            .match_requests(move |req| {
                req.resource_type() == Some(&ResourceType::from("AWS::ECR::Repository"))
                    && req.resource_id() == Some("big-repo")
                    && req.later_time() == Some(&capture)
                    && req.limit() == Some(1)
                    && req.earlier_time().is_none()
            })
            .then_output(|| {
                GetResourceConfigHistoryOutput::builder()
                    .configuration_items(
                        ConfigurationItem::builder()
                            .version("1.3")
                            .account_id("123456789012")
                            .configuration_item_capture_time(DateTime::from_secs(1_763_632_800))
                            .configuration_item_status(ConfigurationItemStatus::Ok)
                            .arn("arn:aws:ecr:eu-west-1:123456789012:repository/big-repo")
                            .resource_type(ResourceType::from("AWS::ECR::Repository"))
                            .resource_id("big-repo")
                            .resource_name("big-repo")
                            .aws_region("eu-west-1")
                            .tags("team", "core")
                            .configuration(
                                r#"{"RepositoryName":"big-repo","ImageTagMutability":"MUTABLE"}"#,
                            )
                            .build(),
                    )
                    .build()
            });
        let client = mock_client!(aws_sdk_config, [&rule]);
        let item = fetch_configuration_item(&client, "AWS::ECR::Repository", "big-repo", capture)
            .await
            .unwrap();
        assert_eq!(rule.num_calls(), 1);
        assert_eq!(item["accountId"], "123456789012");
        assert_eq!(item["configurationItemStatus"], "OK");
        assert_eq!(item["resourceId"], "big-repo");
        assert_eq!(item["tags"]["team"], "core");
        assert_eq!(item["configurationItemCaptureTime"], "2025-11-20T10:00:00Z");
        let conf: Value = serde_json::from_str(item["configuration"].as_str().unwrap()).unwrap();
        assert_eq!(conf["ImageTagMutability"], "MUTABLE");
    }

    #[tokio::test]
    async fn oversized_fetch_with_no_item_is_an_error() {
        let rule = mock!(Client::get_resource_config_history)
            .then_output(|| GetResourceConfigHistoryOutput::builder().build());
        let client = mock_client!(aws_sdk_config, [&rule]);
        let err = fetch_configuration_item(
            &client,
            "AWS::ECR::Repository",
            "gone",
            DateTime::from_secs(0),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("`gone`"), "{err}");
    }

    fn result(id: &str, c: ComplianceType) -> EvaluationResult {
        EvaluationResult::builder()
            .evaluation_result_identifier(
                EvaluationResultIdentifier::builder()
                    .evaluation_result_qualifier(
                        EvaluationResultQualifier::builder()
                            .config_rule_name("immutag")
                            .resource_type("AWS::ECR::Repository")
                            .resource_id(id)
                            .build(),
                    )
                    .build(),
            )
            .compliance_type(c)
            .build()
    }

    #[tokio::test]
    async fn compliance_details_are_read_to_the_last_page() {
        let first = mock!(Client::get_compliance_details_by_config_rule)
            .match_requests(|req| {
                req.next_token().is_none()
                    && req.config_rule_name() == Some("immutag")
                    && req.compliance_types()
                        == [ComplianceType::Compliant, ComplianceType::NonCompliant]
            })
            .then_output(|| {
                GetComplianceDetailsByConfigRuleOutput::builder()
                    .evaluation_results(result("a", ComplianceType::Compliant))
                    .evaluation_results(result("b", ComplianceType::NonCompliant))
                    .next_token("page2")
                    .build()
            });
        let second = mock!(Client::get_compliance_details_by_config_rule)
            .match_requests(|req| req.next_token() == Some("page2"))
            .then_output(|| {
                GetComplianceDetailsByConfigRuleOutput::builder()
                    .evaluation_results(result("c", ComplianceType::Compliant))
                    .build()
            });
        let client = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&first, &second]);
        let got = reported_resources(&client, "immutag").await.unwrap();
        let ids: Vec<&str> = got.iter().map(|r| r.resource_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(got[1].compliance, "NON_COMPLIANT");
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    }
}
