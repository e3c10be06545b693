//! AWS Config input: a whole custom-rule event, an invoking event, or configuration items
//! in the invocation form or the API form (GetResourceConfigHistory).
//!
//! What is read (see `docs/evaluation.md`):
//!
//! - **Rule event** (top-level `invokingEvent`, a JSON *string*, or an object): its
//!   `ruleParameters` (a JSON string of string values) become [`super::Parsed::rule_parameters`];
//!   `eventLeftScope: true` marks the item [`ResourceStatus::LeftScope`].
//! - **Invoking event** (`messageType` + `configurationItem`). Events that carry no item
//!   (`ScheduledNotification`, `OversizedConfigurationItemChangeNotification`,
//!   `ConfigurationSnapshotDeliveryCompleted`) are [`InputError::NeedsAws`] naming the API call
//!   the rule would make.
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
//! is an error naming it. A missing status is active (evaluated: fail closed). Resource
//! types other than `AWS::ECR::Repository` are kept; evaluation makes them NOT_APPLICABLE.
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

use super::shared::{
    Embedded, RawFilter, TagsField, TimeField, json_error, non_empty, normalize_filters, split_arn,
};
use crate::error::InputError;
use crate::model::{
    ECR_REPOSITORY_TYPE, FilterSetting, InputKind, MutabilitySetting, Repository, ResourceStatus,
    Source, TagMutability,
};
use crate::params::RuleParameters;

const SHAPE: &str = "AWS Config";

/// What a Config input holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigInput {
    /// The configuration items, as repositories (other resource types kept as they are).
    pub repositories: Vec<Repository>,
    /// The rule parameters of a whole rule event (`None` when the input is not one, or
    /// the event has no `ruleParameters`).
    pub rule_parameters: Option<RuleParameters>,
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
}

