//! A typed model of IAM policy documents as Service Control Policies use them, with
//! deterministic rendering.
//!
//! Rendering is byte-for-byte deterministic: struct fields render in IAM's customary order
//! (`Version`, `Id`, `Statement`; `Sid`, `Effect`, `Principal`, `Action`, `Resource`,
//! `Condition`) and condition operators and keys render sorted.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};

use crate::condition::ConditionOperator;
use crate::error::ScpError;

/// The only policy language version SCPs accept.
pub const POLICY_VERSION: &str = "2012-10-17";

/// A value IAM accepts either as a single item or as a list.
///
/// The form is kept: a single string renders as a string, a list as a list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single item (`"Action": "ecr:PutImage"`).
    One(T),
    /// A list (`"Action": ["ecr:PutImage", "ecr:CreateRepository"]`).
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// A single item when `items` has exactly one, else a list.
    ///
    /// ```
    /// use immutag_scp::policy::OneOrMany;
    /// assert_eq!(OneOrMany::from_vec(vec!["a"]), OneOrMany::One("a"));
    /// assert_eq!(OneOrMany::from_vec(vec!["a", "b"]).len(), 2);
    /// ```
    pub fn from_vec(mut items: Vec<T>) -> Self {
        if items.len() == 1
            && let Some(one) = items.pop()
        {
            return OneOrMany::One(one);
        }
        OneOrMany::Many(items)
    }

    /// The items, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        match self {
            OneOrMany::One(one) => std::slice::from_ref(one).iter(),
            OneOrMany::Many(many) => many.iter(),
        }
    }

    /// How many items there are.
    pub fn len(&self) -> usize {
        match self {
            OneOrMany::One(_) => 1,
            OneOrMany::Many(many) => many.len(),
        }
    }

    /// True when this is an empty list.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a, T> IntoIterator for &'a OneOrMany<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through a JSON value so that the inner error (unknown field, unknown operator)
        // reaches the user instead of "did not match any variant".
        let value = serde_json::Value::deserialize(deserializer)?;
        match value {
            serde_json::Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    out.push(
                        serde_json::from_value(item)
                            .map_err(|e| D::Error::custom(format!("item {i}: {e}")))?,
                    );
                }
                Ok(OneOrMany::Many(out))
            }
            other => serde_json::from_value(other)
                .map(OneOrMany::One)
                .map_err(D::Error::custom),
        }
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Effect {
    /// Grants (in an SCP: makes available) the actions.
    Allow,
    /// Denies the actions; an explicit Deny always wins.
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// One value on the right-hand side of a condition: IAM accepts strings, booleans and
/// numbers (`"Bool": {"aws:SecureTransport": false}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ConditionValue {
    /// A string, the usual form.
    String(String),
    /// A JSON boolean.
    Bool(bool),
    /// A JSON number, kept as written.
    Number(serde_json::Number),
}

impl ConditionValue {
    /// The value as IAM compares it: a string.
    pub fn as_text(&self) -> String {
        match self {
            ConditionValue::String(s) => s.clone(),
            ConditionValue::Bool(b) => b.to_string(),
            ConditionValue::Number(n) => n.to_string(),
        }
    }
}

impl From<&str> for ConditionValue {
    fn from(s: &str) -> Self {
        ConditionValue::String(s.to_owned())
    }
}

/// The entries of one condition operator: condition key → value(s). Keys render sorted.
pub type ConditionEntries = BTreeMap<String, OneOrMany<ConditionValue>>;

/// A statement's `Condition` block: operator → entries. Every operator, and every key
/// within an operator, must match for the statement to apply (logical AND).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Condition(pub BTreeMap<ConditionOperator, ConditionEntries>);

impl Condition {
    /// An empty condition block.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key` = `values` under `operator`.
    ///
    /// Refuses a key that is already present under the same operator: the second value
    /// would silently replace the first.
    ///
    /// ```
    /// use immutag_scp::policy::Condition;
    /// let mut c = Condition::new();
    /// c.insert("ArnNotLike".parse().unwrap(), "aws:PrincipalArn", vec!["arn:aws:iam::*:role/Admin".into()]).unwrap();
    /// assert!(c.insert("ArnNotLike".parse().unwrap(), "aws:PrincipalArn", vec![]).is_err());
    /// ```
    pub fn insert(
        &mut self,
        operator: ConditionOperator,
        key: &str,
        values: Vec<ConditionValue>,
    ) -> Result<(), ScpError> {
        let entries = self.0.entry(operator.clone()).or_default();
        if entries.contains_key(key) {
            return Err(ScpError::DuplicateCondition {
                operator: operator.to_string(),
                key: key.to_owned(),
            });
        }
        entries.insert(key.to_owned(), OneOrMany::from_vec(values));
        Ok(())
    }

