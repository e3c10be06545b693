//! Terraform plans and state as JSON (`terraform show -json plan.out`,
//! `terraform show -json`).
//!
//! Every managed `aws_ecr_repository` and `aws_ecr_repository_creation_template` becomes a
//! [`Repository`] whose [`Source::logical_id`] is the resource address
//! (`module.app.aws_ecr_repository.api["x"]`).
//! Resources are read from `resource_changes[].change.after` (with `after_unknown`, so that a
//! value known only after apply is [`MutabilitySetting::Unresolved`]), then from
//! `planned_values.root_module` (plans) or `values.root_module` (state), recursing into
//! `child_modules`, for addresses not already read.
//!
//! Planned actions: `create`, `update`, `no-op`, `read` and both orders of a replace
//! (`["delete","create"]`, `["create","delete"]`) are evaluated from `after`, the object
//! after apply. A resource whose only action is `delete` is skipped (it will not exist after
//! apply), as is one to `forget` (a `removed` block: Terraform stops managing it and its live
//! setting stays as it is; `after` is null) and a deposed object (the old object of a
//! replace, `deposed` set, which is being destroyed). Data sources (`mode: data`) are not
//! repositories Terraform manages and are skipped. Addresses with `for_each` keys or `count`
//! indexes and nested child modules are read as they are.
//!
//! Attributes: `image_tag_mutability` (null or absent: [`MutabilitySetting::Absent`], which
//! evaluates like the provider's and the API's default, MUTABLE),
//! `image_tag_mutability_exclusion_filter` blocks (`[{filter, filter_type}]`), `name`,
//! `tags` over `tags_all`, `arn`, `registry_id`, `region`; of a creation template `prefix`
//! (its id; known only after apply: no prefix, never exempt by name) and `applied_for` instead
//! of `name` and the tags (its `resource_tags` are for the repositories it creates).
//!
//! ```
//! use immutag_core::input::terraform;
//! let plan = br#"{"format_version":"1.2","resource_changes":[{"address":"aws_ecr_repository.api",
//!   "mode":"managed","type":"aws_ecr_repository","change":{"actions":["create"],
//!   "after":{"name":"api","image_tag_mutability":"MUTABLE"},"after_unknown":{"arn":true}}}]}"#;
//! let repos = terraform::parse(plan, None).unwrap();
//! assert_eq!(repos[0].source.logical_id.as_deref(), Some("aws_ecr_repository.api"));
//! ```

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

use super::shared::{json_error, split_arn, value_text};
use crate::error::InputError;
use crate::model::{
    AppliedFor, ExclusionFilter, FilterSetting, FilterType, InputKind, MutabilitySetting,
    Repository, ResourceType, Source, TagMutability, TemplatePrefix, TemplateScope,
};

const SHAPE: &str = "Terraform plan";
const RESOURCE_TYPE: &str = "aws_ecr_repository";
const TEMPLATE_TYPE: &str = "aws_ecr_repository_creation_template";

