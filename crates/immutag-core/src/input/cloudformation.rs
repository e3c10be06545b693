//! CloudFormation templates, JSON and YAML (with short-form intrinsic tags), including CDK
//! `cdk.out/*.template.json`.
//!
//! Every `AWS::ECR::Repository` resource becomes a [`Repository`]; other resource types are
//! ignored (a template is not a Config inventory). Read from `Properties`:
//! `ImageTagMutability`, `ImageTagMutabilityExclusionFilters` (items
//! `{ImageTagMutabilityExclusionFilterType, ImageTagMutabilityExclusionFilterValue}`),
//! `RepositoryName` and `Tags`.
//!
//! Values are resolved statically where that is certain, and reported as
//! [`MutabilitySetting::Unresolved`] / [`FilterSetting::Unresolved`] naming the expression
//! otherwise (fail closed, never guessed):
//!
//! - literals; `Ref` to a template parameter with a `Default` (not an SSM parameter type);
//! - `Fn::Sub` whose `${...}` are all resolvable; `Fn::FindInMap` with resolvable keys;
//!   `Fn::Join` and `Fn::Select` over resolvable lists; `Fn::If` whose two branches resolve
//!   to the same value;
//! - anything else (`Fn::GetAtt`, `Fn::ImportValue`, an `Fn::If` that chooses, pseudo
//!   parameters, `Ref` to a parameter without `Default`) is unresolved.
//!
//! `Ref: AWS::NoValue` (or a null) as a property value means the property is absent.
//! Each repository's [`Source`] has the file, the logical id, the JSON pointer
//! (`/Resources/LogicalId`) and the 1-based line of the resource key, for JSON and YAML.
//!
//! ```
//! use immutag_core::input::cloudformation;
//! use immutag_core::{MutabilitySetting, TagMutability};
//! let yaml = b"Parameters:\n  Mode:\n    Type: String\n    Default: IMMUTABLE\nResources:\n  Repo:\n    Type: AWS::ECR::Repository\n    Properties:\n      ImageTagMutability: !Ref Mode\n";
//! let repos = cloudformation::parse(yaml, Some("t.yaml")).unwrap();
//! assert_eq!(repos[0].tag_mutability, MutabilitySetting::set(TagMutability::Immutable));
//! assert_eq!(repos[0].source.line, Some(6));
//! ```

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::cfn_yaml;
use super::shared::json_error;
use crate::error::InputError;
use crate::model::{
    ECR_REPOSITORY_TYPE, ExclusionFilter, FilterSetting, FilterType, InputKind, MutabilitySetting,
    Repository, Source, TagMutability,
};

const SHAPE: &str = "CloudFormation template";
const MAX_RESOLVE_DEPTH: usize = 32;

/// Parses a template: JSON when it starts with `{`, YAML otherwise.
pub fn parse(bytes: &[u8], file: Option<&str>) -> Result<Vec<Repository>, InputError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'{') {
        parse_json(bytes, file)
    } else {
        parse_yaml(bytes, file, false)
    }
}

/// Parses a JSON template (CDK `cdk.out` templates are JSON).
pub fn parse_json(bytes: &[u8], file: Option<&str>) -> Result<Vec<Repository>, InputError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| json_error(&e, SHAPE))?;
    let lines = json_resource_lines(bytes);
    extract(&doc, &lines, file, false)
}

/// Parses a YAML template. With `sniffing`, a YAML document that is not a template is
/// [`InputError::Undetected`] (the content did not look like any shape) rather than a
/// shape error.
pub fn parse_yaml(
    bytes: &[u8],
    file: Option<&str>,
    sniffing: bool,
) -> Result<Vec<Repository>, InputError> {
    let text = std::str::from_utf8(bytes).map_err(|e| InputError::Syntax {
        format: "YAML",
        location: Some(format!("byte {}", e.valid_up_to())),
        message: "the input is not UTF-8 text".into(),
    })?;
    let loaded = cfn_yaml::load(text)?;
    extract(&loaded.doc, &loaded.resource_lines, file, sniffing)
}

