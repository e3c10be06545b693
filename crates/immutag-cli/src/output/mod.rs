//! Rendering: evaluations as a human table, JSON, CSV and SARIF 2.1.0 (this module); a plan
//! ([`plan`]); remediation and rollback reports ([`changes`]); the `immutag scp` reports
//! ([`scp`]); pins and the resolve diff ([`pins`]); CloudTrail tag history ([`history`]);
//! progress and failure notes on stderr ([`progress`]).
//!
//! Every renderer takes a slice of [`immutag_core::Evaluation`] and writes to any
//! [`std::io::Write`], so `immutag evaluate` and `immutag scan` print the same formats.
//! Columns that only live inputs fill (account, region) appear in the table only when at
//! least one evaluation carries them; CSV always has them (empty when unknown).
//!
//! ```
//! use immutag_cli::output::{render, Format, RenderOptions};
//! use immutag_core::{evaluate, InputKind, Repository, RuleParameters, TagMutability};
//!
//! let repo = Repository::new("payments", InputKind::Ecr).with_mutability(TagMutability::Mutable);
//! let evals = vec![evaluate(&repo, &RuleParameters::default())];
//! let mut out = Vec::new();
//! render(&evals, Format::Csv, &RenderOptions::default(), &mut out).unwrap();
//! assert!(String::from_utf8(out).unwrap().contains("payments"));
//! ```

use std::io::{self, Write};

use clap::ValueEnum;
use immutag_core::{Compliance, Evaluation, FilterSetting, MutabilitySetting, Source};

pub mod changes;
pub mod csv;
pub mod history;
pub mod json;
pub mod pins;
pub mod plan;
pub mod progress;
pub mod sarif;
pub mod scp;
pub mod table;

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// A table for people (coloured on a terminal), followed by a one-line summary.
    #[default]
    Table,
    /// A JSON array of evaluations (schema: `immutag schema evaluation`).
    Json,
    /// CSV with a header row, one row per evaluation.
    Csv,
    /// SARIF 2.1.0 for GitHub code scanning: one result per NON_COMPLIANT resource.
    Sarif,
}

/// When to colour the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    /// Always colour (overrides `NO_COLOR`).
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Decides whether to colour, given whether the output is a terminal and the value of
    /// `NO_COLOR` (<https://no-color.org>: any non-empty value disables colour).
    pub fn enabled(self, is_terminal: bool, no_color: Option<&str>) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Auto => is_terminal && no_color.is_none_or(str::is_empty),
        }
    }

    /// [`ColorChoice::enabled`] for the process's stdout and environment.
    pub fn enabled_for_stdout(self) -> bool {
        use std::io::IsTerminal;
        let no_color = std::env::var("NO_COLOR").ok();
        self.enabled(io::stdout().is_terminal(), no_color.as_deref())
    }
}

/// Options shared by the renderers.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Colour the table's compliance column (ANSI escapes).
    pub color: bool,
    /// Width to fit the table to (a terminal's width); `None` never wraps.
    pub width: Option<u16>,
}

/// Writes `evals` in `format`.
pub fn render(
    evals: &[Evaluation],
    format: Format,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table::write(evals, opts, out),
        Format::Json => json::write(evals, out),
        Format::Csv => csv::write(evals, out),
        Format::Sarif => sarif::write(evals, out),
    }
}

