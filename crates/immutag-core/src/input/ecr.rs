//! ECR API / CLI output: `DescribeRepositories` (`{"repositories":[...]}`),
//! `CreateRepository` (`{"repository":{...}}`), `DescribeRepositoryCreationTemplates`
//! (`{"registryId":..., "repositoryCreationTemplates":[...]}`), `Create`/`Update`/
//! `DeleteRepositoryCreationTemplate` (`{"repositoryCreationTemplate":{...}}`), a bare
//! repository or template object, or an array of them.
//!
//! Members are the API's camelCase names (`repositoryArn`, `registryId`, `repositoryName`,
//! `imageTagMutability`, `imageTagMutabilityExclusionFilters` of `{filterType, filter}`;
//! for templates `prefix` and `appliedFor`); PascalCase spellings (as some SDKs and tools print
//! them) are accepted too. An object with a `prefix` is a creation template (its resource id is
//! the prefix). The account is `registryId` (else the ARN's; for templates the output's
//! top-level `registryId`), the region the ARN's (templates have no ARN: no region). An absent
//! `imageTagMutability` is [`MutabilitySetting::Absent`] (the API default, MUTABLE).
//!
//! ```
//! use immutag_core::input::ecr;
//! let json = br#"{"repositories":[{"repositoryArn":"arn:aws:ecr:us-east-1:123456789012:repository/api",
//!   "registryId":"123456789012","repositoryName":"api","imageTagMutability":"IMMUTABLE"}]}"#;
//! let repos = ecr::parse(json, None).unwrap();
//! assert_eq!(repos[0].region.as_deref(), Some("us-east-1"));
//!
//! let json = br#"{"registryId":"123456789012","repositoryCreationTemplates":[
//!   {"prefix":"ROOT","appliedFor":["PULL_THROUGH_CACHE"],"imageTagMutability":"MUTABLE"}]}"#;
//! let templates = ecr::parse(json, None).unwrap();
//! assert_eq!(templates[0].resource_id, "ROOT");
//! assert_eq!(templates[0].account_id.as_deref(), Some("123456789012"));
//! ```

use serde::Deserialize;

use super::shared::{RawFilter, TagsField, json_error, non_empty, normalize_filters, split_arn};
use crate::error::InputError;
use crate::model::{
    AppliedFor, FilterSetting, InputKind, MutabilitySetting, Repository, Source, TagMutability,
    TemplatePrefix,
};

const SHAPE: &str = "ECR repositories";

/// One repository as the ECR API returns it.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a repository (a JSON object with repositoryName, imageTagMutability, ...)")]
pub(crate) struct RawRepository {
    #[serde(rename = "repositoryArn", alias = "RepositoryArn", default)]
    arn: Option<String>,
    #[serde(rename = "registryId", alias = "RegistryId", default)]
    registry_id: Option<String>,
    #[serde(rename = "repositoryName", alias = "RepositoryName", default)]
    name: Option<String>,
    #[serde(rename = "imageTagMutability", alias = "ImageTagMutability", default)]
    mutability: Option<String>,
    #[serde(
        rename = "imageTagMutabilityExclusionFilters",
        alias = "ImageTagMutabilityExclusionFilters",
        default
    )]
    filters: Option<Vec<RawFilter>>,
    #[serde(rename = "tags", alias = "Tags", default)]
    tags: Option<TagsField>,
    /// A creation template's prefix: its presence makes the object a template.
    #[serde(rename = "prefix", alias = "Prefix", default)]
    prefix: Option<String>,
    #[serde(rename = "appliedFor", alias = "AppliedFor", default)]
    applied_for: Option<Vec<String>>,
}

/// The top level: any of the wrappers, or a bare repository (its members at the top).
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "ECR API output (a JSON object)")]
struct Top {
    #[serde(default)]
    repositories: Option<Vec<RawRepository>>,
    #[serde(default)]
    repository: Option<RawRepository>,
    #[serde(
        rename = "repositoryCreationTemplates",
        alias = "RepositoryCreationTemplates",
        default
    )]
    templates: Option<Vec<RawRepository>>,
    #[serde(
        rename = "repositoryCreationTemplate",
        alias = "RepositoryCreationTemplate",
        default
    )]
    template: Option<RawRepository>,
    #[serde(flatten)]
    bare: RawRepository,
}