/// Parses a Terraform plan or state in JSON.
pub fn parse(bytes: &[u8], file: Option<&str>) -> Result<Vec<Repository>, InputError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| json_error(&e, SHAPE))?;
    let Some(top) = doc.as_object() else {
        return Err(shape(
            "/",
            "expected the JSON object of `terraform show -json`",
        ));
    };
    if ![
        "resource_changes",
        "planned_values",
        "values",
        "format_version",
    ]
    .iter()
    .any(|k| top.contains_key(*k))
    {
        return Err(shape(
            "/",
            "no format_version, resource_changes, planned_values or values: not `terraform show -json` output",
        ));
    }
    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();

    match top.get("resource_changes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(changes)) => {
            for (i, rc) in changes.iter().enumerate() {
                if !is_ecr_repository(rc) {
                    continue;
                }
                if rc.get("deposed").is_some_and(|d| !d.is_null()) {
                    // The old object of a replace, being destroyed.
                    continue;
                }
                let address = address_of(rc, &format!("resource_changes[{i}]"));
                seen.insert(address.clone());
                let change = rc.get("change");
                let actions: Vec<&str> = change
                    .and_then(|c| c.get("actions"))
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if actions == ["delete"] || actions.contains(&"forget") {
                    continue;
                }
                let pointer = format!("/resource_changes/{i}/change/after");
                let after = change.and_then(|c| c.get("after"));
                let Some(values) = after.and_then(Value::as_object) else {
                    return Err(shape(&pointer, "change.after is not an object"));
                };
                let unknown = change.and_then(|c| c.get("after_unknown"));
                out.push(repository(rc, values, unknown, address, pointer, file)?);
            }
        }
        Some(_) => return Err(shape("/resource_changes", "expected an array")),
    }

    for key in ["planned_values", "values"] {
        let Some(root) = top.get(key).and_then(|v| v.get("root_module")) else {
            continue;
        };
        // Iterative walk of the module tree (no recursion on input depth).
        let mut stack: Vec<(&Value, String)> = vec![(root, format!("/{key}/root_module"))];
        while let Some((module, path)) = stack.pop() {
            if let Some(resources) = module.get("resources").and_then(Value::as_array) {
                for (i, r) in resources.iter().enumerate() {
                    if !is_ecr_repository(r) {
                        continue;
                    }
                    let address = address_of(r, &format!("{path}/resources/{i}"));
                    if !seen.insert(address.clone()) {
                        continue;
                    }
                    let pointer = format!("{path}/resources/{i}/values");
                    let Some(values) = r.get("values").and_then(Value::as_object) else {
                        return Err(shape(&pointer, "values is not an object"));
                    };
                    out.push(repository(r, values, None, address, pointer, file)?);
                }
            }
            if let Some(children) = module.get("child_modules").and_then(Value::as_array) {
                for (i, child) in children.iter().enumerate().rev() {
                    stack.push((child, format!("{path}/child_modules/{i}")));
                }
            }
        }
    }
    Ok(out)
}

fn shape(pointer: &str, problem: &str) -> InputError {
    InputError::Shape {
        shape: SHAPE,
        pointer: pointer.to_owned(),
        problem: problem.to_owned(),
    }
}

/// `a number`, `a list`, ... for messages.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A managed repository or creation template.
fn is_ecr_repository(r: &Value) -> bool {
    matches!(
        r.get("type").and_then(Value::as_str),
        Some(RESOURCE_TYPE | TEMPLATE_TYPE)
    ) && r.get("mode").and_then(Value::as_str).unwrap_or("managed") == "managed"
}

fn address_of(r: &Value, fallback: &str) -> String {
    r.get("address")
        .and_then(Value::as_str)
        .map_or_else(|| fallback.to_owned(), str::to_owned)
}

/// True when `after_unknown` marks the attribute (or anything inside it) unknown.
fn unknown(u: Option<&Value>, attr: &str) -> bool {
    fn any_true(v: &Value) -> bool {
        match v {
            Value::Bool(b) => *b,
            Value::Array(a) => a.iter().any(any_true),
            Value::Object(o) => o.values().any(any_true),
            _ => false,
        }
    }
    match u {
        Some(Value::Bool(true)) => true,
        Some(Value::Object(o)) => o.get(attr).is_some_and(any_true),
        _ => false,
    }
}

