//! Loads a YAML CloudFormation template into the JSON form of the template, expanding
//! short-form intrinsic tags (`!Ref x` to `{"Ref": "x"}`, `!GetAtt a.b` to
//! `{"Fn::GetAtt": ["a", "b"]}`, `!Sub s` to `{"Fn::Sub": "s"}`, ...), and records the line
//! of every key under the top-level `Resources`.
//!
//! Plain scalars stay strings (CloudFormation passes property values as strings), except the
//! YAML null forms. Aliases are refused (CloudFormation does not support them), as are
//! complex keys, duplicate keys and more than one document. Nesting is limited to
//! [`MAX_DEPTH`] levels.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Value};

use crate::error::InputError;

/// The deepest nesting accepted (serde_json's own limit is 128).
pub(crate) const MAX_DEPTH: usize = 128;

/// A template read from YAML: the JSON form, and the 1-based line of each resource key.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub doc: Value,
    pub resource_lines: HashMap<String, u32>,
}

enum Frame {
    Map {
        map: Map<String, Value>,
        key: Option<(String, u32)>,
        tag: Option<String>,
        /// This mapping is the value of the top-level `Resources`.
        resources: bool,
    },
    Seq {
        items: Vec<Value>,
        tag: Option<String>,
    },
}

fn syntax(span: &Span, message: impl Into<String>) -> InputError {
    InputError::Syntax {
        format: "YAML",
        location: Some(format!(
            "line {} column {}",
            span.start.line(),
            span.start.col() + 1
        )),
        message: message.into(),
    }
}

/// The short-form tag name (`Ref`, `GetAtt`, ...) of a `!Name` tag; `None` for core-schema
/// and other tags.
fn short_form(tag: Option<&Tag>) -> Option<String> {
    let tag = tag?;
    (tag.handle == "!" && !tag.suffix.is_empty()).then(|| tag.suffix.clone())
}

fn is_core(tag: Option<&Tag>, name: &str) -> bool {
    tag.is_some_and(|t| t.is_yaml_core_schema() && t.suffix == name)
}

/// Expands a short-form tag around `value` into the JSON (long) form.
fn expand(tag: &str, value: Value) -> Value {
    let (key, value) = match tag {
        "Ref" => ("Ref".to_owned(), value),
        "Condition" => ("Condition".to_owned(), value),
        "GetAtt" => {
            let value = match value {
                Value::String(s) => match s.split_once('.') {
                    Some((a, b)) => {
                        Value::Array(vec![Value::String(a.into()), Value::String(b.into())])
                    }
                    None => Value::String(s),
                },
                other => other,
            };
            ("Fn::GetAtt".to_owned(), value)
        }
        other => (format!("Fn::{other}"), value),
    };
    let mut m = Map::new();
    m.insert(key, value);
    Value::Object(m)
}

fn scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if is_core(tag, "str") {
        return Value::String(text.to_owned());
    }
    if style == ScalarStyle::Plain && matches!(text, "" | "~" | "null" | "Null" | "NULL")
        || is_core(tag, "null")
    {
        return Value::Null;
    }
    Value::String(text.to_owned())
}

