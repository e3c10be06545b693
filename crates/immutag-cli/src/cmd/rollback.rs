//! `immutag rollback JOURNAL`: restore the previous settings of what a remediation journal
//! changed. Dry run by default; journaled itself.
//!
//! The current setting of every repository the journal names is read from AWS first
//! (DescribeRepositories, 100 names per call). A repository is restored only when it is
//! still at the setting the journal made; one changed since, one whose change failed, and
//! one that no longer exists are left alone and reported. An intent without a result (a
//! crash) is resolved by that same read.

use std::path::PathBuf;

use anyhow::bail;
use immutag_aws::journal::{self, Journal};
use immutag_aws::remediate::{self, ApplyOptions, Scope};
use immutag_core::change::Change;
use immutag_core::journal::{JournalContents, Operation, Outcome, parse_journal, summarize};
use immutag_core::rollback::{RollbackDecision, RollbackItem, plan_rollback};
use immutag_core::text::printable;
use std::io::Write;

use crate::cmd::fleet::FleetArgs;
use crate::cmd::remediate::{ReportFormat, emit, print_results, settings_of};
use crate::exit;

/// Arguments of `immutag rollback`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The journal written by `immutag remediate` (or by an earlier rollback).
    #[arg(value_name = "JOURNAL")]
    pub from: PathBuf,

    /// Restore. Without it, nothing is changed: the command prints what would be.
    #[arg(long)]
    pub apply: bool,

    /// The rollback's own journal. Default:
    /// `immutag-rollback-journal-YYYYMMDDTHHMMSSZ.jsonl` in the current directory.
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,

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
    let f = &args.fleet;
    if f.org || !f.accounts.is_empty() || !f.regions.is_empty() || f.all_regions {
        bail!(
            "the journal names the accounts and regions: --org, --accounts, --regions and --all-regions do not apply to rollback"
        );
    }
    crate::cmd::fleet::runtime()?.block_on(run_async(args))
}

/// Reads the journal, bounded like every input ([`crate::read`]); errors name the file.
fn read_journal(path: &std::path::Path) -> anyhow::Result<JournalContents> {
    let file = path.to_string_lossy();
    let shown = crate::read::shown(&file);
    let text = crate::read::read_text(&file, immutag_core::input::MAX_INPUT_BYTES)
        .map_err(|e| anyhow::anyhow!("the journal {shown}: {e}"))?;
    let mut contents =
        parse_journal(&text).map_err(|e| anyhow::anyhow!("the journal {shown}: {e}"))?;
    for w in &mut contents.warnings {
        *w = format!("{shown}: {w}");
    }
    Ok(contents)
}

async fn run_async(args: Args) -> anyhow::Result<u8> {
    let concurrency = args.fleet.concurrency.max(1);
    let contents = read_journal(&args.from)?;
    for w in &contents.warnings {
        eprintln!("immutag: warning: {}", printable(w));
    }
    let entries = summarize(&contents.records);
    if entries.is_empty() {
        bail!(
            "{}: the journal records no change",
            crate::read::shown(&args.from.to_string_lossy())
        );
    }
    for e in entries.iter().filter(|e| e.outcome == Outcome::Unknown) {
        eprintln!(
            "immutag: note: {}: the journal has no result for its change to {} (interrupted run); the state read now decides",
            e.key, e.new
        );
    }
    let scopes: Vec<Scope> = entries.iter().map(|e| Scope::of(&e.key)).collect();
    let base = immutag_aws::session::load(&args.fleet.session_options()).await;
    let clients = remediate::clients_for_scopes(&base, scopes, &args.fleet.role_name).await?;
    let keys: Vec<_> = entries.iter().map(|e| e.key.clone()).collect();
    let read = remediate::read_settings(&clients, &keys, concurrency).await;
    let unreadable: Vec<String> = read
        .iter()
        .filter_map(|(k, v)| match v {
            remediate::ReadState::Error(e) => Some(format!("{k}: {e}")),
            _ => None,
        })
        .collect();
    for u in &unreadable {
        eprintln!("immutag: error: cannot read the current setting of {u}");
    }
    let current = settings_of(&read);
    let mut items: Vec<RollbackItem> = plan_rollback(&entries, &current);
    // A repository that could not be read is not "gone": say so.
    for item in &mut items {
        if let Some(remediate::ReadState::Error(e)) = read.get(&item.entry.key) {
            item.decision = RollbackDecision::Skip {
                reason: format!("current setting unreadable: {e}"),
            };
        }
    }
    let changes: Vec<Change> = items
        .iter()
        .filter_map(|i| match &i.decision {
            RollbackDecision::Restore { from, to } => Some(Change {
                key: i.entry.key.clone(),
                from: from.clone(),
                to: to.clone(),
            }),
            RollbackDecision::Skip { .. } => None,
        })
        .collect();

    if !args.apply {
        emit(&args.output, false, None, &items, &[], |out| {
            print_items(out, &items)?;
            writeln!(
                out,
                "dry run: nothing changed. {} to restore; re-run with --apply to restore them.",
                changes.len()
            )
        })?;
        return Ok(if unreadable.is_empty() {
            exit::OK
        } else {
            exit::FINDINGS
        });
    }

    let path = args
        .journal
        .clone()
        .unwrap_or_else(|| journal::default_path("immutag-rollback-journal"));
    let reports = if changes.is_empty() {
        Vec::new()
    } else {
        let j = Journal::open(&path, format!("rollback-{}", journal::compact_timestamp()))?;
        let r = remediate::apply(
            &clients,
            changes,
            &j,
            ApplyOptions {
                concurrency,
                operation: Operation::Rollback,
                verify: true,
            },
        )
        .await;
        j.close();
        r?
    };
    let journal_shown = (!reports.is_empty()).then(|| path.display().to_string());
    emit(
        &args.output,
        true,
        journal_shown.clone(),
        &items,
        &reports,
        |out| {
            for i in &items {
                if let RollbackDecision::Skip { reason } = &i.decision {
                    writeln!(out, "SKIP    {}  {reason}", i.entry.key)?;
                }
            }
            print_results(out, &reports)?;
            if let Some(p) = &journal_shown {
                writeln!(out, "journal: {p}")?;
            }
            Ok(())
        },
    )?;
    let bad = reports.iter().filter(|r| !r.succeeded()).count();
    Ok(if bad > 0 || !unreadable.is_empty() {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

fn print_items(out: &mut dyn Write, items: &[RollbackItem]) -> std::io::Result<()> {
    let mut restore = 0;
    for i in items {
        match &i.decision {
            RollbackDecision::Restore { from, to } => {
                restore += 1;
                writeln!(out, "RESTORE {}  {from} -> {to}", i.entry.key)?;
            }
            RollbackDecision::Skip { reason } => {
                writeln!(out, "SKIP    {}  {reason}", i.entry.key)?;
            }
        }
    }
    writeln!(
        out,
        "{restore} to restore, {} skipped",
        items.len() - restore
    )
}
