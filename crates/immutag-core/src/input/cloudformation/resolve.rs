//! Static resolution of template values: literals and the intrinsic functions whose result
//! is certain before deployment; everything else is an `Err` that says why, naming the
//! expression (the caller reports it unresolved: fail closed, never guessed).
//!
//! A parameter is resolved only to a value it cannot be deployed without: the value given
//! for the deployment ([`super::Parameters`]), or its only `AllowedValues` entry. A `Default`
//! alone is what a deployer may override, so it is never taken as the value.

use std::borrow::Cow;
use std::collections::HashSet;

use serde_json::{Map, Value};

use super::Parameters;

const MAX_RESOLVE_DEPTH: usize = 32;

/// What resolution reads from the template and the deployment.
pub(super) struct Ctx<'a> {
    pub parameters: Option<&'a Map<String, Value>>,
    pub mappings: Option<&'a Map<String, Value>>,
    /// The logical ids of the template's resources (a `Ref` to one is known only after
    /// deployment).
    pub resource_ids: &'a HashSet<Cow<'a, str>>,
    /// Values given for the deployment, by parameter name.
    pub deployed: &'a Parameters,
}

pub(super) type Resolved = Result<String, String>;

impl Ctx<'_> {
    /// Resolves `v` to a string, or says why it cannot be resolved before deployment.
    pub fn resolve(&self, v: &Value, depth: usize) -> Resolved {
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
            return parameter_value(target, param, self.deployed.get(target));
        }
        if self.resource_ids.contains(target) {
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

/// The value of parameter `name` (its declaration `param`), given the value deployed for it
/// if one was given.
fn parameter_value(name: &str, param: &Value, deployed: Option<&str>) -> Resolved {
    let ptype = param
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or("String");
    if ptype.starts_with("AWS::SSM::Parameter::Value") {
        return Err(format!(
            "!Ref {name}, an SSM parameter ({ptype}) read at deployment"
        ));
    }
    if let Some(v) = deployed {
        return Ok(v.to_owned());
    }
    let default = param.get("Default").map(|d| scalar_text(d, ptype));
    let allowed = allowed_values(param);
    let shown_default = match &default {
        Some(Ok(d)) => format!("Default '{d}'"),
        Some(Err(kind)) => format!("a Default that is a {kind}"),
        None => "no Default".to_owned(),
    };
    match allowed.as_deref() {
        Some([only]) => Ok(only.clone()),
        Some(values) if !values.is_empty() => Err(format!(
            "!Ref {name}: a deployer picks one of AllowedValues {} ({shown_default}); give the deployed value with --cfn-parameters",
            quote_list(values)
        )),
        _ => match default {
            Some(Ok(d)) => Err(format!(
                "!Ref {name}: its Default '{d}' can be overridden (no AllowedValues); set AllowedValues [{d}] or give --cfn-parameters"
            )),
            _ => Err(format!(
                "!Ref {name}, a parameter with {shown_default} (given at deployment)"
            )),
        },
    }
}

/// The distinct `AllowedValues` of a parameter declaration, as text (`None` without any).
pub(super) fn allowed_values(param: &Value) -> Option<Vec<String>> {
    let items = param.get("AllowedValues")?.as_array()?;
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let text = match item {
            Value::String(s) => s.clone(),
            Value::Number(_) | Value::Bool(_) => item.to_string(),
            // Not a literal list of values: nothing is certain.
            _ => return None,
        };
        if !out.contains(&text) {
            out.push(text);
        }
    }
    Some(out)
}

/// A parameter's Default as the text a `Ref` gives (list parameters joined by commas), or
/// the kind of value it is when that is not a scalar.
fn scalar_text(v: &Value, ptype: &str) -> Result<String, &'static str> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Array(items) if ptype.contains("List") => Ok(items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(",")),
        other => Err(kind_of(other)),
    }
}

/// `'a', 'b'`.
pub(super) fn quote_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// True for `{"Ref": ..}`, `{"Condition": ..}` and `{"Fn::..": ..}`.
pub(super) fn is_intrinsic(o: &Map<String, Value>) -> bool {
    o.len() == 1
        && o.keys()
            .next()
            .is_some_and(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
}

/// True for `{"Ref": "AWS::NoValue"}`.
pub(super) fn is_no_value(v: &Value) -> bool {
    v.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue")
}

/// The YAML/JSON name of a value's kind.
pub(super) fn kind_of(v: &Value) -> &'static str {
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
pub(super) fn describe(v: &Value) -> String {
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
