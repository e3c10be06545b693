//! `immutag scan`: read the ECR repositories of live accounts and regions and evaluate them
//! like `immutag evaluate` does (same parameters, formats and exit codes; rows carry the
//! account and region). The flow is [`immutag_aws::scan::scan`]; the calls it makes are
//! listed there.

use crate::cmd::fleet::{self, Bar, FleetArgs};
use crate::exit;
use crate::output::{self, ColorChoice, Counts, Format, RenderOptions};
use crate::params::command_line_params;

/// Arguments of `immutag scan`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Reads the repositories and the repository creation templates of each account and \
region, and reports a registry whose pull-through cache or replication rules no template covers \
(ECR then creates MUTABLE repositories). An endpoint without the template operations (moto) gives \
a warning and is otherwise scanned as usual.\n\n\
Exit codes: 0 all compliant or not applicable, 1 any NON_COMPLIANT, \
2 usage or input error, 3 an account/region that could not be read (the rest is still printed).\n\n\
Examples:\n  immutag scan --regions eu-west-1,us-east-1\n  \
immutag scan --org --all-regions --role-name OrganizationAccountAccessRole --output json\n  \
immutag scan --accounts 111122223333,444455556666 --param AllowedExclusionFilters=latest"
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
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// When to colour the table (auto: when stdout is a terminal and NO_COLOR is not set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let params =
        command_line_params(&args.params, args.params_file.as_deref())?.unwrap_or_default();
    args.fleet.validate()?;
    let opts = args.fleet.target_options();
    let session_opts = args.fleet.session_options();

    let runtime = fleet::runtime()?;
    let bar = Bar::new(args.fleet.no_progress, "scanning");
    let result = runtime.block_on(async {
        let base = immutag_aws::session::load(&session_opts).await;
        immutag_aws::scan::scan(&base, &opts, &params, &bar).await
    });
    bar.clear();
    let report = result.map_err(fleet::setup_error)?;

    let evals = &report.evaluations;
    let color = args.output == Format::Table && args.color.enabled_for_stdout();
    let render = RenderOptions {
        color,
        width: output::table::terminal_width(),
    };
    fleet::with_stdout(|out| output::render(evals, args.output, &render, out))?;

    fleet::report_warnings(&report.warnings);
    fleet::report_failures(&report.failures, &report.skipped);
    fleet::report_dropped(&report.dropped);
    let templates = evals
        .iter()
        .filter(|e| e.resource_type.template().is_some())
        .count();
    let registries = evals
        .iter()
        .filter(|e| e.resource_type == immutag_core::ResourceType::Registry)
        .count();
    eprintln!(
        "immutag: scanned {} account/region(s), {} repositories, {templates} creation template(s){}{}",
        report.targets.len(),
        evals.len() - templates - registries,
        if registries > 0 {
            format!(", {registries} registry coverage finding(s)")
        } else {
            String::new()
        },
        match report.dropped.len() {
            0 => String::new(),
            n => format!(" ({n} deleted while being read, left out)"),
        }
    );
    Ok(exit::of_report(
        report.incomplete(),
        Counts::of(evals).non_compliant > 0,
    ))
}