/// The union of every top-level member of every Config shape. One pass reads whichever
/// shape this is; [`interpret`] then decides.
#[derive(Debug, Default, Deserialize)]
#[serde(
    rename_all = "camelCase",
    expecting = "a Config rule event, invoking event or configuration item (a JSON object)"
)]
struct Top {
    // rule event
    #[serde(default)]
    invoking_event: Option<Embedded<Box<Top>>>,
    #[serde(default)]
    rule_parameters: Option<serde_json::Value>,
    #[serde(default)]
    event_left_scope: Option<bool>,
    #[serde(default)]
    config_rule_arn: Option<String>,
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

fn interpret(top: Top, file: Option<&str>) -> Result<ConfigInput, InputError> {
    if let Some(invoking) = top.invoking_event {
        // A whole rule event.
        let rule_parameters = match top.rule_parameters {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(RuleParameters::from_json(&s)?),
            Some(v) => Some(RuleParameters::from_value(&v)?),
        };
        let Some(inner) = invoking.0 else {
            return Err(shape_error(
                "/invokingEvent",
                "the rule event's invokingEvent is empty",
            ));
        };
        if inner.invoking_event.is_some() {
            return Err(shape_error(
                "/invokingEvent",
                "invokingEvent holds another rule event (invokingEvent inside invokingEvent)",
            ));
        }
        let left_scope = top.event_left_scope.unwrap_or(false);
        let region_hint = top
            .config_rule_arn
            .as_deref()
            .and_then(split_arn)
            .map(|p| p.region.to_owned());
        let repositories = invoking_event(*inner, "/invokingEvent", file, left_scope, region_hint)?;
        return Ok(ConfigInput {
            repositories,
            rule_parameters,
        });
    }
    if top.message_type.is_some() || top.configuration_item.is_some() {
        let repositories = invoking_event(top, "", file, false, None)?;
        return Ok(ConfigInput {
            repositories,
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

fn invoking_event(
    ev: Top,
    base: &str,
    file: Option<&str>,
    left_scope: bool,
    region_hint: Option<String>,
) -> Result<Vec<Repository>, InputError> {
    let message_type = ev
        .message_type
        .clone()
        .unwrap_or_else(|| "ConfigurationItemChangeNotification".to_owned());
    match message_type.as_str() {
        "ConfigurationItemChangeNotification" => {
            let Some(item) = ev.configuration_item else {
                return Err(shape_error(
                    &format!("{base}/configurationItem"),
                    "a ConfigurationItemChangeNotification without configurationItem",
                ));
            };
            Ok(vec![item_to_repository(
                *item,
                format!("{base}/configurationItem"),
                file,
                left_scope,
            )?])
        }
        "OversizedConfigurationItemChangeNotification" => {
            let s = ev.configuration_item_summary.unwrap_or_default();
            let rtype = s.resource_type.as_deref().unwrap_or(ECR_REPOSITORY_TYPE);
            let id = s.resource_id.as_deref().unwrap_or("?");
            let time = s
                .configuration_item_capture_time
                .0
                .as_deref()
                .unwrap_or("?");
            let account = s.aws_account_id.as_deref().unwrap_or("?");
            let region = s
                .aws_region
                .as_deref()
                .or(region_hint.as_deref())
                .unwrap_or("?");
            Err(InputError::NeedsAws(format!(
                "OversizedConfigurationItemChangeNotification: the event carries only a summary, not the configuration item. \
                 The rule would fetch it with GetResourceConfigHistory(resourceType={rtype}, resourceId={id}, laterTime={time}, limit=1) \
                 in account {account} region {region}. Offline: run `aws configservice get-resource-config-history --resource-type {rtype} \
                 --resource-id {id} --later-time {time} --limit 1 --region {region}` and evaluate its output"
            )))
        }
        "ScheduledNotification" | "ConfigurationSnapshotDeliveryCompleted" => {
            let account = ev.aws_account_id.as_deref().unwrap_or("?");
            let region = ev
                .aws_region
                .as_deref()
                .or(region_hint.as_deref())
                .unwrap_or("?");
            let at = ev
                .notification_creation_time
                .as_deref()
                .map(|t| format!(" (notification of {t})"))
                .unwrap_or_default();
            Err(InputError::NeedsAws(format!(
                "{message_type}{at}: a periodic trigger carries no configuration item. The rule would list the repositories with \
                 DescribeRepositories in account {account} region {region}. Offline: run `aws ecr describe-repositories --region {region}` \
                 and evaluate its output"
            )))
        }
        other => Err(shape_error(
            &format!("{base}/messageType"),
            &format!(
                "unknown messageType `{other}` (known: ConfigurationItemChangeNotification, OversizedConfigurationItemChangeNotification, ScheduledNotification, ConfigurationSnapshotDeliveryCompleted)"
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
    let status = match item.configuration_item_status.as_deref() {
        None | Some("OK") | Some("ResourceDiscovered") => ResourceStatus::Active,
        Some("ResourceDeleted") | Some("ResourceDeletedNotRecorded") => ResourceStatus::Deleted,
        Some("ResourceNotRecorded") => ResourceStatus::NotRecorded,
        Some(other) => {
            return Err(shape_error(
                &format!("{pointer}/configurationItemStatus"),
                &format!(
                    "unknown configurationItemStatus `{other}` (known: OK, ResourceDiscovered, ResourceNotRecorded, ResourceDeleted, ResourceDeletedNotRecorded)"
                ),
            ));
        }
    };
    let status = if left_scope {
        ResourceStatus::LeftScope
    } else {
        status
    };
    let resource_type =
        non_empty(item.resource_type).unwrap_or_else(|| ECR_REPOSITORY_TYPE.to_owned());
    let configuration = match item.configuration.and_then(|c| c.0) {
        Some(c) => c,
        // An active repository item always carries its configuration: without it the
        // setting is unknown, and an item that says nothing is no evidence.
        None if status == ResourceStatus::Active && resource_type == ECR_REPOSITORY_TYPE => {
            return Err(shape_error(
                &format!("{pointer}/configuration"),
                "an active AWS::ECR::Repository configuration item without `configuration`: its tag mutability is unknown",
            ));
        }
        None => RawConfiguration::default(),
    };
    let arn = non_empty(item.arn).or(non_empty(configuration.arn));
    let parts = arn.as_deref().and_then(split_arn);
    let name = non_empty(configuration.name)
        .or_else(|| non_empty(item.resource_name.clone()))
        .or_else(|| non_empty(item.resource_id.clone()))
        .or_else(|| parts.as_ref().and_then(|p| p.name).map(str::to_owned));
    let resource_id = non_empty(item.resource_id)
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
        assert_eq!(c.repositories[0].resource_type, "AWS::S3::Bucket");
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
}