fn extract(
    doc: &Value,
    lines: &HashMap<String, u32>,
    file: Option<&str>,
    sniffing: bool,
) -> Result<Vec<Repository>, InputError> {
    let not_template = |what: String| {
        if sniffing {
            InputError::Undetected(what)
        } else {
            InputError::Shape {
                shape: SHAPE,
                pointer: "/Resources".into(),
                problem: what,
            }
        }
    };
    let Some(top) = doc.as_object() else {
        return Err(not_template(format!(
            "a YAML/JSON {}, not a template (a mapping with Resources)",
            kind_of(doc)
        )));
    };
    let resources = match top.get("Resources") {
        Some(Value::Object(r)) => r,
        Some(other) => {
            return Err(InputError::Shape {
                shape: SHAPE,
                pointer: "/Resources".into(),
                problem: format!("Resources is {}, expected a mapping", kind_of(other)),
            });
        }
        None if top.contains_key("AWSTemplateFormatVersion") => return Ok(Vec::new()),
        None => {
            let keys: Vec<String> = top.keys().take(8).map(|k| format!("`{k}`")).collect();
            return Err(not_template(format!(
                "a YAML mapping with members {}, but no Resources or AWSTemplateFormatVersion: not a CloudFormation template",
                keys.join(", ")
            )));
        }
    };
    let ctx = Ctx {
        parameters: top.get("Parameters").and_then(Value::as_object),
        mappings: top.get("Mappings").and_then(Value::as_object),
        resources,
    };
    let mut out = Vec::new();
    for (logical_id, resource) in resources {
        let line = lines.get(logical_id).copied();
        let pointer = format!("/Resources/{}", pointer_token(logical_id));
        if let Some(rest) = logical_id.strip_prefix("Fn::ForEach::") {
            // AWS::LanguageExtensions: the fragment's resources are expanded at deployment;
            // read them as written (loop variables stay unresolved).
            let fragment = resource
                .as_array()
                .and_then(|a| a.get(2))
                .and_then(Value::as_object);
            for (inner_id, inner) in fragment.into_iter().flatten() {
                if is_repository(inner) {
                    let id = format!("Fn::ForEach::{rest}/{inner_id}");
                    let ptr = format!("{pointer}/2/{}", pointer_token(inner_id));
                    out.push(repository(&ctx, &id, inner, ptr, line, file));
                }
            }
            continue;
        }
        if is_repository(resource) {
            out.push(repository(&ctx, logical_id, resource, pointer, line, file));
        }
    }
    // serde_json maps are sorted by key; report in document order.
    out.sort_by_key(|r| r.source.line.unwrap_or(u32::MAX));
    Ok(out)
}

fn is_repository(resource: &Value) -> bool {
    resource.get("Type").and_then(Value::as_str) == Some(ECR_REPOSITORY_TYPE)
}

fn repository(
    ctx: &Ctx<'_>,
    logical_id: &str,
    resource: &Value,
    pointer: String,
    line: Option<u32>,
    file: Option<&str>,
) -> Repository {
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

fn is_intrinsic(o: &Map<String, Value>) -> bool {
    o.len() == 1
        && o.keys()
            .next()
            .is_some_and(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
}

fn is_no_value(v: &Value) -> bool {
    v.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue")
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "mapping",
    }
}

/// A short rendering of an expression for messages (at most about 80 characters).
fn describe(v: &Value) -> String {
    let mut s = match v {
        Value::Object(o) if is_intrinsic(o) => {
            let (k, arg) = o
                .iter()
                .next()
                .map_or(("", &Value::Null), |(k, a)| (k.as_str(), a));
            let short = k.strip_prefix("Fn::").unwrap_or(k);
            format!("!{short} {}", compact(arg))
        }
        other => format!("a {}", kind_of(other)),
    };
    if s.chars().count() > 80 {
        s = s.chars().take(77).collect::<String>() + "...";
    }
    s
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(compact).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(o) if is_intrinsic(o) => format!("({})", describe(v)),
        other => other.to_string(),
    }
}

/// Escapes one JSON pointer token (RFC 6901).
fn pointer_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

struct Ctx<'a> {
    parameters: Option<&'a Map<String, Value>>,
    mappings: Option<&'a Map<String, Value>>,
    resources: &'a Map<String, Value>,
}

type Resolved = Result<String, String>;