/// Parses ECR API output from `bytes`.
pub fn parse(bytes: &[u8], file: Option<&str>) -> Result<Vec<Repository>, InputError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let (raws, base): (Vec<RawRepository>, &str) = if first == Some(b'[') {
        (
            serde_json::from_slice(bytes).map_err(|e| json_error(&e, SHAPE))?,
            "",
        )
    } else {
        let top: Top = serde_json::from_slice(bytes).map_err(|e| json_error(&e, SHAPE))?;
        // The registry of template outputs is at the top (`registryId`), not in each template.
        let registry = non_empty(top.bare.registry_id.clone());
        let with_registry = |mut list: Vec<RawRepository>| {
            for t in &mut list {
                if t.registry_id.is_none() {
                    t.registry_id = registry.clone();
                }
            }
            list
        };
        if let Some(list) = top.repositories {
            (list, "/repositories")
        } else if let Some(one) = top.repository {
            (vec![one], "/repository")
        } else if let Some(list) = top.templates {
            (with_registry(list), "/repositoryCreationTemplates")
        } else if let Some(one) = top.template {
            (with_registry(vec![one]), "/repositoryCreationTemplate")
        } else {
            (vec![top.bare], "")
        }
    };
    let mut out = Vec::with_capacity(raws.len());
    for (i, raw) in raws.into_iter().enumerate() {
        let pointer = if base == "/repository" || base == "/repositoryCreationTemplate" {
            base.to_owned()
        } else if base.is_empty() && first != Some(b'[') {
            String::new()
        } else {
            format!("{base}/{i}")
        };
        out.push(normalize(raw, pointer, file)?);
    }
    Ok(out)
}

fn normalize(
    raw: RawRepository,
    pointer: String,
    file: Option<&str>,
) -> Result<Repository, InputError> {
    if raw.prefix.is_some() && raw.name.is_none() && raw.arn.is_none() {
        return normalize_template(raw, pointer, file);
    }
    let arn = non_empty(raw.arn);
    let parts = arn.as_deref().and_then(split_arn);
    let name =
        non_empty(raw.name).or_else(|| parts.as_ref().and_then(|p| p.name).map(str::to_owned));
    let Some(name) = name else {
        return Err(InputError::Shape {
            shape: SHAPE,
            pointer: if pointer.is_empty() { "/".into() } else { pointer },
            problem: "repository has neither `repositoryName` nor a `repositoryArn` to take it from (nor a `prefix`, as a creation template would); is this ECR DescribeRepositories output?".into(),
        });
    };
    let region = parts
        .as_ref()
        .map(|p| p.region.to_owned())
        .filter(|r| !r.is_empty());
    let account_id = non_empty(raw.registry_id).or_else(|| {
        parts
            .as_ref()
            .map(|p| p.account.to_owned())
            .filter(|a| !a.is_empty())
    });
    let filters_pointer = format!("{pointer}/imageTagMutabilityExclusionFilters");
    let filters = normalize_filters(raw.filters.unwrap_or_default(), SHAPE, &filters_pointer)?;
    let mut repo = Repository::new(name, InputKind::Ecr);
    repo.arn = arn;
    repo.region = region;
    repo.account_id = account_id;
    repo.tag_mutability = match raw.mutability {
        Some(m) => MutabilitySetting::set(TagMutability::parse(&m)),
        None => MutabilitySetting::Absent,
    };
    repo.exclusion_filters = FilterSetting::listed(filters);
    repo.tags = raw.tags.map(|t| t.0).unwrap_or_default();
    repo.source = source(file, pointer);
    Ok(repo)
}

/// A creation template: the prefix is its id, `appliedFor` says who inherits it. An empty
/// prefix is an error (the API requires one); an empty or missing `appliedFor` is kept empty
/// (the template then decides no repository, which the annotation says).
fn normalize_template(
    raw: RawRepository,
    pointer: String,
    file: Option<&str>,
) -> Result<Repository, InputError> {
    let Some(prefix) = non_empty(raw.prefix) else {
        return Err(InputError::Shape {
            shape: SHAPE,
            pointer: format!("{pointer}/prefix"),
            problem: "creation template has an empty `prefix` (use ROOT for the default template)"
                .into(),
        });
    };
    let applied_for = raw
        .applied_for
        .unwrap_or_default()
        .iter()
        .map(|a| AppliedFor::parse(a))
        .collect();
    let filters = normalize_filters(
        raw.filters.unwrap_or_default(),
        SHAPE,
        &format!("{pointer}/imageTagMutabilityExclusionFilters"),
    )?;
    let mut t =
        Repository::creation_template(TemplatePrefix::parse(&prefix), applied_for, InputKind::Ecr);
    t.account_id = non_empty(raw.registry_id);
    t.tag_mutability = match raw.mutability {
        Some(m) => MutabilitySetting::set(TagMutability::parse(&m)),
        None => MutabilitySetting::Absent,
    };
    t.exclusion_filters = FilterSetting::listed(filters);
    t.source = source(file, pointer);
    Ok(t)
}

