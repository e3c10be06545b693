//! AWS Config input: a whole custom-rule event, an invoking event, or configuration items
//! in the invocation form or the API form (GetResourceConfigHistory).
//!
//! [`parse_rule_event`] is **the** reader of Config rule events: the Config rule Lambda
//! handles every invocation with it, and [`parse`] (`immutag evaluate`) reads a whole rule
//! event with it too, so both see the same event the same way. It is pure (no AWS SDK
//! types; times are [`Timestamp`]s) and never panics on input.
//!
//! What is read (see `docs/evaluation.md`):
//!
//! - **Rule event** (top-level `invokingEvent`, a JSON *string*, or an object): its
//!   `ruleParameters` (a JSON string of string values) become [`super::Parsed::rule_parameters`];
//!   `eventLeftScope: true` marks the item [`ResourceStatus::LeftScope`].
//! - **Invoking event** (`messageType` + `configurationItem`). Events that carry no item
//!   (`ScheduledNotification`, `OversizedConfigurationItemChangeNotification`,
//!   `ConfigurationSnapshotDeliveryCompleted`) are [`InputError::NeedsAws`] for [`parse`],
//!   naming the API call the rule would make; [`parse_rule_event`] returns them typed.
//! - **Configuration item**, invocation form (`ARN`, `awsAccountId`, `configuration` an
//!   object) or API form (`arn`, `accountId`, `configuration` a JSON string), alone, as
//!   `{"configurationItems":[...]}` or as an array.
//! - Inside `configuration`: PascalCase as Config records it (`RepositoryName`, `Arn`,
//!   `ImageTagMutability`, `Tags` list of `{Key, Value}`) or the API's camelCase; exclusion
//!   filters under the CloudFormation names (`ImageTagMutabilityExclusionFilters` of
//!   `{ImageTagMutabilityExclusionFilterType, ImageTagMutabilityExclusionFilterValue}`) or
//!   the API names (`imageTagMutabilityExclusionFilters` of `{filterType, filter}`).
//!
//! `configurationItemStatus`: `OK` / `ResourceDiscovered` are active, `ResourceDeleted` /
//! `ResourceDeletedNotRecorded` deleted, `ResourceNotRecorded` not recorded; any other value
//! is an error naming it (fail closed: an unknown status is never taken for "nothing to
//! evaluate"). A missing status is active (evaluated: fail closed). Resource types other
//! than `AWS::ECR::Repository` are kept; evaluation makes them NOT_APPLICABLE. In an invoking
//! event, an item and an oversized item's summary must carry
//! `configurationItemCaptureTime` (RFC 3339, or epoch seconds), a periodic notification its
//! `notificationCreationTime`: Config always sends them, and the rule orders its evaluations
//! by them.
//!
//! ```
//! use immutag_core::input::config;
//! let item = br#"{"configurationItemStatus":"OK","resourceType":"AWS::ECR::Repository",
//!   "resourceId":"api","awsRegion":"eu-west-1","awsAccountId":"123456789012",
//!   "configurationItemCaptureTime":"2026-11-20T10:00:00.000Z",
//!   "configuration":{"RepositoryName":"api","ImageTagMutability":"IMMUTABLE"}}"#;
//! let parsed = config::parse(item, None).unwrap();
//! assert_eq!(parsed.repositories[0].name.as_deref(), Some("api"));
//! assert!(parsed.rule_parameters.is_none());
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use super::shared::{
    Embedded, RawFilter, TagsField, TimeField, json_error, non_empty, normalize_filters, split_arn,
};
use crate::error::{InputError, ParamError};
use crate::model::{
    AppliedFor, ECR_REPOSITORY_TYPE, FilterSetting, InputKind, MutabilitySetting, Repository,
    ResourceStatus, ResourceType, Source, TagMutability, TemplatePrefix,
};
use crate::params::RuleParameters;
use crate::time::Timestamp;

const SHAPE: &str = "AWS Config";

/// The `messageType`s a Config custom rule receives.
pub const MESSAGE_TYPES: [&str; 4] = [
    "ConfigurationItemChangeNotification",
    "OversizedConfigurationItemChangeNotification",
    "ScheduledNotification",
    "ConfigurationSnapshotDeliveryCompleted",
];

/// What a Config input holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigInput {
    /// The configuration items, as repositories (other resource types kept as they are).
    pub repositories: Vec<Repository>,
    /// The rule parameters of a whole rule event (`None` when the input is not one, or
    /// the event has no `ruleParameters`).
    pub rule_parameters: Option<RuleParameters>,
}

/// A Config custom-rule event (the Lambda payload), read and validated by
/// [`parse_rule_event`].
#[derive(Debug, Clone, PartialEq)]
pub struct RuleEvent {
    /// The account the event is about: the top-level `accountId`, else the invoking event's
    /// `awsAccountId`.
    pub account_id: Option<String>,
    /// `configRuleName`, when given.
    pub config_rule_name: Option<String>,
    /// `configRuleArn`, when given; its partition names role ARNs.
    pub config_rule_arn: Option<String>,
    /// `resultToken` (PutEvaluations needs it), when given and not empty.
    pub result_token: Option<String>,
    /// `eventLeftScope`.
    pub event_left_scope: bool,
    /// The validated `ruleParameters` (`None` when the event has none).
    pub rule_parameters: Option<RuleParameters>,
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

    /// The region of the rule, from `configRuleArn`.
    pub fn rule_region(&self) -> Option<&str> {
        self.config_rule_arn
            .as_deref()
            .and_then(split_arn)
            .map(|p| p.region)
            .filter(|r| !r.is_empty())
    }
}

/// The typed message of `invokingEvent`, by `messageType`.
#[derive(Debug, Clone, PartialEq)]
pub enum InvokingEvent {
    /// `ConfigurationItemChangeNotification`: the item is in the event.
    ConfigurationItemChange(Box<ItemChange>),
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
            Self::ConfigurationItemChange(_) => MESSAGE_TYPES[0],
            Self::OversizedConfigurationItemChange(_) => MESSAGE_TYPES[1],
            Self::Scheduled(_) => MESSAGE_TYPES[2],
            Self::ConfigurationSnapshotDeliveryCompleted(_) => MESSAGE_TYPES[3],
        }
    }

    /// The account the message names (`awsAccountId` of the item, summary or notification).
    pub fn account_id(&self) -> Option<&str> {
        match self {
            Self::ConfigurationItemChange(c) => c.repository.account_id.as_deref(),
            Self::OversizedConfigurationItemChange(o) => o.summary.account_id.as_deref(),
            Self::Scheduled(p) | Self::ConfigurationSnapshotDeliveryCompleted(p) => {
                p.account_id.as_deref()
            }
        }
    }
}

