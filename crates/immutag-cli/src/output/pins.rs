//! Rendering pins (`immutag pins check`): the table, JSON, CSV and SARIF, in the formats of
//! [`super::Format`]; the unified diff of `immutag pins resolve`.
//!
//! - Table: LOCATION (`file:line:column`), CONTEXT, REFERENCE, STATUS, DETAIL, then a summary
//!   line. Text from files has its control characters escaped.
//! - JSON: an array of [`Pin`] (`immutag schema pin`).
//! - CSV: [`COLUMNS`], one row per pin.
//! - SARIF: one rule per finding status ([`FINDING_STATUSES`], fixed order), one result per pin
//!   that is not PINNED, with line and column (`columnKind: unicodeCodePoints`) and
//!   `partialFingerprints["immutagPin/v1"]` over file, context, reference text and status,
//!   so an alert follows the reference, not the line it sits on.

use std::collections::BTreeMap;
use std::io::{self, Write};

use comfy_table::{
    Attribute, Cell, Color, ColumnConstraint, ContentArrangement, Table, Width, presets,
};
use immutag_core::text::printable;
use immutag_pins::{Pin, PinStatus};
use serde::Serialize;

use super::sarif::{
    ArtifactLocation, Configuration, Help, Location, LogicalLocation, PhysicalLocation, Region,
    Rule, RuleProperties, SarifResult, Text, file_uri, fingerprint_of, log_of,
};
use super::table::text_cell;
use super::{Format, RenderOptions};

/// The statuses that are findings, in SARIF rule order.
pub const FINDING_STATUSES: [PinStatus; 6] = [
    PinStatus::Unpinned,
    PinStatus::Unresolved,
    PinStatus::Invalid,
    PinStatus::MutableRepository,
    PinStatus::DigestMissing,
    PinStatus::TagMoved,
];

/// The fingerprint key in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "immutagPin/v1";

/// The CSV header row.
pub const COLUMNS: [&str; 14] = [
    "file",
    "line",
    "column",
    "kind",
    "context",
    "text",
    "registry",
    "repository",
    "tag",
    "digest",
    "account_id",
    "region",
    "status",
    "detail",
];

/// Writes `pins` in `format`.
pub fn render(
    pins: &[Pin],
    format: Format,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table(pins, opts, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, pins).map_err(io::Error::other)?;
            writeln!(out)
        }
        Format::Csv => csv(pins, out),
        Format::Sarif => {
            let cwd = std::env::current_dir().ok();
            let rules = FINDING_STATUSES.iter().map(|&s| rule(s)).collect();
            let results = pins
                .iter()
                .filter(|p| p.status.is_finding())
                .map(|p| result(p, cwd.as_deref()))
                .collect();
            let log = log_of(rules, results, Some("unicodeCodePoints"));
            serde_json::to_writer_pretty(&mut *out, &log).map_err(io::Error::other)?;
            writeln!(out)
        }
    }
}

/// How many pins have each status.
pub fn counts(pins: &[Pin]) -> BTreeMap<PinStatus, usize> {
    let mut c = BTreeMap::new();
    for p in pins {
        *c.entry(p.status).or_insert(0) += 1;
    }
    c
}

/// `12 references: 3 PINNED, 9 UNPINNED` (statuses in their fixed order, zero counts left out).
pub fn summary(pins: &[Pin]) -> String {
    let c = counts(pins);
    let noun = if pins.len() == 1 {
        "reference"
    } else {
        "references"
    };
    let parts: Vec<String> = PinStatus::ALL
        .iter()
        .filter_map(|s| c.get(s).map(|n| format!("{n} {}", s.as_str())))
        .collect();
    if parts.is_empty() {
        format!("0 {noun}")
    } else {
        format!("{} {noun}: {}", pins.len(), parts.join(", "))
    }
}

/// `file:line:column`.
pub fn location(p: &Pin) -> String {
    let file = if p.file == "-" { "(stdin)" } else { &p.file };
    format!("{file}:{}:{}", p.line, p.column)
}

