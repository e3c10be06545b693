//! `immutag plan`: for every non-compliant repository of the selected accounts and regions,
//! read its images and recommend the setting to apply: on evidence (`--evidence`, `--athena`:
//! the tag moves of the CloudTrail window, read as `immutag history` reads them), or as a
//! guess from tag names without it.
//!
//! `--output json` prints the plan ([`immutag_core::plan::Plan`]; schema: `immutag schema
//! plan`), the input of `immutag remediate`. The flow is [`immutag_aws::plan::plan`]; the
//! renderings are in [`crate::output::plan`].

use clap::ValueEnum;
use immutag_aws::plan::PlanInputs;
use immutag_core::plan::DEFAULT_STORAGE_PRICE;
use immutag_core::text::printable;
use immutag_core::time::Timestamp;

use crate::cmd::evidence::{self, SourceArgs};
use crate::cmd::fleet::{self, FleetArgs};
use crate::exit;
use crate::output;
use crate::output::progress::Bar;
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
Examples:\n  immutag plan --regions eu-west-1 --evidence s3://org-trail/AWSLogs/ --output json > plan.json\n  \
immutag plan --org --all-regions --athena security.cloudtrail_org --athena-output s3://athena-results/\n  \
immutag plan --regions eu-west-1 --evidence lookup --since 14d\n  \
immutag plan --org --all-regions --param AllowedExclusionFilters=latest   (no evidence: a guess from tag names)"
)]
pub struct Args {
    /// Plan on evidence: the CloudTrail PutImage events of the window (a log file or
    /// directory, s3://BUCKET/PREFIX, or `lookup` for event history), read as `immutag
    /// history --cloudtrail` reads them. A tag that moved is re-used whatever its name; a
    /// repository where nothing moved is proposed IMMUTABLE. Without evidence, re-use is
    /// guessed from tag names (the plan says so).
    #[arg(
        long,
        value_name = "PATH|s3://BUCKET/PREFIX|lookup",
        conflicts_with = "athena"
    )]
    pub evidence: Option<String>,

    /// Athena (plan on the CloudTrail table instead of --evidence), and the window of the
    /// evidence (--since, default 30d; --until, default now).
    #[command(flatten)]
    pub source: SourceArgs,

    /// The storage price of the untagged-image estimate, USD per GB-month.
    #[arg(long, value_name = "USD", default_value_t = DEFAULT_STORAGE_PRICE, value_parser = storage_price)]
    pub storage_price: f64,

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

/// The evidence could not be read at all.
struct Unread(immutag_aws::AwsError);

fn storage_price(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p),
        _ => Err(format!(
            "`{}` is not a price: give USD per GB-month, such as 0.10",
            printable(text)
        )),
    }
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let params =
        command_line_params(&args.params, args.params_file.as_deref())?.unwrap_or_default();
    args.fleet.validate()?;
    let source = args.source.source(args.evidence.as_deref(), "--evidence")?;
    let now = Timestamp::now();
    let read_opts = match &source {
        Some(source) => {
            let window = args.source.window(source, now, false)?;
            Some(evidence::options(
                source,
                window,
                &args.fleet,
                None,
                None,
                now,
            ))
        }
        None => {
            anyhow::ensure!(
                args.source.since.is_none() && args.source.until.is_none(),
                "--since and --until are the window of the evidence: give --evidence or --athena"
            );
            None
        }
    };
    let opts = args.fleet.target_options();
    let session_opts = args.fleet.session_options();

    let runtime = fleet::runtime()?;
    let outcome = runtime.block_on(async {
        let base = immutag_aws::session::load(&session_opts).await;
        let read = match (&source, &read_opts) {
            (Some(source), Some(read_opts)) => {
                let bar = evidence::Bar::new(args.fleet.no_progress);
                let read = immutag_aws::evidence::read(&base, source, read_opts, &bar).await;
                bar.clear();
                match read {
                    Ok(report) => Some(report),
                    Err(e) => return Err(Unread(e)),
                }
            }
            _ => None,
        };
        let inputs = PlanInputs {
            params: &params,
            evidence: read.as_ref().map(|r| &r.evidence),
            storage_price: args.storage_price,
        };
        let bar = Bar::new(args.fleet.no_progress, "planning");
        let plan = immutag_aws::plan::plan(&base, &opts, &inputs, &bar).await;
        bar.clear();
        Ok((read, plan))
    });
    let (read, plan) = match outcome {
        Ok(done) => done,
        Err(Unread(e)) => {
            // No plan when the evidence asked for cannot be read: it would be a guess in
            // disguise.
            let source = source.as_ref().map(|s| s.describe()).unwrap_or_default();
            eprintln!(
                "immutag: error: {}: {}",
                printable(&source),
                fleet::setup_error(e)
            );
            return Ok(exit::INCOMPLETE);
        }
    };
    let evidence_incomplete = match (&read, &source) {
        (Some(report), Some(source)) => evidence::report_read(source, report),
        _ => false,
    };
    let plan = plan.map_err(fleet::setup_error)?;

    fleet::with_stdout(|out| match args.output {
        PlanFormat::Table => output::plan::write_table(&plan, out),
        PlanFormat::Json => output::plan::write_json(&plan, out),
        PlanFormat::Csv => output::plan::write_csv(&plan, out),
    })?;
    crate::output::progress::report_warnings(&plan.warnings);
    let failed =
        crate::output::progress::report_failures(&plan.failures, &[]) || evidence_incomplete;
    Ok(exit::of_report(failed, !plan.repositories.is_empty()))
}