/// A `ConfigurationItemChangeNotification`.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemChange {
    /// The configuration item, read as a repository (its status says whether it is active,
    /// deleted, not recorded, or out of scope).
    pub repository: Repository,
    /// `configurationItemCaptureTime`: the evaluation's ordering timestamp.
    pub capture_time: Timestamp,
    /// `notificationCreationTime`, when given.
    pub notification_creation_time: Option<Timestamp>,
}

/// The `configurationItemSummary` of an oversized change: what identifies the item to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSummary {
    /// `resourceType`.
    pub resource_type: String,
    /// `resourceId` (for a repository: its name).
    pub resource_id: String,
    /// `configurationItemStatus`, read.
    pub status: ResourceStatus,
    /// `configurationItemCaptureTime` (`laterTime` of the fetch, and the ordering timestamp).
    pub capture_time: Timestamp,
    /// `awsAccountId`, when given.
    pub account_id: Option<String>,
    /// `awsRegion`, when given.
    pub region: Option<String>,
    /// `ARN`, when given.
    pub arn: Option<String>,
}

/// An `OversizedConfigurationItemChangeNotification`.
#[derive(Debug, Clone, PartialEq)]
pub struct OversizedChange {
    /// The item's summary.
    pub summary: ItemSummary,
    /// `notificationCreationTime`, when given.
    pub notification_creation_time: Option<Timestamp>,
}

/// A periodic notification (`ScheduledNotification` or
/// `ConfigurationSnapshotDeliveryCompleted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Periodic {
    /// `awsAccountId`, when given.
    pub account_id: Option<String>,
    /// `awsRegion`, when given.
    pub region: Option<String>,
    /// `notificationCreationTime`: the ordering timestamp of every evaluation of the run.
    pub notification_creation_time: Timestamp,
}

/// A rule event that cannot be read. Every variant names the problem.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RuleEventError {
    /// The payload is not a Config rule event (not a JSON object of the expected members).
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
        "unknown messageType `{0}`: this rule handles ConfigurationItemChangeNotification, OversizedConfigurationItemChangeNotification, ScheduledNotification and ConfigurationSnapshotDeliveryCompleted"
    )]
    UnknownMessageType(String),
    /// A timestamp that is not RFC 3339.
    #[error("`{field}` is not an RFC 3339 timestamp: `{value}`")]
    Timestamp {
        /// The member.
        field: &'static str,
        /// The value found, with control characters escaped.
        value: String,
    },
    /// `ruleParameters` is invalid.
    #[error("ruleParameters: {0}")]
    Params(#[from] ParamError),
    /// The configuration item (or summary) cannot be read: an unknown
    /// `configurationItemStatus`, a member of the wrong type, no id.
    #[error(transparent)]
    Item(InputError),
}

impl From<RuleEventError> for InputError {
    fn from(e: RuleEventError) -> Self {
        match e {
            RuleEventError::Params(p) => InputError::Params(p),
            RuleEventError::Item(i) => i,
            other => shape_error("/invokingEvent", &other.to_string()),
        }
    }
}

/// `configuration` of an `AWS::ECR::Repository` item, in either casing.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a repository configuration (a JSON object)")]
struct RawConfiguration {
    #[serde(rename = "RepositoryName", alias = "repositoryName", default)]
    name: Option<String>,
    #[serde(rename = "Arn", alias = "arn", alias = "repositoryArn", default)]
    arn: Option<String>,
    #[serde(rename = "RegistryId", alias = "registryId", default)]
    registry_id: Option<String>,
    #[serde(rename = "ImageTagMutability", alias = "imageTagMutability", default)]
    mutability: Option<String>,
    #[serde(
        rename = "ImageTagMutabilityExclusionFilters",
        alias = "imageTagMutabilityExclusionFilters",
        default
    )]
    filters: Option<Vec<RawFilter>>,
    #[serde(rename = "Tags", alias = "tags", default)]
    tags: Option<TagsField>,
    // An `AWS::ECR::RepositoryCreationTemplate` item (its recorded shape is unconfirmed: the
    // CloudFormation and API names are read; what is missing fails closed).
    #[serde(rename = "Prefix", alias = "prefix", default)]
    prefix: Option<String>,
    #[serde(rename = "AppliedFor", alias = "appliedFor", default)]
    applied_for: Option<Vec<String>>,
}

/// The union of every top-level member of every Config shape. One pass reads whichever
/// shape this is; [`interpret`] then decides.
#[derive(Debug, Default, Deserialize)]
#[serde(
    rename_all = "camelCase",
    expecting = "a Config rule event, invoking event or configuration item (a JSON object)"
)]
struct Top {
    // rule event (its `accountId` lands in `aws_account_id`)
    #[serde(default)]
    invoking_event: Option<Value>,
    #[serde(default)]
    rule_parameters: Option<Value>,
    #[serde(default)]
    event_left_scope: Option<bool>,
    #[serde(default)]
    config_rule_arn: Option<String>,
    #[serde(default)]
    config_rule_name: Option<String>,
    #[serde(default)]
    result_token: Option<String>,
    // invoking event
    #[serde(default)]
    message_type: Option<String>,
    #[serde(default)]
    configuration_item: Option<Box<Top>>,
    #[serde(default)]
    configuration_item_summary: Option<Box<Top>>,
    #[serde(default)]
    notification_creation_time: Option<String>,
    // GetResourceConfigHistory / BatchGetResourceConfig output
    #[serde(default, alias = "baseConfigurationItems")]
    configuration_items: Option<Vec<Top>>,
    // configuration item (both forms)
    #[serde(default)]
    configuration_item_capture_time: TimeField,
    #[serde(default)]
    configuration_item_status: Option<String>,
    #[serde(default)]
    resource_type: Option<String>,
    #[serde(default)]
    resource_id: Option<String>,
    #[serde(default)]
    resource_name: Option<String>,
    #[serde(default, rename = "ARN", alias = "arn")]
    arn: Option<String>,
    #[serde(default, alias = "region")]
    aws_region: Option<String>,
    #[serde(default, alias = "accountId")]
    aws_account_id: Option<String>,
    #[serde(default)]
    tags: Option<TagsField>,
    #[serde(default)]
    configuration: Option<Embedded<RawConfiguration>>,
}

