//! The event model: an AWS Config custom-rule event (`aws_lambda_events` `ConfigEvent`) and
//! the typed messages inside its `invokingEvent` string (`aws-facts.md` §6).
//!
//! Everything is parsed and validated before the handler makes any AWS call, so that an
//! event that cannot be read reports nothing.

use aws_lambda_events::event::config::ConfigEvent;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use immutag_core::{ParamError, ResourceStatus, RuleParameters};
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

/// An event that cannot be handled. Every variant names the problem.
#[derive(Debug, Error)]
pub enum EventError {
    /// The payload is not a Config rule event.
    #[error("the payload is not an AWS Config rule event: {0}")]
    NotAConfigEvent(String),
    /// A required member is missing or empty.
    #[error("the Config rule event has no `{0}`")]
    Missing(&'static str),
    /// `invokingEvent` is not valid JSON, or not of the shape its `messageType` requires.
    #[error("invokingEvent ({message_type}) cannot be read: {problem}")]
    InvokingEvent {
        /// The message type, or `?` when unknown.
        message_type: String,
        /// What is wrong.
        problem: String,
    },
    /// A `messageType` this rule does not handle.
    #[error(
        "invokingEvent has messageType `{0}`, which this rule does not handle (expected ConfigurationItemChangeNotification, OversizedConfigurationItemChangeNotification, ScheduledNotification or ConfigurationSnapshotDeliveryCompleted)"
    )]
    UnknownMessageType(String),
    /// A timestamp that is not RFC 3339.
    #[error("`{field}` is not an RFC 3339 timestamp: `{value}`")]
    Timestamp {
        /// The member.
        field: &'static str,
        /// The value found.
        value: String,
    },
    /// `ruleParameters` is invalid.
    #[error("ruleParameters: {0}")]
    Params(#[from] ParamError),
}

/// A Config rule event, parsed and validated.
#[derive(Debug, Clone)]
pub struct RuleEvent {
    /// The account the event is about (`accountId`).
    pub account_id: String,
    /// The rule name (`configRuleName`), when given.
    pub config_rule_name: Option<String>,
    /// The rule ARN (`configRuleArn`), when given; its partition is used for role ARNs.
    pub config_rule_arn: Option<String>,
    /// The token for PutEvaluations (`resultToken`).
    pub result_token: String,
    /// `eventLeftScope`.
    pub event_left_scope: bool,
    /// The validated `ruleParameters`.
    pub parameters: RuleParameters,
    /// The message inside `invokingEvent`.
    pub message: InvokingEvent,
}

impl RuleEvent {
    /// The AWS partition of the rule (`aws`, `aws-cn`, `aws-us-gov`), from `configRuleArn`;
    /// `aws` when the ARN is absent.
    pub fn partition(&self) -> &str {
        self.config_rule_arn
            .as_deref()
            .and_then(|arn| arn.split(':').nth(1))
            .filter(|p| !p.is_empty())
            .unwrap_or("aws")
    }
}

/// The typed message of `invokingEvent`, by `messageType`.
#[derive(Debug, Clone)]
pub enum InvokingEvent {
    /// `ConfigurationItemChangeNotification`: the item is in the event.
    ConfigurationItemChange(ItemChange),
    /// `OversizedConfigurationItemChangeNotification`: only a summary; the item is fetched.
    OversizedConfigurationItemChange(OversizedChange),
    /// `ScheduledNotification`: a periodic run.
    Scheduled(Periodic),
    /// `ConfigurationSnapshotDeliveryCompleted`: the legacy periodic trigger.
    ConfigurationSnapshotDeliveryCompleted(Periodic),
}

impl InvokingEvent {
    /// The `messageType` spelling.
    pub fn message_type(&self) -> &'static str {
        match self {
            Self::ConfigurationItemChange(_) => "ConfigurationItemChangeNotification",
            Self::OversizedConfigurationItemChange(_) => {
                "OversizedConfigurationItemChangeNotification"
            }
            Self::Scheduled(_) => "ScheduledNotification",
            Self::ConfigurationSnapshotDeliveryCompleted(_) => {
                "ConfigurationSnapshotDeliveryCompleted"
            }
        }
    }
}

