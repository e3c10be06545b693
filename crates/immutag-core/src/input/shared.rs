//! Pieces shared by the JSON input shapes: error mapping, embedded JSON strings, tag and
//! filter members in their several spellings, ARN parsing.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::InputError;
use crate::model::{ExclusionFilter, FilterType};

/// Maps a `serde_json` error to an [`InputError`]: syntax and end-of-input errors become
/// [`InputError::Syntax`] with the line and column; data errors become
/// [`InputError::Shape`] for `shape`.
pub(crate) fn json_error(e: &serde_json::Error, shape: &'static str) -> InputError {
    use serde_json::error::Category;
    let location = (e.line() > 0).then(|| format!("line {} column {}", e.line(), e.column()));
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => InputError::Syntax {
            format: "JSON",
            location,
            message: strip_location(&e.to_string()),
        },
        Category::Data => InputError::Shape {
            shape,
            pointer: "/".to_owned(),
            problem: e.to_string(),
        },
    }
}

/// serde_json appends " at line L column C" to its messages; the location is reported
/// separately.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A member that is either a JSON value of type `T` or a JSON **string** holding one (Config
/// passes `invokingEvent` as a string, and the API form of a configuration item holds
/// `configuration` as a string). `null` and the empty string give `None`.
#[derive(Debug)]
pub(crate) struct Embedded<T>(pub Option<T>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Embedded<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for V<T> {
            type Value = Embedded<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object, or a string holding one")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                if s.trim().is_empty() {
                    return Ok(Embedded(None));
                }
                serde_json::from_str(s)
                    .map(|v| Embedded(Some(v)))
                    .map_err(|e| {
                        E::custom(format_args!("in the JSON held by a string member: {e}"))
                    })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Embedded(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Embedded(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|v| Embedded(Some(v)))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// Resource tags: a map of strings (Config `tags`, Terraform), or a list of `{Key, Value}` /
/// `{key, value}` pairs (CloudFormation-style `Tags` in a Config `configuration`, the ECR
/// ListTagsForResource shape). `null` is no tags; a non-string value is kept as its JSON text.
#[derive(Debug, Default)]
pub(crate) struct TagsField(pub BTreeMap<String, String>);

#[derive(Deserialize)]
struct TagPair {
    #[serde(rename = "Key", alias = "key")]
    key: String,
    #[serde(rename = "Value", alias = "value", default)]
    value: Option<String>,
}

impl<'de> Deserialize<'de> for TagsField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TagsField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of tag keys to values, or a list of {Key, Value}")
            }
            fn visit_unit<E: de::Error>(self) -> Result<TagsField, E> {
                Ok(TagsField::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<TagsField, E> {
                Ok(TagsField::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TagsField, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: serde_json::Value = map.next_value()?;
                    out.insert(key, value_text(&value));
                }
                Ok(TagsField(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TagsField, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(pair) = seq.next_element::<TagPair>()? {
                    out.insert(pair.key, pair.value.unwrap_or_default());
                }
                Ok(TagsField(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// The text of a scalar JSON value (strings unquoted, `null` empty, others as JSON).
pub(crate) fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One exclusion filter in any of its spellings: the API (`filterType`, `filter`), the
/// CloudFormation / Config (`ImageTagMutabilityExclusionFilterType`,
/// `ImageTagMutabilityExclusionFilterValue`), and PascalCase API (`FilterType`, `Filter`).
#[derive(Debug, Deserialize)]
pub(crate) struct RawFilter {
    #[serde(
        rename = "filterType",
        alias = "ImageTagMutabilityExclusionFilterType",
        alias = "FilterType",
        alias = "filter_type",
        default
    )]
    filter_type: Option<String>,
    #[serde(
        rename = "filter",
        alias = "ImageTagMutabilityExclusionFilterValue",
        alias = "Filter",
        alias = "ImageTagMutabilityExclusionFilter",
        default
    )]
    filter: Option<String>,
}

/// Normalizes raw filters. A filter without its text is an error (there is nothing to
/// check); a missing type is kept as an unknown type, which evaluation refuses.
pub(crate) fn normalize_filters(
    raw: Vec<RawFilter>,
    shape: &'static str,
    pointer: &str,
) -> Result<Vec<ExclusionFilter>, InputError> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, f) in raw.into_iter().enumerate() {
        let Some(filter) = f.filter else {
            return Err(InputError::Shape {
                shape,
                pointer: format!("{pointer}/{i}"),
                problem: "exclusion filter has no filter text (`filter` / `ImageTagMutabilityExclusionFilterValue`)".into(),
            });
        };
        let filter_type = match f.filter_type {
            Some(t) => FilterType::parse(&t),
            None => FilterType::Unknown("(missing)".into()),
        };
        out.push(ExclusionFilter {
            filter_type,
            filter,
        });
    }
    Ok(out)
}

/// The parts of an ECR repository ARN
/// (`arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArnParts<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub name: Option<&'a str>,
}

/// Splits an ARN; `None` when it does not have the six colon-separated parts.
pub(crate) fn split_arn(arn: &str) -> Option<ArnParts<'_>> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    let _service = parts.next()?;
    let region = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?;
    let name = resource.strip_prefix("repository/");
    Some(ArnParts {
        region,
        account,
        name,
    })
}