/// Parses a Config input from `bytes`.
pub fn parse(bytes: &[u8], file: Option<&str>) -> Result<ConfigInput, InputError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'[') {
        let items: Vec<Top> = serde_json::from_slice(bytes).map_err(|e| json_error(&e, SHAPE))?;
        let mut repositories = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            repositories.push(item_to_repository(item, format!("/{i}"), file, false)?);
        }
        return Ok(ConfigInput {
            repositories,
            rule_parameters: None,
        });
    }
    let top: Top = serde_json::from_slice(bytes).map_err(|e| json_error(&e, SHAPE))?;
    interpret(top, file)
}

/// Reads a whole Config custom-rule event (the Lambda payload, `aws-facts.md` §6): the top
/// level, `ruleParameters` (validated) and the typed message inside `invokingEvent` (a JSON
/// string, or an object). The one reader of rule events: the Config rule Lambda and
/// [`parse`] both use it.
///
/// Never panics; every error names the member or the value at fault. A member the event
/// may lack for some uses (`resultToken`, `accountId`) is `None` here; the caller that needs
/// it says so.
///
/// ```
/// use immutag_core::input::config::{parse_rule_event, InvokingEvent};
/// let event = br#"{"invokingEvent":"{\"messageType\":\"ScheduledNotification\",\"awsAccountId\":\"123456789012\",\"notificationCreationTime\":\"2026-11-20T12:00:00.000Z\"}",
///   "ruleParameters":"{\"AllowedExclusionFilters\":\"latest\"}","resultToken":"TESTMODE","eventLeftScope":false,
///   "configRuleArn":"arn:aws:config:us-east-1:123456789012:config-rule/config-rule-abc"}"#;
/// let e = parse_rule_event(event).unwrap();
/// assert_eq!(e.account_id.as_deref(), Some("123456789012"));
/// assert_eq!(e.rule_parameters.unwrap().allowed_exclusion_filters, ["latest"]);
/// assert!(matches!(e.message, InvokingEvent::Scheduled(_)));
///
/// let unknown = br#"{"invokingEvent":"{\"messageType\":\"ConfigurationItemChangeNotification\",\"configurationItem\":{\"resourceType\":\"AWS::ECR::Repository\",\"resourceId\":\"api\",\"configurationItemStatus\":\"Vanished\",\"configurationItemCaptureTime\":\"2026-11-20T12:00:00Z\"}}"}"#;
/// assert!(parse_rule_event(unknown).unwrap_err().to_string().contains("`Vanished`"));
/// ```
pub fn parse_rule_event(bytes: &[u8]) -> Result<RuleEvent, RuleEventError> {
    // A derived struct also reads a JSON array (positionally): a rule event is an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(RuleEventError::NotAConfigEvent(
            "expected a JSON object".into(),
        ));
    }
    let top: Top = serde_json::from_slice(bytes)
        .map_err(|e| RuleEventError::NotAConfigEvent(e.to_string()))?;
    rule_event(top, None)
}

fn rule_event(top: Top, file: Option<&str>) -> Result<RuleEvent, RuleEventError> {
    let invoking = match top.invoking_event {
        None => return Err(RuleEventError::Missing("invokingEvent")),
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Err(RuleEventError::Missing("invokingEvent"));
        }
        Some(Value::String(s)) => {
            serde_json::from_str::<Value>(&s).map_err(|e| RuleEventError::InvokingEvent {
                message_type: "?".into(),
                problem: format!("not valid JSON: {e}"),
            })?
        }
        Some(v @ Value::Object(_)) => v,
        Some(other) => {
            return Err(RuleEventError::InvokingEvent {
                message_type: "?".into(),
                problem: format!(
                    "invalid type: {}, expected a JSON object, or a string holding one",
                    json_kind(&other)
                ),
            });
        }
    };
    let message_type = match invoking.get("messageType") {
        Some(Value::String(t)) => t.clone(),
        None if invoking.get("configurationItem").is_some() => MESSAGE_TYPES[0].to_owned(),
        _ => {
            return Err(RuleEventError::InvokingEvent {
                message_type: "?".into(),
                problem: "no string `messageType`".into(),
            });
        }
    };
    if !MESSAGE_TYPES.contains(&message_type.as_str()) {
        return Err(RuleEventError::UnknownMessageType(message_type));
    }
    let inner: Top =
        serde_json::from_value(invoking).map_err(|e| RuleEventError::InvokingEvent {
            message_type: message_type.clone(),
            problem: e.to_string(),
        })?;
    if inner.invoking_event.is_some() {
        return Err(RuleEventError::InvokingEvent {
            message_type,
            problem: "invokingEvent holds another rule event (invokingEvent inside invokingEvent)"
                .into(),
        });
    }
    let rule_parameters = match top.rule_parameters {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(RuleParameters::from_json(&s)?),
        Some(v) => Some(RuleParameters::from_value(&v)?),
    };
    let event_left_scope = top.event_left_scope.unwrap_or(false);
    let message = invoking_message(
        inner,
        &message_type,
        "/invokingEvent",
        file,
        event_left_scope,
    )?;
    let account_id =
        non_empty(top.aws_account_id).or_else(|| message.account_id().map(str::to_owned));
    Ok(RuleEvent {
        account_id,
        config_rule_name: non_empty(top.config_rule_name),
        config_rule_arn: non_empty(top.config_rule_arn),
        result_token: top.result_token.filter(|t| !t.is_empty()),
        event_left_scope,
        rule_parameters,
        message,
    })
}

