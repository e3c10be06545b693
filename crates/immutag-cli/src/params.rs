//! The parameters given on the command line: the rule parameters (`--params-file`,
//! `--param`) that `evaluate`, `plan` and `remediate` share, and the CloudFormation
//! parameter values of a deployment (`--cfn-parameters`, `--cfn-parameter`).

use std::collections::BTreeMap;

use anyhow::bail;
use immutag_core::RuleParameters;
use immutag_core::input::cloudformation::Parameters;
use immutag_core::text::printable;

/// The deployment values given with `--cfn-parameters FILE` (the AWS CLI's parameter list,
/// `KEY=VALUE` strings, or a CodePipeline template configuration) and `--cfn-parameter
/// KEY=VALUE` (repeatable, winning over the file).
pub fn cfn_parameters(
    file: Option<&std::path::Path>,
    pairs: &[String],
) -> anyhow::Result<Parameters> {
    let mut out = Parameters::default();
    if let Some(path) = file {
        let name = path.to_string_lossy();
        let text = crate::read::read_text(&name, immutag_core::input::MAX_INPUT_BYTES)
            .map_err(|e| anyhow::anyhow!("--cfn-parameters {}: {e}", printable(&name)))?;
        out = Parameters::from_json(&text)
            .map_err(|e| anyhow::anyhow!("--cfn-parameters {}: {e}", printable(&name)))?;
    }
    for pair in pairs {
        out.set_pair(pair)
            .map_err(|e| anyhow::anyhow!("--cfn-parameter: {e}"))?;
    }
    Ok(out)
}

/// Builds the parameters given on the command line, or `None` when none were given.
/// `--params-file` is read first; each `--param` then sets (overrides) its key.
pub fn command_line_params(
    pairs: &[String],
    params_file: Option<&std::path::Path>,
) -> anyhow::Result<Option<RuleParameters>> {
    if pairs.is_empty() && params_file.is_none() {
        return Ok(None);
    }
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    if let Some(path) = params_file {
        let shown = printable(&path.to_string_lossy()).into_owned();
        let text = crate::read::read_text(&path.to_string_lossy(), 1024 * 1024)
            .map_err(|e| anyhow::anyhow!("--params-file {shown}: {e}"))?;
        map = params_map(&text).map_err(|e| anyhow::anyhow!("--params-file {shown}: {e}"))?;
    }
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--param `{pair}`: expected KEY=VALUE, e.g. AllowedExclusionFilters=latest");
        };
        map.insert(key.trim().to_owned(), value.to_owned());
    }
    let params = RuleParameters::from_map(&map).map_err(|e| anyhow::anyhow!("--param: {e}"))?;
    Ok(Some(params))
}

/// Reads a JSON object of strings; anything else is an error naming the key or the problem.
fn params_map(text: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| anyhow::anyhow!("not valid JSON: {e}"))?;
    let serde_json::Value::Object(object) = &value else {
        // Let the core name what was found.
        RuleParameters::from_value(&value)?;
        bail!("expected a JSON object of strings");
    };
    let mut map = BTreeMap::new();
    for (key, v) in object {
        match v {
            serde_json::Value::String(s) => {
                map.insert(key.clone(), s.clone());
            }
            _ => {
                // The core's error names the key and what it found.
                RuleParameters::from_value(&value)?;
                bail!("`{key}` must be a string");
            }
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_merge_command_line_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        std::fs::write(
            &path,
            r#"{"AllowedExclusionFilters":"latest","ExemptionTagKey":"skip"}"#,
        )
        .unwrap();
        let p = command_line_params(&["AllowedExclusionFilters=dev-*".into()], Some(&path))
            .unwrap()
            .unwrap();
        assert_eq!(p.allowed_exclusion_filters, vec!["dev-*"]);
        assert_eq!(p.exemption_tag_key.as_deref(), Some("skip"));
        assert!(command_line_params(&[], None).unwrap().is_none());
    }

    #[test]
    fn cfn_parameters_file_and_pairs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("params.json");
        std::fs::write(
            &path,
            r#"[{"ParameterKey":"Mode","ParameterValue":"MUTABLE"},{"ParameterKey":"Env","ParameterValue":"prod"}]"#,
        )
        .unwrap();
        let p = cfn_parameters(Some(&path), &["Mode=IMMUTABLE".into()]).unwrap();
        assert_eq!(p.get("Mode"), Some("IMMUTABLE"), "the pair wins");
        assert_eq!(p.get("Env"), Some("prod"));
        std::fs::write(&path, r#"{"Parameters":[]}"#).unwrap();
        let e = format!("{:#}", cfn_parameters(Some(&path), &[]).unwrap_err());
        assert!(
            e.contains("params.json") && e.contains("not a JSON object"),
            "{e}"
        );
        let e = format!("{:#}", cfn_parameters(None, &["Mode".into()]).unwrap_err());
        assert!(
            e.contains("--cfn-parameter") && e.contains("KEY=VALUE"),
            "{e}"
        );
    }

    #[test]
    fn param_errors_name_the_problem() {
        let e = command_line_params(&["AllowedFilters=latest".into()], None).unwrap_err();
        assert!(format!("{e:#}").contains("AllowedFilters"), "{e:#}");
        let e = command_line_params(&["novalue".into()], None).unwrap_err();
        assert!(format!("{e:#}").contains("KEY=VALUE"), "{e:#}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        std::fs::write(&path, r#"{"ExemptionTagKey": 3}"#).unwrap();
        let e = command_line_params(&[], Some(&path)).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("p.json") && msg.contains("ExemptionTagKey"),
            "{msg}"
        );
        std::fs::write(&path, "[1]").unwrap();
        let msg = format!("{:#}", command_line_params(&[], Some(&path)).unwrap_err());
        assert!(msg.contains("p.json") && msg.contains("object"), "{msg}");
        std::fs::write(&path, "{").unwrap();
        let msg = format!("{:#}", command_line_params(&[], Some(&path)).unwrap_err());
        assert!(msg.contains("not valid JSON"), "{msg}");
    }
}
