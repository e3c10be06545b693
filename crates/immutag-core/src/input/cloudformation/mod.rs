//! CloudFormation templates, JSON and YAML (with short-form intrinsic tags), including CDK
//! `cdk.out/*.template.json`.
//!
//! Every `AWS::ECR::Repository` and `AWS::ECR::RepositoryCreationTemplate` resource becomes a
//! [`Repository`]; other resource types are ignored (a template is not a Config inventory).
//! Read from `Properties`: `ImageTagMutability`, `ImageTagMutabilityExclusionFilters` (items
//! `{ImageTagMutabilityExclusionFilterType, ImageTagMutabilityExclusionFilterValue}`), and
//! `RepositoryName` and `Tags` of a repository, `Prefix` and `AppliedFor` of a creation
//! template (whose id is its prefix; its `ResourceTags` are tags for the repositories it
//! creates, not its own, so they exempt nothing).
//!
//! Values are resolved statically where that is certain, and reported as
//! [`MutabilitySetting::Unresolved`] / [`FilterSetting::Unresolved`] naming the expression
//! otherwise (fail closed, never guessed):
//!
//! - literals; `Ref` to a template parameter whose value is certain: the value given for the
//!   deployment ([`Parameters`], `--cfn-parameters`), or its only `AllowedValues` entry. A
//!   `Default` alone is not: a deployer can override it (the verdict of Control Tower's
//!   CT.ECR.PR.3), and the reason names the default, the allowed values and the fix;
//! - `Fn::Sub` whose `${...}` are all resolvable; `Fn::FindInMap` with resolvable keys;
//!   `Fn::Join` and `Fn::Select` over resolvable lists; `Fn::If` whose two branches resolve
//!   to the same value;
//! - anything else (`Fn::GetAtt`, `Fn::ImportValue`, an `Fn::If` that chooses, pseudo
//!   parameters, SSM parameter types) is unresolved.
//!
//! A repository whose `RepositoryName` is not certain has no [`Repository::name`] (its id is
//! the logical id): exemption patterns, which match names only, do not apply to it; nor to a
//! creation template whose `Prefix` is not certain. An `AppliedFor` entry that is not certain
//! is kept as [`AppliedFor::Unknown`] naming the expression.
//! `Ref: AWS::NoValue` (or a null) as a property value means the property is absent. A
//! duplicate logical id is an error, as CloudFormation refuses the template.
//! Each repository's [`Source`] has the file, the logical id, the JSON pointer
//! (`/Resources/LogicalId`) and the 1-based line of the resource key, for JSON and YAML.
//!
//! A JSON template is read resource by resource ([`read`]): memory stays about the size of
//! the input, whatever the number of resources.
//!
//! | module | job |
//! |---|---|
//! | `slim` | the JSON template's top level and one resource at a time, unread parts skipped |
//! | `resolve` | static resolution of values and intrinsic functions |
//! | `parameters` | values of parameters for a deployment ([`Parameters`]) |
//! | [`crate::input::locate`] | where each resource sits (its line) |
//!
//! ```
//! use immutag_core::input::cloudformation::{self, Parameters};
//! use immutag_core::{MutabilitySetting, TagMutability};
//! let yaml = b"Parameters:\n  Mode:\n    Type: String\n    AllowedValues: [IMMUTABLE]\n    Default: IMMUTABLE\nResources:\n  Repo:\n    Type: AWS::ECR::Repository\n    Properties:\n      ImageTagMutability: !Ref Mode\n";
//! let repos = cloudformation::parse(yaml, Some("t.yaml")).unwrap();
//! assert_eq!(repos[0].tag_mutability, MutabilitySetting::set(TagMutability::Immutable));
//! assert_eq!(repos[0].source.line, Some(7));
//!
//! // A Default alone can be overridden at deployment: unresolved, unless the deployed value is given.
//! let yaml = b"Parameters:\n  Mode:\n    Type: String\n    Default: IMMUTABLE\nResources:\n  Repo:\n    Type: AWS::ECR::Repository\n    Properties:\n      ImageTagMutability: !Ref Mode\n";
//! let repos = cloudformation::parse(yaml, None).unwrap();
//! assert!(matches!(repos[0].tag_mutability, MutabilitySetting::Unresolved { .. }));
//! let deployed = Parameters::from_json(r#"{"Parameters":{"Mode":"IMMUTABLE"}}"#).unwrap();
//! let repos = cloudformation::parse_with(yaml, None, &deployed).unwrap();
//! assert_eq!(repos[0].tag_mutability, MutabilitySetting::set(TagMutability::Immutable));
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::cfn_yaml;
use super::locate::{LineCounter, members, pointer_token};
use super::shared::json_error;
use crate::error::InputError;
use crate::model::{
    AppliedFor, ECR_CREATION_TEMPLATE_TYPE, ECR_REPOSITORY_TYPE, ExclusionFilter, FilterSetting,
    FilterType, InputKind, MutabilitySetting, Repository, ResourceType, Source, TagMutability,
    TemplatePrefix, TemplateScope,
};

mod parameters;
mod resolve;
mod slim;

