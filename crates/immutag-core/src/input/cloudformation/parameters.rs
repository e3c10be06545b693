//! Values of template parameters for one deployment: what `--cfn-parameters FILE` and
//! `--cfn-parameter KEY=VALUE` give (the AWS CLI's parameter list, a CodePipeline template
//! configuration, or `KEY=VALUE` pairs).

use std::collections::BTreeMap;

use serde_json::Value;

use super::resolve::{allowed_values, quote_list};
use crate::error::InputError;
use crate::text::printable;

const SHAPE: &str = "CloudFormation parameters";

/// Values of template parameters for one deployment, by parameter name. A parameter given a
/// value here resolves to it; one that is not resolves only when its `AllowedValues` leave
/// one choice (a `Default` can be overridden at deployment, so it is never trusted).
///
/// ```
/// use immutag_core::input::cloudformation::Parameters;
/// let cli = Parameters::from_json(r#"[{"ParameterKey":"Mode","ParameterValue":"IMMUTABLE"}]"#).unwrap();
/// let pipeline = Parameters::from_json(r#"{"Parameters":{"Mode":"IMMUTABLE"}}"#).unwrap();
/// assert_eq!(cli, pipeline);
/// assert_eq!(cli.get("Mode"), Some("IMMUTABLE"));
/// let mut pairs = Parameters::default();
/// pairs.set_pair("Mode=MUTABLE").unwrap();
/// assert_eq!(pairs.get("Mode"), Some("MUTABLE"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parameters(BTreeMap<String, String>);

impl Parameters {
    /// Reads a parameters file: the AWS CLI's `[{"ParameterKey": .., "ParameterValue": ..}]`
    /// (`create-stack --parameters file://..`; an entry with `UsePreviousValue` and no value
    /// gives none, as the previous value is not known here), the same list as `"KEY=VALUE"`
    /// strings (`deploy --parameter-overrides file://..`), or a CodePipeline template
    /// configuration `{"Parameters": {"KEY": "VALUE"}}`. Every value must be a string.
    pub fn from_json(text: &str) -> Result<Self, InputError> {
        let doc: Value = serde_json::from_str(text).map_err(|e| InputError::Syntax {
            format: "JSON",
            location: Some(format!("line {} column {}", e.line(), e.column())),
            message: printable(&e.to_string()).into_owned(),
        })?;
        let mut out = Self::default();
        match &doc {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    out.set_entry(item, &format!("/{i}"))?;
                }
            }
            Value::Object(top) => {
                let Some(params) = top.get("Parameters") else {
                    return Err(shape(
                        "/",
                        "a JSON object without `Parameters`: expected a CodePipeline template configuration {\"Parameters\": {...}} or the AWS CLI list [{\"ParameterKey\": .., \"ParameterValue\": ..}]",
                    ));
                };
                let Value::Object(params) = params else {
                    return Err(shape("/Parameters", "Parameters is not a JSON object"));
                };
                for (key, value) in params {
                    let Value::String(v) = value else {
                        return Err(shape(
                            &format!("/Parameters/{}", printable(key)),
                            &format!(
                                "the value of `{}` is not a string (CloudFormation takes every parameter value as a string)",
                                printable(key)
                            ),
                        ));
                    };
                    out.set(key, v)?;
                }
            }
            _ => {
                return Err(shape(
                    "/",
                    "expected the AWS CLI list [{\"ParameterKey\": .., \"ParameterValue\": ..}] or a CodePipeline template configuration {\"Parameters\": {...}}",
                ));
            }
        }
        Ok(out)
    }

    /// Sets one `KEY=VALUE` pair (as `--cfn-parameter` gives it); a later value wins.
    pub fn set_pair(&mut self, pair: &str) -> Result<(), InputError> {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(shape(
                "",
                &format!(
                    "`{}` is not KEY=VALUE (for example Mode=IMMUTABLE)",
                    printable(pair)
                ),
            ));
        };
        self.set(key.trim(), value)
    }

    /// Sets the value of `key`; a later value wins.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), InputError> {
        if key.is_empty() {
            return Err(shape("", "a parameter with an empty name"));
        }
        self.0.insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    /// Adds every value of `other`, which wins over the values already set.
    pub fn extend(&mut self, other: Parameters) {
        self.0.extend(other.0);
    }

    /// The value given for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// True when no value is given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks the given values against the template's parameter declarations: a value
    /// outside a parameter's `AllowedValues` is an error naming the parameter (CloudFormation
    /// would refuse the deployment). Values of parameters the template does not declare are
    /// ignored (one parameters file may serve several templates).
    pub(super) fn check_against(
        &self,
        declared: Option<&serde_json::Map<String, Value>>,
    ) -> Result<(), InputError> {
        let Some(declared) = declared else {
            return Ok(());
        };
        for (key, value) in &self.0 {
            let Some(param) = declared.get(key) else {
                continue;
            };
            let Some(allowed) = allowed_values(param) else {
                continue;
            };
            let is_list = param
                .get("Type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.contains("List"));
            let values: Vec<&str> = if is_list {
                value.split(',').map(str::trim).collect()
            } else {
                vec![value.as_str()]
            };
            if let Some(bad) = values.iter().find(|v| !allowed.iter().any(|a| a == *v)) {
                return Err(InputError::Shape {
                    shape: "CloudFormation template",
                    pointer: format!("/Parameters/{}/AllowedValues", printable(key)),
                    problem: format!(
                        "parameter `{}` is given `{}`, which is not one of its AllowedValues {} (CloudFormation would refuse the deployment)",
                        printable(key),
                        printable(bad),
                        printable(&quote_list(&allowed))
                    ),
                });
            }
        }
        Ok(())
    }

    fn set_entry(&mut self, item: &Value, pointer: &str) -> Result<(), InputError> {
        if let Value::String(pair) = item {
            return self.set_pair(pair);
        }
        let Some(obj) = item.as_object() else {
            return Err(shape(
                pointer,
                "an entry that is neither {\"ParameterKey\": .., \"ParameterValue\": ..} nor \"KEY=VALUE\"",
            ));
        };
        let Some(Value::String(key)) = obj.get("ParameterKey") else {
            return Err(shape(pointer, "an entry without a ParameterKey string"));
        };
        match obj.get("ParameterValue") {
            Some(Value::String(v)) => self.set(key, v),
            None if obj.get("UsePreviousValue") == Some(&Value::Bool(true)) => Ok(()),
            None => Err(shape(
                pointer,
                &format!("parameter `{}` has no ParameterValue", printable(key)),
            )),
            Some(_) => Err(shape(
                pointer,
                &format!(
                    "the ParameterValue of `{}` is not a string (CloudFormation takes every parameter value as a string)",
                    printable(key)
                ),
            )),
        }
    }
}

