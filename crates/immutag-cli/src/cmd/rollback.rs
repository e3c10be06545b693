//! `immutag rollback JOURNAL`: restore the previous settings of what a remediation journal
//! changed. Dry run by default; journaled itself. The flow is
//! [`immutag_aws::rollback::rollback`]; the report is rendered by [`crate::output::changes`].

use std::path::PathBuf;

use anyhow::bail;
use immutag_aws::rollback::{RollbackError, RollbackOptions};
use immutag_core::text::printable;

use crate::cmd::fleet::{self, FleetArgs, RunArgs};
use crate::exit;
use crate::output::changes::{ReportFormat, write_rollback};

/// Arguments of `immutag rollback`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 nothing left to restore (every restore made and verified), 1 \
restores pending (a dry run), 2 usage or input error (a journal that cannot be read), 3 a \
repository that could not be read or restored (the rest is still printed)."
)]
pub struct Args {
    /// The journal written by `immutag remediate` (or by an earlier rollback).
    #[arg(value_name = "JOURNAL")]
    pub from: PathBuf,

    /// `--apply` (restore), `--journal` (the rollback's own journal), `--append-journal`.
    #[command(flatten)]
    pub run: RunArgs,

    /// Report format on stdout.
    #[arg(long, short = 'o', value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,

    /// How to reach the accounts the journal names (`--role-name`, `--profile`,
    /// `--endpoint-url`, `--concurrency`). The journal names the accounts and regions:
    /// `--org`, `--accounts`, `--regions` and `--all-regions` are refused.
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<u8> {
    args.fleet.validate()?;
    if args.fleet.selects_targets() {
        bail!(
            "the journal names the accounts and regions: --org, --accounts, --regions and --all-regions do not apply to rollback"
        );
    }
    // The flow reads the journal again; this bounded read refuses first what no journal can
    // be (a directory, a NUL byte, /dev/zero, over the size limit, not a record), naming it.
    check_journal(&args.from)?;
    let opts = RollbackOptions {
        from: args.from.clone(),
        run: args.run.run_options(&args.fleet),
    };
    let session = args.fleet.session_options();
    let result = fleet::runtime()?.block_on(async {
        let base = immutag_aws::session::load(&session).await;
        immutag_aws::rollback::rollback(&base, &opts).await
    });
    let report = result.map_err(|e| match e {
        RollbackError::Input(e) => anyhow::Error::new(e),
        RollbackError::Aws(e) => fleet::setup_error(e),
        e @ RollbackError::Apply(_) => exit::incomplete(e.into()),
    })?;
    for w in &report.warnings {
        eprintln!("immutag: warning: {}", printable(w));
    }
    for e in &report.interrupted {
        eprintln!(
            "immutag: note: {}: the journal has no result for its change to {} (interrupted run); the state read now decides",
            printable(&e.key.to_string()),
            e.new
        );
    }
    for u in &report.unreadable {
        eprintln!(
            "immutag: error: cannot read the current setting of {}",
            printable(u)
        );
    }
    fleet::with_stdout(|out| write_rollback(&report, args.output, out))?;
    Ok(exit::of_report(report.incomplete(), report.findings()))
}

/// Reads the journal as every input is read ([`crate::read`]) and checks that it parses;
/// errors name the file.
fn check_journal(path: &std::path::Path) -> anyhow::Result<()> {
    let file = path.to_string_lossy();
    let shown = crate::read::shown(&file);
    let text = crate::read::read_text(&file, immutag_core::input::MAX_INPUT_BYTES)
        .map_err(|e| anyhow::anyhow!("the journal {shown}: {e}"))?;
    immutag_core::journal::parse_journal(&text)
        .map_err(|e| anyhow::anyhow!("the journal {shown}: {e}"))?;
    Ok(())
}