/// Reads the typed message of an invoking event whose `messageType` is known.
fn invoking_message(
    ev: Top,
    message_type: &str,
    base: &str,
    file: Option<&str>,
    left_scope: bool,
) -> Result<InvokingEvent, RuleEventError> {
    let shape = |problem: String| RuleEventError::InvokingEvent {
        message_type: message_type.to_owned(),
        problem,
    };
    let notification = optional_time("notificationCreationTime", ev.notification_creation_time);
    match message_type {
        "ConfigurationItemChangeNotification" => {
            let Some(item) = ev.configuration_item else {
                return Err(shape("no `configurationItem` (or it is null)".into()));
            };
            let capture_time = capture_time(&item, "configurationItem", message_type)?;
            let repository =
                item_to_repository(*item, format!("{base}/configurationItem"), file, left_scope)
                    .map_err(RuleEventError::Item)?;
            Ok(InvokingEvent::ConfigurationItemChange(Box::new(
                ItemChange {
                    repository,
                    capture_time,
                    notification_creation_time: notification?,
                },
            )))
        }
        "OversizedConfigurationItemChangeNotification" => {
            let Some(s) = ev.configuration_item_summary else {
                return Err(shape("no `configurationItemSummary`".into()));
            };
            let pointer = format!("{base}/configurationItemSummary");
            let capture_time = capture_time(&s, "configurationItemSummary", message_type)?;
            let resource_type = non_empty(s.resource_type)
                .ok_or_else(|| shape("configurationItemSummary has no resourceType".into()))?;
            let resource_id = non_empty(s.resource_id)
                .ok_or_else(|| shape("configurationItemSummary has no resourceId".into()))?;

            let status = item_status(s.configuration_item_status.as_deref(), &pointer)
                .map_err(RuleEventError::Item)?;
            Ok(InvokingEvent::OversizedConfigurationItemChange(
                OversizedChange {
                    summary: ItemSummary {
                        resource_type,
                        resource_id,
                        status,
                        capture_time,
                        account_id: non_empty(s.aws_account_id),
                        region: non_empty(s.aws_region),
                        arn: non_empty(s.arn),
                    },
                    notification_creation_time: notification?,
                },
            ))
        }
        "ScheduledNotification" | "ConfigurationSnapshotDeliveryCompleted" => {
            let periodic = Periodic {
                account_id: non_empty(ev.aws_account_id),
                region: non_empty(ev.aws_region),
                notification_creation_time: notification?
                    .ok_or_else(|| shape("no notificationCreationTime".into()))?,
            };
            Ok(if message_type == "ScheduledNotification" {
                InvokingEvent::Scheduled(periodic)
            } else {
                InvokingEvent::ConfigurationSnapshotDeliveryCompleted(periodic)
            })
        }
        other => Err(RuleEventError::UnknownMessageType(other.to_owned())),
    }
}

/// `configurationItemCaptureTime` of the item or summary `member` of a `message_type`.
fn capture_time(item: &Top, member: &str, message_type: &str) -> Result<Timestamp, RuleEventError> {
    required_time(
        "configurationItemCaptureTime",
        item.configuration_item_capture_time.0.as_deref(),
    )
    .map_err(|e| match e {
        RuleEventError::Missing(field) => RuleEventError::InvokingEvent {
            message_type: message_type.to_owned(),
            problem: format!("{member} has no {field}"),
        },
        other => other,
    })
}

/// What a JSON value is, in serde's words (`sequence`, integer `42`, ...).
fn json_kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) if n.is_f64() => format!("floating point `{n}`"),
        Value::Number(n) => format!("integer `{n}`"),
        Value::String(_) => "string".into(),
        Value::Array(_) => "sequence".into(),
        Value::Object(_) => "map".into(),
    }
}

fn required_time(field: &'static str, value: Option<&str>) -> Result<Timestamp, RuleEventError> {
    match value.filter(|v| !v.trim().is_empty()) {
        None => Err(RuleEventError::Missing(field)),
        Some(v) => crate::time::parse(v).map_err(|e| RuleEventError::Timestamp {
            field,
            value: e.text,
        }),
    }
}

fn optional_time(
    field: &'static str,
    value: Option<String>,
) -> Result<Option<Timestamp>, RuleEventError> {
    match non_empty(value) {
        None => Ok(None),
        Some(v) => required_time(field, Some(&v)).map(Some),
    }
}

fn interpret(top: Top, file: Option<&str>) -> Result<ConfigInput, InputError> {
    if top.invoking_event.is_some() {
        // A whole rule event.
        let event = rule_event(top, file)?;
        let region_hint = event.rule_region().map(str::to_owned);
        let repositories = offline_repositories(event.message, region_hint.as_deref())?;
        return Ok(ConfigInput {
            repositories,
            rule_parameters: event.rule_parameters,
        });
    }
    if top.message_type.is_some() || top.configuration_item.is_some() {
        let message_type = top
            .message_type
            .clone()
            .unwrap_or_else(|| MESSAGE_TYPES[0].to_owned());
        if !MESSAGE_TYPES.contains(&message_type.as_str()) {
            return Err(shape_error(
                "/messageType",
                &RuleEventError::UnknownMessageType(message_type).to_string(),
            ));
        }
        let message = invoking_message(top, &message_type, "", file, false)?;
        return Ok(ConfigInput {
            repositories: offline_repositories(message, None)?,
            rule_parameters: None,
        });
    }
    if let Some(items) = top.configuration_items {
        let mut repositories = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            repositories.push(item_to_repository(
                item,
                format!("/configurationItems/{i}"),
                file,
                false,
            )?);
        }
        return Ok(ConfigInput {
            repositories,
            rule_parameters: None,
        });
    }
    if top.resource_type.is_some()
        || top.configuration_item_status.is_some()
        || top.configuration_item_capture_time.0.is_some()
    {
        return Ok(ConfigInput {
            repositories: vec![item_to_repository(top, String::new(), file, false)?],
            rule_parameters: None,
        });
    }
    Err(shape_error(
        "/",
        "not a Config rule event (invokingEvent), invoking event (messageType, configurationItem), or configuration item (resourceType, configurationItemStatus)",
    ))
}

/// What an offline reader (`immutag evaluate`) can evaluate of a message: the item of a
/// change; the others need AWS, and the error says which call the rule would make.
fn offline_repositories(
    message: InvokingEvent,
    region_hint: Option<&str>,
) -> Result<Vec<Repository>, InputError> {
    match message {
        InvokingEvent::ConfigurationItemChange(c) => Ok(vec![c.repository]),
        InvokingEvent::OversizedConfigurationItemChange(o) => {
            let s = &o.summary;
            let (rtype, id, time) = (&s.resource_type, &s.resource_id, s.capture_time);
            let account = s.account_id.as_deref().unwrap_or("?");
            let region = s.region.as_deref().or(region_hint).unwrap_or("?");
            Err(InputError::NeedsAws(format!(
                "OversizedConfigurationItemChangeNotification: the event carries only a summary, not the configuration item. \
                 The rule would fetch it with GetResourceConfigHistory(resourceType={rtype}, resourceId={id}, laterTime={time}, limit=1) \
                 in account {account} region {region}. Offline: run `aws configservice get-resource-config-history --resource-type {rtype} \
                 --resource-id {id} --later-time {time} --limit 1 --region {region}` and evaluate its output"
            )))
        }
        InvokingEvent::Scheduled(ref p)
        | InvokingEvent::ConfigurationSnapshotDeliveryCompleted(ref p) => {
            let account = p.account_id.as_deref().unwrap_or("?");
            let region = p.region.as_deref().or(region_hint).unwrap_or("?");
            let at = p.notification_creation_time;
            Err(InputError::NeedsAws(format!(
                "{} (notification of {at}): a periodic trigger carries no configuration item. The rule would list the repositories with \
                 DescribeRepositories in account {account} region {region}. Offline: run `aws ecr describe-repositories --region {region}` \
                 and evaluate its output",
                message.message_type()
            )))
        }
    }
}

