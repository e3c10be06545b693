//! `immutag history`'s renderers: the pushes (or the tags' states at a moment) as a table
//! for people, JSON or CSV.

use std::io::{self, Write};

use comfy_table::{ContentArrangement, Table, presets};
use immutag_core::evidence::{Evidence, HistoryEntry, TagState};
use immutag_core::text::printable;
use immutag_core::time::{self, Timestamp};

use crate::output::csv::neutralize;

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
