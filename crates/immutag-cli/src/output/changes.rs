//! The renderings of `immutag remediate` and `immutag rollback`: one line per repository
//! (what would change, what is kept or skipped and why), one line per change made (with its
//! verification), a summary; or one JSON document. Names and messages from input (a plan, a
//! journal, an AWS error) are shown with control characters escaped.

use std::io::{self, Write};

use clap::ValueEnum;
use immutag_aws::change::{ChangeReport, ChangeResult, Verification};
use immutag_aws::remediate::{FindingsReport, RemediateReport};
use immutag_aws::rollback::RollbackReport;
use immutag_core::change::RepoKey;
use immutag_core::remediation::{Action, Decision, SkipReason, count};
use immutag_core::rollback::RollbackDecision;
use immutag_core::text::printable;
use serde::Serialize;

/// `--output` of remediate and rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ReportFormat {
    /// One line per repository, then a summary.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

/// The JSON report of `immutag remediate` and `immutag rollback`.
#[derive(Debug, Serialize)]
pub struct Report<'a, D: Serialize> {
    /// True when changes were made (`--apply`).
    pub apply: bool,
    /// The journal written, when changes were made.
    pub journal: Option<String>,
    /// One entry per repository: change (or restore) or skip, with the reason.
    pub decisions: &'a [D],
    /// One entry per change attempted.
    pub results: &'a [ChangeReport],
    /// Notes on creation templates to change (remediation only).
    #[serde(skip_serializing_if = "<[Note<'_>]>::is_empty")]
    pub notes: &'a [Note<'a>],
    /// With `--from-securityhub`: the findings read and the notes written on them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<&'a FindingsReport>,
}

/// A note on one change of a remediation report.
#[derive(Debug, Serialize)]
pub struct Note<'a> {
    /// The resource.
    #[serde(flatten)]
    pub key: &'a RepoKey,
    /// The note.
    pub note: &'a str,
}

fn key_text(key: &RepoKey) -> String {
    printable(&key.to_string()).into_owned()
}

/// Writes a remediation report.
pub fn write_remediation(
    report: &RemediateReport,
    format: ReportFormat,
    out: &mut dyn Write,
) -> io::Result<()> {
    let journal = report.journal.as_ref().map(|p| p.display().to_string());
    if format == ReportFormat::Json {
        let notes: Vec<Note<'_>> = report
            .notes
            .iter()
            .map(|(key, note)| Note { key, note })
            .collect();
        let doc = Report {
            apply: report.applied,
            journal,
            decisions: &report.decisions,
            results: &report.reports,
            notes: &notes,
            findings: report.findings.as_ref(),
        };
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
        return writeln!(out);
    }
    if let Some(f) = &report.findings {
        writeln!(
            out,
            "security hub: {} finding(s) read, {} open ECR.2 failure(s) naming a repository",
            f.read, f.open
        )?;
    }
    if !report.applied {
        for d in &report.decisions {
            if let Action::Change { from, to } = &d.action {
                writeln!(out, "CHANGE  {}  {from} -> {to}", key_text(&d.key))?;
            }
        }
    }
    for (key, note) in &report.notes {
        writeln!(out, "NOTE    {}  {}", key_text(key), printable(note))?;
    }
    write_skips(out, &report.decisions)?;
    if report.applied {
        write_results(out, &report.reports)?;
        if let Some(p) = &journal {
            writeln!(out, "journal: {}", printable(p))?;
        }
        if let Some(notes) = report.findings.as_ref().and_then(|f| f.notes.as_ref()) {
            for u in &notes.unprocessed {
                writeln!(
                    out,
                    "NOTEFAIL {}  {}: {}",
                    printable(&u.id),
                    printable(u.code.as_deref().unwrap_or("error")),
                    printable(&u.message)
                )?;
            }
            writeln!(
                out,
                "security hub: noted {} finding(s), {} not updated",
                notes.processed.len(),
                notes.unprocessed.len()
            )?;
        }
        return Ok(());
    }
    let counts = count(&report.decisions);
    let skipped: Vec<String> = counts
        .skipped
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    writeln!(
        out,
        "{} to change, {} skipped{}",
        counts.changes,
        counts.skipped.values().sum::<usize>(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(" ({})", skipped.join(", "))
        }
    )?;
    writeln!(
        out,
        "dry run: nothing changed. {} to change; re-run with --apply to make the changes.",
        counts.changes
    )
}

