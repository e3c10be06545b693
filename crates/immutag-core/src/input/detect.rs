//! Content sniffing for [`super::InputFormat::Auto`].
//!
//! JSON is read first: the top-level member names decide the shape, and reading stops at
//! the first member that decides it (so sniffing a large document costs little).
//!
//! | member seen at the top level (or in the first element of an array) | shape |
//! |---|---|
//! | `invokingEvent`, `messageType`, `configurationItem`, `configurationItems`, `configurationItemSummary`, `configurationItemStatus`, `configurationItemCaptureTime`, `resourceType`, and the other configuration-item members (`configurationItemVersion`, `configurationStateId`, `configurationItemMD5Hash`, `relatedEvents`, `relationships`, `supplementaryConfiguration`) | Config |
//! | `repositories`, `repository`, `repositoryArn`, `repositoryName`, `registryId`, `imageTagMutability`, `repositoryCreationTemplates`, `repositoryCreationTemplate`, `appliedFor` | ECR |
//! | `Resources`, `AWSTemplateFormatVersion` | CloudFormation |
//! | `planned_values`, `resource_changes`, `terraform_version`, `prior_state`, or `format_version` | Terraform |
//!
//! A document whose first character is not `{` or `[` is read as YAML, and is accepted only
//! if it is a CloudFormation template (the only YAML shape).
//!
//! ```
//! use immutag_core::input::detect::{sniff, Sniffed};
//! use immutag_core::InputKind;
//! assert_eq!(sniff(br#"{"repositories":[]}"#).unwrap(), Sniffed::Json(InputKind::Ecr));
//! assert_eq!(sniff(b"Resources:\n  R:\n    Type: AWS::ECR::Repository\n").unwrap(), Sniffed::Yaml);
//! assert!(sniff(br#"{"hello":"world"}"#).unwrap_err().to_string().contains("hello"));
//! ```

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::shared::json_error;
use crate::error::InputError;
use crate::model::InputKind;

/// What sniffing found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// A JSON document of this shape.
    Json(InputKind),
    /// A document that is not JSON; the caller reads it as a YAML CloudFormation template.
    Yaml,
}

/// The shape a top-level member name decides, if any.
pub fn kind_of_member(name: &str) -> Option<InputKind> {
    Some(match name {
        "invokingEvent"
        | "messageType"
        | "configurationItem"
        | "configurationItems"
        | "baseConfigurationItems"
        | "configurationItemSummary"
        | "configurationItemStatus"
        | "configurationItemCaptureTime"
        | "configurationItemVersion"
        | "configurationStateId"
        | "configurationItemMD5Hash"
        | "relatedEvents"
        | "relationships"
        | "supplementaryConfiguration"
        | "resourceType" => InputKind::Config,
        "repositories"
        | "repository"
        | "repositoryArn"
        | "repositoryName"
        | "registryId"
        | "imageTagMutability"
        | "RepositoryArn"
        | "repositoryCreationTemplates"
        | "repositoryCreationTemplate"
        | "appliedFor" => InputKind::Ecr,
        "Resources" | "AWSTemplateFormatVersion" => InputKind::Cloudformation,
        "planned_values" | "resource_changes" | "terraform_version" | "prior_state" => {
            InputKind::Terraform
        }
        _ => return None,
    })
}

/// Sniffs the shape of `bytes` (already stripped of a BOM).
pub fn sniff(bytes: &[u8]) -> Result<Sniffed, InputError> {
    let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied() else {
        return Err(InputError::Undetected("the input is empty".into()));
    };
    if first != b'{' && first != b'[' {
        return Ok(Sniffed::Yaml);
    }
    let mut state = State::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = Seed { state: &mut state }.deserialize(&mut de);
    if let Some(kind) = state.decided {
        return Ok(Sniffed::Json(kind));
    }
    match result {
        Err(e) => Err(json_error(&e, "input")),
        Ok(()) => {
            if let Err(e) = de.end() {
                return Err(json_error(&e, "input"));
            }
            if state.format_version {
                return Ok(Sniffed::Json(InputKind::Terraform));
            }
            Err(InputError::Undetected(state.describe()))
        }
    }
}

#[derive(Default)]
struct State {
    decided: Option<InputKind>,
    format_version: bool,
    seen: Vec<String>,
    more: usize,
    what: Option<&'static str>,
}

