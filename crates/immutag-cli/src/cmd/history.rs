//! `immutag history`: who pushed and who moved which tag, from CloudTrail `PutImage` events
//! (log files on disk or in S3, event history, or Athena). Parses the flags, calls
//! [`immutag_aws::evidence::read`], renders the [`Evidence`].

use std::io::{self, Write};

use clap::ValueEnum;
use comfy_table::{ContentArrangement, Table, presets};
use immutag_core::evidence::{Evidence, HistoryEntry, TagState};
use immutag_core::text::printable;
use immutag_core::time::{self, Timestamp};

use crate::cmd::evidence::{self, SourceArgs, moment};
use crate::cmd::fleet::{self, FleetArgs};
use crate::exit;
use crate::output::csv::neutralize;

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

fn table() -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    t.force_no_tty();
    if let Some(w) = crate::output::table::terminal_width() {
        t.set_width(w)
            .set_content_arrangement(ContentArrangement::Dynamic);
    }
    t
}

/// `sha256:` and the first 12 hex digits: enough to tell images apart in a table.
fn short(digest: Option<&str>) -> String {
    match digest {
        Some(d) => {
            let (algo, hex) = d.split_once(':').unwrap_or(("", d));
            let hex: String = hex.chars().take(12).collect();
            printable(&if algo.is_empty() {
                hex
            } else {
                format!("{algo}:{hex}")
            })
            .into_owned()
        }
        None => String::new(),
    }
}

fn principal(arn: &str, session: Option<&str>) -> String {
    match session {
        Some(s) => format!("{} ({})", printable(arn), printable(s)),
        None => printable(arn).into_owned(),
    }
}

/// The pushes, a summary line, and each moved tag with who moved it.
pub fn write_table(e: &Evidence, moves_only: bool, out: &mut dyn Write) -> io::Result<()> {
    let rows = e.entries(moves_only);
    if rows.is_empty() {
        writeln!(
            out,
            "No {} in the window.",
            if moves_only { "move" } else { "push" }
        )?;
    } else {
        let mut t = table();
        t.set_header([
            "AT",
            "KIND",
            "ACCOUNT",
            "REGION",
            "REPOSITORY",
            "TAG",
            "FROM",
            "TO",
            "PRINCIPAL",
            "USER AGENT",
        ]);
        for r in &rows {
            let kind = match &r.error_code {
                Some(code) => format!("refused ({})", printable(code)),
                None => r.kind.as_str().to_owned(),
            };
            t.add_row([
                r.at.clone(),
                kind,
                printable(&r.account_id).into_owned(),
                printable(&r.region).into_owned(),
                printable(&r.repository).into_owned(),
                printable(&r.tag).into_owned(),
                short(r.from_digest.as_deref()),
                short(r.to_digest.as_deref()),
                principal(&r.principal_arn, r.session_name.as_deref()),
                printable(r.user_agent.as_deref().unwrap_or("")).into_owned(),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    let tags = e.tags();
    let moved: Vec<_> = tags.iter().filter(|t| !t.moves().is_empty()).collect();
    let pushes: usize = tags.iter().map(|t| t.pushes.len()).sum();
    let moves: usize = moved.iter().map(|t| t.moves().len()).sum();
    writeln!(
        out,
        "{pushes} push(es) of {} tag(s); {moves} move(s) of {} tag(s).",
        tags.len(),
        moved.len()
    )?;
    if !moved.is_empty() {
        writeln!(
            out,
            "\nMoved tags (re-used, whatever their names), and who moved them:"
        )?;
        for t in moved {
            let s = t.summary();
            let by: Vec<String> = s
                .principals
                .iter()
                .filter(|p| p.moves > 0)
                .map(|p| format!("{} ({})", printable(&p.principal_arn), p.moves))
                .collect();
            writeln!(
                out,
                "  {}/{} {}:{}: {} move(s), last {}, by {}",
                printable(&t.key.account_id),
                printable(&t.key.region),
                printable(&t.key.repository),
                printable(&t.key.tag),
                s.moves,
                s.last_moved_at.as_deref().unwrap_or("?"),
                by.join(", ")
            )?;
        }
    }
    Ok(())
}

/// What each tag named at `t`.
pub fn write_states_table(
    states: &[TagState],
    t: Timestamp,
    out: &mut dyn Write,
) -> io::Result<()> {
    if states.is_empty() {
        return writeln!(
            out,
            "No tag was pushed at or before {} in the logs read.",
            time::format(t)
        );
    }
    let mut table = table();
    table.set_header([
        "ACCOUNT",
        "REGION",
        "REPOSITORY",
        "TAG",
        "DIGEST",
        "SINCE",
        "PUSHED BY",
    ]);
    for s in states {
        table.add_row([
            printable(&s.account_id).into_owned(),
            printable(&s.region).into_owned(),
            printable(&s.repository).into_owned(),
            printable(&s.tag).into_owned(),
            printable(s.digest.as_deref().unwrap_or("(not in the record)")).into_owned(),
            s.pushed_at.clone(),
            printable(&s.principal_arn).into_owned(),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "{} tag(s) as they were at {}.",
        states.len(),
        time::format(t)
    )
}

/// Pretty JSON.
pub fn write_json<T: serde::Serialize>(rows: &T, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, rows).map_err(io::Error::other)?;
    writeln!(out)
}

fn csv_writer(out: &mut dyn Write) -> csv::Writer<&mut dyn Write> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out)
}

/// One row per push; the columns are the JSON fields.
pub fn write_csv(rows: &[HistoryEntry], out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv_writer(out);
    w.write_record([
        "kind",
        "repository",
        "tag",
        "account_id",
        "region",
        "from_digest",
        "to_digest",
        "at",
        "principal_arn",
        "session_name",
        "user_agent",
        "error_code",
    ])
    .map_err(io::Error::other)?;
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    for r in rows {
        let cells = [
            r.kind.as_str().to_owned(),
            r.repository.clone(),
            r.tag.clone(),
            r.account_id.clone(),
            r.region.clone(),
            o(&r.from_digest),
            o(&r.to_digest),
            r.at.clone(),
            r.principal_arn.clone(),
            o(&r.session_name),
            o(&r.user_agent),
            o(&r.error_code),
        ];
        w.write_record(cells.iter().map(|c| neutralize(c).into_owned()))
            .map_err(io::Error::other)?;
    }
    w.flush()
}

/// One row per tag state.
pub fn write_states_csv(states: &[TagState], out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv_writer(out);
    w.write_record([
        "repository",
        "tag",
        "account_id",
        "region",
        "digest",
        "pushed_at",
        "principal_arn",
        "user_agent",
    ])
    .map_err(io::Error::other)?;
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    for s in states {
        let cells = [
            s.repository.clone(),
            s.tag.clone(),
            s.account_id.clone(),
            s.region.clone(),
            o(&s.digest),
            s.pushed_at.clone(),
            s.principal_arn.clone(),
            o(&s.user_agent),
        ];
        w.write_record(cells.iter().map(|c| neutralize(c).into_owned()))
            .map_err(io::Error::other)?;
    }
    w.flush()
}
