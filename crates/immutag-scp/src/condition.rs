//! Typed condition operators: the base operator, the `IfExists` suffix and the
//! `ForAllValues:` / `ForAnyValue:` set qualifiers, with what each does when the request
//! does not carry the key (the heart of the `ecr:ImageTagMutability` mistake).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ScpError;

/// The base condition operators of the IAM policy language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)] // each variant is the operator of the same name
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl BaseOperator {
    /// Every base operator.
    pub const ALL: [BaseOperator; 27] = [
        BaseOperator::StringEquals,
        BaseOperator::StringNotEquals,
        BaseOperator::StringEqualsIgnoreCase,
        BaseOperator::StringNotEqualsIgnoreCase,
        BaseOperator::StringLike,
        BaseOperator::StringNotLike,
        BaseOperator::NumericEquals,
        BaseOperator::NumericNotEquals,
        BaseOperator::NumericLessThan,
        BaseOperator::NumericLessThanEquals,
        BaseOperator::NumericGreaterThan,
        BaseOperator::NumericGreaterThanEquals,
        BaseOperator::DateEquals,
        BaseOperator::DateNotEquals,
        BaseOperator::DateLessThan,
        BaseOperator::DateLessThanEquals,
        BaseOperator::DateGreaterThan,
        BaseOperator::DateGreaterThanEquals,
        BaseOperator::Bool,
        BaseOperator::BinaryEquals,
        BaseOperator::IpAddress,
        BaseOperator::NotIpAddress,
        BaseOperator::ArnEquals,
        BaseOperator::ArnLike,
        BaseOperator::ArnNotEquals,
        BaseOperator::ArnNotLike,
        BaseOperator::Null,
    ];

    /// The operator's name as written in a policy.
    pub fn name(self) -> &'static str {
        use BaseOperator::*;
        match self {
            StringEquals => "StringEquals",
            StringNotEquals => "StringNotEquals",
            StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            StringLike => "StringLike",
            StringNotLike => "StringNotLike",
            NumericEquals => "NumericEquals",
            NumericNotEquals => "NumericNotEquals",
            NumericLessThan => "NumericLessThan",
            NumericLessThanEquals => "NumericLessThanEquals",
            NumericGreaterThan => "NumericGreaterThan",
            NumericGreaterThanEquals => "NumericGreaterThanEquals",
            DateEquals => "DateEquals",
            DateNotEquals => "DateNotEquals",
            DateLessThan => "DateLessThan",
            DateLessThanEquals => "DateLessThanEquals",
            DateGreaterThan => "DateGreaterThan",
            DateGreaterThanEquals => "DateGreaterThanEquals",
            Bool => "Bool",
            BinaryEquals => "BinaryEquals",
            IpAddress => "IpAddress",
            NotIpAddress => "NotIpAddress",
            ArnEquals => "ArnEquals",
            ArnLike => "ArnLike",
            ArnNotEquals => "ArnNotEquals",
            ArnNotLike => "ArnNotLike",
            Null => "Null",
        }
    }

    /// True for the negated operators (`StringNotEquals`, `ArnNotLike`, `NotIpAddress`, ...):
    /// IAM evaluates them as **true** when the request does not carry the key.
    pub fn is_negated(self) -> bool {
        use BaseOperator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | ArnNotEquals
                | ArnNotLike
                | NotIpAddress
        )
    }
}

/// The multivalued-key qualifier in front of an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SetQualifier {
    /// `ForAllValues:`: every value in the request must match (true when the key is absent).
    ForAllValues,
    /// `ForAnyValue:`: at least one value in the request must match (false when absent).
    ForAnyValue,
}

/// A full condition operator such as `StringNotEqualsIfExists` or
/// `ForAnyValue:StringEqualsIgnoreCase`.
///
/// ```
/// use immutag_scp::condition::{BaseOperator, ConditionOperator};
/// let op: ConditionOperator = "ForAllValues:StringLikeIfExists".parse().unwrap();
/// assert_eq!(op.base, BaseOperator::StringLike);
/// assert!(op.if_exists);
/// assert_eq!(op.to_string(), "ForAllValues:StringLikeIfExists");
/// let err = "StringEqualz".parse::<ConditionOperator>().unwrap_err();
/// assert!(err.to_string().contains("StringEqualz"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConditionOperator {
    /// `ForAllValues:` / `ForAnyValue:` qualifier, if any.
    pub qualifier: Option<SetQualifier>,
    /// The base operator.
    pub base: BaseOperator,
    /// The `IfExists` suffix: the condition is true when the key is absent.
    pub if_exists: bool,
}

