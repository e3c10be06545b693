//! Rule parameters, as AWS Config passes them: a JSON object whose values are strings.
//!
//! Lists are comma-separated. Unknown keys and malformed values are errors that name the key;
//! nothing is silently ignored. An empty string means "not set" (the Config console sends
//! empty values for parameters left blank).
//!
//! ```
//! use immutag_core::RuleParameters;
//! let p = RuleParameters::from_json(r#"{"AllowedExclusionFilters":"latest, dev-*","ExemptionTagKey":"immutag:exempt"}"#).unwrap();
//! assert_eq!(p.allowed_exclusion_filters, vec!["latest", "dev-*"]);
//! assert_eq!(p.exemption_tag_key.as_deref(), Some("immutag:exempt"));
//!
//! let err = RuleParameters::from_json(r#"{"AllowedExclusionFilter":"latest"}"#).unwrap_err();
//! assert!(err.to_string().contains("AllowedExclusionFilter"));
//! ```

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ParamError;
use crate::model::TemplatePrefix;
use crate::wildcard;

/// Parameter key: exclusion filters a repository may use and still be COMPLIANT.
pub const ALLOWED_EXCLUSION_FILTERS: &str = "AllowedExclusionFilters";
/// Parameter key: repository name patterns that are exempt (NOT_APPLICABLE).
pub const EXEMPT_REPOSITORY_PATTERNS: &str = "ExemptRepositoryPatterns";
/// Parameter key: a resource tag key whose presence exempts a repository.
pub const EXEMPTION_TAG_KEY: &str = "ExemptionTagKey";
/// Parameter key: the role the Lambda assumes in the event's account.
pub const EXECUTION_ROLE_NAME: &str = "ExecutionRoleName";
/// Parameter key: auto-remediation mode of the Lambda (`IMMUTABLE`, or empty / `NONE` for off).
pub const REMEDIATION: &str = "Remediation";

/// Every key the rule knows.
pub const KNOWN_KEYS: [&str; 5] = [
    ALLOWED_EXCLUSION_FILTERS,
    EXEMPT_REPOSITORY_PATTERNS,
    EXEMPTION_TAG_KEY,
    EXECUTION_ROLE_NAME,
    REMEDIATION,
];

/// What the Config rule Lambda does with a NON_COMPLIANT, non-exempt repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RemediationMode {
    /// Report only (the default).
    #[default]
    None,
    /// Switch the repository to IMMUTABLE with PutImageTagMutability, then report it.
    Immutable,
}

/// The rule's parameters, parsed and validated.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RuleParameters {
    /// Exclusion filters (exact filter text) that an `IMMUTABLE_WITH_EXCLUSION` repository
    /// may use and still be COMPLIANT. A catch-all (`*`) is never allowed.
    pub allowed_exclusion_filters: Vec<String>,
    /// Repository name patterns (`*` wildcard, whole name) that are exempt.
    pub exempt_repository_patterns: Vec<String>,
    /// A resource tag key that exempts a repository that carries it (any value).
    pub exemption_tag_key: Option<String>,
    /// The IAM role name the Lambda assumes in the event's account (organization deployments).
    pub execution_role_name: Option<String>,
    /// Auto-remediation mode of the Lambda.
    pub remediation: RemediationMode,
}

/// The wire form of [`RuleParameters`]: what Config passes, every value a string.
/// This is the form the JSON Schema documents.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "RuleParameters")]
pub struct RuleParametersWire {
    /// Comma-separated exclusion filters (each `[0-9a-zA-Z._*-]{1,128}`, not `*`) that an
    /// IMMUTABLE_WITH_EXCLUSION repository may use and still be COMPLIANT.
    #[serde(
        rename = "AllowedExclusionFilters",
        skip_serializing_if = "Option::is_none"
    )]
    pub allowed_exclusion_filters: Option<String>,
    /// Comma-separated repository name patterns (`*` matches any run of characters) whose
    /// repositories are NOT_APPLICABLE.
    #[serde(
        rename = "ExemptRepositoryPatterns",
        skip_serializing_if = "Option::is_none"
    )]
    pub exempt_repository_patterns: Option<String>,
    /// A resource tag key (1 to 128 characters); a repository carrying it is NOT_APPLICABLE.
    #[serde(rename = "ExemptionTagKey", skip_serializing_if = "Option::is_none")]
    pub exemption_tag_key: Option<String>,
    /// IAM role name (1 to 64 characters of `[A-Za-z0-9+=,.@_-]`) the Lambda assumes in the
    /// event's account before reading and reporting.
    #[serde(rename = "ExecutionRoleName", skip_serializing_if = "Option::is_none")]
    pub execution_role_name: Option<String>,
    /// `IMMUTABLE` to let the Lambda switch NON_COMPLIANT, non-exempt repositories to
    /// IMMUTABLE; `NONE` or empty (the default) to report only.
    #[serde(rename = "Remediation", skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
}