pub use parameters::Parameters;
use resolve::{Ctx, describe, is_intrinsic, is_no_value, kind_of};

const SHAPE: &str = "CloudFormation template";

/// Parses a template: JSON when it starts with `{`, YAML otherwise.
pub fn parse(bytes: &[u8], file: Option<&str>) -> Result<Vec<Repository>, InputError> {
    parse_with(bytes, file, &Parameters::default())
}

/// [`parse`] with the values of parameters given for the deployment.
pub fn parse_with(
    bytes: &[u8],
    file: Option<&str>,
    deployed: &Parameters,
) -> Result<Vec<Repository>, InputError> {
    let mut out = Vec::new();
    read(bytes, file, deployed, &mut |r| out.push(r))?;
    Ok(out)
}

/// Reads a template (JSON when it starts with `{`, YAML otherwise) and hands each
/// repository to `sink`, in document order. Nothing reaches `sink` unless the whole
/// document reads: syntax, duplicate ids and parameter values are checked first.
/// Returns the number of repositories.
pub fn read(
    bytes: &[u8],
    file: Option<&str>,
    deployed: &Parameters,
    sink: &mut dyn FnMut(Repository),
) -> Result<usize, InputError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'{') {
        read_json(bytes, file, deployed, sink)
    } else {
        read_yaml(bytes, file, false, deployed, sink)
    }
}

/// Parses a JSON template (CDK `cdk.out` templates are JSON).
pub fn parse_json(bytes: &[u8], file: Option<&str>) -> Result<Vec<Repository>, InputError> {
    let mut out = Vec::new();
    read_json(bytes, file, &Parameters::default(), &mut |r| out.push(r))?;
    Ok(out)
}

/// Parses a YAML template. With `sniffing`, a YAML document that is not a template is
/// [`InputError::Undetected`] (the content did not look like any shape) rather than a
/// shape error.
pub fn parse_yaml(
    bytes: &[u8],
    file: Option<&str>,
    sniffing: bool,
) -> Result<Vec<Repository>, InputError> {
    let mut out = Vec::new();
    read_yaml(bytes, file, sniffing, &Parameters::default(), &mut |r| {
        out.push(r)
    })?;
    Ok(out)
}

/// Reads a YAML document found by content sniffing: one that is not a template is
/// [`InputError::Undetected`].
pub(crate) fn read_sniffed_yaml(
    bytes: &[u8],
    file: Option<&str>,
    deployed: &Parameters,
    sink: &mut dyn FnMut(Repository),
) -> Result<usize, InputError> {
    read_yaml(bytes, file, true, deployed, sink)
}

/// Reads a JSON template in two passes over the bytes: [`slim::Top`] checks the whole
/// document and keeps the sections resolution needs; then each member of `Resources` is read
/// from its own bytes, in document order, and handed on at once.
fn read_json(
    bytes: &[u8],
    file: Option<&str>,
    deployed: &Parameters,
    sink: &mut dyn FnMut(Repository),
) -> Result<usize, InputError> {
    let top: slim::Top<'_> = serde_json::from_slice(bytes).map_err(|e| json_error(&e, SHAPE))?;
    let ids = match top.resources {
        Some(slim::Resources::Ids(ids)) => ids,
        Some(slim::Resources::Not(kind)) => return Err(resources_not_a_mapping(kind)),
        None if top.version => return Ok(0),
        None => return Err(no_resources(&top.others, false)),
    };
    let parameters = top.parameters.as_ref().and_then(Value::as_object);
    deployed.check_against(parameters)?;
    let ctx = Ctx {
        parameters,
        mappings: top.mappings.as_ref().and_then(Value::as_object),
        resource_ids: &ids,
        deployed,
    };
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let Some(section) = members(bytes, start).find(|m| m.key == "Resources") else {
        return Ok(0);
    };
    let mut lines = LineCounter::new(bytes);
    let mut count = 0usize;
    for member in members(bytes, section.value.start) {
        let line = Some(lines.line_at(member.key_at));
        let raw = &bytes[member.value];
        let resource = serde_json::from_slice::<slim::Resource>(raw)
            .map_err(|e| json_error(&e, SHAPE))?
            .0;
        count += emit(&ctx, &member.key, &resource, line, file, sink)?;
    }
    Ok(count)
}

/// Reads a YAML template; see [`parse_yaml`] for `sniffing`.
fn read_yaml(
    bytes: &[u8],
    file: Option<&str>,
    sniffing: bool,
    deployed: &Parameters,
    sink: &mut dyn FnMut(Repository),
) -> Result<usize, InputError> {
    let text = std::str::from_utf8(bytes).map_err(|e| InputError::Syntax {
        format: "YAML",
        location: Some(format!("byte {}", e.valid_up_to())),
        message: "the input is not UTF-8 text".into(),
    })?;
    let loaded = cfn_yaml::load(text)?;
    extract(
        &loaded.doc,
        &loaded.resource_lines,
        file,
        sniffing,
        deployed,
        sink,
    )
}

