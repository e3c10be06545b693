//! A JSON template read into only the parts the rule uses, in two steps that hold memory to
//! about the size of the input:
//!
//! 1. [`Top`]: the whole document checked for syntax in one pass, keeping only `Parameters`,
//!    `Mappings` and `AWSTemplateFormatVersion`, and of `Resources` only the logical ids
//!    (borrowed from the input; a duplicate id is an error, as in CloudFormation).
//! 2. [`Resource`]: one resource at a time, from its bytes, keeping only `Type`,
//!    `Properties` and `Condition` (the rest, `Metadata` first, is skipped unbuilt).

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The top level of a JSON template.
#[derive(Default)]
pub(super) struct Top<'a> {
    pub version: bool,
    pub parameters: Option<Value>,
    pub mappings: Option<Value>,
    pub resources: Option<Resources<'a>>,
    /// The names of the first other members (for the message when this is not a template).
    pub others: Vec<String>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Top<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Top<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a template (a JSON object with Resources)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
                let mut top = Top::default();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    let seen = match key.as_ref() {
                        "AWSTemplateFormatVersion" => {
                            map.next_value::<IgnoredAny>()?;
                            std::mem::replace(&mut top.version, true)
                        }
                        "Parameters" => top.parameters.replace(map.next_value()?).is_some(),
                        "Mappings" => top.mappings.replace(map.next_value()?).is_some(),
                        "Resources" => top.resources.replace(map.next_value()?).is_some(),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            if top.others.len() < 8 {
                                top.others.push(key.clone().into_owned());
                            }
                            false
                        }
                    };
                    if seen {
                        return Err(de::Error::custom(format_args!(
                            "duplicate top-level member `{key}`"
                        )));
                    }
                }
                Ok(top)
            }
        }
        d.deserialize_map(V)
    }
}

/// What `Resources` holds: a mapping (its logical ids) or something else (its kind).
pub(super) enum Resources<'a> {
    Ids(HashSet<Cow<'a, str>>),
    Not(&'static str),
}

impl<'de: 'a, 'a> Deserialize<'de> for Resources<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Resources<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of resources")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut ids = HashSet::new();
                while let Some(Key(id)) = map.next_key::<Key<'de>>()? {
                    map.next_value::<IgnoredAny>()?;
                    if ids.contains(&id) {
                        return Err(de::Error::custom(format_args!(
                            "duplicate resource logical id `{}` in Resources (CloudFormation refuses the template)",
                            crate::text::printable(&id)
                        )));
                    }
                    ids.insert(id);
                }
                Ok(Resources::Ids(ids))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Resources::Not("list"))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Resources::Not("boolean"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Resources::Not("number"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Resources::Not("number"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Resources::Not("number"))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Resources::Not("string"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Resources::Not("null"))
            }
        }
        d.deserialize_any(V)
    }
}

/// A key, borrowed from the input unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// One resource: of a mapping only `Type`, `Properties` and `Condition` are kept; any other
/// value (the array of an `Fn::ForEach`) is kept whole.
pub(super) struct Resource(pub Value);

impl<'de> Deserialize<'de> for Resource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Resource;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a resource")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Resource, A::Error> {
                let mut out = Map::new();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    if matches!(key.as_ref(), "Type" | "Properties" | "Condition") {
                        let v: Value = map.next_value()?;
                        out.insert(key.into_owned(), v);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Resource(Value::Object(out)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Resource, A::Error> {
                Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Resource)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Resource, E> {
                Ok(Resource(Value::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Resource, E> {
                Ok(Resource(Value::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Resource, E> {
                Ok(Resource(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Resource, E> {
                Ok(Resource(Value::from(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Resource, E> {
                Ok(Resource(Value::String(v.to_owned())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Resource, E> {
                Ok(Resource(Value::Null))
            }
        }
        d.deserialize_any(V)
    }
}
