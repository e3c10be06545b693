//! A configuration item (invocation form from the event, or API form from
//! GetResourceConfigHistory) read as a [`Repository`].
//!
//! NOTE: this is a stop-gap until immutag-core's Config input parser
//! (`immutag_core::input::config`) lands; the handler calls only [`repository_from_item`], so
//! switching is a one-function change.

use immutag_core::{
    ExclusionFilter, FilterSetting, FilterType, InputKind, MutabilitySetting, Repository,
    ResourceStatus, Source, TagMutability,
};
use serde_json::Value;

fn text<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| v.get(*k).and_then(Value::as_str))
}

/// Reads one configuration item (either form) as a repository. The error says what is
/// missing or malformed.
pub fn repository_from_item(item: &Value) -> Result<Repository, String> {
    if !item.is_object() {
        return Err("the configuration item is not a JSON object".into());
    }
    let resource_type = text(item, &["resourceType"]).ok_or("no `resourceType`")?;
    let resource_id = text(item, &["resourceId"]).ok_or("no `resourceId`")?;
    // Invocation form: `configuration` is an object; API form: a JSON string.
    let configuration: Value = match item.get("configuration") {
        Some(Value::String(s)) => serde_json::from_str(s)
            .map_err(|e| format!("`configuration` is a string but not JSON: {e}"))?,
        Some(v @ Value::Object(_)) => v.clone(),
        Some(Value::Null) | None => Value::Null,
        Some(_) => return Err("`configuration` is neither an object nor a JSON string".into()),
    };
    let mut repo = Repository::new(resource_id.to_owned(), InputKind::Config);
    repo.resource_type = resource_type.to_owned();
    repo.name = text(&configuration, &["RepositoryName", "repositoryName"])
        .or(text(item, &["resourceName"]))
        .map(str::to_owned);
    repo.account_id = text(item, &["awsAccountId", "accountId"]).map(str::to_owned);
    repo.region = text(item, &["awsRegion"]).map(str::to_owned);
    repo.arn = text(item, &["ARN", "arn"]).map(str::to_owned);
    repo.captured_at = text(item, &["configurationItemCaptureTime"]).map(str::to_owned);
    repo.status = match text(item, &["configurationItemStatus"]) {
        Some("OK" | "ResourceDiscovered") | None => ResourceStatus::Active,
        Some("ResourceDeleted" | "ResourceDeletedNotRecorded") => ResourceStatus::Deleted,
        Some(_) => ResourceStatus::NotRecorded,
    };
    repo.source = Source::new(InputKind::Config);
    repo.tag_mutability = match configuration.get("ImageTagMutability").or(configuration.get("imageTagMutability")) {
        Some(Value::String(s)) => MutabilitySetting::set(TagMutability::parse(s)),
        Some(Value::Null) | None => MutabilitySetting::Absent,
        Some(other) => MutabilitySetting::set(TagMutability::Unknown(other.to_string())),
    };
    let filters = configuration
        .get("ImageTagMutabilityExclusionFilters")
        .or(configuration.get("imageTagMutabilityExclusionFilters"));
    repo.exclusion_filters = match filters {
        None | Some(Value::Null) => FilterSetting::default(),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for f in items {
                let kind = text(
                    f,
                    &["ImageTagMutabilityExclusionFilterType", "filterType", "FilterType"],
                )
                .unwrap_or("WILDCARD");
                let value = text(
                    f,
                    &["ImageTagMutabilityExclusionFilterValue", "filter", "Filter"],
                )
                .ok_or("an exclusion filter has no value")?;
                out.push(ExclusionFilter {
                    filter_type: FilterType::parse(kind),
                    filter: value.to_owned(),
                });
            }
            FilterSetting::listed(out)
        }
        Some(_) => return Err("`ImageTagMutabilityExclusionFilters` is not a list".into()),
    };
    // Tags: the item's `tags` map, and the `Tags` list inside `configuration`.
    repo.tags = crate::event::item_tags(item);
    if let Some(Value::Array(list)) = configuration.get("Tags") {
        for t in list {
            if let (Some(k), Some(v)) = (text(t, &["Key"]), text(t, &["Value"])) {
                repo.tags.entry(k.to_owned()).or_insert_with(|| v.to_owned());
            }
        }
    }
    Ok(repo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn invocation_and_api_forms_agree() {
        let invocation = json!({
            "resourceType": "AWS::ECR::Repository", "resourceId": "app",
            "awsAccountId": "123456789012", "awsRegion": "eu-west-1",
            "ARN": "arn:aws:ecr:eu-west-1:123456789012:repository/app",
            "configurationItemStatus": "OK", "tags": {"team": "core"},
            "configuration": {"RepositoryName": "app", "ImageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
              "ImageTagMutabilityExclusionFilters": [{"ImageTagMutabilityExclusionFilterType": "WILDCARD", "ImageTagMutabilityExclusionFilterValue": "latest"}]}
        });
        let api = json!({
            "resourceType": "AWS::ECR::Repository", "resourceId": "app",
            "accountId": "123456789012", "awsRegion": "eu-west-1",
            "arn": "arn:aws:ecr:eu-west-1:123456789012:repository/app",
            "configurationItemStatus": "OK", "tags": {"team": "core"},
            "configuration": "{\"RepositoryName\":\"app\",\"ImageTagMutability\":\"IMMUTABLE_WITH_EXCLUSION\",\"ImageTagMutabilityExclusionFilters\":[{\"filterType\":\"WILDCARD\",\"filter\":\"latest\"}]}"
        });
        let a = repository_from_item(&invocation).unwrap();
        let b = repository_from_item(&api).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.exclusion_filters.filters()[0].filter, "latest");
        assert_eq!(a.tags["team"], "core");
        assert_eq!(a.account_id.as_deref(), Some("123456789012"));
    }

    #[test]
    fn absent_setting_and_errors() {
        let r = repository_from_item(&json!({"resourceType":"AWS::ECR::Repository","resourceId":"x","configuration":{}})).unwrap();
        assert_eq!(r.tag_mutability, MutabilitySetting::Absent);
        assert!(repository_from_item(&json!({"resourceId":"x"})).unwrap_err().contains("resourceType"));
        assert!(
            repository_from_item(&json!({"resourceType":"t","resourceId":"x","configuration":"{bad"}))
                .unwrap_err()
                .contains("not JSON")
        );
    }
}