impl ConditionOperator {
    /// A plain operator (no qualifier, no `IfExists`).
    pub fn plain(base: BaseOperator) -> Self {
        ConditionOperator {
            qualifier: None,
            base,
            if_exists: false,
        }
    }

    /// What this condition evaluates to when the request does not carry the key at all.
    ///
    /// `values` matters only for `Null` (`"true"` tests for absence). IAM: a negated
    /// operator on an absent key is true; `IfExists` is true when absent; `ForAllValues`
    /// over an empty set is true; everything else is false.
    ///
    /// ```
    /// use immutag_scp::condition::ConditionOperator;
    /// let op: ConditionOperator = "StringNotEquals".parse().unwrap();
    /// assert!(op.result_when_key_absent(&["IMMUTABLE".into()]));
    /// let op: ConditionOperator = "StringEquals".parse().unwrap();
    /// assert!(!op.result_when_key_absent(&["IMMUTABLE".into()]));
    /// ```
    pub fn result_when_key_absent(&self, values: &[String]) -> bool {
        if self.base == BaseOperator::Null {
            // Null: "true" → absent matches; "false" → present required.
            return values.iter().any(|v| v.eq_ignore_ascii_case("true"));
        }
        if self.if_exists || self.qualifier == Some(SetQualifier::ForAllValues) {
            return true;
        }
        if self.qualifier == Some(SetQualifier::ForAnyValue) {
            return false;
        }
        self.base.is_negated()
    }
}

impl fmt::Display for ConditionOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.qualifier {
            Some(SetQualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            Some(SetQualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            None => {}
        }
        f.write_str(self.base.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

impl FromStr for ConditionOperator {
    type Err = ScpError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || ScpError::UnknownConditionOperator {
            operator: s.to_owned(),
        };
        let (qualifier, rest) = if let Some(r) = s.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else if let Some(r) = s.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else {
            (None, s)
        };
        let (rest, if_exists) = match rest.strip_suffix("IfExists") {
            Some(r) => (r, true),
            None => (rest, false),
        };
        let base = BaseOperator::ALL
            .iter()
            .copied()
            .find(|b| b.name() == rest)
            .ok_or_else(unknown)?;
        if base == BaseOperator::Null && (if_exists || qualifier.is_some()) {
            return Err(unknown());
        }
        Ok(ConditionOperator {
            qualifier,
            base,
            if_exists,
        })
    }
}

// Sorted by the rendered name, so that condition blocks render in a predictable order.
impl Ord for ConditionOperator {
    fn cmp(&self, other: &Self) -> Ordering {
        self.to_string().cmp(&other.to_string())
    }
}

impl PartialOrd for ConditionOperator {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for ConditionOperator {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ConditionOperator {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for ConditionOperator {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ConditionOperator".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "An IAM condition operator, optionally prefixed by ForAllValues: or ForAnyValue: and suffixed by IfExists",
            "pattern": "^(ForAllValues:|ForAnyValue:)?[A-Za-z]+$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operator_round_trips_with_every_qualifier() {
        for base in BaseOperator::ALL {
            for q in ["", "ForAllValues:", "ForAnyValue:"] {
                for ie in ["", "IfExists"] {
                    let text = format!("{q}{}{ie}", base.name());
                    let parsed = text.parse::<ConditionOperator>();
                    if base == BaseOperator::Null && (!q.is_empty() || !ie.is_empty()) {
                        assert!(parsed.is_err(), "{text}");
                    } else {
                        assert_eq!(parsed.unwrap().to_string(), text);
                    }
                }
            }
        }
    }

    #[test]
    fn unknown_operators_are_named() {
        for bad in [
            "",
            "IfExists",
            "ForAllValues:",
            "stringequals",
            "ForEachValue:StringEquals",
        ] {
            let err = bad.parse::<ConditionOperator>().unwrap_err().to_string();
            assert!(err.contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn absent_key_semantics() {
        let t = |s: &str, v: &str| {
            s.parse::<ConditionOperator>()
                .unwrap()
                .result_when_key_absent(&[v.to_owned()])
        };
        assert!(t("StringNotEquals", "x"));
        assert!(t("ArnNotLike", "x"));
        assert!(t("StringEqualsIfExists", "x"));
        assert!(t("ForAllValues:StringEquals", "x"));
        assert!(!t("ForAnyValue:StringNotEquals", "x"));
        assert!(!t("StringEquals", "x"));
        assert!(!t("ArnLike", "x"));
        assert!(t("Null", "true"));
        assert!(!t("Null", "false"));
    }
}
