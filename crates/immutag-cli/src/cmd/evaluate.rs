//! `immutag evaluate`: evaluate repository descriptions read from files or stdin.
//!
//! Behaviour (documented in `docs/cli.md`):
//! - Each FILE is read and evaluated on its own (`-` is stdin, at most once) by
//!   [`immutag_core::input::evaluate_input`]; JSON and CSV print each verdict as it is made.
//!   A directory among other inputs is skipped with a warning (a shell glob such as
//!   `docs/examples/*` expands to them); with nothing else to evaluate it is an input
//!   error. A file that cannot be read or parsed is reported on stderr as `immutag: error:
//!   FILE: what was wrong`; the other files are still evaluated and printed, and the exit
//!   code is then 2.
//! - Rule parameters: `--params-file` and `--param KEY=VALUE`, merged key by key
//!   ([`crate::params::command_line_params`]); they replace the `ruleParameters` of a whole
//!   Config rule event. CloudFormation parameter values: `--cfn-parameters FILE` and
//!   `--cfn-parameter KEY=VALUE` ([`crate::params::cfn_parameters`]).
//! - Exit codes: 0 all compliant or not applicable, 1 any NON_COMPLIANT, 2 usage or input
//!   error (bad parameters stop before any file is read).

use anyhow::{Context, bail};
use clap::ValueEnum;
use immutag_core::InputKind;
use immutag_core::input::{InputFormat, MAX_INPUT_BYTES, ReadOptions, evaluate_input};
use immutag_core::text::printable;

use crate::exit;
use crate::output::{ColorChoice, Format, Printer};
use crate::params::{cfn_parameters, command_line_params};
use crate::read::{read_bytes, shown};

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

    /// Values of CloudFormation template parameters for the deployment: the AWS CLI's
    /// `[{"ParameterKey":..,"ParameterValue":..}]`, or a CodePipeline template configuration
    /// `{"Parameters":{..}}`. Without a value, a `Ref` to a parameter is COMPLIANT only when
    /// its AllowedValues leave no other choice (a Default can be overridden).
    #[arg(long, value_name = "FILE")]
    pub cfn_parameters: Option<std::path::PathBuf>,

    /// A CloudFormation parameter value, `KEY=VALUE` (repeatable); overrides the same key
    /// from --cfn-parameters. A value outside the parameter's AllowedValues is an error.
    #[arg(long = "cfn-parameter", value_name = "KEY=VALUE")]
    pub cfn_parameter: Vec<String>,

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
    let params = command_line_params(&args.params, args.params_file.as_deref())?;
    let opts = ReadOptions {
        format: InputFormat::from(args.input),
        cfn_parameters: cfn_parameters(args.cfn_parameters.as_deref(), &args.cfn_parameter)?,
    };
    if args.files.iter().filter(|f| *f == "-").count() > 1 {
        bail!("`-` (stdin) can be given only once");
    }
    let is_dir = |f: &String| f != "-" && std::path::Path::new(f).is_dir();
    let only_dirs = args.files.iter().all(is_dir);

    let mut printer = Printer::new(args.output, args.color);
    let mut failed = 0usize;
    let mut inputs = 0usize;
    for file in &args.files {
        if is_dir(file) && !only_dirs {
            // `immutag evaluate dir/*` expands to subdirectories too; they are not inputs.
            eprintln!(
                "immutag: warning: {}: is a directory, skipped (evaluate its files: {}/*)",
                shown(file),
                shown(file.trim_end_matches('/'))
            );
            continue;
        }
        inputs += 1;
        let result = read_bytes(file, MAX_INPUT_BYTES).and_then(|bytes| {
            Ok(evaluate_input(
                &bytes,
                Some(file),
                &opts,
                params.as_ref(),
                &mut |e| printer.push(e),
            )?)
        });
        match result {
            Ok(0) => eprintln!("immutag: warning: {}: no resources found", shown(file)),
            Ok(_) => {}
            Err(e) => {
                failed += 1;
                eprintln!(
                    "immutag: error: {}: {}",
                    shown(file),
                    printable(&e.to_string())
                );
            }
        }
    }

    let nothing = printer.counts().total() == 0;
    let counts = printer
        .finish(!(nothing && failed > 0))
        .context("writing the output")?;
    if failed > 0 {
        eprintln!("immutag: {failed} of {inputs} input(s) could not be evaluated");
        return Ok(exit::USAGE);
    }
    Ok(counts.exit_code())
}