impl JsonSchema for RuleParameters {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RuleParameters".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        RuleParametersWire::json_schema(generator)
    }
}

impl RuleParameters {
    /// Parses Config's `ruleParameters` string (a JSON object of strings). An empty string
    /// or `{}` gives the defaults.
    pub fn from_json(text: &str) -> Result<Self, ParamError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ParamError::NotAnObject(e.to_string()))?;
        Self::from_value(&value)
    }

    /// Parses an already-decoded JSON value (an object of strings).
    pub fn from_value(value: &serde_json::Value) -> Result<Self, ParamError> {
        let object = match value {
            serde_json::Value::Object(o) => o,
            serde_json::Value::Null => return Ok(Self::default()),
            other => return Err(ParamError::NotAnObject(format!("found {}", kind_of(other)))),
        };
        let mut map = BTreeMap::new();
        for (key, v) in object {
            match v {
                serde_json::Value::String(s) => {
                    map.insert(key.clone(), s.clone());
                }
                other => {
                    check_known(key)?;
                    return Err(ParamError::NotAString {
                        key: key.clone(),
                        found: kind_of(other).to_owned(),
                    });
                }
            }
        }
        Self::from_map(&map)
    }

    /// Parses `KEY=VALUE` pairs (as given on the command line).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = &'a str>) -> Result<Self, ParamError> {
        let mut map = BTreeMap::new();
        for pair in pairs {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(ParamError::Invalid {
                    key: pair.to_owned(),
                    problem: "expected KEY=VALUE".to_owned(),
                });
            };
            map.insert(key.trim().to_owned(), value.to_owned());
        }
        Self::from_map(&map)
    }

    /// Parses a map of string values, validating every key and value.
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Self, ParamError> {
        let mut params = Self::default();
        for (key, raw) in map {
            check_known(key)?;
            let value = raw.trim();
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                ALLOWED_EXCLUSION_FILTERS => {
                    let items = split_list(value);
                    for item in &items {
                        if !wildcard::is_valid_filter(item) {
                            return Err(invalid(
                                key,
                                format!(
                                    "`{item}` is not a valid exclusion filter (1 to 128 characters of 0-9 a-z A-Z . _ * -)"
                                ),
                            ));
                        }
                        if wildcard::is_catch_all(item) {
                            return Err(invalid(
                                key,
                                format!(
                                    "`{item}` matches every tag, which would make IMMUTABLE_WITH_EXCLUSION fully mutable; list the specific tags to allow"
                                ),
                            ));
                        }
                    }
                    params.allowed_exclusion_filters = items;
                }
                EXEMPT_REPOSITORY_PATTERNS => {
                    let items = split_list(value);
                    for item in &items {
                        if !is_valid_name_pattern(item) {
                            return Err(invalid(
                                key,
                                format!(
                                    "`{item}` is not a repository name pattern (lowercase letters, digits, . _ - / and the wildcard *, up to 256 characters)"
                                ),
                            ));
                        }
                    }
                    params.exempt_repository_patterns = items;
                }
                EXEMPTION_TAG_KEY => {
                    if value.chars().count() > 128 {
                        return Err(invalid(key, "a tag key is at most 128 characters".into()));
                    }
                    if value.starts_with("aws:") {
                        return Err(invalid(
                            key,
                            "tag keys starting with `aws:` are reserved by AWS and cannot be set on a repository".into(),
                        ));
                    }
                    params.exemption_tag_key = Some(value.to_owned());
                }
                EXECUTION_ROLE_NAME => {
                    let ok = (1..=64).contains(&value.len())
                        && value.chars().all(|c| {
                            c.is_ascii_alphanumeric()
                                || matches!(c, '+' | '=' | ',' | '.' | '@' | '_' | '-')
                        });
                    if !ok {
                        return Err(invalid(
                            key,
                            format!(
                                "`{value}` is not an IAM role name (1 to 64 characters of A-Z a-z 0-9 + = , . @ _ -; give the name, not the ARN)"
                            ),
                        ));
                    }
                    params.execution_role_name = Some(value.to_owned());
                }
                REMEDIATION => {
                    params.remediation = match value.to_ascii_uppercase().as_str() {
                        "IMMUTABLE" => RemediationMode::Immutable,
                        "NONE" | "OFF" | "FALSE" => RemediationMode::None,
                        _ => {
                            return Err(invalid(
                                key,
                                format!(
                                    "`{value}` is not a remediation mode; use IMMUTABLE, or NONE to report only"
                                ),
                            ));
                        }
                    };
                }
                _ => unreachable_known(key)?,
            }
        }
        Ok(params)
    }

    /// The wire form (every value a string), for printing or re-serializing.
    pub fn to_wire(&self) -> RuleParametersWire {
        let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.join(","));
        RuleParametersWire {
            allowed_exclusion_filters: list(&self.allowed_exclusion_filters),
            exempt_repository_patterns: list(&self.exempt_repository_patterns),
            exemption_tag_key: self.exemption_tag_key.clone(),
            execution_role_name: self.execution_role_name.clone(),
            remediation: match self.remediation {
                RemediationMode::None => None,
                RemediationMode::Immutable => Some("IMMUTABLE".into()),
            },
        }
    }

    /// The first exempt pattern that matches `name`, if any.
    pub fn exempt_pattern_for(&self, name: &str) -> Option<&str> {
        self.exempt_repository_patterns
            .iter()
            .find(|p| wildcard::matches(p, name))
            .map(String::as_str)
    }

    /// The first exempt pattern that matches the name of **every** repository a creation
    /// template with `prefix` can create, if any (fail closed: a pattern that matches only
    /// some of them does not exempt the template). Patterns still match repository names
    /// only: `sandbox/*` or `sandbox*` exempt the template `sandbox` (every name it creates
    /// begins with `sandbox/`), `sandbox/api-*` does not, and only a pattern of `*` alone
    /// exempts `ROOT` (it can create any name).
    ///
    /// ```
    /// use immutag_core::{RuleParameters, TemplatePrefix};
    /// let p = RuleParameters::from_json(r#"{"ExemptRepositoryPatterns":"sandbox/*,team-a/api-*"}"#).unwrap();
    /// assert_eq!(p.exempt_pattern_for_prefix(&TemplatePrefix::parse("sandbox")), Some("sandbox/*"));
    /// assert_eq!(p.exempt_pattern_for_prefix(&TemplatePrefix::parse("sandbox/x")), Some("sandbox/*"));
    /// assert_eq!(p.exempt_pattern_for_prefix(&TemplatePrefix::parse("team-a")), None);
    /// assert_eq!(p.exempt_pattern_for_prefix(&TemplatePrefix::Root), None);
    /// ```
    pub fn exempt_pattern_for_prefix(&self, prefix: &TemplatePrefix) -> Option<&str> {
        let under = match prefix {
            TemplatePrefix::Root => String::new(),
            TemplatePrefix::Namespace(p) => format!("{p}/"),
        };
        self.exempt_repository_patterns
            .iter()
            .find(|p| matches_every_name_under(p, &under))
            .map(String::as_str)
    }
}

