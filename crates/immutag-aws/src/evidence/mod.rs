//! The CloudTrail evidence readers (feature `fleet`): the `ecr.amazonaws.com` `PutImage`
//! events of a window, from
//!
//! * log files on disk ([`Source::Files`]: a file or a directory walked recursively, `.json`
//!   and `.json.gz`), read in parallel, one record at a time;
//! * log files in S3 ([`Source::S3`]: `s3://BUCKET/[PREFIX/]AWSLogs/...`), listed only under
//!   the day prefixes of the window, for the accounts and regions asked for;
//! * CloudTrail event history ([`Source::EventHistory`]: `LookupEvents`, the last 90 days,
//!   per account and region, paced at 2 requests per second);
//! * Athena ([`Source::Athena`]): one query over the trail's table, the selection pushed into
//!   its `WHERE` clause.
//!
//! Every source feeds an [`EvidenceBuilder`] (immutag-core) and [`read`] returns the
//! [`Evidence`] with what could not be read: a file, an object, an account and region. The
//! evidence of the other sources is still returned.

mod athena;
mod files;
mod lookup;
mod s3;

use std::path::PathBuf;

use aws_types::SdkConfig;
use immutag_core::evidence::{Evidence, EvidenceBuilder, Selection};
use immutag_core::time::Timestamp;

use crate::error::AwsError;
use crate::targets::{Failure, TargetOptions};

pub use athena::{AthenaTable, Partitions, query as athena_query};
pub use files::{MAX_BUFFERED_LOG, read_log};
pub use lookup::{EVENTS_PER_PAGE, LOOKUP_RETENTION_DAYS, REQUESTS_PER_SECOND};
pub use s3::{S3Location, day_prefixes};

/// Where the events come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A log file or a directory of them (walked recursively; `.json`, `.json.gz`).
    Files(PathBuf),
    /// Log files in S3, as a trail delivers them.
    S3(S3Location),
    /// CloudTrail event history (`LookupEvents`), per account and region.
    EventHistory,
    /// A CloudTrail table in Athena.
    Athena(AthenaTable),
}

impl Source {
    /// The source a `--cloudtrail` value names: `lookup`, `s3://BUCKET/PREFIX`, or a path.
    ///
    /// ```
    /// use immutag_aws::evidence::Source;
    /// assert_eq!(Source::parse("lookup").unwrap(), Source::EventHistory);
    /// assert!(matches!(Source::parse("s3://trail/AWSLogs/").unwrap(), Source::S3(_)));
    /// assert!(matches!(Source::parse("logs/").unwrap(), Source::Files(_)));
    /// assert!(Source::parse("s3://").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, AwsError> {
        if text == "lookup" {
            Ok(Self::EventHistory)
        } else if text.starts_with("s3://") {
            S3Location::parse(text).map(Self::S3)
        } else if text.is_empty() {
            Err(AwsError::Evidence(
                "an empty CloudTrail source: give a path, s3://BUCKET/PREFIX or lookup".into(),
            ))
        } else {
            Ok(Self::Files(PathBuf::from(text)))
        }
    }

    /// A short name for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Files(p) => p.display().to_string(),
            Self::S3(l) => l.to_string(),
            Self::EventHistory => "CloudTrail event history (LookupEvents)".into(),
            Self::Athena(t) => format!("Athena table {}.{}", t.database, t.table),
        }
    }
}

/// What to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceOptions {
    /// The window, accounts, regions, repository and tag to keep. For S3 and Athena the
    /// window must have a start (the day prefixes or partitions to read); for event history
    /// a start older than 90 days is moved to 90 days before `now`.
    pub selection: Selection,
    /// The present, for the end of an open window and the 90 days of event history.
    pub now: Timestamp,
    /// Event history: which accounts and regions to read, and how to reach them
    /// (`selection.accounts` / `regions` are not used to fan out).
    pub targets: TargetOptions,
    /// Files, objects or (account, region) pairs read at once.
    pub concurrency: usize,
}

/// What a read produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceReport {
    /// The evidence.
    pub evidence: Evidence,
    /// What could not be read (a file: `repository` is `None` and `error` names it). Non-empty:
    /// the evidence is incomplete.
    pub failures: Vec<Failure>,
    /// Log files or objects read, event history pages, or Athena result pages.
    pub units: u64,
    /// Bytes read (compressed, as stored), for files and S3.
    pub bytes: u64,
}

/// Progress reports of a read (the CLI draws them on stderr).
pub trait ReadProgress: Send + Sync {
    /// `total` units (files, objects, account-regions) are to be read.
    fn planned(&self, total: u64, unit: &str);
    /// One more unit is read (`bytes` of it).
    fn advanced(&self, bytes: u64);
    /// A sentence for the person waiting (pacing, how long it will take, a query's state).
    fn note(&self, message: &str);
}

/// A [`ReadProgress`] that reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl ReadProgress for Quiet {
    fn planned(&self, _: u64, _: &str) {}
    fn advanced(&self, _: u64) {}
    fn note(&self, _: &str) {}
}

/// Reads the `PutImage` evidence of `source` (`base`: the credentials and region of the
/// caller; event history assumes `targets.role_name` into other accounts).
pub async fn read(
    base: &SdkConfig,
    source: &Source,
    opts: &EvidenceOptions,
    progress: &dyn ReadProgress,
) -> Result<EvidenceReport, AwsError> {
    match source {
        // Synchronous (threads of its own): nothing else runs on the runtime meanwhile.
        Source::Files(path) => Ok(files::read_files(path, opts, progress)),
        Source::S3(location) => s3::read(base, location, opts, progress).await,
        Source::EventHistory => lookup::read(base, opts, progress).await,
        Source::Athena(table) => athena::read(base, table, opts, progress).await,
    }
}

/// The failure of one file or object.
fn unit_failure(name: &str, error: impl std::fmt::Display) -> Failure {
    Failure {
        account_id: None,
        region: None,
        repository: None,
        code: None,
        error: format!("{}: {error}", immutag_core::text::printable(name)),
    }
}

/// Fills a builder's selection's window end with `now` when open (listing needs one).
fn window_end(opts: &EvidenceOptions) -> Timestamp {
    opts.selection.window.until.unwrap_or(opts.now)
}

/// A new builder for `opts`.
fn builder(opts: &EvidenceOptions) -> EvidenceBuilder {
    EvidenceBuilder::new(opts.selection.clone())
}