fn table(pins: &[Pin], opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    if pins.is_empty() {
        return writeln!(out, "No image references found.");
    }
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    t.force_no_tty();
    if opts.color {
        t.enforce_styling();
    }
    let header = ["LOCATION", "CONTEXT", "REFERENCE", "STATUS", "DETAIL"];
    t.set_header(header);
    if let Some(width) = opts.width {
        t.set_width(width)
            .set_content_arrangement(ContentArrangement::Dynamic);
        t.set_constraints(header.iter().map(|h| match *h {
            "STATUS" => ColumnConstraint::ContentWidth,
            "REFERENCE" => ColumnConstraint::LowerBoundary(Width::Percentage(25)),
            _ => ColumnConstraint::LowerBoundary(Width::Fixed(12)),
        }));
    }
    for p in pins {
        t.add_row(vec![
            text_cell(&location(p)),
            text_cell(&p.context),
            text_cell(&p.text),
            status_cell(p.status, opts.color),
            text_cell(p.detail.as_deref().unwrap_or("")),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(out, "{}", summary(pins))
}

fn status_cell(s: PinStatus, color: bool) -> Cell {
    let cell = Cell::new(s.as_str());
    if !color {
        return cell;
    }
    match s {
        PinStatus::Pinned => cell.fg(Color::Green),
        PinStatus::Unpinned | PinStatus::Unresolved => cell.fg(Color::Yellow),
        _ => cell.fg(Color::Red).add_attribute(Attribute::Bold),
    }
}

fn csv(pins: &[Pin], out: &mut dyn Write) -> io::Result<()> {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(out);
    w.write_record(COLUMNS).map_err(io::Error::other)?;
    for p in pins {
        let image = p.image.as_ref();
        let ecr = image.and_then(|i| i.ecr.as_ref());
        let row: [String; 14] = [
            p.file.clone(),
            p.line.to_string(),
            p.column.to_string(),
            p.kind.as_str().to_owned(),
            p.context.clone(),
            p.text.clone(),
            image.map(|i| i.registry.clone()).unwrap_or_default(),
            image.map(|i| i.repository.clone()).unwrap_or_default(),
            image.and_then(|i| i.tag.clone()).unwrap_or_default(),
            image.and_then(|i| i.digest.clone()).unwrap_or_default(),
            ecr.map(|e| e.account_id.clone()).unwrap_or_default(),
            ecr.map(|e| e.region.clone()).unwrap_or_default(),
            p.status.as_str().to_owned(),
            p.detail.clone().unwrap_or_default(),
        ];
        w.write_record(row.iter().map(|c| super::csv::neutralize(c).into_owned()))
            .map_err(io::Error::other)?;
    }
    w.flush()
}

/// Result `properties` of a pin.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PinProperties {
    /// The status.
    pub status: &'static str,
    /// The kind of file.
    pub kind: &'static str,
    /// The reference text.
    pub text: String,
    /// The registry, when parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// The repository, when parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
}

fn result(p: &Pin, cwd: Option<&std::path::Path>) -> SarifResult<PinProperties> {
    let rule_index = FINDING_STATUSES
        .iter()
        .position(|&s| s == p.status)
        .unwrap_or(0);
    let status = FINDING_STATUSES[rule_index];
    let physical_location = (p.file != "-").then(|| PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: file_uri(&p.file, cwd),
        },
        region: Region {
            start_line: p.line.max(1),
            start_column: Some(p.column.max(1)),
        },
    });
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(
        FINGERPRINT_KEY,
        fingerprint_of(&[&p.file, &p.context, &p.text, status.as_str()]),
    );
    let text = match &p.detail {
        Some(d) => format!("{} ({}): {}: {d}", p.text, p.context, status.as_str()),
        None => format!("{} ({}): {}", p.text, p.context, status.as_str()),
    };
    SarifResult {
        rule_id: rule_id(status),
        rule_index,
        level: level(status),
        kind: "fail",
        message: Text { text },
        locations: vec![Location {
            physical_location,
            logical_locations: vec![LogicalLocation {
                name: p.context.clone(),
                fully_qualified_name: format!("{}#{}", p.file, p.context),
                kind: "element",
            }],
        }],
        partial_fingerprints: fingerprints,
        properties: PinProperties {
            status: status.as_str(),
            kind: p.kind.as_str(),
            text: p.text.clone(),
            registry: p.image.as_ref().map(|i| i.registry.clone()),
            repository: p.image.as_ref().map(|i| i.repository.clone()),
        },
    }
}

fn rule_id(s: PinStatus) -> &'static str {
    match s {
        PinStatus::Pinned => "pin-pinned",
        PinStatus::Unpinned => "pin-unpinned",
        PinStatus::Unresolved => "pin-unresolved",
        PinStatus::Invalid => "pin-invalid",
        PinStatus::MutableRepository => "pin-mutable-repository",
        PinStatus::DigestMissing => "pin-digest-missing",
        PinStatus::TagMoved => "pin-tag-moved",
    }
}

fn level(s: PinStatus) -> &'static str {
    match s {
        PinStatus::Unpinned | PinStatus::Unresolved => "warning",
        _ => "error",
    }
}

