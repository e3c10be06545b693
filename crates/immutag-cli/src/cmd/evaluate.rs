//! `immutag evaluate`: evaluate repository descriptions read from files or stdin.
//!
//! Behaviour (documented in `docs/cli.md`):
//! - Each FILE is read and parsed on its own (`-` is stdin, at most once). A directory is
//!   skipped with a warning (a shell glob such as `docs/examples/*` expands to them). A file
//!   that cannot be read or parsed is reported on stderr as `immutag: error: FILE: what was
//!   wrong`; the other files are still evaluated and printed, and the exit code is then 2.
//! - Rule parameters: `--params-file` (a JSON object of strings, like Config's
//!   `ruleParameters`) and `--param KEY=VALUE` are merged key by key, `--param` winning.
//!   When either is given, they apply to every file, replacing the `ruleParameters` that a
//!   whole Config rule event carries. Otherwise a rule event is evaluated with its own
//!   parameters and every other input with the defaults (only IMMUTABLE passes).
//! - Exit codes: 0 all compliant or not applicable, 1 any NON_COMPLIANT, 2 usage or input
//!   error (bad parameters stop before any file is read).

use std::collections::BTreeMap;
use std::io::{self, Read};

use anyhow::{Context, bail};
use clap::ValueEnum;
use immutag_core::input::{InputFormat, MAX_INPUT_BYTES, parse};
use immutag_core::{Evaluation, InputKind, RuleParameters, evaluate_all};

use crate::exit;
use crate::output::{self, ColorChoice, Counts, Format};

/// Arguments of `immutag evaluate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 all compliant or not applicable, 1 any NON_COMPLIANT, \
2 usage or input error.\n\nExamples:\n  immutag evaluate docs/examples/*\n  \
aws ecr describe-repositories | immutag evaluate -\n  \
immutag evaluate template.yaml --param AllowedExclusionFilters=latest --output sarif"
)]
pub struct Args {
    /// Input files; `-` reads stdin. Config items or events, ECR API output,
    /// CloudFormation templates (JSON or YAML), Terraform plan JSON.
    #[arg(value_name = "FILE", required = true, num_args = 1..)]
    pub files: Vec<String>,

    /// The input shape; `auto` detects it from the content of each file.
    #[arg(long, value_enum, default_value_t = InputArg::Auto)]
    pub input: InputArg,

    /// A rule parameter, `KEY=VALUE` (repeatable), e.g. `AllowedExclusionFilters=latest,dev-*`.
    /// Overrides the same key from --params-file.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,

    /// A JSON object of string values, as in Config's `ruleParameters`.
    #[arg(long, value_name = "FILE")]
    pub params_file: Option<std::path::PathBuf>,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// When to colour the table (auto: when stdout is a terminal and NO_COLOR is not set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `--input` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputArg {
    /// Detect from the content.
    Auto,
    /// AWS Config: a rule event, an invoking event, or a configuration item.
    Config,
    /// ECR API / CLI output.
    Ecr,
    /// A CloudFormation template (JSON or YAML) or a CDK `cdk.out` template.
    #[value(alias = "cfn")]
    Cloudformation,
    /// A Terraform plan (`terraform show -json`).
    #[value(alias = "tf")]
    Terraform,
}

impl From<InputArg> for InputFormat {
    fn from(a: InputArg) -> Self {
        match a {
            InputArg::Auto => InputFormat::Auto,
            InputArg::Config => InputFormat::Kind(InputKind::Config),
            InputArg::Ecr => InputFormat::Kind(InputKind::Ecr),
            InputArg::Cloudformation => InputFormat::Kind(InputKind::Cloudformation),
            InputArg::Terraform => InputFormat::Kind(InputKind::Terraform),
        }
    }
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let cli_params = command_line_params(&args.params, args.params_file.as_deref())?;
    if args.files.iter().filter(|f| *f == "-").count() > 1 {
        bail!("`-` (stdin) can be given only once");
    }

    let format = InputFormat::from(args.input);
    let mut evals: Vec<Evaluation> = Vec::new();
    let mut failed = 0usize;
    let mut inputs = 0usize;
    for file in &args.files {
        if file != "-" && std::path::Path::new(file).is_dir() {
            // `immutag evaluate dir/*` expands to subdirectories too; they are not inputs.
            eprintln!(
                "immutag: warning: {file}: is a directory, skipped (evaluate its files: {}/*)",
                file.trim_end_matches('/')
            );
            continue;
        }
        inputs += 1;
        match evaluate_file(file, format, cli_params.as_ref()) {
            Ok(mut found) => {
                if found.is_empty() {
                    eprintln!("immutag: warning: {file}: no resources found");
                }
                evals.append(&mut found);
            }
            Err(e) => {
                failed += 1;
                eprintln!("immutag: error: {}: {e:#}", display_name(file));
            }
        }
    }

    // With every input failed, a table would only say "nothing evaluated"; machine formats
    // still get a valid (empty) document so that pipelines can parse it.
    if !(evals.is_empty() && failed > 0 && args.output == Format::Table) {
        output::print(&evals, args.output, args.color).context("writing the output")?;
    }

    if failed > 0 {
        eprintln!("immutag: {failed} of {inputs} input(s) could not be evaluated");
        return Ok(exit::USAGE);
    }
    Ok(Counts::of(&evals).exit_code())
}

/// Reads, parses and evaluates one input.
fn evaluate_file(
    file: &str,
    format: InputFormat,
    cli_params: Option<&RuleParameters>,
) -> anyhow::Result<Vec<Evaluation>> {
    let bytes = read_input(file)?;
    let mut parsed = parse(&bytes, format, Some(file))?;
    crate::locate::fill_json_lines(&bytes, &mut parsed.repositories);
    let params = match (cli_params, &parsed.rule_parameters) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => p.clone(),
        (None, None) => RuleParameters::default(),
    };
    Ok(evaluate_all(&parsed.repositories, &params))
}

/// Reads a file or stdin, refusing more than [`MAX_INPUT_BYTES`].
fn read_input(file: &str) -> anyhow::Result<Vec<u8>> {
    let limit = u64::try_from(MAX_INPUT_BYTES).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    if file == "-" {
        if io::IsTerminal::is_terminal(&io::stdin()) {
            eprintln!("immutag: reading stdin (end with Ctrl-D); pipe input or name files instead");
        }
        io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .context("cannot read stdin")?;
    } else {
        let f = std::fs::File::open(file).map_err(|e| anyhow::anyhow!("cannot open: {e}"))?;
        f.take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| anyhow::anyhow!("cannot read: {e}"))?;
    }
    if bytes.len() > MAX_INPUT_BYTES {
        bail!("input is over the limit of {MAX_INPUT_BYTES} bytes");
    }
    Ok(bytes)
}

fn display_name(file: &str) -> &str {
    if file == "-" { "(stdin)" } else { file }
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
        let shown = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("--params-file {shown}: cannot read: {e}"))?;
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