impl State {
    fn describe(&self) -> String {
        if let Some(what) = self.what {
            return what.to_owned();
        }
        if self.seen.is_empty() {
            return "a JSON object with no members".to_owned();
        }
        let more = if self.more > 0 {
            format!(" and {} more", self.more)
        } else {
            String::new()
        };
        format!(
            "a JSON object with members {}{more}, none of which belongs to a Config event or item, ECR output, a CloudFormation template or a Terraform plan",
            self.seen
                .iter()
                .map(|k| format!("`{}`", k.chars().take(40).collect::<String>()))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

const STOP: &str = "immutag: shape decided";

struct Seed<'s> {
    state: &'s mut State,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(TopVisitor { state: self.state })
    }
}

struct TopVisitor<'s> {
    state: &'s mut State,
}

impl<'de> Visitor<'de> for TopVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object or array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if let Some(kind) = kind_of_member(&key) {
                self.state.decided = Some(kind);
                return Err(de::Error::custom(STOP));
            }
            if key == "format_version" {
                self.state.format_version = true;
            }
            if self.state.seen.len() < 8 {
                self.state.seen.push(key);
            } else {
                self.state.more += 1;
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let state = self.state;
        match seq.next_element_seed(Seed { state: &mut *state })? {
            None => {
                state.what = Some("an empty JSON array");
                Ok(())
            }
            Some(()) => {
                if state.what.is_some() {
                    state.what = Some("a JSON array whose first element is not an object");
                } else if state.decided.is_none() {
                    state.what = None;
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(())
            }
        }
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.state.what = Some("a JSON boolean");
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.state.what = Some("a JSON number");
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.state.what = Some("a JSON number");
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.state.what = Some("a JSON number");
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.state.what = Some("a JSON string");
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.state.what = Some("JSON null");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Result<Sniffed, InputError> {
        sniff(s.as_bytes())
    }

    #[test]
    fn decides_by_first_decisive_member() {
        assert_eq!(
            kind(r#"{"version":"1.0","invokingEvent":"{}"}"#).unwrap(),
            Sniffed::Json(InputKind::Config)
        );
        // A bare configuration item as Config orders it: decided before `configuration`.
        assert_eq!(
            kind(r#"{"relatedEvents":[],"configuration":{"RepositoryName":"x"}}"#).unwrap(),
            Sniffed::Json(InputKind::Config)
        );
        assert_eq!(
            kind(r#"[{"repositoryName":"a"}]"#).unwrap(),
            Sniffed::Json(InputKind::Ecr)
        );
        // describe-repository-creation-templates output, a bare template.
        assert_eq!(
            kind(r#"{"repositoryCreationTemplates":[]}"#).unwrap(),
            Sniffed::Json(InputKind::Ecr)
        );
        assert_eq!(
            kind(r#"{"prefix":"ROOT","appliedFor":["REPLICATION"]}"#).unwrap(),
            Sniffed::Json(InputKind::Ecr)
        );
        assert_eq!(
            kind(r#"{"Parameters":{},"Resources":{}}"#).unwrap(),
            Sniffed::Json(InputKind::Cloudformation)
        );
        assert_eq!(
            kind(r#"{"format_version":"1.2","values":{}}"#).unwrap(),
            Sniffed::Json(InputKind::Terraform)
        );
        // Reading stops at the decisive member: what follows is the parser's business.
        assert_eq!(
            kind(r#"{"Resources":{}, garbage"#).unwrap(),
            Sniffed::Json(InputKind::Cloudformation)
        );
        assert_eq!(kind("  Resources: {}").unwrap(), Sniffed::Yaml);
    }

    #[test]
    fn undetected_names_what_was_seen() {
        let e = kind(r#"{"a":1,"b":[1,2]}"#).unwrap_err();
        assert!(matches!(e, InputError::Undetected(_)));
        assert!(e.to_string().contains("`a`, `b`"), "{e}");
        for (input, what) in [
            ("[]", "empty JSON array"),
            ("[1]", "not an object"),
            ("{}", "no members"),
            ("", "empty"),
            ("   \n", "empty"),
        ] {
            let e = kind(input).unwrap_err().to_string();
            assert!(e.contains(what), "{input}: {e}");
        }
    }

    #[test]
    fn syntax_errors_have_a_location() {
        let e = kind("{\n  \"a\": 1,\n  \"b\" 2}").unwrap_err();
        match e {
            InputError::Syntax { location, .. } => {
                assert_eq!(location.as_deref(), Some("line 3 column 7"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            kind("{\"a\":1} x").unwrap_err(),
            InputError::Syntax { .. }
        ));
    }
}