/// One line per repository left alone: `KEEP` for a compliant one, `SKIP` with the reason
/// for the others.
fn write_skips(out: &mut dyn Write, decisions: &[Decision]) -> io::Result<()> {
    for d in decisions {
        if let Action::Skip { reason } = &d.action {
            let head = if *reason == SkipReason::Compliant {
                "KEEP   "
            } else {
                "SKIP   "
            };
            writeln!(
                out,
                "{head} {}  {}",
                key_text(&d.key),
                printable(&reason.to_string())
            )?;
        }
    }
    Ok(())
}

/// Writes a rollback report.
pub fn write_rollback(
    report: &RollbackReport,
    format: ReportFormat,
    out: &mut dyn Write,
) -> io::Result<()> {
    let journal = report.journal.as_ref().map(|p| p.display().to_string());
    if format == ReportFormat::Json {
        return write_json(
            out,
            report.applied,
            journal,
            &report.items,
            &report.reports,
            None,
        );
    }
    let mut restore = 0;
    for i in &report.items {
        match &i.decision {
            RollbackDecision::Restore { from, to } => {
                restore += 1;
                if !report.applied {
                    writeln!(out, "RESTORE {}  {from} -> {to}", key_text(&i.entry.key))?;
                }
            }
            RollbackDecision::Skip { reason } => {
                writeln!(
                    out,
                    "SKIP    {}  {}",
                    key_text(&i.entry.key),
                    printable(reason)
                )?;
            }
        }
    }
    if report.applied {
        write_results(out, &report.reports)?;
        if let Some(p) = &journal {
            writeln!(out, "journal: {}", printable(p))?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "{restore} to restore, {} skipped",
        report.items.len() - restore
    )?;
    writeln!(
        out,
        "dry run: nothing changed. {restore} to restore; re-run with --apply to restore them."
    )
}

/// One line per change result, then a summary.
pub fn write_results(out: &mut dyn Write, reports: &[ChangeReport]) -> io::Result<()> {
    let (mut ok, mut failed, mut unknown, mut mismatch, mut not_sent) = (0, 0, 0, 0, 0);
    for r in reports {
        let c = &r.change;
        let head = format!("{}  {} -> {}", key_text(&c.key), c.from, c.to);
        match (&r.result, &r.verification) {
            (ChangeResult::Applied, Some(Verification::Verified) | None) => {
                ok += 1;
                writeln!(out, "CHANGED {head}  verified")?;
            }
            (ChangeResult::Applied, Some(v)) => {
                mismatch += 1;
                writeln!(out, "MISMATCH {head}  {}", describe(v))?;
            }
            (
                ChangeResult::Failed {
                    code,
                    message,
                    outcome_known: true,
                },
                _,
            ) => {
                failed += 1;
                writeln!(
                    out,
                    "FAILED  {head}  {}: {}",
                    printable(code),
                    printable(message)
                )?;
            }
            (
                ChangeResult::Failed {
                    code,
                    message,
                    outcome_known: false,
                },
                v,
            ) => {
                unknown += 1;
                writeln!(
                    out,
                    "UNKNOWN {head}  {}: {}; {}",
                    printable(code),
                    printable(message),
                    v.as_ref()
                        .map(describe)
                        .unwrap_or_else(|| "not read back".into())
                )?;
            }
            (ChangeResult::NotAttempted { reason }, _) => {
                not_sent += 1;
                writeln!(out, "NOTSENT {head}  {}", printable(reason))?;
            }
        }
    }
    writeln!(
        out,
        "{ok} changed and verified, {failed} failed, {mismatch} not at the target when read back, {unknown} unknown{}",
        if not_sent > 0 {
            format!(", {not_sent} not sent")
        } else {
            String::new()
        }
    )
}

fn describe(v: &Verification) -> String {
    match v {
        Verification::Verified => "read back as the target".into(),
        Verification::Mismatch { observed } => format!("read back as {observed}"),
        Verification::Missing => "not found when read back".into(),
        Verification::Unreadable { error } => {
            format!("could not be read back: {}", printable(error))
        }
    }
}

fn write_json<D: Serialize>(
    out: &mut dyn Write,
    apply: bool,
    journal: Option<String>,
    decisions: &[D],
    results: &[ChangeReport],
    findings: Option<&FindingsReport>,
) -> io::Result<()> {
    let report = Report {
        apply,
        journal,
        decisions,
        results,
        notes: &[],
        findings,
    };
    serde_json::to_writer_pretty(&mut *out, &report).map_err(io::Error::other)?;
    writeln!(out)
}