impl Ctx<'_> {
    /// Resolves `v` to a string, or says why it cannot be resolved before deployment.
    fn resolve(&self, v: &Value, depth: usize) -> Resolved {
        if depth > MAX_RESOLVE_DEPTH {
            return Err(format!(
                "nested deeper than {MAX_RESOLVE_DEPTH} intrinsic functions"
            ));
        }
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Null => Err("null".into()),
            Value::Array(_) => Err("a list where a string is expected".into()),
            Value::Object(o) if is_intrinsic(o) => {
                let Some((name, arg)) = o.iter().next() else {
                    return Err("an empty mapping".into());
                };
                match name.as_str() {
                    "Ref" => match arg.as_str() {
                        Some(target) => self.reference(target),
                        None => Err(format!("{} (Ref needs a name)", describe(v))),
                    },
                    "Fn::Sub" => self.sub(arg, depth),
                    "Fn::FindInMap" => self.find_in_map(arg, depth),
                    "Fn::Join" => self.join(arg, depth),
                    "Fn::Select" => self.select(arg, depth),
                    "Fn::If" => self.if_(arg, depth),
                    "Fn::GetAtt" => Err(format!(
                        "{}, an attribute known only after deployment",
                        describe(v)
                    )),
                    "Fn::ImportValue" => Err(format!(
                        "{}, an export of another stack, known only at deployment",
                        describe(v)
                    )),
                    _ => Err(format!("{}, which is evaluated at deployment", describe(v))),
                }
            }
            Value::Object(_) => Err("a mapping where a string is expected".into()),
        }
    }

    fn reference(&self, target: &str) -> Resolved {
        if target.starts_with("AWS::") {
            return Err(format!(
                "!Ref {target}, a pseudo parameter known only at deployment"
            ));
        }
        if let Some(param) = self.parameters.and_then(|p| p.get(target)) {
            let ptype = param
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or("String");
            if ptype.starts_with("AWS::SSM::Parameter::Value") {
                return Err(format!(
                    "!Ref {target}, an SSM parameter ({ptype}) read at deployment"
                ));
            }
            return match param.get("Default") {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(Value::Number(n)) => Ok(n.to_string()),
                Some(Value::Bool(b)) => Ok(b.to_string()),
                Some(Value::Array(items)) if ptype.contains("List") => Ok(items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(",")),
                Some(other) => Err(format!(
                    "!Ref {target}, a parameter whose Default is a {}",
                    kind_of(other)
                )),
                None => Err(format!(
                    "!Ref {target}, a parameter with no Default (given at deployment)"
                )),
            };
        }
        if self.resources.contains_key(target) {
            return Err(format!(
                "!Ref {target}, a resource whose id is known only after deployment"
            ));
        }
        Err(format!(
            "!Ref {target}, which names nothing in the template"
        ))
    }

    fn sub(&self, arg: &Value, depth: usize) -> Resolved {
        let (text, vars) = match arg {
            Value::String(s) => (s.as_str(), None),
            Value::Array(items) if items.len() == 2 => match (&items[0], &items[1]) {
                (Value::String(s), Value::Object(vars)) => (s.as_str(), Some(vars)),
                _ => return Err(format!("!Sub {} (malformed)", compact(arg))),
            },
            _ => return Err(format!("!Sub {} (malformed)", compact(arg))),
        };
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = after[..end].trim();
            let value = match vars.and_then(|m| m.get(name)) {
                Some(v) => self.resolve(v, depth + 1),
                None if name.contains('.') && !name.starts_with("AWS::") => Err(format!(
                    "!Sub \"{text}\": ${{{name}}} is an attribute known only after deployment"
                )),
                None => self.reference(name),
            };
            match value {
                Ok(v) => out.push_str(&v),
                Err(why) if why.starts_with("!Sub") => return Err(why),
                Err(why) => return Err(format!("!Sub \"{text}\": {why}")),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn find_in_map(&self, arg: &Value, depth: usize) -> Resolved {
        let shown = || format!("!FindInMap {}", compact(arg));
        let Some(items) = arg.as_array().filter(|a| (3..=4).contains(&a.len())) else {
            return Err(format!("{} (malformed)", shown()));
        };
        let mut keys = Vec::with_capacity(3);
        for k in &items[..3] {
            match self.resolve(k, depth + 1) {
                Ok(s) => keys.push(s),
                Err(why) => return Err(format!("{}: {why}", shown())),
            }
        }
        let found = self
            .mappings
            .and_then(|m| m.get(&keys[0]))
            .and_then(|m| m.get(&keys[1]))
            .and_then(|m| m.get(&keys[2]));
        match found {
            Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => {
                self.resolve(v, depth + 1)
            }
            Some(other) => Err(format!("{}: finds a {}", shown(), kind_of(other))),
            None => match items.get(3).and_then(|d| d.get("DefaultValue")) {
                Some(default) => self.resolve(default, depth + 1),
                None => Err(format!("{}: no such entry in Mappings", shown())),
            },
        }
    }

    fn join(&self, arg: &Value, depth: usize) -> Resolved {
        let shown = || format!("!Join {}", compact(arg));
        let Some([delim, list]) = arg
            .as_array()
            .map(Vec::as_slice)
            .and_then(|a| <&[Value; 2]>::try_from(a).ok())
        else {
            return Err(format!("{} (malformed)", shown()));
        };
        let delim = self
            .resolve(delim, depth + 1)
            .map_err(|w| format!("{}: {w}", shown()))?;
        let Some(list) = list.as_array() else {
            return Err(format!("{}: the list is not literal", shown()));
        };
        let mut parts = Vec::with_capacity(list.len());
        for item in list {
            parts.push(
                self.resolve(item, depth + 1)
                    .map_err(|w| format!("{}: {w}", shown()))?,
            );
        }
        Ok(parts.join(&delim))
    }

    fn select(&self, arg: &Value, depth: usize) -> Resolved {
        let shown = || format!("!Select {}", compact(arg));
        let Some([index, list]) = arg
            .as_array()
            .map(Vec::as_slice)
            .and_then(|a| <&[Value; 2]>::try_from(a).ok())
        else {
            return Err(format!("{} (malformed)", shown()));
        };
        let index = self
            .resolve(index, depth + 1)
            .map_err(|w| format!("{}: {w}", shown()))?;
        let Ok(index) = index.trim().parse::<usize>() else {
            return Err(format!("{}: index `{index}` is not a number", shown()));
        };
        let Some(list) = list.as_array() else {
            return Err(format!("{}: the list is known only at deployment", shown()));
        };
        match list.get(index) {
            Some(item) => self
                .resolve(item, depth + 1)
                .map_err(|w| format!("{}: {w}", shown())),
            None => Err(format!("{}: index {index} is out of range", shown())),
        }
    }

    fn if_(&self, arg: &Value, depth: usize) -> Resolved {
        let Some([cond, a, b]) = arg
            .as_array()
            .map(Vec::as_slice)
            .and_then(|x| <&[Value; 3]>::try_from(x).ok())
        else {
            return Err(format!("!If {} (malformed)", compact(arg)));
        };
        let cond = cond.as_str().unwrap_or("?");
        match (self.resolve(a, depth + 1), self.resolve(b, depth + 1)) {
            (Ok(x), Ok(y)) if x == y => Ok(x),
            (Ok(x), Ok(y)) => Err(format!(
                "!If on condition {cond}, which chooses '{x}' or '{y}' at deployment"
            )),
            _ => Err(format!(
                "!If on condition {cond} between {} and {}, decided at deployment",
                compact(a),
                compact(b)
            )),
        }
    }
}

/// The 1-based line of each key of the top-level `Resources` object of a JSON document.
/// The document must already have parsed; on anything unexpected the map is just shorter.
fn json_resource_lines(bytes: &[u8]) -> HashMap<String, u32> {
    let mut out = HashMap::new();
    let mut s = Scanner {
        b: bytes,
        i: 0,
        line: 1,
        counted: 0,
    };
    s.ws();
    if s.peek() != Some(b'{') {
        return out;
    }
    s.i += 1;
    loop {
        s.ws();
        let Some(key) = s.string() else {
            return out;
        };
        s.ws();
        if s.peek() != Some(b':') {
            return out;
        }
        s.i += 1;
        s.ws();
        if key == "Resources" && s.peek() == Some(b'{') {
            s.i += 1;
            loop {
                s.ws();
                let at = s.i;
                let Some(id) = s.string() else {
                    return out;
                };
                let line = s.line_at(at);
                out.insert(id, line);
                s.ws();
                if s.peek() != Some(b':') {
                    return out;
                }
                s.i += 1;
                s.skip_value();
                s.ws();
                if s.peek() != Some(b',') {
                    return out;
                }
                s.i += 1;
            }
        }
        s.skip_value();
        s.ws();
        if s.peek() != Some(b',') {
            return out;
        }
        s.i += 1;
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    line: u32,
    counted: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// The line of byte offset `at` (offsets must not decrease between calls).
    fn line_at(&mut self, at: usize) -> u32 {
        let from = self.counted.min(at);
        let n = self.b[from..at].iter().filter(|&&c| c == b'\n').count();
        self.line = self
            .line
            .saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        self.counted = at;
        self.line
    }

    /// Reads a string token and decodes it.
    fn string(&mut self) -> Option<String> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.i;
        self.i += 1;
        let mut escaped = false;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'\\' => {
                    escaped = true;
                    self.i += 1;
                }
                b'"' => {
                    let raw = self.b.get(start..self.i)?;
                    return if escaped {
                        serde_json::from_slice(raw).ok()
                    } else {
                        std::str::from_utf8(&raw[1..raw.len() - 1])
                            .ok()
                            .map(str::to_owned)
                    };
                }
                _ => {}
            }
        }
        None
    }

    /// Skips one value (the document is known to be valid JSON).
    fn skip_value(&mut self) {
        self.ws();
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    self.i += 1;
                    while let Some(c) = self.peek() {
                        self.i += 1;
                        match c {
                            b'\\' => self.i += 1,
                            b'"' => break,
                            _ => {}
                        }
                    }
                    if depth == 0 {
                        return;
                    }
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                    if depth == 0 {
                        self.i += 1;
                        return;
                    }
                }
                b',' if depth == 0 => return,
                _ => {}
            }
            self.i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &[u8] =
        include_bytes!("../../../../docs/examples/cloudformation-repositories.yaml");
    const CDK: &[u8] = include_bytes!("../../../../docs/examples/cdk-PaymentsStack.template.json");

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
        assert_eq!(
            api.name.as_deref(),
            Some("payments/api-prod"),
            "!Sub with a defaulted parameter"
        );
        assert_eq!(api.resource_id, "payments/api-prod");
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
        assert_eq!(
            by_id(&repos, "ReportsRepository").tag_mutability,
            MutabilitySetting::set(TagMutability::Immutable)
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
                r#"{{"Parameters":{{"P":{{"Type":"String","Default":"IMMUTABLE"}},"L":{{"Type":"CommaDelimitedList","Default":"a,b"}},"N":{{"Type":"String"}}}},
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
            (r#"{"ImageTagMutability":{"Ref":"L"}}"#, ""),
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
            (r#"{"ImageTagMutability":["IMMUTABLE"]}"#, "a list"),
            (r#"{"ImageTagMutability":{"a":1,"b":2}}"#, "a mapping"),
            (r#"{"Fn::If":["C",{},{}]}"#, "Properties is !If"),
        ] {
            let r = t(props);
            if props.contains("\"L\"") {
                // A list parameter's Default joins to text that is not a known value.
                assert_eq!(r.tag_mutability, set("a,b"));
                continue;
            }
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

    #[test]
    fn json_line_scanner_handles_escapes_and_nesting() {
        let doc = "{\"Description\":\"a \\\"}\\\" b\",\n\"Outputs\":{\"X\":[1,{\"y\":\"]\"}]},\n\"Resources\":{\n\"A~/\\u0042\":{\"Type\":\"t\",\"Properties\":{\"Z\":[[],{}]}},\n\n\"C\":{}}}";
        let lines = json_resource_lines(doc.as_bytes());
        assert_eq!(lines.get("A~/B"), Some(&4));
        assert_eq!(lines.get("C"), Some(&6));
        assert_eq!(pointer_token("A~/B"), "A~0~1B");
    }
}