/// Returns `Some(s)` unless `s` is empty.
pub(crate) fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// A timestamp member: RFC 3339 text as Config sends it, or epoch seconds (a number), as
/// AWS CLI v1 and some SDKs print API timestamps; numbers are converted to RFC 3339 (UTC).
#[derive(Debug, Default)]
pub(crate) struct TimeField(pub Option<String>);

impl<'de> Deserialize<'de> for TimeField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TimeField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp or epoch seconds")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<TimeField, E> {
                Ok(TimeField(Some(s.to_owned())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<TimeField, E> {
                Ok(TimeField(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<TimeField, E> {
                Ok(TimeField(None))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<TimeField, E> {
                self.visit_f64(n as f64)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<TimeField, E> {
                self.visit_f64(n as f64)
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<TimeField, E> {
                epoch_to_rfc3339(n)
                    .map(|s| TimeField(Some(s)))
                    .ok_or_else(|| {
                        E::custom(format_args!(
                            "timestamp {n} is not epoch seconds between 1970 and 9999"
                        ))
                    })
            }
        }
        d.deserialize_any(V)
    }
}

/// Converts epoch seconds to RFC 3339 UTC with milliseconds (`2026-11-20T10:15:30.123Z`);
/// `None` outside 1970 to 9999 or for a non-number.
pub(crate) fn epoch_to_rfc3339(secs: f64) -> Option<String> {
    if !secs.is_finite() || !(0.0..253_402_300_800.0).contains(&secs) {
        return None;
    }
    crate::time::rfc3339_millis((secs * 1000.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parts() {
        let p = split_arn("arn:aws:ecr:eu-west-1:123456789012:repository/team/app").unwrap();
        assert_eq!(p.region, "eu-west-1");
        assert_eq!(p.account, "123456789012");
        assert_eq!(p.name, Some("team/app"));
        assert!(split_arn("not-an-arn").is_none());
        assert!(split_arn("arn:aws:ecr").is_none());
    }

    #[test]
    fn epoch_seconds_convert() {
        assert_eq!(epoch_to_rfc3339(0.0).unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            epoch_to_rfc3339(1_763_633_730.123).unwrap(),
            "2025-11-20T10:15:30.123Z"
        );
        assert_eq!(
            epoch_to_rfc3339(951_782_400.0).unwrap(),
            "2000-02-29T00:00:00.000Z"
        );
        assert!(epoch_to_rfc3339(-1.0).is_none());
        assert!(epoch_to_rfc3339(f64::NAN).is_none());
        let t: TimeField = serde_json::from_str("1763633730").unwrap();
        assert_eq!(t.0.as_deref(), Some("2025-11-20T10:15:30.000Z"));
        assert!(serde_json::from_str::<TimeField>("[1]").is_err());
    }

    #[test]
    fn tags_in_both_shapes() {
        let t: TagsField = serde_json::from_str(r#"{"a":"1","b":null,"c":2}"#).unwrap();
        assert_eq!(t.0["a"], "1");
        assert_eq!(t.0["b"], "");
        assert_eq!(t.0["c"], "2");
        let t: TagsField =
            serde_json::from_str(r#"[{"Key":"a","Value":"1"},{"key":"b","value":"2"}]"#).unwrap();
        assert_eq!(t.0.len(), 2);
        assert_eq!(t.0["b"], "2");
        assert!(serde_json::from_str::<TagsField>("5").is_err());
    }

    #[test]
    fn embedded_string_or_object() {
        #[derive(Debug, Deserialize)]
        struct X {
            a: u8,
        }
        let e: Embedded<X> = serde_json::from_str(r#""{\"a\":1}""#).unwrap();
        assert_eq!(e.0.unwrap().a, 1);
        let e: Embedded<X> = serde_json::from_str(r#"{"a":2}"#).unwrap();
        assert_eq!(e.0.unwrap().a, 2);
        let e: Embedded<X> = serde_json::from_str("null").unwrap();
        assert!(e.0.is_none());
        let err = serde_json::from_str::<Embedded<X>>(r#""{\"a\":""#).unwrap_err();
        assert!(err.to_string().contains("string member"), "{err}");
    }
}
