//! ECR API / CLI output: `DescribeRepositories` (`{"repositories":[...]}`),
//! `CreateRepository` (`{"repository":{...}}`), a bare repository object, or an array of them.
//!
//! Members are the API's camelCase names (`repositoryArn`, `registryId`, `repositoryName`,
//! `imageTagMutability`, `imageTagMutabilityExclusionFilters` of `{filterType, filter}`);
//! PascalCase spellings (as some SDKs and tools print them) are accepted too. The account is
//! `registryId` (else the ARN's), the region the ARN's. An absent `imageTagMutability` is
//! [`MutabilitySetting::Absent`] (the API default, MUTABLE).
//!
//! ```
//! use immutag_core::input::ecr;
//! let json = br#"{"repositories":[{"repositoryArn":"arn:aws:ecr:us-east-1:123456789012:repository/api",
//!   "registryId":"123456789012","repositoryName":"api","imageTagMutability":"IMMUTABLE"}]}"#;
//! let repos = ecr::parse(json, None).unwrap();
//! assert_eq!(repos[0].region.as_deref(), Some("us-east-1"));
//! ```

use serde::Deserialize;

use super::shared::{RawFilter, TagsField, json_error, non_empty, normalize_filters, split_arn};
use crate::error::InputError;
use crate::model::{
    FilterSetting, InputKind, MutabilitySetting, Repository, Source, TagMutability,
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
}

/// The top level: any of the wrappers, or a bare repository (its members at the top).
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "ECR API output (a JSON object)")]
struct Top {
    #[serde(default)]
    repositories: Option<Vec<RawRepository>>,
    #[serde(default)]
    repository: Option<RawRepository>,
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
        if let Some(list) = top.repositories {
            (list, "/repositories")
        } else if let Some(one) = top.repository {
            (vec![one], "/repository")
        } else {
            (vec![top.bare], "")
        }
    };
    let mut out = Vec::with_capacity(raws.len());
    for (i, raw) in raws.into_iter().enumerate() {
        let pointer = if base == "/repository" {
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
    let arn = non_empty(raw.arn);
    let parts = arn.as_deref().and_then(split_arn);
    let name =
        non_empty(raw.name).or_else(|| parts.as_ref().and_then(|p| p.name).map(str::to_owned));
    let Some(name) = name else {
        return Err(InputError::Shape {
            shape: SHAPE,
            pointer: if pointer.is_empty() { "/".into() } else { pointer },
            problem: "repository has neither `repositoryName` nor a `repositoryArn` to take it from; is this ECR DescribeRepositories output?".into(),
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
    repo.source = Source {
        file: file.map(str::to_owned),
        pointer: (!pointer.is_empty()).then_some(pointer),
        ..Source::new(InputKind::Ecr)
    };
    Ok(repo)
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