/// Reads `configurationItemStatus`: absent is active (evaluated: fail closed); a value
/// that is not one of the five Config statuses is an error naming it.
fn item_status(status: Option<&str>, pointer: &str) -> Result<ResourceStatus, InputError> {
    match status {
        None | Some("OK") | Some("ResourceDiscovered") => Ok(ResourceStatus::Active),
        Some("ResourceDeleted") | Some("ResourceDeletedNotRecorded") => Ok(ResourceStatus::Deleted),
        Some("ResourceNotRecorded") => Ok(ResourceStatus::NotRecorded),
        Some(other) => Err(shape_error(
            &format!("{pointer}/configurationItemStatus"),
            &format!(
                "unknown configurationItemStatus `{}` (known: OK, ResourceDiscovered, ResourceNotRecorded, ResourceDeleted, ResourceDeletedNotRecorded)",
                crate::text::printable(other)
            ),
        )),
    }
}

fn item_to_repository(
    item: Top,
    pointer: String,
    file: Option<&str>,
    left_scope: bool,
) -> Result<Repository, InputError> {
    let status = item_status(item.configuration_item_status.as_deref(), &pointer)?;
    let status = if left_scope {
        ResourceStatus::LeftScope
    } else {
        status
    };
    let mut resource_type = ResourceType::parse(
        non_empty(item.resource_type)
            .as_deref()
            .unwrap_or(ECR_REPOSITORY_TYPE),
    );
    let configuration = match item.configuration.and_then(|c| c.0) {
        Some(c) => c,
        // An active repository item always carries its configuration: without it the
        // setting is unknown, and an item that says nothing is no evidence.
        None if status == ResourceStatus::Active && resource_type == ResourceType::Repository => {
            return Err(shape_error(
                &format!("{pointer}/configuration"),
                "an active AWS::ECR::Repository configuration item without `configuration`: its tag mutability is unknown",
            ));
        }
        None => RawConfiguration::default(),
    };
    if let ResourceType::CreationTemplate(scope) = &mut resource_type {
        scope.prefix = non_empty(configuration.prefix.clone()).map(|p| TemplatePrefix::parse(&p));
        scope.applied_for = configuration
            .applied_for
            .iter()
            .flatten()
            .map(|a| AppliedFor::parse(a))
            .collect();
    }
    let is_template = resource_type.template().is_some();
    let arn = non_empty(item.arn).or(non_empty(configuration.arn));
    let parts = arn.as_deref().and_then(split_arn);
    let name = non_empty(configuration.name)
        .or_else(|| non_empty(item.resource_name.clone()))
        .or_else(|| non_empty(item.resource_id.clone()))
        .or_else(|| parts.as_ref().and_then(|p| p.name).map(str::to_owned))
        .filter(|_| !is_template);
    let template_prefix = resource_type
        .template()
        .and_then(|t| t.prefix.as_ref())
        .map(|p| p.as_str().to_owned());
    let resource_id = non_empty(item.resource_id)
        .or(template_prefix)
        .or_else(|| name.clone())
        .ok_or_else(|| {
            shape_error(
                &pointer_or_root(&pointer),
                "configuration item has no resourceId, resource name or ARN to identify it",
            )
        })?;
    let account_id = non_empty(item.aws_account_id)
        .or(non_empty(configuration.registry_id))
        .or_else(|| {
            parts
                .as_ref()
                .map(|p| p.account.to_owned())
                .filter(|a| !a.is_empty())
        });
    let region = non_empty(item.aws_region).or_else(|| {
        parts
            .as_ref()
            .map(|p| p.region.to_owned())
            .filter(|r| !r.is_empty())
    });

    let mut tags: BTreeMap<String, String> = configuration.tags.map(|t| t.0).unwrap_or_default();
    // The item-level map is what Config itself reports; it wins over `configuration.Tags`.
    tags.extend(item.tags.map(|t| t.0).unwrap_or_default());

    let filters = normalize_filters(
        configuration.filters.unwrap_or_default(),
        SHAPE,
        &format!("{pointer}/configuration/ImageTagMutabilityExclusionFilters"),
    )?;

    Ok(Repository {
        resource_type,
        resource_id,
        name,
        account_id,
        region,
        arn,
        tag_mutability: match configuration.mutability {
            Some(m) => MutabilitySetting::set(TagMutability::parse(&m)),
            None => MutabilitySetting::Absent,
        },
        exclusion_filters: FilterSetting::listed(filters),
        tags,
        status,
        captured_at: non_empty(item.configuration_item_capture_time.0),
        source: Source {
            file: file.map(str::to_owned),
            pointer: (!pointer.is_empty()).then_some(pointer),
            ..Source::new(InputKind::Config)
        },
    })
}

fn pointer_or_root(p: &str) -> String {
    if p.is_empty() {
        "/".into()
    } else {
        p.to_owned()
    }
}

