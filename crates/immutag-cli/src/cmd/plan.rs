//! `immutag plan`: for every non-compliant repository of the selected accounts and regions,
//! read its images and recommend the setting to apply, with the evidence.
//!
//! `--output json` prints the plan ([`immutag_core::plan::Plan`]; schema: `immutag schema
//! plan`), the input of `immutag remediate`. The flow is [`immutag_aws::plan::plan`]; the
//! renderings are in [`crate::output::plan`].

use clap::ValueEnum;

use crate::cmd::fleet::{self, Bar, FleetArgs};
use crate::exit;
use crate::output;
use crate::params::command_line_params;

/// Output formats of `immutag plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum PlanFormat {
    /// A table for people, then the untagged-image lifecycle policy when one is suggested.
    #[default]
    Table,
    /// The plan document (the input of `immutag remediate`).
    Json,
    /// CSV with a header row, one row per repository.
    Csv,
}

/// Arguments of `immutag plan`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 nothing to change, 1 some repository to change or review, \
2 usage or input error, 3 an account/region/repository that could not be read (the rest is \
still printed).\n\n\
Examples:\n  immutag plan --regions eu-west-1 --output json > plan.json\n  \
immutag plan --org --all-regions --param AllowedExclusionFilters=latest"
)]
pub struct Args {
    /// Accounts, regions, credentials.
    #[command(flatten)]
    pub fleet: FleetArgs,

    /// A rule parameter, `KEY=VALUE` (repeatable). Overrides the same key from --params-file.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,

    /// A JSON object of string values, as in Config's `ruleParameters`.
    #[arg(long, value_name = "FILE")]
    pub params_file: Option<std::path::PathBuf>,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let params =
        command_line_params(&args.params, args.params_file.as_deref())?.unwrap_or_default();
    args.fleet.validate()?;
    let opts = args.fleet.target_options();
    let session_opts = args.fleet.session_options();

    let runtime = fleet::runtime()?;
    let bar = Bar::new(args.fleet.no_progress, "planning");
    let result = runtime.block_on(async {
        let base = immutag_aws::session::load(&session_opts).await;
        immutag_aws::plan::plan(&base, &opts, &params, &bar).await
    });
    bar.clear();
    let plan = result.map_err(fleet::setup_error)?;

    fleet::with_stdout(|out| match args.output {
        PlanFormat::Table => output::plan::write_table(&plan, out),
        PlanFormat::Json => output::plan::write_json(&plan, out),
        PlanFormat::Csv => output::plan::write_csv(&plan, out),
    })?;
    let failed = fleet::report_failures(&plan.failures, &[]);
    Ok(exit::of_report(failed, !plan.repositories.is_empty()))
}
