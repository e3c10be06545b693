//! Rendering the reports of `immutag scp`: generated policies, policy check results and the
//! presets, as text.
//!
//! Every line passes through [`printable`]: action names, condition keys and values, Sids
//! and file names come from the policy file, and a control character among them must never
//! reach the terminal.
//!
//! ```
//! use immutag_cli::output::scp::{check_text, CheckedFile};
//! let bad = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ecr:Put\u001b[2J","Resource":"*"}}"#;
//! let report = immutag_scp::check_policy(bad, immutag_scp::PolicyKind::Scp).unwrap();
//! let files = [CheckedFile { file: "p.json".into(), report: Some(report), error: None }];
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! check_text(&files, &mut out, &mut err).unwrap();
//! let text = String::from_utf8(out).unwrap();
//! assert!(text.contains("ecr:Put\\u{1b}[2J"));
//! assert!(!text.contains('\u{1b}'));
//! ```

use std::collections::BTreeSet;
use std::io::{self, Write};

use immutag_core::text::printable;
use immutag_scp::presets::Preset;
use immutag_scp::{
    CheckReport, FindingCode, Generated, SCP_MAX_BYTES, ServiceControlPolicy, Severity, Style,
    Warning,
};
use serde::Serialize;

/// What `immutag scp generate` made from one set of options (one element of
/// `--output json`).
#[derive(Debug, Clone, Serialize)]
pub struct GeneratedReport {
    /// Where the options came from (`preset baseline`, a file name).
    pub source: String,
    /// The policies.
    pub policies: Vec<ServiceControlPolicy>,
    /// The files written (`--out`), one per policy.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub written: Vec<String>,
    /// The generator's warnings.
    pub warnings: Vec<Warning>,
}

impl GeneratedReport {
    /// The report of `generated`, nothing written yet.
    pub fn new(source: String, generated: Generated) -> Self {
        GeneratedReport {
            source,
            policies: generated.policies,
            written: Vec::new(),
            warnings: generated.warnings,
        }
    }
}

/// The documents on `out` (or, when written, one line per file), each size on `err`, then
/// every distinct warning once on `err`.
pub fn generated_text(
    reports: &[GeneratedReport],
    style: Style,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<()> {
    let mut seen: Vec<&Warning> = Vec::new();
    for report in reports {
        for (i, policy) in report.policies.iter().enumerate() {
            let size = format!(
                "{} bytes minified, limit {SCP_MAX_BYTES}",
                policy.minified_bytes
            );
            if let Some(path) = report.written.get(i) {
                line(out, &format!("wrote {path} ({size})"))?;
                continue;
            }
            let text = policy
                .document
                .render(style)
                .map_err(|e| io::Error::other(e.to_string()))?;
            // The document is JSON: serde escapes every control character in it.
            write!(out, "{text}")?;
            if style == Style::Minified {
                writeln!(out)?;
            }
            line(
                err,
                &format!("immutag: {} ({}): {size}", policy.name, report.source),
            )?;
        }
        for w in &report.warnings {
            if !seen.contains(&w) {
                seen.push(w);
            }
        }
    }
    for w in seen {
        line(
            err,
            &format!("immutag: warning [{}]: {}", w.code, w.message),
        )?;
    }
    Ok(())
}

/// The result of checking one file: its report, or why it could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedFile {
    /// The file as named on the command line (`-` for standard input).
    pub file: String,
    /// The report, when the file is a policy document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<CheckReport>,
    /// Why the file could not be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn line(out: &mut impl Write, text: &str) -> io::Result<()> {
    writeln!(out, "{}", printable(text))
}

/// `error` or `warning`.
pub fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The finding's stable id (`no-principal-exemption`, ...), as in the JSON output.
pub fn code_label(code: FindingCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "finding".to_owned())
}

/// One block per file on `out` (clean, or each finding with its id, statement and fix),
/// the unreadable files on `err`, then the notes once.
pub fn check_text(
    files: &[CheckedFile],
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<()> {
    let mut notes = BTreeSet::new();
    for f in files {
        if let Some(error) = &f.error {
            line(err, &format!("immutag: error: {}: {error}", f.file))?;
            continue;
        }
        let Some(rep) = &f.report else { continue };
        let size = format!(
            "{} bytes minified, limit {}",
            rep.minified_bytes, rep.limit_bytes
        );
        if rep.is_clean() {
            line(out, &format!("{}: clean ({size})", f.file))?;
        } else {
            line(
                out,
                &format!("{}: {} finding(s) ({size})", f.file, rep.findings.len()),
            )?;
            for finding in &rep.findings {
                let severity = severity_label(finding.severity);
                let code = code_label(finding.code);
                match &finding.statement {
                    Some(s) => line(
                        out,
                        &format!("  {severity}[{code}] {s}: {}", finding.message),
                    )?,
                    None => line(out, &format!("  {severity}[{code}]: {}", finding.message))?,
                }
                line(out, &format!("    fix: {}", finding.fix))?;
            }
        }
        notes.extend(rep.notes.iter().cloned());
    }
    for n in notes {
        line(out, &format!("note: {n}"))?;
    }
    Ok(())
}

/// What each preset is for, blocks and exempts, and how to adapt one.
pub fn presets_text(presets: &[Preset], out: &mut impl Write) -> io::Result<()> {
    for p in presets {
        line(out, p.name)?;
        line(out, &format!("  {}", p.summary))?;
        line(out, &format!("  blocks:  {}", p.blocks.join(", ")))?;
        line(
            out,
            &format!("  exempts: {}", p.options.exempt_principals.join(", ")),
        )?;
        if !p.options.creation_principals.is_empty() {
            line(
                out,
                &format!(
                    "  may also create repositories: {}",
                    p.options.creation_principals.join(", ")
                ),
            )?;
        }
        if let Some(key) = &p.options.rule_exemption_tag_key {
            line(out, &format!("  protects the tag key: {key}"))?;
        }
        line(
            out,
            &format!("  golden file: policies/{}.json", p.options.name),
        )?;
        writeln!(out)?;
    }
    line(
        out,
        "The role names are placeholders. Create roles with those names in every member account, or copy a preset into an options file (`immutag scp presets --output json` shows each preset's options; `immutag scp schema` the fields), change exempt_principals / creation_principals, and run `immutag scp generate --config FILE`.",
    )?;
    line(
        out,
        "The Config rule's exemption tag key: `immutag scp generate --preset strict --exemption-tag-key KEY` adds the statement that lets only the exempt principals set or remove it; give the rule the same ExemptionTagKey.",
    )?;
    line(
        out,
        "A control without any exempt principal is refused: no one, not even the platform role that runs remediation, could undo it from a member account.",
    )
}