const FIX_PIN: &str = "Pin the reference to the digest its tag names now: `immutag pins resolve PATH --write` for ECR references, `repo:tag@sha256:...` by hand for others.";

fn rule(s: PinStatus) -> Rule {
    let (name, short, full, fix, severity) = match s {
        PinStatus::Unpinned => (
            "ImageNotPinned",
            "Image reference names a tag, not a digest",
            "The reference names a tag (or none: latest). Whoever can push to the repository can point the tag at other bytes, and the next pull runs them.",
            FIX_PIN,
            "4.0",
        ),
        PinStatus::Unresolved => (
            "ImageNotStatic",
            "Image reference is built from a value not known statically",
            "The reference comes from a variable or expression (an ARG without default, an environment variable, a CloudFormation parameter or pseudo parameter, a workflow expression): it cannot be shown to be pinned.",
            "Give the value a default that is pinned (`ARG BASE=repo:tag@sha256:...`), or pin where the value is set.",
            "3.0",
        ),
        PinStatus::Invalid => (
            "ImageReferenceInvalid",
            "Text where an image reference belongs is not a valid reference",
            "The registry grammar (`[registry/]repository[:tag][@digest]`, lowercase repository) does not accept the text; a pull would fail or name something else.",
            "Correct the reference.",
            "3.0",
        ),
        PinStatus::MutableRepository => (
            "ImageTagMutableNow",
            "Unpinned reference into an ECR repository whose tags can move",
            "The reference names a tag in an ECR repository that is not compliant (its tags are mutable): the tag can be re-pointed today.",
            FIX_PIN,
            "7.0",
        ),
        PinStatus::DigestMissing => (
            "ImageDigestMissing",
            "Pinned digest is not in the repository",
            "The reference pins a digest that the ECR repository no longer holds (deleted, expired by a lifecycle policy, or the repository is gone): a pull fails.",
            "Pin a digest that exists: `immutag pins resolve` after removing the stale digest, or restore the image.",
            "6.0",
        ),
        PinStatus::TagMoved => (
            "ImageTagMoved",
            "The tag of a tag@digest reference now names another digest",
            "The reference was pinned to the digest its tag named then; the tag has since been re-pointed. The pin still pulls the old bytes, which may not be what the tag's owner ships now.",
            "Review the new image and re-pin it on purpose, or keep the old digest and drop the misleading tag.",
            "5.0",
        ),
        PinStatus::Pinned => (
            "ImagePinned",
            "Pinned",
            "Not a finding.",
            "Nothing to do.",
            "0.0",
        ),
    };
    let help_uri = format!(
        "{}/blob/main/docs/cli.md#immutag-pins",
        env!("CARGO_PKG_REPOSITORY")
    );
    Rule {
        id: rule_id(s),
        name,
        short_description: Text {
            text: short.to_owned(),
        },
        full_description: Text {
            text: full.to_owned(),
        },
        help: Help {
            text: fix.to_owned(),
            markdown: format!("{full}\n\n{fix}\n\nSee [immutag pins]({help_uri})."),
        },
        help_uri,
        default_configuration: Configuration { level: level(s) },
        properties: RuleProperties {
            tags: vec!["security", "supply-chain", "containers", "ecr"],
            security_severity: severity,
            precision: "very-high",
        },
    }
}

/// Writes the unified diff of `old` to `new` for `file` (`a/FILE`, `b/FILE` headers, three
/// lines of context). Each line's control characters are escaped (the line break is not);
/// the diff is for review, `--write` applies the change itself.
pub fn diff(file: &str, old: &str, new: &str, out: &mut dyn Write) -> io::Result<()> {
    let name = file.trim_start_matches("./");
    let d = similar::TextDiff::from_lines(old, new);
    let mut unified = d.unified_diff();
    unified.context_radius(3);
    let mut wrote_header = false;
    for hunk in unified.iter_hunks() {
        if !wrote_header {
            writeln!(out, "--- a/{}", printable(name))?;
            writeln!(out, "+++ b/{}", printable(name))?;
            wrote_header = true;
        }
        writeln!(out, "{}", hunk.header())?;
        for change in hunk.iter_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
                similar::ChangeTag::Equal => ' ',
            };
            let value = change.value();
            let line = value.strip_suffix('\n').unwrap_or(value);
            let line = line.strip_suffix('\r').unwrap_or(line);
            writeln!(out, "{sign}{}", printable(line))?;
            if change.missing_newline() {
                writeln!(out, "\\ No newline at end of file")?;
            }
        }
    }
    Ok(())
}

