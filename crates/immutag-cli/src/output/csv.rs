//! CSV output (RFC 4180, comma-separated, header row, `\n` line ends), one row per
//! evaluation in input order.
//!
//! Columns, in this order: [`COLUMNS`]. Unknown values are empty. `tag_mutability` is the
//! API value, `(not set: MUTABLE)` or `(unresolved)`; `exclusion_filters` is `;`-separated.
//! A cell that would start with `=`, `+`, `-`, `@`, tab or carriage return is prefixed with
//! `'` so that a spreadsheet does not run it as a formula (only input-quoted values can).

use std::io::{self, Write};

use immutag_core::Evaluation;

use super::{filters_label, mutability_label};

/// The header row.
pub const COLUMNS: [&str; 15] = [
    "account_id",
    "region",
    "resource_type",
    "resource_id",
    "arn",
    "compliance",
    "reason",
    "tag_mutability",
    "exclusion_filters",
    "annotation",
    "input",
    "file",
    "line",
    "logical_id",
    "captured_at",
];

/// Writes the header and one row per evaluation.
pub fn write(evals: &[Evaluation], out: &mut dyn Write) -> io::Result<()> {
    let mut rows = Rows::new(out)?;
    for e in evals {
        rows.push(e)?;
    }
    rows.finish()
}

/// CSV written one evaluation at a time: the header on creation, then a row per
/// [`Rows::push`].
pub struct Rows<W: Write> {
    w: ::csv::Writer<W>,
}

impl<W: Write> Rows<W> {
    /// Writes the header row.
    pub fn new(out: W) -> io::Result<Self> {
        let mut w = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::Any(b'\n'))
            .from_writer(out);
        w.write_record(COLUMNS).map_err(io::Error::other)?;
        Ok(Self { w })
    }

    /// Writes one row.
    pub fn push(&mut self, e: &Evaluation) -> io::Result<()> {
        let s = &e.source;
        let row: [String; 15] = [
            opt(&e.account_id),
            opt(&e.region),
            e.resource_type.to_string(),
            e.resource_id.clone(),
            opt(&e.arn),
            e.compliance.as_str().to_owned(),
            e.reason.id().to_owned(),
            mutability_label(&e.tag_mutability),
            filters_label(&e.exclusion_filters),
            e.annotation.clone(),
            s.kind.as_str().to_owned(),
            opt(&s.file),
            s.line.map(|l| l.to_string()).unwrap_or_default(),
            opt(&s.logical_id),
            opt(&e.captured_at),
        ];
        self.w
            .write_record(row.iter().map(|c| neutralize(c).into_owned()))
            .map_err(io::Error::other)
    }

    /// Flushes what is buffered.
    pub fn finish(mut self) -> io::Result<()> {
        self.w.flush()
    }
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// Prefixes a cell that a spreadsheet would treat as a formula.
pub(crate) fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use immutag_core::{InputKind, Repository, RuleParameters, TagMutability, evaluate};

    #[test]
    fn header_rows_and_quoting() {
        let p = RuleParameters::default();
        let mut odd = Repository::new("odd", InputKind::Ecr)
            .with_mutability(TagMutability::parse("=HYPERLINK(\"x\")"));
        odd.account_id = Some("111122223333".into());
        let evals = vec![
            evaluate(
                &Repository::new("api", InputKind::Ecr).with_mutability(TagMutability::Immutable),
                &p,
            ),
            evaluate(&odd, &p),
        ];
        let mut out = Vec::new();
        write(&evals, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut r = ::csv::Reader::from_reader(text.as_bytes());
        assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS);
        let rows: Vec<::csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][3], "api");
        assert_eq!(&rows[0][5], "COMPLIANT");
        assert_eq!(&rows[1][0], "111122223333");
        assert_eq!(&rows[1][6], "unknown-mutability");
        assert_eq!(&rows[1][7], "'=HYPERLINK(\"x\")");
    }
}