    /// Merges every entry of `other` into `self`, refusing duplicates.
    pub fn merge(&mut self, other: &Condition) -> Result<(), ScpError> {
        for (op, entries) in &other.0 {
            for (key, values) in entries {
                self.insert(op.clone(), key, values.iter().cloned().collect())?;
            }
        }
        Ok(())
    }

    /// Every (operator, key, values) triple, operators and keys sorted.
    pub fn entries(
        &self,
    ) -> impl Iterator<Item = (&ConditionOperator, &str, &OneOrMany<ConditionValue>)> {
        self.0
            .iter()
            .flat_map(|(op, entries)| entries.iter().map(move |(k, v)| (op, k.as_str(), v)))
    }

    /// True when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(|e| e.is_empty())
    }
}

/// One policy statement.
///
/// `Principal` and `NotPrincipal` are parsed so that `check` can read resource and trust
/// policies and say that SCPs refuse them; the generator never emits them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Statement id: letters and digits only.
    #[serde(rename = "Sid", default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Allow or Deny.
    #[serde(rename = "Effect")]
    pub effect: Effect,
    /// Resource-policy principal (not allowed in SCPs).
    #[serde(rename = "Principal", default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<serde_json::Value>,
    /// Resource-policy negated principal (not allowed in SCPs).
    #[serde(
        rename = "NotPrincipal",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub not_principal: Option<serde_json::Value>,
    /// The actions the statement covers (`service:Action`, wildcards allowed).
    #[serde(rename = "Action", default, skip_serializing_if = "Option::is_none")]
    pub action: Option<OneOrMany<String>>,
    /// The statement covers every action but these.
    #[serde(rename = "NotAction", default, skip_serializing_if = "Option::is_none")]
    pub not_action: Option<OneOrMany<String>>,
    /// The resources (ARN patterns) the statement covers.
    #[serde(rename = "Resource", default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<OneOrMany<String>>,
    /// The statement covers every resource but these.
    #[serde(
        rename = "NotResource",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub not_resource: Option<OneOrMany<String>>,
    /// When the statement applies.
    #[serde(rename = "Condition", default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
}

impl Statement {
    /// A Deny statement on `actions` for every resource, without condition.
    ///
    /// ```
    /// use immutag_scp::policy::{Effect, Statement};
    /// let s = Statement::deny("Example", &["ecr:PutImageTagMutability"]);
    /// assert_eq!(s.effect, Effect::Deny);
    /// ```
    pub fn deny(sid: &str, actions: &[&str]) -> Self {
        Statement {
            sid: Some(sid.to_owned()),
            effect: Effect::Deny,
            principal: None,
            not_principal: None,
            action: Some(OneOrMany::from_vec(
                actions.iter().map(|a| (*a).to_owned()).collect(),
            )),
            not_action: None,
            resource: Some(OneOrMany::One("*".to_owned())),
            not_resource: None,
            condition: None,
        }
    }

    /// A label for messages: the Sid, or `Statement[index]` when there is none.
    pub fn label(&self, index: usize) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => format!("statement `{sid}`"),
            _ => format!("Statement[{index}]"),
        }
    }

    /// The minified size of this statement alone, in bytes.
    pub fn minified_len(&self) -> Result<usize, ScpError> {
        Ok(serde_json::to_string(self)
            .map_err(|e| ScpError::Render(e.to_string()))?
            .len())
    }
}

/// A policy document: what is uploaded as an SCP's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// Policy language version; SCPs require `2012-10-17`.
    #[serde(rename = "Version")]
    pub version: String,
    /// Optional policy id.
    #[serde(rename = "Id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// One statement or a list of them.
    #[serde(rename = "Statement")]
    pub statement: OneOrMany<Statement>,
}

/// How to render a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// No whitespace: what is uploaded and what counts toward the size limit.
    Minified,
    /// Two-space indentation and a final newline, for review.
    Pretty,
}

impl PolicyDocument {
    /// A `2012-10-17` document with these statements (always rendered as a list).
    pub fn new(statements: Vec<Statement>) -> Self {
        PolicyDocument {
            version: POLICY_VERSION.to_owned(),
            id: None,
            statement: OneOrMany::Many(statements),
        }
    }