fn shape(pointer: &str, problem: &str) -> InputError {
    InputError::Shape {
        shape: SHAPE,
        pointer: pointer.to_owned(),
        problem: problem.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_shapes_read_alike() {
        let want = {
            let mut p = Parameters::default();
            p.set("Mode", "IMMUTABLE").unwrap();
            p.set("Env", "prod").unwrap();
            p
        };
        for text in [
            r#"[{"ParameterKey":"Mode","ParameterValue":"IMMUTABLE"},{"ParameterKey":"Env","ParameterValue":"prod"},{"ParameterKey":"Old","UsePreviousValue":true}]"#,
            r#"["Mode=IMMUTABLE","Env=prod"]"#,
            r#"{"Parameters":{"Mode":"IMMUTABLE","Env":"prod"},"Tags":{"team":"a"}}"#,
        ] {
            assert_eq!(Parameters::from_json(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn errors_name_the_problem() {
        for (text, needle) in [
            ("{", "JSON syntax"),
            ("5", "expected the AWS CLI list"),
            (r#"{"Tags":{}}"#, "without `Parameters`"),
            (r#"{"Parameters":[]}"#, "not a JSON object"),
            (r#"{"Parameters":{"Mode":5}}"#, "`Mode` is not a string"),
            (r#"[{"ParameterValue":"x"}]"#, "ParameterKey"),
            (
                r#"[{"ParameterKey":"Mode"}]"#,
                "`Mode` has no ParameterValue",
            ),
            (
                r#"[{"ParameterKey":"Mode","ParameterValue":1}]"#,
                "not a string",
            ),
            (r#"["Mode"]"#, "not KEY=VALUE"),
            (r#"["=x"]"#, "empty name"),
            ("[7]", "neither"),
        ] {
            let e = Parameters::from_json(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
        let e = Parameters::from_json(r#"{"Parameters":{"M\u001b[2J":1}}"#)
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\u{1b}') && e.contains("\\u{1b}"), "{e}");
    }

    #[test]
    fn values_outside_allowed_values_are_refused() {
        let declared: serde_json::Map<String, Value> = serde_json::from_str(
            r#"{"Mode":{"Type":"String","AllowedValues":["IMMUTABLE"]},"L":{"Type":"CommaDelimitedList","AllowedValues":["a","b"]},"Free":{"Type":"String"}}"#,
        )
        .unwrap();
        let mut p = Parameters::default();
        p.set("Mode", "IMMUTABLE").unwrap();
        p.set("L", "a, b").unwrap();
        p.set("Free", "anything").unwrap();
        p.set("Undeclared", "x").unwrap();
        p.check_against(Some(&declared)).unwrap();
        p.set("L", "a,c").unwrap();
        let e = p.check_against(Some(&declared)).unwrap_err().to_string();
        assert!(e.contains("`L`") && e.contains("`c`"), "{e}");
        p.set("L", "a").unwrap();
        p.set("Mode", "MUTABLE").unwrap();
        let e = p.check_against(Some(&declared)).unwrap_err().to_string();
        assert!(
            e.contains("parameter `Mode` is given `MUTABLE`") && e.contains("'IMMUTABLE'"),
            "{e}"
        );
    }
}