fn source(file: Option<&str>, pointer: String) -> Source {
    Source {
        file: file.map(str::to_owned),
        pointer: (!pointer.is_empty()).then_some(pointer),
        ..Source::new(InputKind::Ecr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ExclusionFilter, FilterType};

    const ARN: &str = "arn:aws:ecr:eu-central-1:111122223333:repository/team/api";

    #[test]
    fn describe_repositories() {
        let json = format!(
            r#"{{"repositories":[
              {{"repositoryArn":"{ARN}","registryId":"111122223333","repositoryName":"team/api",
                "repositoryUri":"111122223333.dkr.ecr.eu-central-1.amazonaws.com/team/api",
                "createdAt":"2025-07-01T10:00:00+00:00","imageTagMutability":"IMMUTABLE_WITH_EXCLUSION",
                "imageTagMutabilityExclusionFilters":[{{"filterType":"WILDCARD","filter":"latest"}}],
                "imageScanningConfiguration":{{"scanOnPush":true}},
                "encryptionConfiguration":{{"encryptionType":"AES256"}}}},
              {{"repositoryName":"legacy","registryId":"111122223333"}}
            ],"nextToken":null}}"#
        );
        let repos = parse(json.as_bytes(), Some("d.json")).unwrap();
        assert_eq!(repos.len(), 2);
        let r = &repos[0];
        assert_eq!(r.name.as_deref(), Some("team/api"));
        assert_eq!(r.region.as_deref(), Some("eu-central-1"));
        assert_eq!(r.account_id.as_deref(), Some("111122223333"));
        assert_eq!(
            r.tag_mutability,
            MutabilitySetting::set(TagMutability::ImmutableWithExclusion)
        );
        assert_eq!(
            r.exclusion_filters.filters(),
            [ExclusionFilter::wildcard("latest")]
        );
        assert_eq!(r.source.pointer.as_deref(), Some("/repositories/0"));
        assert_eq!(r.source.file.as_deref(), Some("d.json"));
        assert_eq!(repos[1].tag_mutability, MutabilitySetting::Absent);
        assert_eq!(repos[1].region, None);
    }

    #[test]
    fn create_repository_bare_and_array() {
        let one = format!(
            r#"{{"repository":{{"repositoryArn":"{ARN}","imageTagMutability":"MUTABLE"}}}}"#
        );
        let r = &parse(one.as_bytes(), None).unwrap()[0];
        assert_eq!(r.name.as_deref(), Some("team/api"), "name from the ARN");
        assert_eq!(r.account_id.as_deref(), Some("111122223333"));
        assert_eq!(r.source.pointer.as_deref(), Some("/repository"));

        // Values are exact: `immutable` is no API value (an unknown value, fail closed).
        let bare = r#"{"repositoryName":"x","imageTagMutability":"immutable"}"#;
        let r = &parse(bare.as_bytes(), None).unwrap()[0];
        assert_eq!(
            r.tag_mutability,
            MutabilitySetting::set(TagMutability::Unknown("immutable".into()))
        );
        assert_eq!(r.source.pointer, None);

        let arr = r#"[{"RepositoryName":"a","ImageTagMutability":"SOMETIMES",
            "ImageTagMutabilityExclusionFilters":[{"FilterType":"REGEX","Filter":"x"}]},{"repositoryName":"b"}]"#;
        let rs = parse(arr.as_bytes(), None).unwrap();
        assert_eq!(rs.len(), 2);
        assert_eq!(
            rs[0].tag_mutability,
            MutabilitySetting::set(TagMutability::Unknown("SOMETIMES".into()))
        );
        assert_eq!(
            rs[0].exclusion_filters.filters()[0].filter_type,
            FilterType::Unknown("REGEX".into())
        );
        assert_eq!(rs[1].source.pointer.as_deref(), Some("/1"));
    }

    /// `aws ecr describe-repository-creation-templates` output, as the CLI prints it.
    const DESCRIBE_TEMPLATES: &str = r#"{
    "registryId": "111122223333",
    "repositoryCreationTemplates": [
        {
            "prefix": "ROOT",
            "description": "defaults",
            "encryptionConfiguration": {"encryptionType": "AES256"},
            "resourceTags": [{"Key": "team", "Value": "platform"}],
            "imageTagMutability": "MUTABLE",
            "appliedFor": ["PULL_THROUGH_CACHE", "REPLICATION"],
            "createdAt": "2026-11-01T10:00:00+00:00",
            "updatedAt": "2026-11-01T10:00:00+00:00"
        },
        {
            "prefix": "docker-hub",
            "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "latest"}],
            "repositoryPolicy": "{\"Version\":\"2012-10-17\",\"Statement\":[]}",
            "lifecyclePolicy": "{\"rules\":[]}",
            "appliedFor": ["PULL_THROUGH_CACHE"],
            "customRoleArn": "arn:aws:iam::111122223333:role/ecr-templates"
        },
        {"prefix": "legacy", "appliedFor": ["CREATE_ON_PUSH", "SOMETHING_NEW"]}
    ]
}"#;

    #[test]
    fn describe_repository_creation_templates() {
        use crate::model::{ResourceType, TemplateScope};
        let ts = parse(DESCRIBE_TEMPLATES.as_bytes(), Some("t.json")).unwrap();
        assert_eq!(ts.len(), 3);
        assert_eq!(
            ts[0].resource_type,
            ResourceType::CreationTemplate(TemplateScope {
                prefix: Some(TemplatePrefix::Root),
                applied_for: vec![AppliedFor::PullThroughCache, AppliedFor::Replication],
            })
        );
        assert_eq!(ts[0].resource_id, "ROOT");
        assert_eq!(ts[0].name, None);
        assert_eq!(ts[0].account_id.as_deref(), Some("111122223333"));
        assert_eq!(ts[0].region, None);
        assert!(
            ts[0].tags.is_empty(),
            "resourceTags are not the template's tags"
        );
        assert_eq!(
            ts[1].exclusion_filters.filters(),
            [ExclusionFilter::wildcard("latest")]
        );
        assert_eq!(
            ts[1].source.pointer.as_deref(),
            Some("/repositoryCreationTemplates/1")
        );
        assert_eq!(ts[2].tag_mutability, MutabilitySetting::Absent);
        assert_eq!(
            ts[2]
                .resource_type
                .template()
                .map(|t| t.applied_for.clone()),
            Some(vec![
                AppliedFor::CreateOnPush,
                AppliedFor::Unknown("SOMETHING_NEW".into())
            ])
        );

        // Create/Update/DeleteRepositoryCreationTemplate output, a bare template, an array.
        let one = r#"{"registryId":"111122223333","repositoryCreationTemplate":{"prefix":"prod","appliedFor":["REPLICATION"],"imageTagMutability":"IMMUTABLE"}}"#;
        let t = &parse(one.as_bytes(), None).unwrap()[0];
        assert_eq!(t.resource_id, "prod");
        assert_eq!(t.account_id.as_deref(), Some("111122223333"));
        assert_eq!(
            t.source.pointer.as_deref(),
            Some("/repositoryCreationTemplate")
        );
        let bare = r#"{"prefix":"prod","appliedFor":["REPLICATION"]}"#;
        assert_eq!(parse(bare.as_bytes(), None).unwrap()[0].resource_id, "prod");
        let arr = r#"[{"prefix":"a","appliedFor":[]},{"repositoryName":"b"}]"#;
        let both = parse(arr.as_bytes(), None).unwrap();
        assert!(both[0].resource_type.template().is_some());
        assert!(both[1].resource_type.template().is_none());

        for bad in [
            r#"{"repositoryCreationTemplates":[{"prefix":""}]}"#,
            r#"{"repositoryCreationTemplates":[{"prefix":"a","appliedFor":"REPLICATION"}]}"#,
            r#"{"repositoryCreationTemplates":{"prefix":"a"}}"#,
        ] {
            assert!(parse(bad.as_bytes(), None).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_not_panics() {
        for bad in [
            &b"{"[..],
            b"[",
            b"{\"repositories\":5}",
            b"{\"repositories\":[{}]}",
            b"{\"repositoryName\":3}",
            b"{\"repositoryName\":\"a\",\"imageTagMutabilityExclusionFilters\":[{\"filterType\":\"WILDCARD\"}]}",
            b"",
            b"null",
        ] {
            assert!(parse(bad, None).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let err = parse(b"{\"repositories\":[{}]}", None).unwrap_err();
        assert!(err.to_string().contains("/repositories/0"), "{err}");
        let err = parse(b"{\"repositories\": [", None).unwrap_err();
        assert!(
            matches!(
                err,
                InputError::Syntax {
                    location: Some(_),
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