impl<'de> Deserialize<'de> for RuleParameters {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Self::from_value(&value).map_err(serde::de::Error::custom)
    }
}

/// True when `pattern` matches every name that begins with `under`: it must end with `*`,
/// and what comes before that `*` must match some beginning of `under` (the `*` then takes
/// the rest, whatever it is). The condition is exact: a pattern ending in a literal misses
/// the names that end otherwise, and one whose head needs characters past `under` misses the
/// names that do not have them.
fn matches_every_name_under(pattern: &str, under: &str) -> bool {
    let Some(head) = pattern.strip_suffix('*') else {
        return false;
    };
    let head = head.trim_end_matches('*');
    (0..=under.len())
        .filter(|&i| under.is_char_boundary(i))
        .any(|i| wildcard::matches(head, &under[..i]))
}

fn check_known(key: &str) -> Result<(), ParamError> {
    if KNOWN_KEYS.contains(&key) {
        Ok(())
    } else {
        Err(ParamError::UnknownKey {
            key: key.to_owned(),
            known: KNOWN_KEYS.join(", "),
        })
    }
}

fn unreachable_known(key: &str) -> Result<(), ParamError> {
    // `check_known` already rejected unknown keys; keep the compiler and the reader honest
    // without a panic path.
    check_known(key)
}

