//! The evidence flags and read shared by `immutag history` and `immutag plan --evidence`:
//! where the CloudTrail `PutImage` events are (log files, S3, event history, Athena), the
//! window, the read options, the progress of [`immutag_aws::evidence::read`] and its report of
//! what was read on stderr.

use anyhow::Context;
use immutag_aws::evidence::{AthenaTable, EvidenceOptions, EvidenceReport, ReadProgress, Source};
use immutag_aws::targets::{AccountSelection, RegionSelection};
use immutag_core::evidence::{Selection, Window};
use immutag_core::text::printable;
use immutag_core::time::{self, Timestamp};

use crate::cmd::fleet::FleetArgs;

/// The window read when `--since` is not given (for history, not for local files).
pub const DEFAULT_SINCE: &str = "30d";

/// The Athena and window flags (the path flag is each command's own: `--cloudtrail` for
/// history, `--evidence` for plan).
#[derive(Debug, Clone, clap::Args)]
pub struct SourceArgs {
    /// Query this CloudTrail table in Athena instead (DATABASE.TABLE; docs/cli.md gives its DDL).
    #[arg(long, value_name = "DATABASE.TABLE")]
    pub athena: Option<String>,

    /// The Athena workgroup (default: primary).
    #[arg(long, value_name = "NAME", requires = "athena")]
    pub athena_workgroup: Option<String>,

    /// Where Athena writes results (s3://...), when the workgroup sets no location.
    #[arg(long, value_name = "s3://BUCKET/PREFIX", requires = "athena")]
    pub athena_output: Option<String>,

    /// Start of the window: RFC 3339, a date (2026-11-20), or a time before now (30d, 12h).
    /// Default: 30d (for `immutag history` on local files: everything).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,

    /// End of the window (default: now).
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
}

/// Parses a moment flag, naming the flag in the error.
pub fn moment(flag: &str, text: &str, now: Timestamp) -> anyhow::Result<Timestamp> {
    time::parse_moment(text, now).with_context(|| flag.to_owned())
}

impl SourceArgs {
    /// The source: Athena when `--athena` is given, else `path` (`flag` names it in errors);
    /// `None` when neither is.
    pub fn source(&self, path: Option<&str>, flag: &str) -> anyhow::Result<Option<Source>> {
        Ok(match (path, &self.athena) {
            (_, Some(t)) => {
                let mut table = AthenaTable::parse(t)?;
                table.workgroup = self.athena_workgroup.clone();
                table.output_location = self.athena_output.clone();
                Some(Source::Athena(table))
            }
            (Some(c), None) => Some(Source::parse(c).with_context(|| flag.to_owned())?),
            (None, None) => None,
        })
    }

    /// The window: `--since` (default [`DEFAULT_SINCE`], or open for local files when
    /// `files_open` is set) to `--until` (default: now).
    pub fn window(
        &self,
        source: &Source,
        now: Timestamp,
        files_open: bool,
    ) -> anyhow::Result<Window> {
        let since = match (&self.since, source) {
            (Some(s), _) => Some(moment("--since", s, now)?),
            (None, Source::Files(_)) if files_open => None,
            (None, _) => Some(moment("--since", DEFAULT_SINCE, now)?),
        };
        let until = self
            .until
            .as_deref()
            .map(|u| moment("--until", u, now))
            .transpose()?;
        if let (Some(s), Some(u)) = (since, until) {
            anyhow::ensure!(
                s <= u,
                "--since {} is after --until {}",
                time::format(s),
                time::format(u)
            );
        }
        Ok(Window { since, until })
    }
}

/// The read options for `source`: the window, the accounts and regions of `fleet` (for files,
/// S3 and Athena they narrow what is read; event history fans out over them instead), and
/// optionally a repository and a tag.
pub fn options(
    source: &Source,
    window: Window,
    fleet: &FleetArgs,
    repository: Option<String>,
    tag: Option<String>,
    now: Timestamp,
) -> EvidenceOptions {
    let targets = fleet.target_options();
    let (accounts, regions) = match source {
        Source::EventHistory => (Vec::new(), Vec::new()),
        _ => (
            match &targets.accounts {
                AccountSelection::Listed(a) => a.clone(),
                _ => Vec::new(),
            },
            match &targets.regions {
                RegionSelection::Listed(r) => r.clone(),
                _ => Vec::new(),
            },
        ),
    };
    EvidenceOptions {
        selection: Selection {
            window,
            accounts,
            regions,
            repository,
            tag,
        },
        now,
        concurrency: fleet.concurrency,
        targets,
    }
}

/// What was read, on stderr; true when something could not be read.
pub fn report_read(source: &Source, r: &EvidenceReport) -> bool {
    let s = r.evidence.stats();
    let w = r.evidence.window();
    let show =
        |t: Option<Timestamp>, open: &str| t.map(time::format).unwrap_or_else(|| open.to_owned());
    eprintln!(
        "immutag: read {} ({} unit(s), {} bytes): {} records, {} ECR PutImage, {} pushes kept from {} to {} ({} by digest only, {} outside the window, {} not selected, {} read twice)",
        printable(&source.describe()),
        r.units,
        r.bytes,
        s.records,
        s.put_image,
        s.kept - s.duplicates,
        show(w.since, "the start"),
        show(w.until, "now"),
        s.untagged,
        s.outside_window,
        s.not_selected,
        s.duplicates
    );
    for p in r.evidence.problems() {
        eprintln!(
            "immutag: error: {}{}: {}",
            p.source
                .as_deref()
                .map(|s| format!("{}: ", printable(s)))
                .unwrap_or_default(),
            p.event_id
                .as_deref()
                .map(|e| format!("event {}", printable(e)))
                .unwrap_or_else(|| "a PutImage event".into()),
            printable(&p.problem)
        );
    }
    let failed = crate::output::progress::report_failures(&r.failures, &[]);
    failed || !r.evidence.problems().is_empty()
}

/// Progress on stderr: a bar of files, objects or account-regions when stderr is a terminal,
/// and the notes (pacing, how long event history will take, the Athena query) always.
pub struct Bar {
    bar: indicatif::ProgressBar,
}

impl Bar {
    /// A bar (hidden when `hidden` or when stderr is not a terminal).
    pub fn new(hidden: bool) -> Self {
        Self {
            bar: crate::output::progress::stderr_bar(
                hidden,
                "{spinner} reading [{bar:30}] {pos}/{len} {msg} ({elapsed})",
            ),
        }
    }

    /// Removes the bar.
    pub fn clear(&self) {
        self.bar.finish_and_clear();
    }
}

impl ReadProgress for Bar {
    fn planned(&self, total: u64, unit: &str) {
        self.bar.set_length(total);
        self.bar.set_message(unit.to_owned());
        self.bar
            .enable_steady_tick(std::time::Duration::from_millis(200));
    }

    fn advanced(&self, _bytes: u64) {
        self.bar.inc(1);
    }

    fn note(&self, message: &str) {
        self.bar
            .suspend(|| eprintln!("immutag: {}", printable(message)));
    }
}