/// Reports unreadable files and skipped directories on stderr; true when a file failed.
pub fn report_files(scan: &immutag_pins::files::Scan) -> bool {
    for s in &scan.skipped {
        eprintln!(
            "immutag: note: {}: skipped, {}",
            printable(&s.path),
            s.reason
        );
    }
    for e in &scan.errors {
        let file = if e.file == "-" { "(stdin)" } else { &e.file };
        eprintln!(
            "immutag: error: {}: {}",
            printable(file),
            printable(&e.error.to_string())
        );
    }
    !scan.errors.is_empty()
}

/// Writes a note (left alone) or an error (could not be pinned) to stderr for each reference
/// `immutag pins resolve` did not pin; returns (pinned, left alone, failed).
pub fn report_outcomes(
    outcomes: &[(Pin, immutag_pins::resolve::Outcome)],
) -> (usize, usize, usize) {
    use immutag_pins::resolve::Outcome;
    let mut pinned = 0usize;
    let mut left_alone = 0usize;
    let mut failed = 0usize;
    for (pin, outcome) in outcomes {
        match outcome {
            Outcome::Pinned(_) => pinned += 1,
            Outcome::AlreadyPinned => {}
            Outcome::LeftAlone(why) => {
                left_alone += 1;
                eprintln!(
                    "immutag: note: {}: {}: left alone, {}",
                    printable(&location(pin)),
                    printable(&pin.text),
                    printable(why)
                );
            }
            Outcome::Failed(why) => {
                failed += 1;
                eprintln!(
                    "immutag: error: {}: {}: {}",
                    printable(&location(pin)),
                    printable(&pin.text),
                    printable(why)
                );
            }
        }
    }
    (pinned, left_alone, failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pins() -> Vec<Pin> {
        immutag_pins::find::find(
            "Dockerfile",
            "FROM 111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:v1\nFROM alpine@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nFROM \"x\u{1b}[2J\"\n",
            None,
        )
        .unwrap()
    }

    fn rendered(format: Format) -> String {
        let mut out = Vec::new();
        render(&pins(), format, &RenderOptions::default(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_escapes_and_sums_up() {
        let t = rendered(Format::Table);
        assert!(!t.contains('\u{1b}'), "{t}");
        assert!(t.contains(r"\u{1b}[2J"), "{t}");
        assert!(
            t.ends_with("3 references: 1 PINNED, 1 UNPINNED, 1 INVALID\n"),
            "{t}"
        );
    }

    #[test]
    fn csv_and_json() {
        let c = rendered(Format::Csv);
        let mut r = ::csv::Reader::from_reader(c.as_bytes());
        assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS);
        let rows: Vec<_> = r.records().map(Result::unwrap).collect();
        assert_eq!(&rows[0][10], "111122223333");
        assert_eq!(&rows[0][12], "UNPINNED");
        let j: serde_json::Value = serde_json::from_str(&rendered(Format::Json)).unwrap();
        assert_eq!(j[0]["repository"], "app");
        assert_eq!(j[0]["ecr"]["region"], "eu-west-1");
        assert_eq!(j[1]["status"], "PINNED");
    }

    #[test]
    fn sarif_rules_results_and_fingerprints() {
        let v: serde_json::Value = serde_json::from_str(&rendered(Format::Sarif)).unwrap();
        let run = &v["runs"][0];
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), FINDING_STATUSES.len());
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 2, "PINNED is not a result");
        for r in results {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
            assert!(
                r["partialFingerprints"][FINGERPRINT_KEY]
                    .as_str()
                    .unwrap()
                    .len()
                    == 16
            );
        }
        assert_eq!(results[0]["ruleId"], "pin-unpinned");
        let region = &results[0]["locations"][0]["physicalLocation"]["region"];
        assert_eq!(
            (region["startLine"].as_u64(), region["startColumn"].as_u64()),
            (Some(1), Some(6))
        );
    }

    #[test]
    fn diffs_keep_line_breaks_out_and_escape_the_rest() {
        let mut out = Vec::new();
        diff(
            "./Dockerfile",
            "a\r\nFROM x\r\nb\u{1b}\n",
            "a\r\nFROM x@d\r\nb\u{1b}\n",
            &mut out,
        )
        .unwrap();
        let d = String::from_utf8(out).unwrap();
        assert_eq!(
            d,
            "--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,3 +1,3 @@\n a\n-FROM x\n+FROM x@d\n b\\u{1b}\n"
        );
        let mut out = Vec::new();
        diff("f", "same\n", "same\n", &mut out).unwrap();
        assert!(out.is_empty());
    }
}