fn invalid(key: &str, problem: String) -> ParamError {
    ParamError::Invalid {
        key: key.to_owned(),
        problem,
    }
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_valid_name_pattern(p: &str) -> bool {
    (1..=256).contains(&p.len())
        && p.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '/' | '*')
        })
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_from_empty_inputs() {
        assert_eq!(
            RuleParameters::from_json("").unwrap(),
            RuleParameters::default()
        );
        assert_eq!(
            RuleParameters::from_json("{}").unwrap(),
            RuleParameters::default()
        );
        assert_eq!(
            RuleParameters::from_json(r#"{"AllowedExclusionFilters":""}"#).unwrap(),
            RuleParameters::default()
        );
    }

    #[test]
    fn all_keys_parse() {
        let p = RuleParameters::from_json(
            r#"{"AllowedExclusionFilters":"latest,dev-*","ExemptRepositoryPatterns":"sandbox-*, tools/*","ExemptionTagKey":"immutag:exempt","ExecutionRoleName":"ImmutagExecution","Remediation":"immutable"}"#,
        )
        .unwrap();
        assert_eq!(p.allowed_exclusion_filters, ["latest", "dev-*"]);
        assert_eq!(p.exempt_repository_patterns, ["sandbox-*", "tools/*"]);
        assert_eq!(p.exemption_tag_key.as_deref(), Some("immutag:exempt"));
        assert_eq!(p.execution_role_name.as_deref(), Some("ImmutagExecution"));
        assert_eq!(p.remediation, RemediationMode::Immutable);
        let round =
            RuleParameters::from_value(&serde_json::to_value(p.to_wire()).unwrap()).unwrap();
        assert_eq!(round, p);
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (r#"{"Foo":"x"}"#, "Foo"),
            (
                r#"{"AllowedExclusionFilters":"*"}"#,
                "AllowedExclusionFilters",
            ),
            (
                r#"{"AllowedExclusionFilters":"feature/x"}"#,
                "AllowedExclusionFilters",
            ),
            (
                r#"{"ExemptRepositoryPatterns":"Sandbox"}"#,
                "ExemptRepositoryPatterns",
            ),
            (r#"{"ExemptionTagKey":"aws:foo"}"#, "ExemptionTagKey"),
            (
                r#"{"ExecutionRoleName":"arn:aws:iam::1:role/x"}"#,
                "ExecutionRoleName",
            ),
            (r#"{"Remediation":"MUTABLE"}"#, "Remediation"),
            (r#"{"Remediation":true}"#, "Remediation"),
        ];
        for (input, key) in cases {
            let err = RuleParameters::from_json(input).unwrap_err().to_string();
            assert!(err.contains(key), "{input}: {err}");
        }
        assert!(matches!(
            RuleParameters::from_json("[1]").unwrap_err(),
            ParamError::NotAnObject(_)
        ));
        assert!(matches!(
            RuleParameters::from_json("{").unwrap_err(),
            ParamError::NotAnObject(_)
        ));
    }

    #[test]
    fn pairs_parse() {
        let p = RuleParameters::from_pairs(["AllowedExclusionFilters=latest", "ExemptionTagKey=k"])
            .unwrap();
        assert_eq!(p.allowed_exclusion_filters, ["latest"]);
        assert!(RuleParameters::from_pairs(["novalue"]).is_err());
    }
}
