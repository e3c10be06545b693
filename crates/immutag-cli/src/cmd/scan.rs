//! `immutag scan`: read the ECR repositories of live accounts and regions, and evaluate them
//! like `immutag evaluate` does (same parameters, formats and exit codes; rows carry the
//! account and region).
//!
//! Calls: per account and region, `ecr:DescribeRepositories` with `maxResults=1000`
//! (`ceil(N/1000)` calls, nothing per repository); `sts:GetCallerIdentity` once;
//! `sts:AssumeRole` once per other account; `organizations:ListAccounts` with `--org`;
//! `ec2:DescribeRegions` per account with `--all-regions`; `ecr:ListTagsForResource` per
//! repository only when `ExemptionTagKey` is set (the tags are needed to apply it).

use immutag_core::evaluate_all;

use crate::cmd::evaluate::command_line_params;
use crate::cmd::fleet::{self, Bar, FleetArgs};
use crate::exit;
use crate::output::{self, ColorChoice, Counts, Format, RenderOptions};

/// Arguments of `immutag scan`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 all compliant or not applicable, 1 any NON_COMPLIANT, \
2 usage error, or an account/region that could not be read (the rest is still printed).\n\n\
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
    let opts = args.fleet.fan_out_options();
    let session_opts = args.fleet.session_options();
    let with_tags = params.exemption_tag_key.is_some();

    let runtime = fleet::runtime()?;
    let bar = Bar::new(args.fleet.no_progress, "scanning");
    let result = runtime.block_on(async {
        let base = immutag_aws::session::load(&session_opts).await;
        immutag_aws::fanout::inventory(&base, &opts, with_tags, &bar).await
    });
    bar.clear();
    let inventory = result.map_err(fleet::setup_error)?;

    let evals = evaluate_all(&inventory.items, &params);
    let color = args.output == Format::Table && args.color.enabled_for_stdout();
    let render = RenderOptions {
        color,
        width: output::table::terminal_width(),
    };
    fleet::with_stdout(|out| output::render(&evals, args.output, &render, out))?;

    let failed = fleet::report_failures(&inventory.failures, &inventory.skipped);
    fleet::report_dropped(&inventory.dropped);
    eprintln!(
        "immutag: scanned {} account/region(s), {} repositories{}",
        inventory.targets.len(),
        inventory.items.len(),
        match inventory.dropped.len() {
            0 => String::new(),
            n => format!(" ({n} deleted while being read, left out)"),
        }
    );
    Ok(if failed {
        exit::USAGE
    } else if Counts::of(&evals).non_compliant > 0 {
        exit::FINDINGS
    } else {
        exit::OK
    })
}