/// Loads `text`.
pub(crate) fn load(text: &str) -> Result<Loaded, InputError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    let mut documents = 0usize;
    let mut resource_lines = HashMap::new();

    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| InputError::Syntax {
            format: "YAML",
            location: Some(format!(
                "line {} column {}",
                e.marker().line(),
                e.marker().col() + 1
            )),
            message: e.info().to_owned(),
        })?;
        let value = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => continue,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(syntax(
                        &span,
                        "more than one YAML document; a CloudFormation template is one document",
                    ));
                }
                continue;
            }
            Event::Alias(_) => {
                return Err(syntax(
                    &span,
                    "YAML aliases (*name) are not supported by CloudFormation",
                ));
            }
            Event::MappingStart(_, tag) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(syntax(
                        &span,
                        format!("nesting deeper than {MAX_DEPTH} levels"),
                    ));
                }
                let resources = stack.len() == 1
                    && matches!(stack.first(), Some(Frame::Map { key: Some((k, _)), .. }) if k == "Resources");
                stack.push(Frame::Map {
                    map: Map::new(),
                    key: None,
                    tag: short_form(tag.as_deref()),
                    resources,
                });
                continue;
            }
            Event::SequenceStart(_, tag) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(syntax(
                        &span,
                        format!("nesting deeper than {MAX_DEPTH} levels"),
                    ));
                }
                stack.push(Frame::Seq {
                    items: Vec::new(),
                    tag: short_form(tag.as_deref()),
                });
                continue;
            }
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map { map, tag, key, .. }) => {
                    if let Some((k, _)) = key {
                        return Err(syntax(&span, format!("key `{k}` has no value")));
                    }
                    let v = Value::Object(map);
                    match tag {
                        Some(t) => expand(&t, v),
                        None => v,
                    }
                }
                _ => return Err(syntax(&span, "unbalanced mapping")),
            },
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq { items, tag }) => {
                    let v = Value::Array(items);
                    match tag {
                        Some(t) => expand(&t, v),
                        None => v,
                    }
                }
                _ => return Err(syntax(&span, "unbalanced sequence")),
            },
            Event::Scalar(text, style, _, tag) => {
                // A scalar in key position is a key.
                if let Some(Frame::Map {
                    map,
                    key: key @ None,
                    resources,
                    ..
                }) = stack.last_mut()
                {
                    let k = text.into_owned();
                    if map.contains_key(&k) {
                        return Err(syntax(&span, format!("duplicate key `{k}`")));
                    }
                    let line = u32::try_from(span.start.line()).unwrap_or(u32::MAX);
                    if *resources {
                        resource_lines.insert(k.clone(), line);
                    }
                    *key = Some((k, line));
                    continue;
                }
                let v = scalar(&text, style, tag.as_deref());
                match short_form(tag.as_deref()) {
                    Some(t) => expand(&t, v),
                    None => v,
                }
            }
        };
        // Attach a finished value to its parent.
        match stack.last_mut() {
            None => {
                if root.is_some() {
                    return Err(syntax(&span, "more than one top-level value"));
                }
                root = Some(value);
            }
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map { map, key, .. }) => match key.take() {
                Some((k, _)) => {
                    map.insert(k, value);
                }
                None => {
                    return Err(syntax(
                        &span,
                        "a mapping or sequence used as a key (complex keys are not supported by CloudFormation)",
                    ));
                }
            },
        }
    }
    Ok(Loaded {
        doc: root.unwrap_or(Value::Null),
        resource_lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_forms_expand() {
        let y = r#"
A: !Ref P
B: !GetAtt Res.Arn
C: !Sub "${AWS::Region}-x"
D: !If [IsProd, IMMUTABLE, !Ref AWS::NoValue]
E: !Join
  - ""
  - [a, !Select [0, !GetAZs ""]]
F: !FindInMap [M, !Ref "AWS::Region", k]
G: !Not [!Equals [!Ref P, x]]
H: !Condition C
I: !Base64 {"Fn::Sub": x}
J: ~
K: 'null'
L: !!str 5
"#;
        let l = load(y).unwrap();
        assert_eq!(
            l.doc,
            json!({
                "A": {"Ref": "P"},
                "B": {"Fn::GetAtt": ["Res", "Arn"]},
                "C": {"Fn::Sub": "${AWS::Region}-x"},
                "D": {"Fn::If": ["IsProd", "IMMUTABLE", {"Ref": "AWS::NoValue"}]},
                "E": {"Fn::Join": ["", ["a", {"Fn::Select": ["0", {"Fn::GetAZs": ""}]}]]},
                "F": {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "k"]},
                "G": {"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, "x"]}]},
                "H": {"Condition": "C"},
                "I": {"Fn::Base64": {"Fn::Sub": "x"}},
                "J": null,
                "K": "null",
                "L": "5"
            })
        );
    }

    #[test]
    fn resource_lines_are_recorded() {
        let y = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Repo:\n    Type: AWS::ECR::Repository\n  Other:\n    Type: AWS::S3::Bucket\n    Properties:\n      Nested:\n        Repo2: 1\n";
        let l = load(y).unwrap();
        assert_eq!(l.resource_lines.get("Repo"), Some(&3));
        assert_eq!(l.resource_lines.get("Other"), Some(&5));
        assert_eq!(l.resource_lines.get("Repo2"), None);
        assert_eq!(l.resource_lines.len(), 2);
    }

    #[test]
    fn refusals() {
        for (y, what) in [
            ("a: &x 1\nb: *x\n", "aliases"),
            ("a: 1\na: 2\n", "duplicate key `a`"),
            ("? [a]\n: 1\n", "complex keys"),
            ("a: 1\n---\nb: 2\n", "more than one YAML document"),
            ("a: [1, 2\n", ""),
            ("a:\n  - b\n c: 1\n", ""),
        ] {
            let e = load(y).unwrap_err();
            assert!(
                matches!(
                    e,
                    InputError::Syntax {
                        format: "YAML",
                        location: Some(_),
                        ..
                    }
                ),
                "{y}: {e:?}"
            );
            assert!(e.to_string().contains(what), "{y}: {e}");
        }
        let deep = "[".repeat(MAX_DEPTH + 5);
        assert!(load(&deep).unwrap_err().to_string().contains("nesting"));
    }
}
