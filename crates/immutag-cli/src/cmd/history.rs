//! `immutag history`: who pushed and who moved which tag, from CloudTrail `PutImage` events
//! (log files on disk or in S3, event history, or Athena). Parses the flags, calls
//! [`immutag_aws::evidence::read`], renders the evidence ([`crate::output::history`]).

use clap::ValueEnum;
use immutag_core::text::printable;
use immutag_core::time::{self, Timestamp};

use crate::cmd::evidence::{self, SourceArgs, moment};
use crate::cmd::fleet::{self, FleetArgs};
use crate::exit;
use crate::output::history::{
    write_csv, write_json, write_states_csv, write_states_table, write_table,
};

/// Output formats of `immutag history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum HistoryFormat {
    /// A table of the pushes, then the moved tags and who moved them.
    #[default]
    Table,
    /// A JSON array of the rows (with --at: of the tag states).
    Json,
    /// CSV with a header row.
    Csv,
}

/// Arguments of `immutag history`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 no tag moved in the window, 1 a tag moved, 2 usage or input error, \
3 some source could not be read (the rest is printed).\n\n\
Examples:\n  immutag history --cloudtrail ./AWSLogs --repository web --tag latest\n  \
immutag history --cloudtrail s3://org-trail/AWSLogs/ --accounts 111122223333 --regions eu-west-1 --since 14d\n  \
immutag history --cloudtrail lookup --regions eu-west-1 --at 2026-11-23T09:00:00Z\n  \
immutag history --athena security.cloudtrail_org --athena-output s3://athena-results/ --since 30d -o json"
)]
pub struct Args {
    /// Where the events are: a log file or directory (.json, .json.gz, walked recursively),
    /// s3://BUCKET/PREFIX (a trail's AWSLogs/ tree), or `lookup` (CloudTrail event history).
    #[arg(
        long,
        value_name = "PATH|s3://BUCKET/PREFIX|lookup",
        required_unless_present = "athena",
        conflicts_with = "athena"
    )]
    pub cloudtrail: Option<String>,

    /// Athena, and the window (--since, --until).
    #[command(flatten)]
    pub source: SourceArgs,

    /// Only repositories whose name matches (`*` matches any run of characters).
    #[arg(long, value_name = "NAME")]
    pub repository: Option<String>,

    /// Only tags that match (`*` matches any run of characters).
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,

    /// Print which digest each tag named at T instead of the pushes.
    #[arg(long, value_name = "T")]
    pub at: Option<String>,

    /// Only the moves (pushes that gave a tag another digest).
    #[arg(long)]
    pub moves_only: bool,

    /// Accounts, regions, credentials. For files, S3 and Athena, --accounts and --regions
    /// narrow what is read (default: every account and region in the logs); for `lookup` they
    /// say where to call LookupEvents, as for `immutag scan`.
    #[command(flatten)]
    pub fleet: FleetArgs,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = HistoryFormat::Table)]
    pub output: HistoryFormat,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<u8> {
    args.fleet.validate()?;
    let Some(source) = args
        .source
        .source(args.cloudtrail.as_deref(), "--cloudtrail")?
    else {
        anyhow::bail!("give --cloudtrail or --athena");
    };
    let now = Timestamp::now();
    let window = args.source.window(&source, now, true)?;
    let since = window.since;
    let at = args
        .at
        .as_deref()
        .map(|a| moment("--at", a, now))
        .transpose()?;
    if let (Some(s), Some(a)) = (since, at) {
        anyhow::ensure!(
            s <= a,
            "--at {} is before --since {}: the window holds nothing of it",
            time::format(a),
            time::format(s)
        );
    }

    let opts = evidence::options(
        &source,
        window,
        &args.fleet,
        args.repository.clone(),
        args.tag.clone(),
        now,
    );

    let session_opts = args.fleet.session_options();
    let runtime = fleet::runtime()?;
    let bar = evidence::Bar::new(args.fleet.no_progress);
    let result = runtime.block_on(async {
        let base = immutag_aws::session::load(&session_opts).await;
        immutag_aws::evidence::read(&base, &source, &opts, &bar).await
    });
    bar.clear();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "immutag: error: {}: {}",
                printable(&source.describe()),
                fleet::setup_error(e)
            );
            return Ok(exit::INCOMPLETE);
        }
    };
    let e = &report.evidence;
    fleet::with_stdout(|out| match (at, args.output) {
        (Some(t), HistoryFormat::Table) => write_states_table(&e.at(t), t, out),
        (Some(t), HistoryFormat::Json) => write_json(&e.at(t), out),
        (Some(t), HistoryFormat::Csv) => write_states_csv(&e.at(t), out),
        (None, HistoryFormat::Table) => write_table(e, args.moves_only, out),
        (None, HistoryFormat::Json) => write_json(&e.entries(args.moves_only), out),
        (None, HistoryFormat::Csv) => write_csv(&e.entries(args.moves_only), out),
    })?;
    let incomplete = evidence::report_read(&source, &report);
    Ok(if incomplete {
        exit::INCOMPLETE
    } else if e.moved() {
        exit::FINDINGS
    } else {
        exit::OK
    })
}