/// What identifies a recorded resource, common to the full item and the oversized summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemHeader {
    /// `resourceType`.
    pub resource_type: String,
    /// `resourceId` (for a repository: its name).
    pub resource_id: String,
    /// `configurationItemStatus`.
    pub status: String,
    /// `configurationItemCaptureTime`, parsed.
    pub capture_time: DateTime,
    /// `awsAccountId`, when given.
    pub account_id: Option<String>,
    /// `awsRegion`, when given.
    pub region: Option<String>,
    /// `ARN`, when given.
    pub arn: Option<String>,
}

impl ItemHeader {
    /// The resource status this item's `configurationItemStatus` means. `OK` and
    /// `ResourceDiscovered` are active; the deleted and not-recorded statuses are not;
    /// any other value is treated as not recorded (fail closed: nothing to evaluate).
    pub fn resource_status(&self) -> ResourceStatus {
        match self.status.as_str() {
            "OK" | "ResourceDiscovered" => ResourceStatus::Active,
            "ResourceDeleted" | "ResourceDeletedNotRecorded" => ResourceStatus::Deleted,
            _ => ResourceStatus::NotRecorded,
        }
    }
}

/// A `ConfigurationItemChangeNotification`.
#[derive(Debug, Clone)]
pub struct ItemChange {
    /// The item's identifying members.
    pub header: ItemHeader,
    /// The whole `configurationItem` (invocation form), for the Config input parser.
    pub item: Value,
    /// `notificationCreationTime`, when given.
    pub notification_creation_time: Option<DateTime>,
}

/// An `OversizedConfigurationItemChangeNotification`.
#[derive(Debug, Clone)]
pub struct OversizedChange {
    /// The summary's identifying members.
    pub header: ItemHeader,
    /// `notificationCreationTime`, when given.
    pub notification_creation_time: Option<DateTime>,
}