    /// Parses a JSON policy document; errors name the element that is wrong.
    ///
    /// ```
    /// use immutag_scp::policy::PolicyDocument;
    /// let doc = PolicyDocument::from_json(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ecr:PutImageTagMutability","Resource":"*"}}"#).unwrap();
    /// assert_eq!(doc.statements().count(), 1);
    /// let err = PolicyDocument::from_json(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a:b":"c"}}}}"#).unwrap_err();
    /// assert!(err.to_string().contains("StringEqualz"));
    /// ```
    pub fn from_json(text: &str) -> Result<Self, ScpError> {
        serde_json::from_str(text).map_err(|e| ScpError::PolicyParse(e.to_string()))
    }

    /// The statements, in order.
    pub fn statements(&self) -> std::slice::Iter<'_, Statement> {
        self.statement.iter()
    }

    /// Renders the document. Deterministic: the same document always gives the same bytes.
    ///
    /// ```
    /// use immutag_scp::policy::{PolicyDocument, Statement, Style};
    /// let doc = PolicyDocument::new(vec![Statement::deny("A", &["ecr:PutImageTagMutability"])]);
    /// assert_eq!(
    ///     doc.render(Style::Minified).unwrap(),
    ///     r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","Action":"ecr:PutImageTagMutability","Resource":"*"}]}"#
    /// );
    /// assert!(doc.render(Style::Pretty).unwrap().ends_with("}\n"));
    /// ```
    pub fn render(&self, style: Style) -> Result<String, ScpError> {
        match style {
            Style::Minified => {
                serde_json::to_string(self).map_err(|e| ScpError::Render(e.to_string()))
            }
            Style::Pretty => serde_json::to_string_pretty(self)
                .map(|mut s| {
                    s.push('\n');
                    s
                })
                .map_err(|e| ScpError::Render(e.to_string())),
        }
    }

    /// The size of the minified rendering in bytes (what counts toward
    /// [`SCP_MAX_BYTES`](crate::limits::SCP_MAX_BYTES)).
    pub fn minified_len(&self) -> Result<usize, ScpError> {
        Ok(self.render(Style::Minified)?.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_or_many_keeps_form() {
        let one: OneOrMany<String> = serde_json::from_str(r#""a""#).unwrap();
        assert_eq!(one, OneOrMany::One("a".into()));
        assert_eq!(serde_json::to_string(&one).unwrap(), r#""a""#);
        let many: OneOrMany<String> = serde_json::from_str(r#"["a"]"#).unwrap();
        assert_eq!(many, OneOrMany::Many(vec!["a".into()]));
        assert_eq!(serde_json::to_string(&many).unwrap(), r#"["a"]"#);
    }

    #[test]
    fn statement_errors_name_the_field_and_index() {
        let err = PolicyDocument::from_json(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"},{"Effect":"Deny","Actoin":"*"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("item 1"), "{err}");
        assert!(err.contains("Actoin"), "{err}");
    }

    #[test]
    fn unknown_top_level_field_is_refused() {
        let err = PolicyDocument::from_json(r#"{"Version":"2012-10-17","Statment":[]}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("Statment"), "{err}");
    }

    #[test]
    fn round_trip_is_byte_identical_for_minified_input() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Sid":"X","Effect":"Deny","NotAction":["ecr:A","ecr:B"],"NotResource":"arn:aws:ecr:*:*:repository/x","Condition":{"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/A","arn:aws:iam::*:role/B"]},"Bool":{"aws:SecureTransport":false},"ForAnyValue:StringEqualsIgnoreCase":{"aws:TagKeys":"k"}}}]}"#;
        let doc = PolicyDocument::from_json(text).unwrap();
        assert_eq!(doc.render(Style::Minified).unwrap(), text);
        let pretty = doc.render(Style::Pretty).unwrap();
        let again = PolicyDocument::from_json(&pretty).unwrap();
        assert_eq!(again, doc);
    }

    #[test]
    fn duplicate_condition_entry_is_refused() {
        let mut c = Condition::new();
        let op: ConditionOperator = "StringEquals".parse().unwrap();
        c.insert(op.clone(), "aws:RequestedRegion", vec!["eu-west-1".into()])
            .unwrap();
        let err = c
            .insert(op, "aws:RequestedRegion", vec!["us-east-1".into()])
            .unwrap_err();
        assert!(err.to_string().contains("aws:RequestedRegion"));
    }
}