fn shape_error(pointer: &str, problem: &str) -> InputError {
    InputError::Shape {
        shape: SHAPE,
        pointer: pointer_or_root(pointer),
        problem: problem.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ExclusionFilter, FilterType};

    const CAPTURE: &str = "2026-11-20T10:15:30.123Z";

    fn item(status: &str, configuration: &str) -> String {
        format!(
            r#"{{"configurationItemCaptureTime":"{CAPTURE}","configurationItemStatus":"{status}",
            "configurationStateId":"1700000000000","awsAccountId":"123456789012",
            "resourceType":"AWS::ECR::Repository","resourceId":"team/api","resourceName":"team/api",
            "ARN":"arn:aws:ecr:eu-west-1:123456789012:repository/team/api","awsRegion":"eu-west-1",
            "availabilityZone":"Not Applicable","tags":{{"owner":"platform"}},
            "relatedEvents":[],"relationships":[],"configuration":{configuration},
            "supplementaryConfiguration":{{}}}}"#
        )
    }

    fn rule_event(inner_item: &str, params: &str, left_scope: bool) -> String {
        let invoking = format!(
            r#"{{"configurationItemDiff":null,"configurationItem":{inner_item},"notificationCreationTime":"{CAPTURE}","messageType":"ConfigurationItemChangeNotification","recordVersion":"1.3"}}"#
        );
        serde_json::json!({
            "version": "1.0",
            "invokingEvent": invoking,
            "ruleParameters": params,
            "resultToken": "TESTMODE",
            "eventLeftScope": left_scope,
            "executionRoleArn": "arn:aws:iam::123456789012:role/config-role",
            "configRuleArn": "arn:aws:config:eu-west-1:123456789012:config-rule/config-rule-abc",
            "configRuleName": "immutag",
            "configRuleId": "config-rule-abc",
            "accountId": "123456789012",
            "evaluationMode": "DETECTIVE"
        })
        .to_string()
    }

    const PASCAL: &str = r#"{"RepositoryName":"team/api","Arn":"arn:aws:ecr:eu-west-1:123456789012:repository/team/api",
        "ImageTagMutability":"IMMUTABLE_WITH_EXCLUSION","ImageScanningConfiguration":{"ScanOnPush":true},
        "LifecyclePolicy":{},"RepositoryPolicyText":{},
        "ImageTagMutabilityExclusionFilters":[{"ImageTagMutabilityExclusionFilterType":"WILDCARD","ImageTagMutabilityExclusionFilterValue":"latest"}],
        "Tags":[{"Key":"cost-center","Value":"42"},{"Key":"owner","Value":"ignored"}]}"#;

    #[test]
    fn whole_rule_event_with_parameters() {
        let ev = rule_event(
            &item("OK", PASCAL),
            r#"{"AllowedExclusionFilters":"latest","ExemptionTagKey":"immutag:exempt"}"#,
            false,
        );
        let c = parse(ev.as_bytes(), Some("event.json")).unwrap();
        let p = c.rule_parameters.unwrap();
        assert_eq!(p.allowed_exclusion_filters, ["latest"]);
        assert_eq!(p.exemption_tag_key.as_deref(), Some("immutag:exempt"));
        let r = &c.repositories[0];
        assert_eq!(r.resource_id, "team/api");
        assert_eq!(r.status, ResourceStatus::Active);
        assert_eq!(r.captured_at.as_deref(), Some(CAPTURE));
        assert_eq!(r.account_id.as_deref(), Some("123456789012"));
        assert_eq!(r.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            r.tag_mutability,
            MutabilitySetting::set(TagMutability::ImmutableWithExclusion)
        );
        assert_eq!(
            r.exclusion_filters.filters(),
            [ExclusionFilter::wildcard("latest")]
        );
        // The item-level tag map wins over configuration.Tags; both are kept.
        assert_eq!(r.tags["owner"], "platform");
        assert_eq!(r.tags["cost-center"], "42");
        assert_eq!(
            r.source.pointer.as_deref(),
            Some("/invokingEvent/configurationItem")
        );
        assert_eq!(r.source.kind, InputKind::Config);
    }

    #[test]
    fn statuses_map_and_left_scope_wins() {
        for (status, want) in [
            ("OK", ResourceStatus::Active),
            ("ResourceDiscovered", ResourceStatus::Active),
            ("ResourceDeleted", ResourceStatus::Deleted),
            ("ResourceDeletedNotRecorded", ResourceStatus::Deleted),
            ("ResourceNotRecorded", ResourceStatus::NotRecorded),
        ] {
            // An item out of scope may carry no configuration; an active one must.
            let conf = if want == ResourceStatus::Active {
                "{}"
            } else {
                "null"
            };
            let c = parse(item(status, conf).as_bytes(), None).unwrap();
            assert_eq!(c.repositories[0].status, want, "{status}");
            assert_eq!(c.repositories[0].tag_mutability, MutabilitySetting::Absent);
        }
        for status in ["OK", "ResourceDiscovered"] {
            let err = parse(item(status, "null").as_bytes(), None)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("without `configuration`") && err.contains("/configuration"),
                "{err}"
            );
        }
        let err = parse(item("Maybe", "{}").as_bytes(), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`Maybe`") && err.contains("configurationItemStatus"),
            "{err}"
        );

        let ev = rule_event(&item("OK", PASCAL), "{}", true);
        let c = parse(ev.as_bytes(), None).unwrap();
        assert_eq!(c.repositories[0].status, ResourceStatus::LeftScope);
        assert_eq!(c.rule_parameters, Some(RuleParameters::default()));
    }

    #[test]
    fn camel_case_configuration_and_api_filter_names() {
        let conf = r#"{"repositoryName":"team/api","imageTagMutability":"MUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters":[{"filterType":"WILDCARD","filter":"release-*"}],
            "tags":[{"key":"k","value":"v"}]}"#;
        let c = parse(item("ResourceDiscovered", conf).as_bytes(), None).unwrap();
        let r = &c.repositories[0];
        assert_eq!(
            r.tag_mutability,
            MutabilitySetting::set(TagMutability::MutableWithExclusion)
        );
        assert_eq!(r.exclusion_filters.filters()[0].filter, "release-*");
        assert_eq!(
            r.exclusion_filters.filters()[0].filter_type,
            FilterType::Wildcard
        );
        assert_eq!(r.tags["k"], "v");
    }

    #[test]
    fn api_form_configuration_string() {
        let configuration = serde_json::json!({
            "RepositoryName": "legacy",
            "ImageTagMutability": "MUTABLE",
            "Arn": "arn:aws:ecr:us-east-2:210987654321:repository/legacy"
        })
        .to_string();
        let api_item = serde_json::json!({
            "version": "1.3",
            "accountId": "210987654321",
            "configurationItemCaptureTime": 1763633730.123,
            "configurationItemStatus": "OK",
            "configurationStateId": "1763633730123",
            "configurationItemMD5Hash": "",
            "arn": "arn:aws:ecr:us-east-2:210987654321:repository/legacy",
            "resourceType": "AWS::ECR::Repository",
            "resourceId": "legacy",
            "resourceName": "legacy",
            "awsRegion": "us-east-2",
            "tags": {},
            "relatedEvents": [],
            "relationships": [],
            "configuration": configuration,
            "supplementaryConfiguration": {}
        });
        let history =
            serde_json::json!({"configurationItems": [api_item.clone()], "nextToken": null});
        for (input, pointer) in [
            (history.to_string(), Some("/configurationItems/0")),
            (api_item.to_string(), None),
            (serde_json::json!([api_item]).to_string(), Some("/0")),
        ] {
            let c = parse(input.as_bytes(), None).unwrap();
            let r = &c.repositories[0];
            assert_eq!(r.account_id.as_deref(), Some("210987654321"));
            assert_eq!(
                r.arn.as_deref(),
                Some("arn:aws:ecr:us-east-2:210987654321:repository/legacy")
            );
            assert_eq!(
                r.tag_mutability,
                MutabilitySetting::set(TagMutability::Mutable)
            );
            assert_eq!(r.source.pointer.as_deref(), pointer);
            assert_eq!(r.captured_at.as_deref(), Some("2025-11-20T10:15:30.123Z"));
        }
    }

    #[test]
    fn capture_time_as_epoch_seconds() {
        // AWS CLI v1 prints API timestamps as epoch seconds.
        let input = r#"{"resourceType":"AWS::ECR::Repository","resourceId":"x","configurationItemCaptureTime":1763633730.5,"configuration":{}}"#;
        let c = parse(input.as_bytes(), None).unwrap();
        assert_eq!(
            c.repositories[0].captured_at.as_deref(),
            Some("2025-11-20T10:15:30.500Z")
        );
        let bad = r#"{"resourceType":"AWS::ECR::Repository","resourceId":"x","configurationItemCaptureTime":[1]}"#;
        assert!(parse(bad.as_bytes(), None).is_err());
    }

    #[test]
    fn invoking_event_object_and_other_resource_types() {
        let inner =
            item("OK", r#"{"BucketName":"b"}"#).replace("AWS::ECR::Repository", "AWS::S3::Bucket");
        let ev = format!(
            r#"{{"messageType":"ConfigurationItemChangeNotification","configurationItem":{inner}}}"#
        );
        let c = parse(ev.as_bytes(), None).unwrap();
        assert_eq!(
            c.repositories[0].resource_type,
            ResourceType::Other("AWS::S3::Bucket".into())
        );
        assert!(c.rule_parameters.is_none());
    }

    #[test]
    fn events_without_an_item_name_the_fetch() {
        let oversized = serde_json::json!({
            "invokingEvent": serde_json::json!({
                "configurationItemSummary": {
                    "changeType": "UPDATE", "configurationItemVersion": "1.3",
                    "configurationItemCaptureTime": CAPTURE, "configurationStateId": 1,
                    "awsAccountId": "123456789012", "configurationItemStatus": "OK",
                    "resourceType": "AWS::ECR::Repository", "resourceId": "big-repo",
                    "resourceName": "big-repo", "ARN": "arn:aws:ecr:eu-west-1:123456789012:repository/big-repo",
                    "awsRegion": "eu-west-1", "availabilityZone": "Not Applicable",
                    "configurationStateMd5Hash": ""
                },
                "messageType": "OversizedConfigurationItemChangeNotification",
                "notificationCreationTime": CAPTURE, "recordVersion": "1.0"
            }).to_string(),
            "ruleParameters": "{}", "resultToken": "t", "eventLeftScope": false
        });
        let err = parse(oversized.to_string().as_bytes(), None).unwrap_err();
        assert!(matches!(err, InputError::NeedsAws(_)));
        let msg = err.to_string();
        assert!(
            msg.contains(&format!(
                "GetResourceConfigHistory(resourceType=AWS::ECR::Repository, resourceId=big-repo, laterTime={CAPTURE}, limit=1)"
            )),
            "{msg}"
        );
        assert!(
            msg.contains("account 123456789012 region eu-west-1"),
            "{msg}"
        );

        let scheduled = serde_json::json!({
            "invokingEvent": serde_json::json!({"awsAccountId":"123456789012","notificationCreationTime":CAPTURE,
                "messageType":"ScheduledNotification","recordVersion":"1.0"}).to_string(),
            "ruleParameters": "{}", "resultToken": "t", "eventLeftScope": false,
            "configRuleArn": "arn:aws:config:ap-southeast-2:123456789012:config-rule/config-rule-x"
        });
        let msg = parse(scheduled.to_string().as_bytes(), None)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("DescribeRepositories in account 123456789012 region ap-southeast-2"),
            "{msg}"
        );
        let unknown = r#"{"messageType":"SomethingNew"}"#;
        let msg = parse(unknown.as_bytes(), None).unwrap_err().to_string();
        assert!(msg.contains("SomethingNew"), "{msg}");
    }

    #[test]
    fn bad_rule_parameters_name_the_key() {
        let ev = rule_event(
            &item("OK", PASCAL),
            r#"{"AllowedExclusionFilter":"latest"}"#,
            false,
        );
        let err = parse(ev.as_bytes(), None).unwrap_err();
        assert!(matches!(err, InputError::Params(_)));
        assert!(err.to_string().contains("AllowedExclusionFilter"), "{err}");
    }

    #[test]
    fn malformed_inputs_are_errors() {
        for bad in [
            "",
            "{",
            "[",
            "null",
            "5",
            "{}",
            r#"{"invokingEvent":"{"}"#,
            r#"{"invokingEvent":""}"#,
            r#"{"invokingEvent":5}"#,
            r#"{"invokingEvent":"{\"invokingEvent\":\"{}\"}"}"#,
            r#"{"messageType":"ConfigurationItemChangeNotification"}"#,
            r#"{"resourceType":"AWS::ECR::Repository"}"#,
            r#"{"resourceType":"AWS::ECR::Repository","resourceId":"x","configuration":"{"}"#,
            r#"{"resourceType":"AWS::ECR::Repository","resourceId":"x","configuration":{"ImageTagMutability":5}}"#,
            r#"{"resourceType":"AWS::ECR::Repository","resourceId":"x","tags":"a"}"#,
        ] {
            assert!(parse(bad.as_bytes(), None).is_err(), "{bad}");
        }
        let whole = rule_event(&item("OK", PASCAL), "{}", false);
        for cut in (0..whole.len()).step_by(7) {
            assert!(
                parse(&whole.as_bytes()[..cut], None).is_err(),
                "cut at {cut}"
            );
        }
    }
    // The rule-event reader as the Lambda uses it (moved from immutag-lambda's event.rs).

    fn lambda_event(invoking: serde_json::Value, params: Option<&str>) -> serde_json::Value {
        let mut e = serde_json::json!({
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
            e["ruleParameters"] = serde_json::Value::String(p.into());
        }
        e
    }

    fn parse_event(e: serde_json::Value) -> Result<RuleEvent, RuleEventError> {
        parse_rule_event(e.to_string().as_bytes())
    }

    #[test]
    fn scheduled() {
        let e = parse_event(lambda_event(
            serde_json::json!({"awsAccountId":"123456789012","notificationCreationTime":"2026-11-20T10:00:00.373Z","messageType":"ScheduledNotification","recordVersion":"1.0"}),
            Some(r#"{"Remediation":"IMMUTABLE"}"#),
        ))
        .unwrap();
        assert_eq!(e.partition(), "aws");
        assert_eq!(
            e.rule_parameters.unwrap().remediation,
            crate::RemediationMode::Immutable
        );
        match e.message {
            InvokingEvent::Scheduled(p) => {
                assert_eq!(p.notification_creation_time.as_second(), 1_795_168_800);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_message_type_is_named() {
        let err = parse_event(lambda_event(
            serde_json::json!({"messageType":"Surprise"}),
            None,
        ))
        .unwrap_err();
        assert!(
            matches!(&err, RuleEventError::UnknownMessageType(t) if t == "Surprise"),
            "{err}"
        );
    }

    #[test]
    fn bad_parameters_name_the_key_in_a_lambda_event() {
        let err = parse_event(lambda_event(
            serde_json::json!({"notificationCreationTime":"2026-11-20T10:00:00Z","messageType":"ScheduledNotification"}),
            Some(r#"{"Remediate":"IMMUTABLE"}"#),
        ))
        .unwrap_err();
        assert!(err.to_string().contains("`Remediate`"), "{err}");
    }

    #[test]
    fn broken_shapes_are_errors() {
        use serde_json::{Value, json};
        let mut e = lambda_event(json!({}), None);
        e["invokingEvent"] = Value::String("{not json".into());
        assert!(
            parse_event(e)
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );

        let mut e = lambda_event(json!({}), None);
        e.as_object_mut().unwrap().remove("invokingEvent");
        assert!(
            parse_event(e)
                .unwrap_err()
                .to_string()
                .contains("`invokingEvent`")
        );

        let e = lambda_event(
            json!({"notificationCreationTime":"yesterday","messageType":"ScheduledNotification"}),
            None,
        );
        assert!(
            parse_event(e)
                .unwrap_err()
                .to_string()
                .contains("`yesterday`")
        );

        let e = lambda_event(
            json!({"messageType":"ConfigurationItemChangeNotification","configurationItem":{"resourceType":"AWS::ECR::Repository"}}),
            None,
        );
        let err = parse_event(e).unwrap_err();
        assert!(err.to_string().contains("configurationItem"), "{err}");

        assert!(matches!(
            parse_event(json!([1, 2])).unwrap_err(),
            RuleEventError::NotAConfigEvent(_)
        ));
    }

    #[test]
    fn status_mapping() {
        for (s, want) in [
            ("OK", ResourceStatus::Active),
            ("ResourceDiscovered", ResourceStatus::Active),
            ("ResourceDeleted", ResourceStatus::Deleted),
            ("ResourceDeletedNotRecorded", ResourceStatus::Deleted),
            ("ResourceNotRecorded", ResourceStatus::NotRecorded),
        ] {
            assert_eq!(item_status(Some(s), "").unwrap(), want, "{s}");
        }
        // Issue 11: an unknown status is an error naming it, never "not recorded" (which
        // would report NOT_APPLICABLE: fail-open).
        let err = item_status(Some("Whatever"), "/x").unwrap_err().to_string();
        assert!(err.contains("`Whatever`"), "{err}");
    }

    #[test]
    fn an_unknown_status_fails_the_change_and_the_oversized_summary() {
        use serde_json::json;
        let change = lambda_event(
            json!({"messageType":"ConfigurationItemChangeNotification","configurationItem":{
                "resourceType":"AWS::ECR::Repository","resourceId":"api","configurationItemStatus":"ResourceVanished",
                "configurationItemCaptureTime":"2026-11-20T10:00:00Z","configuration":{"ImageTagMutability":"MUTABLE"}}}),
            None,
        );
        let err = parse_event(change).unwrap_err().to_string();
        assert!(
            err.contains("`ResourceVanished`") && err.contains("configurationItemStatus"),
            "{err}"
        );
        let oversized = lambda_event(
            json!({"messageType":"OversizedConfigurationItemChangeNotification","configurationItemSummary":{
                "resourceType":"AWS::ECR::Repository","resourceId":"api","configurationItemStatus":"Gone?",
                "configurationItemCaptureTime":"2026-11-20T10:00:00Z"}}),
            None,
        );
        let err = parse_event(oversized).unwrap_err().to_string();
        assert!(err.contains("`Gone?`"), "{err}");
    }

    #[test]
    fn rule_event_members_and_the_one_reader_of_evaluate() {
        use serde_json::json;
        let ev = rule_event(
            &item("OK", PASCAL),
            r#"{"AllowedExclusionFilters":"latest"}"#,
            false,
        );
        let e = parse_rule_event(ev.as_bytes()).unwrap();
        assert_eq!(e.account_id.as_deref(), Some("123456789012"));
        assert_eq!(e.config_rule_name.as_deref(), Some("immutag"));
        assert_eq!(e.result_token.as_deref(), Some("TESTMODE"));
        assert_eq!(e.rule_region(), Some("eu-west-1"));
        let InvokingEvent::ConfigurationItemChange(c) = &e.message else {
            panic!("{:?}", e.message)
        };
        assert_eq!(c.capture_time, crate::time::parse(CAPTURE).unwrap());
        // `parse` (immutag evaluate) reads the same event to the same repository.
        let via_parse = parse(ev.as_bytes(), None).unwrap();
        assert_eq!(via_parse.repositories, std::slice::from_ref(&c.repository));
        assert_eq!(via_parse.rule_parameters, e.rule_parameters);

        // Without a top-level accountId, the item's awsAccountId; no token: None.
        let mut v: serde_json::Value = serde_json::from_str(&ev).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("accountId");
        o.remove("resultToken");
        let e = parse_rule_event(v.to_string().as_bytes()).unwrap();
        assert_eq!(e.account_id.as_deref(), Some("123456789012"));
        assert_eq!(e.result_token, None);

        // An item without a capture time cannot be ordered: an error naming the member.
        let no_time = json!({"invokingEvent": json!({"messageType":"ConfigurationItemChangeNotification",
            "configurationItem":{"resourceType":"AWS::ECR::Repository","resourceId":"x"}}).to_string()});
        let err = parse_rule_event(no_time.to_string().as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("configurationItemCaptureTime"),
            "{err}"
        );
    }
}