fn repository(
    resource: &Value,
    values: &Map<String, Value>,
    after_unknown: Option<&Value>,
    address: String,
    pointer: String,
    file: Option<&str>,
) -> Result<Repository, InputError> {
    let template = resource.get("type").and_then(Value::as_str) == Some(TEMPLATE_TYPE);
    let text = |k: &str| {
        values
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let tag_mutability = if unknown(after_unknown, "image_tag_mutability") {
        MutabilitySetting::Unresolved {
            reason: "image_tag_mutability is known only after apply".into(),
        }
    } else {
        match values.get("image_tag_mutability") {
            None | Some(Value::Null) => MutabilitySetting::Absent,
            Some(Value::String(s)) => MutabilitySetting::set(TagMutability::parse(s)),
            Some(other) => {
                return Err(shape(
                    &format!("{pointer}/image_tag_mutability"),
                    &format!(
                        "image_tag_mutability is {}, expected a string",
                        json_kind(other)
                    ),
                ));
            }
        }
    };
    let filters_attr = "image_tag_mutability_exclusion_filter";
    let exclusion_filters = if unknown(after_unknown, filters_attr) {
        FilterSetting::Unresolved {
            reason: format!("{filters_attr} is known only after apply"),
        }
    } else {
        match values.get(filters_attr) {
            None | Some(Value::Null) => FilterSetting::default(),
            Some(Value::Array(blocks)) => {
                let mut filters = Vec::with_capacity(blocks.len());
                for (i, block) in blocks.iter().enumerate() {
                    let Some(filter) = block.get("filter").and_then(Value::as_str) else {
                        return Err(shape(
                            &format!("{pointer}/{filters_attr}/{i}"),
                            "exclusion filter block has no `filter` string",
                        ));
                    };
                    let filter_type = match block.get("filter_type").and_then(Value::as_str) {
                        Some(t) => FilterType::parse(t),
                        None => FilterType::Unknown("(missing)".into()),
                    };
                    filters.push(ExclusionFilter {
                        filter_type,
                        filter: filter.to_owned(),
                    });
                }
                FilterSetting::listed(filters)
            }
            Some(_) => {
                return Err(shape(
                    &format!("{pointer}/{filters_attr}"),
                    "expected a list of {filter, filter_type} blocks",
                ));
            }
        }
    };
    let mut tags = BTreeMap::new();
    let tag_keys: &[&str] = if template { &[] } else { &["tags_all", "tags"] };
    for key in tag_keys.iter().copied() {
        match values.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    tags.insert(k.clone(), value_text(v));
                }
            }
            Some(other) => {
                return Err(shape(
                    &format!("{pointer}/{key}"),
                    &format!("{key} is {}, expected a map of strings", json_kind(other)),
                ));
            }
        }
    }
    for key in ["name", "arn", "registry_id", "region", "prefix"] {
        if let Some(v) = values.get(key).filter(|v| !v.is_null() && !v.is_string()) {
            return Err(shape(
                &format!("{pointer}/{key}"),
                &format!("{key} is {}, expected a string", json_kind(v)),
            ));
        }
    }
    let arn = text("arn");
    let parts = arn.as_deref().and_then(split_arn);
    let (resource_type, name, resource_id) = if template {
        let prefix = text("prefix").filter(|_| !unknown(after_unknown, "prefix"));
        let scope = TemplateScope {
            prefix: prefix.as_deref().map(TemplatePrefix::parse),
            applied_for: applied_for(values, after_unknown, &pointer)?,
        };
        let id = prefix.unwrap_or_else(|| address.clone());
        (ResourceType::CreationTemplate(scope), None, id)
    } else {
        let name = text("name");
        let id = name.clone().unwrap_or_else(|| address.clone());
        (ResourceType::Repository, name, id)
    };
    Ok(Repository {
        resource_type,
        resource_id,
        name,
        account_id: text("registry_id").or_else(|| {
            parts
                .as_ref()
                .map(|p| p.account.to_owned())
                .filter(|a| !a.is_empty())
        }),
        region: text("region").or_else(|| {
            parts
                .as_ref()
                .map(|p| p.region.to_owned())
                .filter(|r| !r.is_empty())
        }),
        arn,
        tag_mutability,
        exclusion_filters,
        tags,
        status: crate::model::ResourceStatus::Active,
        captured_at: None,
        source: Source {
            kind: InputKind::Terraform,
            file: file.map(str::to_owned),
            logical_id: Some(address),
            pointer: Some(pointer),
            line: None,
        },
    })
}