/// A periodic notification (`ScheduledNotification` or
/// `ConfigurationSnapshotDeliveryCompleted`).
#[derive(Debug, Clone)]
pub struct Periodic {
    /// `awsAccountId`, when given.
    pub account_id: Option<String>,
    /// `notificationCreationTime`: the ordering timestamp of every evaluation of the run.
    pub notification_creation_time: DateTime,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawItemHeader {
    resource_type: String,
    resource_id: String,
    configuration_item_status: String,
    configuration_item_capture_time: String,
    #[serde(default)]
    aws_account_id: Option<String>,
    #[serde(default)]
    aws_region: Option<String>,
    #[serde(default, rename = "ARN")]
    arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawChange {
    configuration_item: Value,
    #[serde(default)]
    notification_creation_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOversized {
    configuration_item_summary: RawItemHeader,
    #[serde(default)]
    notification_creation_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPeriodic {
    #[serde(default)]
    aws_account_id: Option<String>,
    notification_creation_time: String,
}

/// Parses an RFC 3339 timestamp as Config writes it (`2016-07-13T21:50:00.373Z`).
pub fn parse_time(field: &'static str, value: &str) -> Result<DateTime, EventError> {
    DateTime::from_str(value, Format::DateTime).map_err(|_| EventError::Timestamp {
        field,
        value: value.to_owned(),
    })
}

fn header(raw: RawItemHeader) -> Result<ItemHeader, EventError> {
    Ok(ItemHeader {
        capture_time: parse_time(
            "configurationItemCaptureTime",
            &raw.configuration_item_capture_time,
        )?,
        resource_type: raw.resource_type,
        resource_id: raw.resource_id,
        status: raw.configuration_item_status,
        account_id: raw.aws_account_id,
        region: raw.aws_region,
        arn: raw.arn,
    })
}

fn shape<T: for<'de> Deserialize<'de>>(message_type: &str, value: Value) -> Result<T, EventError> {
    serde_json::from_value(value).map_err(|e| EventError::InvokingEvent {
        message_type: message_type.to_owned(),
        problem: e.to_string(),
    })
}

fn optional_time(field: &'static str, v: Option<String>) -> Result<Option<DateTime>, EventError> {
    v.map(|s| parse_time(field, &s)).transpose()
}

/// Parses the `invokingEvent` string into its typed message.
pub fn parse_invoking_event(text: &str) -> Result<InvokingEvent, EventError> {
    let value: Value = serde_json::from_str(text).map_err(|e| EventError::InvokingEvent {
        message_type: "?".into(),
        problem: format!("not valid JSON: {e}"),
    })?;
    let message_type = value
        .get("messageType")
        .and_then(Value::as_str)
        .ok_or_else(|| EventError::InvokingEvent {
            message_type: "?".into(),
            problem: "no string `messageType`".into(),
        })?
        .to_owned();
    match message_type.as_str() {
        "ConfigurationItemChangeNotification" => {
            let raw: RawChange = shape(&message_type, value)?;
            if raw.configuration_item.is_null() {
                return Err(EventError::InvokingEvent {
                    message_type,
                    problem: "`configurationItem` is null".into(),
                });
            }
            let head: RawItemHeader = serde_json::from_value(raw.configuration_item.clone())
                .map_err(|e| EventError::InvokingEvent {
                    message_type: message_type.clone(),
                    problem: format!("configurationItem: {e}"),
                })?;
            Ok(InvokingEvent::ConfigurationItemChange(ItemChange {
                header: header(head)?,
                item: raw.configuration_item,
                notification_creation_time: optional_time(
                    "notificationCreationTime",
                    raw.notification_creation_time,
                )?,
            }))
        }
        "OversizedConfigurationItemChangeNotification" => {
            let raw: RawOversized = shape(&message_type, value)?;
            Ok(InvokingEvent::OversizedConfigurationItemChange(
                OversizedChange {
                    header: header(raw.configuration_item_summary)?,
                    notification_creation_time: optional_time(
                        "notificationCreationTime",
                        raw.notification_creation_time,
                    )?,
                },
            ))
        }
        "ScheduledNotification" | "ConfigurationSnapshotDeliveryCompleted" => {
            let raw: RawPeriodic = shape(&message_type, value)?;
            let periodic = Periodic {
                account_id: raw.aws_account_id,
                notification_creation_time: parse_time(
                    "notificationCreationTime",
                    &raw.notification_creation_time,
                )?,
            };
            Ok(if message_type == "ScheduledNotification" {
                InvokingEvent::Scheduled(periodic)
            } else {
                InvokingEvent::ConfigurationSnapshotDeliveryCompleted(periodic)
            })
        }
        _ => Err(EventError::UnknownMessageType(message_type)),
    }
}

/// Parses a whole Config rule event (the Lambda payload).
///
/// The top level is read as `aws_lambda_events` `ConfigEvent`; `invokingEvent` and
/// `ruleParameters` (JSON strings) are parsed and validated. The account is `accountId`,
/// else the invoking event's `awsAccountId`.
pub fn parse_event(payload: Value) -> Result<RuleEvent, EventError> {
    let top: ConfigEvent =
        serde_json::from_value(payload).map_err(|e| EventError::NotAConfigEvent(e.to_string()))?;
    let invoking = top
        .invoking_event
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or(EventError::Missing("invokingEvent"))?;
    let message = parse_invoking_event(invoking)?;
    let parameters = RuleParameters::from_json(top.rule_parameters.as_deref().unwrap_or(""))?;
    let result_token = top
        .result_token
        .filter(|t| !t.is_empty())
        .ok_or(EventError::Missing("resultToken"))?;
    let inner_account = match &message {
        InvokingEvent::ConfigurationItemChange(c) => c.header.account_id.clone(),
        InvokingEvent::OversizedConfigurationItemChange(o) => o.header.account_id.clone(),
        InvokingEvent::Scheduled(p) | InvokingEvent::ConfigurationSnapshotDeliveryCompleted(p) => {
            p.account_id.clone()
        }
    };
    let account_id = top
        .account_id
        .filter(|a| !a.is_empty())
        .or(inner_account)
        .ok_or(EventError::Missing("accountId"))?;
    Ok(RuleEvent {
        account_id,
        config_rule_name: top.config_rule_name.filter(|n| !n.is_empty()),
        config_rule_arn: top.config_rule_arn.filter(|n| !n.is_empty()),
        result_token,
        event_left_scope: top.event_left_scope,
        parameters,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(invoking: Value, params: Option<&str>) -> Value {
        let mut e = json!({
            "version": "1.0",
            "invokingEvent": invoking.to_string(),
            "resultToken": "TESTMODE",
            "eventLeftScope": false,
            "executionRoleArn": "arn:aws:iam::123456789012:role/config-role",
            "configRuleArn": "arn:aws:config:eu-west-1:123456789012:config-rule/config-rule-abc",
            "configRuleName": "immutag",
            "configRuleId": "config-rule-abc",
            "accountId": "123456789012"
        });
        if let Some(p) = params {
            e["ruleParameters"] = Value::String(p.into());
        }
        e
    }

    #[test]
    fn scheduled() {
        let e = parse_event(event(
            json!({"awsAccountId":"123456789012","notificationCreationTime":"2026-11-20T10:00:00.373Z","messageType":"ScheduledNotification","recordVersion":"1.0"}),
            Some(r#"{"Remediation":"IMMUTABLE"}"#),
        ))
        .unwrap();
        assert_eq!(e.partition(), "aws");
        assert_eq!(
            e.parameters.remediation,
            immutag_core::RemediationMode::Immutable
        );
        match e.message {
            InvokingEvent::Scheduled(p) => {
                assert_eq!(p.notification_creation_time.secs(), 1_795_168_800);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_message_type_is_named() {
        let err = parse_event(event(json!({"messageType":"Surprise"}), None)).unwrap_err();
        assert!(
            matches!(&err, EventError::UnknownMessageType(t) if t == "Surprise"),
            "{err}"
        );
    }

    #[test]
    fn bad_parameters_name_the_key() {
        let err = parse_event(event(
            json!({"notificationCreationTime":"2026-11-20T10:00:00Z","messageType":"ScheduledNotification"}),
            Some(r#"{"Remediate":"IMMUTABLE"}"#),
        ))
        .unwrap_err();
        assert!(err.to_string().contains("`Remediate`"), "{err}");
    }

    #[test]
    fn broken_shapes_are_errors() {
        let mut e = event(json!({}), None);
        e["invokingEvent"] = Value::String("{not json".into());
        assert!(
            parse_event(e)
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );

        let mut e = event(json!({}), None);
        e.as_object_mut().unwrap().remove("invokingEvent");
        assert!(
            parse_event(e)
                .unwrap_err()
                .to_string()
                .contains("`invokingEvent`")
        );

        let mut e = event(
            json!({"notificationCreationTime":"2026-11-20T10:00:00Z","messageType":"ScheduledNotification"}),
            None,
        );
        e["resultToken"] = Value::String(String::new());
        assert!(
            parse_event(e)
                .unwrap_err()
                .to_string()
                .contains("`resultToken`")
        );

        let e = event(
            json!({"notificationCreationTime":"yesterday","messageType":"ScheduledNotification"}),
            None,
        );
        assert!(
            parse_event(e)
                .unwrap_err()
                .to_string()
                .contains("`yesterday`")
        );

        let e = event(
            json!({"messageType":"ConfigurationItemChangeNotification","configurationItem":{"resourceType":"AWS::ECR::Repository"}}),
            None,
        );
        let err = parse_event(e).unwrap_err();
        assert!(err.to_string().contains("configurationItem"), "{err}");

        assert!(matches!(
            parse_event(json!([1, 2])).unwrap_err(),
            EventError::NotAConfigEvent(_)
        ));
    }

    #[test]
    fn status_mapping() {
        let mut h = ItemHeader {
            resource_type: "AWS::ECR::Repository".into(),
            resource_id: "x".into(),
            status: "OK".into(),
            capture_time: DateTime::from_secs(0),
            account_id: None,
            region: None,
            arn: None,
        };
        for (s, want) in [
            ("OK", ResourceStatus::Active),
            ("ResourceDiscovered", ResourceStatus::Active),
            ("ResourceDeleted", ResourceStatus::Deleted),
            ("ResourceDeletedNotRecorded", ResourceStatus::Deleted),
            ("ResourceNotRecorded", ResourceStatus::NotRecorded),
            ("Whatever", ResourceStatus::NotRecorded),
        ] {
            h.status = s.into();
            assert_eq!(h.resource_status(), want, "{s}");
        }
    }
}