/// Reads the repositories of a template already loaded as a JSON value (from YAML).
fn extract(
    doc: &Value,
    lines: &HashMap<String, u32>,
    file: Option<&str>,
    sniffing: bool,
    deployed: &Parameters,
    sink: &mut dyn FnMut(Repository),
) -> Result<usize, InputError> {
    let Some(top) = doc.as_object() else {
        return Err(not_template(
            format!(
                "a YAML/JSON {}, not a template (a mapping with Resources)",
                kind_of(doc)
            ),
            sniffing,
        ));
    };
    let resources = match top.get("Resources") {
        Some(Value::Object(r)) => r,
        Some(other) => return Err(resources_not_a_mapping(kind_of(other))),
        None if top.contains_key("AWSTemplateFormatVersion") => return Ok(0),
        None => {
            let keys: Vec<String> = top.keys().take(8).cloned().collect();
            return Err(no_resources(&keys, sniffing));
        }
    };
    let parameters = top.get("Parameters").and_then(Value::as_object);
    deployed.check_against(parameters)?;
    let ids: HashSet<Cow<'_, str>> = resources
        .keys()
        .map(|k| Cow::Borrowed(k.as_str()))
        .collect();
    let ctx = Ctx {
        parameters,
        mappings: top.get("Mappings").and_then(Value::as_object),
        resource_ids: &ids,
        deployed,
    };
    let mut out = Vec::new();
    for (logical_id, resource) in resources {
        let line = lines.get(logical_id).copied();
        emit(&ctx, logical_id, resource, line, file, &mut |r| out.push(r))?;
    }
    // serde_json maps are sorted by key; report in document order.
    out.sort_by_key(|r| r.source.line.unwrap_or(u32::MAX));
    let count = out.len();
    out.into_iter().for_each(sink);
    Ok(count)
}

/// Hands on the repositories one `Resources` member defines (none, one, or those of an
/// `Fn::ForEach` fragment); returns how many.
fn emit(
    ctx: &Ctx<'_>,
    logical_id: &str,
    resource: &Value,
    line: Option<u32>,
    file: Option<&str>,
    sink: &mut dyn FnMut(Repository),
) -> Result<usize, InputError> {
    let pointer = format!("/Resources/{}", pointer_token(logical_id));
    if let Some(rest) = logical_id.strip_prefix("Fn::ForEach::") {
        // AWS::LanguageExtensions: the fragment's resources are expanded at deployment;
        // read them as written (loop variables stay unresolved).
        let fragment = resource
            .as_array()
            .and_then(|a| a.get(2))
            .and_then(Value::as_object);
        let mut n = 0;
        for (inner_id, inner) in fragment.into_iter().flatten() {
            if is_repository(inner) {
                let id = format!("Fn::ForEach::{rest}/{inner_id}");
                let ptr = format!("{pointer}/2/{}", pointer_token(inner_id));
                check_types(inner, &ptr)?;
                sink(repository(ctx, &id, inner, ptr, line, file));
                n += 1;
            }
        }
        return Ok(n);
    }
    if is_repository(resource) {
        check_types(resource, &pointer)?;
        sink(repository(ctx, logical_id, resource, pointer, line, file));
        Ok(1)
    } else if resource.is_object() {
        Ok(0)
    } else {
        Err(wrong_type(&pointer, "the resource", resource, "a mapping"))
    }
}