/// Renders `evals` to stdout the way every command does: colour only for the table and
/// only when `color` allows it, the table fitted to the terminal, and a reader that leaves
/// early (`| head`) is not an error.
pub fn print(evals: &[Evaluation], format: Format, color: ColorChoice) -> io::Result<()> {
    let opts = RenderOptions {
        color: format == Format::Table && color.enabled_for_stdout(),
        width: table::terminal_width(),
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match render(evals, format, &opts, &mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Prints evaluations as a command makes them. JSON and CSV go to stdout at once, one
/// evaluation at a time, so memory does not grow with the input; the table and SARIF, which
/// need every evaluation, are printed by [`Printer::finish`]. A reader that leaves early
/// (`| head`) is not an error: printing stops, counting goes on.
pub struct Printer {
    format: Format,
    color: ColorChoice,
    counts: Counts,
    held: Vec<Evaluation>,
    stream: Stream,
    error: Option<io::Error>,
}

enum Stream {
    Held,
    Json(json::Array<io::BufWriter<io::Stdout>>),
    Csv(Box<csv::Rows<io::BufWriter<io::Stdout>>>),
}

impl Printer {
    /// A printer of `format` to stdout (`color` for the table).
    pub fn new(format: Format, color: ColorChoice) -> Self {
        let out = || io::BufWriter::new(io::stdout());
        let (stream, error) = match format {
            Format::Json => (Stream::Json(json::Array::new(out())), None),
            Format::Csv => match csv::Rows::new(out()) {
                Ok(rows) => (Stream::Csv(Box::new(rows)), None),
                Err(e) => (Stream::Held, Some(e)),
            },
            Format::Table | Format::Sarif => (Stream::Held, None),
        };
        Self {
            format,
            color,
            counts: Counts::default(),
            held: Vec::new(),
            stream,
            error,
        }
    }

    /// Counts `e` and prints it (or keeps it for [`Printer::finish`]).
    pub fn push(&mut self, e: Evaluation) {
        self.counts.add(e.compliance);
        let written = match &mut self.stream {
            Stream::Held => {
                self.held.push(e);
                return;
            }
            _ if self.error.is_some() => return,
            Stream::Json(array) => array.push(&e),
            Stream::Csv(rows) => rows.push(&e),
        };
        if let Err(err) = written {
            self.error = Some(err);
        }
    }

    /// What was pushed so far, counted.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Prints what is held (the table only when `table` is true: with every input failed a
    /// table would only say that nothing was evaluated) and flushes.
    pub fn finish(self, table: bool) -> io::Result<Counts> {
        let done = match (self.error, self.stream) {
            (Some(e), _) => Err(e),
            (None, Stream::Json(array)) => array.finish(),
            (None, Stream::Csv(rows)) => (*rows).finish(),
            (None, Stream::Held) if self.format == Format::Table && !table => Ok(()),
            (None, Stream::Held) => print(&self.held, self.format, self.color),
        };
        match done {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(self.counts),
            Err(e) => Err(e),
            Ok(()) => Ok(self.counts),
        }
    }
}

/// Counts per compliance type, for summaries and exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// COMPLIANT evaluations.
    pub compliant: usize,
    /// NON_COMPLIANT evaluations.
    pub non_compliant: usize,
    /// NOT_APPLICABLE evaluations.
    pub not_applicable: usize,
}

impl Counts {
    /// Counts `evals`.
    pub fn of(evals: &[Evaluation]) -> Self {
        let mut c = Self::default();
        for e in evals {
            c.add(e.compliance);
        }
        c
    }

    /// Counts one more verdict.
    pub fn add(&mut self, compliance: Compliance) {
        match compliance {
            Compliance::Compliant => self.compliant += 1,
            Compliance::NonCompliant => self.non_compliant += 1,
            Compliance::NotApplicable => self.not_applicable += 1,
        }
    }

    /// All evaluations counted.
    pub fn total(&self) -> usize {
        self.compliant + self.non_compliant + self.not_applicable
    }

    /// [`crate::exit::FINDINGS`] when anything is NON_COMPLIANT, else [`crate::exit::OK`].
    pub fn exit_code(&self) -> u8 {
        if self.non_compliant > 0 {
            crate::exit::FINDINGS
        } else {
            crate::exit::OK
        }
    }
}

/// The mutability as a short text: the API value, `(not set: MUTABLE)` when the input
/// states none, `(unresolved)` when a template expression cannot be resolved.
pub fn mutability_label(setting: &MutabilitySetting) -> String {
    match setting {
        MutabilitySetting::Set { value } => value.as_str().to_owned(),
        MutabilitySetting::Absent => "(not set: MUTABLE)".to_owned(),
        MutabilitySetting::Unresolved { .. } => "(unresolved)".to_owned(),
    }
}

/// The exclusion filters as `a;b` (filter texts in input order; a filter of another type
/// than WILDCARD is written `TYPE:text`), or `(unresolved)`.
pub fn filters_label(setting: &FilterSetting) -> String {
    match setting {
        FilterSetting::Listed { filters } => filters
            .iter()
            .map(|f| match f.filter_type {
                immutag_core::FilterType::Wildcard => f.filter.clone(),
                immutag_core::FilterType::Unknown(ref t) => format!("{t}:{}", f.filter),
            })
            .collect::<Vec<_>>()
            .join(";"),
        FilterSetting::Unresolved { .. } => "(unresolved)".to_owned(),
    }
}

/// Where the resource was described: `file:line`, `file#logical-id`, `file`, or the input
/// kind (for example `live`) when no file is known.
pub fn location_label(source: &Source) -> String {
    let Some(file) = &source.file else {
        return source.kind.as_str().to_owned();
    };
    let mut s = if file == "-" {
        "(stdin)".to_owned()
    } else {
        file.clone()
    };
    if let Some(line) = source.line {
        s.push(':');
        s.push_str(&line.to_string());
    }
    if let Some(id) = &source.logical_id {
        s.push('#');
        s.push_str(id);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use immutag_core::{ExclusionFilter, FilterType, InputKind, TagMutability};

    #[test]
    fn color_choice_honours_no_color_and_flags() {
        assert!(ColorChoice::Auto.enabled(true, None));
        assert!(ColorChoice::Auto.enabled(true, Some("")));
        assert!(!ColorChoice::Auto.enabled(true, Some("1")));
        assert!(!ColorChoice::Auto.enabled(false, None));
        assert!(ColorChoice::Always.enabled(false, Some("1")));
        assert!(!ColorChoice::Never.enabled(true, None));
    }

    #[test]
    fn labels() {
        assert_eq!(
            mutability_label(&MutabilitySetting::set(
                TagMutability::ImmutableWithExclusion
            )),
            "IMMUTABLE_WITH_EXCLUSION"
        );
        assert_eq!(
            mutability_label(&MutabilitySetting::Absent),
            "(not set: MUTABLE)"
        );
        let f = FilterSetting::listed(vec![
            ExclusionFilter::wildcard("latest"),
            ExclusionFilter {
                filter_type: FilterType::parse("REGEX"),
                filter: "v.*".into(),
            },
        ]);
        assert_eq!(filters_label(&f), "latest;REGEX:v.*");
        let mut s = Source::new(InputKind::Cloudformation);
        assert_eq!(location_label(&s), "cloudformation");
        s.file = Some("t.yaml".into());
        s.line = Some(12);
        s.logical_id = Some("Repo".into());
        assert_eq!(location_label(&s), "t.yaml:12#Repo");
        s.file = Some("-".into());
        s.line = None;
        s.logical_id = None;
        assert_eq!(location_label(&s), "(stdin)");
    }
}
