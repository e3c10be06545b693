//! A configuration item (invocation form from the event, or API form from
//! GetResourceConfigHistory) read as a [`Repository`] by immutag-core's Config input parser
//! (`immutag_core::input::config`).

use immutag_core::Repository;
use serde_json::Value;

/// Reads one configuration item (either form) as a repository. The error says what is
/// missing or malformed.
pub fn repository_from_item(item: &Value) -> Result<Repository, String> {
    if !item.is_object() {
        return Err("the configuration item is not a JSON object".into());
    }
    let bytes = serde_json::to_vec(item).map_err(|e| e.to_string())?;
    let parsed = immutag_core::input::config::parse(&bytes, None).map_err(|e| e.to_string())?;
    let mut repositories = parsed.repositories.into_iter();
    match (repositories.next(), repositories.next()) {
        (Some(repo), None) => Ok(repo),
        (None, _) => Err("the configuration item holds no resource".into()),
        (Some(_), Some(_)) => Err("expected one configuration item, found several".into()),
    }
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
        let r = repository_from_item(
            &json!({"resourceType":"AWS::ECR::Repository","resourceId":"x","configuration":{}}),
        )
        .unwrap();
        assert_eq!(r.tag_mutability, immutag_core::MutabilitySetting::Absent);
        assert!(repository_from_item(&json!([1])).is_err());
        let err = repository_from_item(
            &json!({"resourceType":"AWS::ECR::Repository","resourceId":"x","configuration":"{bad"}),
        )
        .unwrap_err();
        assert!(err.contains("JSON held by a string"), "{err}");
    }
}