/// Refuses values of a type no template can hold where the rule reads (CloudFormation
/// refuses the template): what cannot be known is unresolved, what is wrong is an error.
fn check_types(resource: &Value, pointer: &str) -> Result<(), InputError> {
    let Some(props) = resource.get("Properties") else {
        return Ok(());
    };
    let at = format!("{pointer}/Properties");
    let props = match props {
        Value::Null => return Ok(()),
        Value::Object(p) if is_intrinsic(p) => return Ok(()),
        Value::Object(p) => p,
        other => return Err(wrong_type(&at, "Properties", other, "a mapping")),
    };
    let template = is_creation_template(resource);
    let (name, tags) = if template {
        ("Prefix", "ResourceTags")
    } else {
        ("RepositoryName", "Tags")
    };
    for key in ["ImageTagMutability", name] {
        if let Some(v) = props.get(key) {
            scalar(v, &format!("{at}/{key}"), key)?;
        }
    }
    if template {
        match props.get("AppliedFor") {
            None | Some(Value::Null) => {}
            Some(Value::Object(o)) if is_intrinsic(o) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    scalar(
                        item,
                        &format!("{at}/AppliedFor/{i}"),
                        "an entry of AppliedFor",
                    )?;
                }
            }
            Some(other) => {
                return Err(wrong_type(
                    &format!("{at}/AppliedFor"),
                    "AppliedFor",
                    other,
                    "a list",
                ));
            }
        }
    }
    for (key, member) in [
        (
            "ImageTagMutabilityExclusionFilters",
            [
                "ImageTagMutabilityExclusionFilterType",
                "ImageTagMutabilityExclusionFilterValue",
            ],
        ),
        (tags, ["Key", "Value"]),
    ] {
        let items = match props.get(key) {
            None | Some(Value::Null) => continue,
            Some(Value::Object(o)) if is_intrinsic(o) => continue,
            Some(Value::Array(items)) => items,
            Some(other) => return Err(wrong_type(&format!("{at}/{key}"), key, other, "a list")),
        };
        for (i, item) in items.iter().enumerate() {
            let here = format!("{at}/{key}/{i}");
            match item {
                Value::Object(o) if is_intrinsic(o) => {}
                Value::Object(o) => {
                    for m in member {
                        if let Some(v) = o.get(m) {
                            scalar(v, &format!("{here}/{m}"), m)?;
                        }
                    }
                }
                other => {
                    return Err(wrong_type(
                        &here,
                        &format!("an entry of {key}"),
                        other,
                        "a mapping",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A value that must be a scalar (or an intrinsic function giving one).
fn scalar(v: &Value, pointer: &str, what: &str) -> Result<(), InputError> {
    match v {
        Value::Array(_) => Err(wrong_type(pointer, what, v, "a string")),
        Value::Object(o) if !is_intrinsic(o) => Err(wrong_type(pointer, what, v, "a string")),
        _ => Ok(()),
    }
}

fn wrong_type(pointer: &str, what: &str, found: &Value, expected: &str) -> InputError {
    InputError::Shape {
        shape: SHAPE,
        pointer: crate::text::printable(pointer).into_owned(),
        problem: format!("{what} is a {}, expected {expected}", kind_of(found)),
    }
}

fn not_template(what: String, sniffing: bool) -> InputError {
    if sniffing {
        InputError::Undetected(what)
    } else {
        InputError::Shape {
            shape: SHAPE,
            pointer: "/Resources".into(),
            problem: what,
        }
    }
}

fn resources_not_a_mapping(kind: &str) -> InputError {
    InputError::Shape {
        shape: SHAPE,
        pointer: "/Resources".into(),
        problem: format!("Resources is {kind}, expected a mapping"),
    }
}

fn no_resources(keys: &[String], sniffing: bool) -> InputError {
    let members = if keys.is_empty() {
        String::new()
    } else {
        let keys: Vec<String> = keys
            .iter()
            .map(|k| format!("`{}`", crate::text::printable(k)))
            .collect();
        format!(" with members {}", keys.join(", "))
    };
    not_template(
        format!(
            "a mapping{members} but no Resources or AWSTemplateFormatVersion: not a CloudFormation template"
        ),
        sniffing,
    )
}

/// True for the resource types the rule evaluates: repositories and creation templates.
fn is_repository(resource: &Value) -> bool {
    matches!(
        resource.get("Type").and_then(Value::as_str),
        Some(ECR_REPOSITORY_TYPE | ECR_CREATION_TEMPLATE_TYPE)
    )
}

fn is_creation_template(resource: &Value) -> bool {
    resource.get("Type").and_then(Value::as_str) == Some(ECR_CREATION_TEMPLATE_TYPE)
}

fn repository(
    ctx: &Ctx<'_>,
    logical_id: &str,
    resource: &Value,
    pointer: String,
    line: Option<u32>,
    file: Option<&str>,
) -> Repository {
    if is_creation_template(resource) {
        return creation_template(ctx, logical_id, resource, pointer, line, file);
    }
    let props = resource.get("Properties");
    let (mutability, filters, name, tags) = match props {
        None | Some(Value::Null) => (
            MutabilitySetting::Absent,
            FilterSetting::default(),
            None,
            BTreeMap::new(),
        ),
        Some(Value::Object(p)) if !is_intrinsic(p) => (
            mutability(ctx, p.get("ImageTagMutability")),
            filters(ctx, p.get("ImageTagMutabilityExclusionFilters")),
            p.get("RepositoryName").and_then(|v| ctx.resolve(v, 0).ok()),
            tags(ctx, p.get("Tags")),
        ),
        Some(other) => {
            let reason = format!(
                "Properties is {}",
                ctx.resolve(other, 0)
                    .err()
                    .unwrap_or_else(|| describe(other))
            );
            (
                MutabilitySetting::Unresolved {
                    reason: reason.clone(),
                },
                FilterSetting::Unresolved { reason },
                None,
                BTreeMap::new(),
            )
        }
    };
    let mut repo = Repository::new(logical_id, InputKind::Cloudformation);
    if let Some(n) = name {
        repo.resource_id.clone_from(&n);
        repo.name = Some(n);
    } else {
        repo.name = None;
    }
    repo.tag_mutability = mutability;
    repo.exclusion_filters = filters;
    repo.tags = tags;
    repo.source = Source {
        kind: InputKind::Cloudformation,
        file: file.map(str::to_owned),
        logical_id: Some(logical_id.to_owned()),
        pointer: Some(pointer),
        line,
    };
    repo
}

/// An `AWS::ECR::RepositoryCreationTemplate`: its id is the prefix when certain, else the
/// logical id (no prefix: never exempt by name).
fn creation_template(
    ctx: &Ctx<'_>,
    logical_id: &str,
    resource: &Value,
    pointer: String,
    line: Option<u32>,
    file: Option<&str>,
) -> Repository {
    let mut t = Repository::new(logical_id, InputKind::Cloudformation);
    t.name = None;
    let mut scope = TemplateScope::default();
    match resource.get("Properties") {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) if !is_intrinsic(p) => {
            t.tag_mutability = mutability(ctx, p.get("ImageTagMutability"));
            t.exclusion_filters = filters(ctx, p.get("ImageTagMutabilityExclusionFilters"));
            if let Some(prefix) = p.get("Prefix").and_then(|v| ctx.resolve(v, 0).ok()) {
                t.resource_id.clone_from(&prefix);
                scope.prefix = Some(TemplatePrefix::parse(&prefix));
            }
            scope.applied_for = applied_for(ctx, p.get("AppliedFor"));
        }
        Some(other) => {
            let reason = format!(
                "Properties is {}",
                ctx.resolve(other, 0)
                    .err()
                    .unwrap_or_else(|| describe(other))
            );
            t.tag_mutability = MutabilitySetting::Unresolved {
                reason: reason.clone(),
            };
            t.exclusion_filters = FilterSetting::Unresolved { reason };
        }
    }
    t.resource_type = ResourceType::CreationTemplate(scope);
    t.source = Source {
        kind: InputKind::Cloudformation,
        file: file.map(str::to_owned),
        logical_id: Some(logical_id.to_owned()),
        pointer: Some(pointer),
        line,
    };
    t
}

/// `AppliedFor`: each entry resolved, or kept as unknown naming the expression.
fn applied_for(ctx: &Ctx<'_>, v: Option<&Value>) -> Vec<AppliedFor> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(v) if is_no_value(v) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match ctx.resolve(item, 0) {
                Ok(s) => AppliedFor::parse(&s),
                Err(why) => AppliedFor::Unknown(why),
            })
            .collect(),
        Some(other) => vec![AppliedFor::Unknown(
            ctx.resolve(other, 0)
                .err()
                .unwrap_or_else(|| describe(other)),
        )],
    }
}

fn mutability(ctx: &Ctx<'_>, v: Option<&Value>) -> MutabilitySetting {
    match v {
        None | Some(Value::Null) => MutabilitySetting::Absent,
        Some(v) if is_no_value(v) => MutabilitySetting::Absent,
        Some(v) => match ctx.resolve(v, 0) {
            Ok(s) => MutabilitySetting::set(TagMutability::parse(&s)),
            Err(reason) => MutabilitySetting::Unresolved {
                reason: format!("ImageTagMutability is {reason}"),
            },
        },
    }
}

fn filters(ctx: &Ctx<'_>, v: Option<&Value>) -> FilterSetting {
    let items = match v {
        None | Some(Value::Null) => return FilterSetting::default(),
        Some(v) if is_no_value(v) => return FilterSetting::default(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            let why = ctx
                .resolve(other, 0)
                .err()
                .unwrap_or_else(|| describe(other));
            return FilterSetting::Unresolved {
                reason: format!("ImageTagMutabilityExclusionFilters is {why}"),
            };
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let unresolved = |why: String| FilterSetting::Unresolved {
            reason: format!("exclusion filter {} is {why}", i + 1),
        };
        let Some(obj) = item.as_object().filter(|o| !is_intrinsic(o)) else {
            return unresolved(ctx.resolve(item, 0).err().unwrap_or_else(|| describe(item)));
        };
        let filter = match obj.get("ImageTagMutabilityExclusionFilterValue") {
            None => return unresolved("missing ImageTagMutabilityExclusionFilterValue".into()),
            Some(v) => match ctx.resolve(v, 0) {
                Ok(s) => s,
                Err(why) => return unresolved(why),
            },
        };
        let filter_type = match obj.get("ImageTagMutabilityExclusionFilterType") {
            None => FilterType::Unknown("(missing)".into()),
            Some(v) => match ctx.resolve(v, 0) {
                Ok(s) => FilterType::parse(&s),
                Err(why) => return unresolved(why),
            },
        };
        out.push(ExclusionFilter {
            filter_type,
            filter,
        });
    }
    FilterSetting::listed(out)
}

fn tags(ctx: &Ctx<'_>, v: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for item in v.and_then(Value::as_array).into_iter().flatten() {
        let Some(key) = item.get("Key").and_then(|k| ctx.resolve(k, 0).ok()) else {
            continue;
        };
        // The key decides exemption; an unresolvable value is kept empty.
        let value = item
            .get("Value")
            .and_then(|v| ctx.resolve(v, 0).ok())
            .unwrap_or_default();
        out.insert(key, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &[u8] =
        include_bytes!("../../../../../docs/examples/cloudformation-repositories.yaml");
    const CDK: &[u8] =
        include_bytes!("../../../../../docs/examples/cdk-PaymentsStack.template.json");

    fn by_id<'a>(repos: &'a [Repository], logical_id: &str) -> &'a Repository {
        repos
            .iter()
            .find(|r| r.source.logical_id.as_deref() == Some(logical_id))
            .unwrap_or_else(|| panic!("no {logical_id}"))
    }

    fn unresolved_reason(r: &Repository) -> &str {
        match &r.tag_mutability {
            MutabilitySetting::Unresolved { reason } => reason,
            other => panic!("{}: {other:?}", r.resource_id),
        }
    }

    #[test]
    fn yaml_example_template() {
        let repos = parse(YAML, Some("docs/examples/cloudformation-repositories.yaml")).unwrap();
        let ids: Vec<&str> = repos
            .iter()
            .map(|r| r.source.logical_id.as_deref().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "ApiRepository",
                "WorkerRepository",
                "BatchRepository",
                "ReportsRepository",
                "LedgerRepository",
                "WebRepository",
                "MirrorRepository",
                "SharedRepository",
                "FrontendRepository",
                "ToolsRepository"
            ],
            "document order, ECR repositories only"
        );
        let api = by_id(&repos, "ApiRepository");
        // !Sub over a parameter that a deployer sets (AllowedValues dev, prod): no static
        // name, so the id is the logical id and name patterns do not apply.
        assert_eq!(api.name, None, "!Sub with a parameter chosen at deployment");
        assert_eq!(api.resource_id, "ApiRepository");
        assert_eq!(
            api.tag_mutability,
            MutabilitySetting::set(TagMutability::Immutable)
        );
        assert_eq!(api.tags["team"], "payments");
        assert_eq!(api.source.line, Some(31));
        assert_eq!(
            api.source.pointer.as_deref(),
            Some("/Resources/ApiRepository")
        );
        assert_eq!(
            api.source.file.as_deref(),
            Some("docs/examples/cloudformation-repositories.yaml")
        );
        assert_eq!(
            by_id(&repos, "WorkerRepository").tag_mutability,
            MutabilitySetting::set(TagMutability::Mutable)
        );
        assert_eq!(
            by_id(&repos, "BatchRepository").tag_mutability,
            MutabilitySetting::Absent
        );
        // AllowedValues [MUTABLE, IMMUTABLE]: a deployer can choose MUTABLE.
        let reports = unresolved_reason(by_id(&repos, "ReportsRepository"));
        assert!(
            reports.contains("DefaultTagMutability")
                && reports.contains("'MUTABLE', 'IMMUTABLE'")
                && reports.contains("Default 'IMMUTABLE'")
                && reports.contains("--cfn-parameters"),
            "{reports}"
        );
        assert_eq!(
            by_id(&repos, "LedgerRepository").tag_mutability,
            MutabilitySetting::set(TagMutability::Immutable)
        );
        let web = unresolved_reason(by_id(&repos, "WebRepository"));
        assert!(
            web.contains("IsProd") && web.contains("'IMMUTABLE' or 'MUTABLE'"),
            "{web}"
        );
        let mirror = unresolved_reason(by_id(&repos, "MirrorRepository"));
        assert!(
            mirror.contains("!GetAtt [MutabilityLookup, Value]"),
            "{mirror}"
        );
        let shared = unresolved_reason(by_id(&repos, "SharedRepository"));
        assert!(
            shared.contains("SharedMutability") && shared.contains("no Default"),
            "{shared}"
        );
        let fe = by_id(&repos, "FrontendRepository");
        assert_eq!(
            fe.exclusion_filters.filters(),
            [ExclusionFilter::wildcard("latest")]
        );
        assert_eq!(fe.source.line, Some(92));
        assert_eq!(
            by_id(&repos, "ToolsRepository").exclusion_filters.filters()[0].filter,
            "release-*"
        );
    }

    #[test]
    fn cdk_json_template() {
        let repos = parse(CDK, Some("cdk.out/PaymentsStack.template.json")).unwrap();
        assert_eq!(repos.len(), 4);
        let lines: Vec<(Option<&str>, Option<u32>)> = repos
            .iter()
            .map(|r| (r.source.logical_id.as_deref(), r.source.line))
            .collect();
        assert_eq!(
            lines,
            [
                (Some("CheckoutRepository5B4C3D2A"), Some(4)),
                (Some("PreviewRepositoryA1B2C3D4"), Some(25)),
                (Some("CacheRepositoryF00DBA12"), Some(51)),
                (Some("SandboxRepository0C0FFEE0"), Some(64)),
            ]
        );
        assert_eq!(
            repos[1].name.as_deref(),
            Some("payments/preview"),
            "Fn::Join of literals"
        );
        assert!(repos[1].exclusion_filters.filters()[0].is_catch_all());
        // The CDK bootstrap parameter is an SSM parameter: its Default is a parameter name.
        let cache = unresolved_reason(&repos[2]);
        assert!(cache.contains("SSM parameter"), "{cache}");
        assert_eq!(repos[2].name, None);
        assert_eq!(repos[2].resource_id, "CacheRepositoryF00DBA12");
        assert!(repos[3].tags.contains_key("immutag:exempt"));
    }

    #[test]
    fn same_template_in_json_and_yaml_agree() {
        let yaml = "Resources:\n  A:\n    Type: AWS::ECR::Repository\n    Properties:\n      ImageTagMutability: !Sub '${AWS::Region}'\n  B:\n    Type: AWS::ECR::Repository\n    Properties:\n      ImageTagMutability: !Select [1, [MUTABLE, IMMUTABLE]]\n";
        let json = r#"{"Resources":{"A":{"Type":"AWS::ECR::Repository","Properties":{"ImageTagMutability":{"Fn::Sub":"${AWS::Region}"}}},
            "B":{"Type":"AWS::ECR::Repository","Properties":{"ImageTagMutability":{"Fn::Select":["1",["MUTABLE","IMMUTABLE"]]}}}}}"#;
        let y = parse(yaml.as_bytes(), None).unwrap();
        let j = parse(json.as_bytes(), None).unwrap();
        for r in [&y, &j] {
            assert!(unresolved_reason(&r[0]).contains("pseudo parameter"));
            assert_eq!(
                r[1].tag_mutability,
                MutabilitySetting::set(TagMutability::Immutable)
            );
        }
        assert_eq!(y[0].source.line, Some(2));
        assert_eq!(j[0].source.line, Some(1));
    }

    #[test]
    fn resolution_rules() {
        let t = |props: &str| -> Repository {
            let doc = format!(
                r#"{{"Parameters":{{"P":{{"Type":"String","AllowedValues":["IMMUTABLE"],"Default":"IMMUTABLE"}},"D":{{"Type":"String","Default":"IMMUTABLE"}},"L":{{"Type":"CommaDelimitedList","Default":"a,b"}},"N":{{"Type":"String"}}}},
                "Mappings":{{"M":{{"k":{{"v":"MUTABLE"}}}}}},
                "Resources":{{"R":{{"Type":"AWS::ECR::Repository","Properties":{props}}},"Other":{{"Type":"AWS::SNS::Topic"}}}}}}"#
            );
            parse(doc.as_bytes(), None).unwrap().remove(0)
        };
        let set = |s: &str| MutabilitySetting::set(TagMutability::parse(s));
        assert_eq!(
            t(r#"{"ImageTagMutability":{"Ref":"P"}}"#).tag_mutability,
            set("IMMUTABLE")
        );
        assert_eq!(
            t(r#"{"ImageTagMutability":{"Fn::Sub":"IM${P}"}}"#).tag_mutability,
            set("IMIMMUTABLE")
        );
        assert_eq!(
            t(r#"{"ImageTagMutability":{"Fn::Sub":["${X}",{"X":{"Ref":"P"}}]}}"#).tag_mutability,
            set("IMMUTABLE")
        );
        assert_eq!(
            t(r#"{"ImageTagMutability":{"Fn::Sub":"${!Literal}"}}"#).tag_mutability,
            set("${Literal}")
        );
        assert_eq!(
            t(r#"{"ImageTagMutability":{"Fn::FindInMap":["M",{"Fn::Sub":"k"},"v"]}}"#)
                .tag_mutability,
            set("MUTABLE")
        );
        assert_eq!(
            t(r#"{"ImageTagMutability":{"Fn::If":["C","IMMUTABLE","IMMUTABLE"]}}"#).tag_mutability,
            set("IMMUTABLE"),
            "both branches agree"
        );
        assert_eq!(
            t(r#"{"ImageTagMutability":{"Ref":"AWS::NoValue"}}"#).tag_mutability,
            MutabilitySetting::Absent
        );
        assert_eq!(
            t(r#"{"ImageTagMutability":null}"#).tag_mutability,
            MutabilitySetting::Absent
        );
        assert_eq!(t("null").tag_mutability, MutabilitySetting::Absent);
        for (props, needle) in [
            (r#"{"ImageTagMutability":{"Ref":"N"}}"#, "no Default"),
            (r#"{"ImageTagMutability":{"Ref":"Other"}}"#, "a resource"),
            (r#"{"ImageTagMutability":{"Ref":"Nope"}}"#, "names nothing"),
            (
                r#"{"ImageTagMutability":{"Ref":"L"}}"#,
                "Default 'a,b' can be overridden",
            ),
            (
                r#"{"ImageTagMutability":{"Ref":"D"}}"#,
                "!Ref D: its Default 'IMMUTABLE' can be overridden (no AllowedValues); set AllowedValues [IMMUTABLE] or give --cfn-parameters",
            ),
            (
                r#"{"ImageTagMutability":{"Fn::Sub":"${D}"}}"#,
                "Default 'IMMUTABLE' can be overridden",
            ),
            (
                r#"{"ImageTagMutability":{"Fn::ImportValue":"x"}}"#,
                "!ImportValue x",
            ),
            (
                r#"{"ImageTagMutability":{"Fn::Sub":"${Other.Arn}"}}"#,
                "attribute",
            ),
            (
                r#"{"ImageTagMutability":{"Fn::FindInMap":["M","k","missing"]}}"#,
                "no such entry",
            ),
            (
                r#"{"ImageTagMutability":{"Fn::Select":["5",["a"]]}}"#,
                "out of range",
            ),
            (
                r#"{"ImageTagMutability":{"Fn::Select":["0",{"Fn::GetAZs":""}]}}"#,
                "deployment",
            ),
            (r#"{"ImageTagMutability":{"Fn::Base64":"x"}}"#, "!Base64 x"),
            (r#"{"Fn::If":["C",{},{}]}"#, "Properties is !If"),
        ] {
            let r = t(props);
            let reason = unresolved_reason(&r);
            assert!(reason.contains(needle), "{props}: {reason}");
        }
        let f = t(
            r#"{"ImageTagMutability":"IMMUTABLE_WITH_EXCLUSION","ImageTagMutabilityExclusionFilters":{"Fn::If":["C",[],[]]}}"#,
        );
        assert!(matches!(
            f.exclusion_filters,
            FilterSetting::Unresolved { .. }
        ));
        let f = t(
            r#"{"ImageTagMutabilityExclusionFilters":[{"ImageTagMutabilityExclusionFilterType":"WILDCARD","ImageTagMutabilityExclusionFilterValue":{"Fn::GetAtt":["A","B"]}}]}"#,
        );
        match &f.exclusion_filters {
            FilterSetting::Unresolved { reason } => {
                assert!(reason.contains("filter 1"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        let f = t(
            r#"{"ImageTagMutabilityExclusionFilters":[{"ImageTagMutabilityExclusionFilterValue":"x"}]}"#,
        );
        assert_eq!(
            f.exclusion_filters.filters()[0].filter_type,
            FilterType::Unknown("(missing)".into())
        );
    }

    #[test]
    fn wrong_types_are_errors_that_name_the_member() {
        let t = |resource: &str| {
            let doc = format!(r#"{{"Resources":{{"R":{resource}}}}}"#);
            parse(doc.as_bytes(), None).unwrap_err().to_string()
        };
        let repo = |props: &str| {
            t(&format!(
                r#"{{"Type":"AWS::ECR::Repository","Properties":{props}}}"#
            ))
        };
        for (got, needle) in [
            (
                t("5"),
                "the resource is a number, expected a mapping (at /Resources/R)",
            ),
            (repo("[1]"), "Properties is a list"),
            (repo(r#""x""#), "Properties is a string"),
            (
                repo(r#"{"ImageTagMutability":["IMMUTABLE"]}"#),
                "ImageTagMutability is a list",
            ),
            (
                repo(r#"{"ImageTagMutability":{"a":1,"b":2}}"#),
                "ImageTagMutability is a mapping",
            ),
            (repo(r#"{"RepositoryName":[]}"#), "RepositoryName is a list"),
            (
                repo(r#"{"ImageTagMutabilityExclusionFilters":"latest"}"#),
                "ImageTagMutabilityExclusionFilters is a string, expected a list",
            ),
            (
                repo(r#"{"ImageTagMutabilityExclusionFilters":[5]}"#),
                "/ImageTagMutabilityExclusionFilters/0",
            ),
            (
                repo(
                    r#"{"ImageTagMutabilityExclusionFilters":[{"ImageTagMutabilityExclusionFilterValue":{"x":1,"y":2}}]}"#,
                ),
                "ImageTagMutabilityExclusionFilterValue is a mapping",
            ),
            (
                repo(r#"{"Tags":{"k":"v"}}"#),
                "Tags is a mapping, expected a list",
            ),
            (repo(r#"{"Tags":["k"]}"#), "an entry of Tags is a string"),
        ] {
            assert!(got.contains(needle), "{got}");
        }
        let y = "Resources:\n  R:\n    Type: AWS::ECR::Repository\n    Properties:\n      ImageTagMutability: [IMMUTABLE]\n";
        let e = parse(y.as_bytes(), None).unwrap_err().to_string();
        assert!(e.contains("ImageTagMutability is a list"), "{e}");
    }

    #[test]
    fn for_each_fragments_are_read_fail_closed() {
        let y = "Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::Repos:\n    - Name\n    - [a, b]\n    - Repo${Name}:\n        Type: AWS::ECR::Repository\n        Properties:\n          RepositoryName: !Sub team/${Name}\n          ImageTagMutability: IMMUTABLE\n";
        let r = parse(y.as_bytes(), None).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].source.logical_id.as_deref(),
            Some("Fn::ForEach::Repos/Repo${Name}")
        );
        assert_eq!(
            r[0].tag_mutability,
            MutabilitySetting::set(TagMutability::Immutable)
        );
        assert_eq!(r[0].name, None, "the loop variable is not resolved");
        assert_eq!(r[0].source.line, Some(3));
    }

    #[test]
    fn not_templates_and_malformed() {
        assert!(
            parse(b"{\"AWSTemplateFormatVersion\":\"2010-09-09\"}", None)
                .unwrap()
                .is_empty()
        );
        for bad in [
            &b"{"[..],
            b"{\"Resources\":5}",
            b"a: b\n",
            b"- a\n",
            b"Resources: [\n",
            b"\xff\xfe",
            b"",
        ] {
            assert!(
                parse(bad, None).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let e = parse_yaml(b"foo: 1\nbar: 2\n", None, true).unwrap_err();
        assert!(
            matches!(e, InputError::Undetected(_)) && e.to_string().contains("`foo`"),
            "{e}"
        );
        let e = parse(b"{\n\"Resources\": {\n\"A\": }", None).unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
        for cut in (0..YAML.len()).step_by(13) {
            let _ = parse(&YAML[..cut], None);
        }
        for cut in (0..CDK.len()).step_by(11) {
            assert!(parse(&CDK[..cut], None).is_err(), "cut at {cut}");
        }
    }
}