/// `applied_for` of a creation template: a set of strings (unknown until apply: kept as an
/// unknown entry that says so).
fn applied_for(
    values: &Map<String, Value>,
    after_unknown: Option<&Value>,
    pointer: &str,
) -> Result<Vec<AppliedFor>, InputError> {
    if unknown(after_unknown, "applied_for") {
        return Ok(vec![AppliedFor::Unknown(
            "applied_for known only after apply".into(),
        )]);
    }
    match values.get("applied_for") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(AppliedFor::parse(s)),
                other => Err(shape(
                    &format!("{pointer}/applied_for/{i}"),
                    &format!(
                        "applied_for entry is {}, expected a string",
                        json_kind(other)
                    ),
                )),
            })
            .collect(),
        Some(other) => Err(shape(
            &format!("{pointer}/applied_for"),
            &format!("applied_for is {}, expected a list", json_kind(other)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &[u8] = include_bytes!("../../../../docs/examples/terraform-plan.json");

    fn addresses(repos: &[Repository]) -> Vec<&str> {
        repos
            .iter()
            .map(|r| r.source.logical_id.as_deref().unwrap())
            .collect()
    }

    #[test]
    fn example_plan() {
        let repos = parse(PLAN, Some("plan.json")).unwrap();
        assert_eq!(
            addresses(&repos),
            [
                "aws_ecr_repository.api",
                "aws_ecr_repository.legacy",
                "aws_ecr_repository.events",
                "module.build.aws_ecr_repository.this[\"build-cache\"]",
                "module.build.aws_ecr_repository.this[\"preview\"]",
                "module.build.aws_ecr_repository.this[\"scratch\"]",
            ],
            "the planned delete of old_ui is skipped"
        );
        let api = &repos[0];
        assert_eq!(
            api.tag_mutability,
            MutabilitySetting::set(TagMutability::Immutable)
        );
        assert_eq!(api.resource_id, "orders/api");
        assert_eq!(api.account_id, None, "registry_id unknown until apply");
        assert_eq!(api.region.as_deref(), Some("eu-west-1"));
        assert_eq!(api.tags["team"], "orders");
        assert_eq!(
            api.source.pointer.as_deref(),
            Some("/resource_changes/0/change/after")
        );
        assert_eq!(api.source.file.as_deref(), Some("plan.json"));
        assert!(
            matches!(repos[2].tag_mutability, MutabilitySetting::Unresolved { ref reason } if reason.contains("after apply"))
        );
        let cache = &repos[3];
        assert_eq!(cache.account_id.as_deref(), Some("444455556666"));
        assert_eq!(
            cache.exclusion_filters.filters(),
            [
                ExclusionFilter::wildcard("latest"),
                ExclusionFilter::wildcard("build-*")
            ]
        );
        assert_eq!(repos[5].tag_mutability, MutabilitySetting::Absent);
        assert_eq!(repos[5].tags["immutag:exempt"], "OPS-77");
        assert_eq!(
            repos[5].tags["managed-by"], "terraform",
            "tags_all is merged"
        );
    }

    #[test]
    fn planned_values_and_state_without_changes() {
        let plan = r#"{"format_version":"1.2","planned_values":{"root_module":{"child_modules":[{"address":"module.a",
            "child_modules":[{"address":"module.a.module.b","resources":[{"address":"module.a.module.b.aws_ecr_repository.r",
            "mode":"managed","type":"aws_ecr_repository","values":{"name":"deep","image_tag_mutability":"IMMUTABLE"}}]}]}],
            "resources":[{"address":"data.aws_ecr_repository.x","mode":"data","type":"aws_ecr_repository","values":{"name":"d"}},
            {"address":"aws_s3_bucket.b","mode":"managed","type":"aws_s3_bucket","values":{}}]}}}"#;
        let repos = parse(plan.as_bytes(), None).unwrap();
        assert_eq!(repos.len(), 1, "data sources and other types are ignored");
        assert_eq!(repos[0].name.as_deref(), Some("deep"));
        assert_eq!(
            repos[0].source.pointer.as_deref(),
            Some("/planned_values/root_module/child_modules/0/child_modules/0/resources/0/values")
        );
        let state = r#"{"format_version":"1.0","values":{"root_module":{"resources":[{"address":"aws_ecr_repository.s",
            "mode":"managed","type":"aws_ecr_repository","values":{"name":"s","image_tag_mutability":null,
            "arn":"arn:aws:ecr:us-west-2:123456789012:repository/s"}}]}}}"#;
        let r = &parse(state.as_bytes(), None).unwrap()[0];
        assert_eq!(r.tag_mutability, MutabilitySetting::Absent);
        assert_eq!(r.region.as_deref(), Some("us-west-2"));
        assert_eq!(r.account_id.as_deref(), Some("123456789012"));
    }

    #[test]
    fn every_planned_action_reads() {
        let change = |address: &str, actions: &str, after: &str, extra: &str| {
            format!(
                r#"{{"address":"{address}","mode":"managed","type":"aws_ecr_repository"{extra},"change":{{"actions":{actions},"before":{{"name":"old","image_tag_mutability":"MUTABLE"}},"after":{after},"after_unknown":{{}}}}}}"#
            )
        };
        let immutable = r#"{"name":"n","image_tag_mutability":"IMMUTABLE"}"#;
        let changes = [
            change("aws_ecr_repository.created", r#"["create"]"#, immutable, ""),
            change("aws_ecr_repository.updated", r#"["update"]"#, immutable, ""),
            change("aws_ecr_repository.same", r#"["no-op"]"#, immutable, ""),
            change("aws_ecr_repository.read", r#"["read"]"#, immutable, ""),
            change("aws_ecr_repository.replaced", r#"["delete","create"]"#, immutable, ""),
            change("aws_ecr_repository.cbd", r#"["create","delete"]"#, immutable, ""),
            change("aws_ecr_repository.cbd", r#"["delete"]"#, "null", r#","deposed":"a1b2c3d4""#),
            change("aws_ecr_repository.gone", r#"["delete"]"#, "null", ""),
            change("aws_ecr_repository.forgotten", r#"["forget"]"#, "null", ""),
            change(r#"module.a.module.b.aws_ecr_repository.each[\"x\"]"#, r#"["create"]"#, immutable, ""),
            change("aws_ecr_repository.counted[0]", r#"["create"]"#, immutable, ""),
            r#"{"address":"data.aws_ecr_repository.d","mode":"data","type":"aws_ecr_repository","change":{"actions":["read"],"after":null}}"#.to_owned(),
        ];
        let plan = format!(
            r#"{{"format_version":"1.2","resource_changes":[{}],"planned_values":{{"root_module":{{"resources":[{{"address":"aws_ecr_repository.forgotten","mode":"managed","type":"aws_ecr_repository","values":{{"name":"f"}}}}]}}}}}}"#,
            changes.join(",")
        );
        let repos = parse(plan.as_bytes(), None).unwrap();
        assert_eq!(
            addresses(&repos),
            [
                "aws_ecr_repository.created",
                "aws_ecr_repository.updated",
                "aws_ecr_repository.same",
                "aws_ecr_repository.read",
                "aws_ecr_repository.replaced",
                "aws_ecr_repository.cbd",
                "module.a.module.b.aws_ecr_repository.each[\"x\"]",
                "aws_ecr_repository.counted[0]",
            ],
            "deleted, forgotten, deposed and data resources are not evaluated"
        );
        assert!(
            repos
                .iter()
                .all(|r| r.tag_mutability == MutabilitySetting::set(TagMutability::Immutable))
        );
    }

    #[test]
    fn unknown_filters_and_errors() {
        let plan = r#"{"resource_changes":[{"address":"aws_ecr_repository.r","type":"aws_ecr_repository",
            "change":{"actions":["create"],"after":{"image_tag_mutability":"IMMUTABLE_WITH_EXCLUSION",
            "image_tag_mutability_exclusion_filter":[{"filter_type":"WILDCARD"}]},
            "after_unknown":{"image_tag_mutability_exclusion_filter":[{"filter":true}]}}}]}"#;
        let r = &parse(plan.as_bytes(), None).unwrap()[0];
        assert!(matches!(
            r.exclusion_filters,
            FilterSetting::Unresolved { .. }
        ));
        assert_eq!(
            r.resource_id, "aws_ecr_repository.r",
            "no name: the address"
        );
        for bad in [
            "{",
            "[]",
            r#"{"a":1}"#,
            r#"{"resource_changes":5}"#,
            r#"{"resource_changes":[{"type":"aws_ecr_repository","change":{"actions":["create"],"after":null}}]}"#,
            r#"{"resource_changes":[{"type":"aws_ecr_repository","change":{"after":{"image_tag_mutability_exclusion_filter":[{}]}}}]}"#,
            r#"{"resource_changes":[{"type":"aws_ecr_repository","change":{"after":{"image_tag_mutability_exclusion_filter":"x"}}}]}"#,
            r#"{"planned_values":{"root_module":{"resources":[{"type":"aws_ecr_repository","values":[]}]}}}"#,
        ] {
            assert!(parse(bad.as_bytes(), None).is_err(), "{bad}");
        }
        // A wrong type is an input error naming the attribute (it was unresolved before).
        for (after, needle) in [
            (
                r#"{"image_tag_mutability":5}"#,
                "image_tag_mutability is a number",
            ),
            (r#"{"tags":"x"}"#, "tags is a string"),
            (r#"{"name":["a"]}"#, "name is a list"),
        ] {
            let plan = format!(
                r#"{{"format_version":"1","resource_changes":[{{"type":"aws_ecr_repository","change":{{"after":{after}}}}}]}}"#
            );
            let e = parse(plan.as_bytes(), None).unwrap_err().to_string();
            assert!(
                e.contains(needle) && e.contains("/resource_changes/0/change/after"),
                "{e}"
            );
        }
        for cut in (0..PLAN.len()).step_by(97) {
            assert!(parse(&PLAN[..cut], None).is_err(), "cut at {cut}");
        }
    }
}
