//! The remediation journal: JSON lines on disk, one [`JournalRecord`] per line, each one
//! written and flushed to stable storage (`fsync`) before the call it announces proceeds.
//!
//! Records of concurrent changes are group-committed: a writer thread takes every record
//! waiting at that moment, writes them, calls `fsync` once, and only then releases each
//! waiting change. So the guarantee holds per record (the `intent` is on disk before
//! PutImageTagMutability is sent, the result is on disk before the change counts as done)
//! without paying one `fsync` per record when many changes run at once.
//!
//! [`read`] reads a journal back, tolerating a last line cut short by a crash (reported as a
//! warning); [`immutag_core::journal::summarize`] then says what happened per repository.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};
use std::thread::JoinHandle;

use immutag_core::journal::{JournalContents, JournalRecord, parse_journal};
use tokio::sync::oneshot;

/// Journal errors; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A new journal was asked for and the file exists.
    #[error("the journal {path} exists: name a new file, or pass --append-journal to add to it")]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The journal path is a symbolic link (refused: a journal is never written through one).
    #[error("the journal {path} is a symbolic link; name the file itself")]
    Symlink {
        /// The file.
        path: PathBuf,
    },
    /// The journal could not be created or opened.
    #[error("cannot open the journal {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A record could not be written or flushed: the change it announces must not proceed.
    #[error("cannot write the journal {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The journal writer stopped (an earlier write failed).
    #[error("the journal writer for {path} has stopped after an earlier error")]
    Closed {
        /// The file.
        path: PathBuf,
    },
    /// A line of the journal is not a record.
    #[error("{path} line {line}: not a journal record: {problem}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What serde said.
        problem: String,
    },
    /// The journal records no change.
    #[error("{path}: the journal records no change")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The journal could not be read.
    #[error("cannot read the journal {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// The current time, RFC 3339 UTC (`2026-11-26T15:22:48.123Z`).
pub fn now_rfc3339() -> String {
    let now = immutag_core::time::Timestamp::now();
    immutag_core::time::rfc3339_millis(now.as_millisecond())
        .unwrap_or_else(|| immutag_core::time::format(now))
}

/// A compact UTC timestamp for file names: `20261126T152248Z`.
pub fn compact_timestamp() -> String {
    let full = now_rfc3339();
    // 2026-11-26T15:22:48[.123]Z -> 20261126T152248Z
    let base: String = full
        .chars()
        .take_while(|c| *c != '.' && *c != 'Z')
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    format!("{base}Z")
}

/// The default journal path for a command: `immutag-journal-20261126T152248Z.jsonl` (or
/// `immutag-rollback-journal-...` for a rollback) in the current directory.
pub fn default_path(prefix: &str) -> PathBuf {
    PathBuf::from(format!("{prefix}-{}.jsonl", compact_timestamp()))
}

type Ack = oneshot::Sender<io::Result<()>>;

/// One record for the writer thread: its bytes and where to send the fsync result.
type WriteRequest = (Vec<u8>, Ack);

/// How [`Journal::open`] treats the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalMode {
    /// A new file (the default of `immutag remediate` and `rollback`).
    Create,
    /// Add to an existing journal (`--append-journal`).
    Append,
}

/// The directory whose entry for `path` must be synced: its parent, or `.` when the path
/// has no directory part.
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// An open journal. Cheap to share by reference across concurrent changes.
pub struct Journal {
    path: PathBuf,
    run: String,
    seq: AtomicU64,
    tx: Mutex<Option<mpsc::Sender<WriteRequest>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("run", &self.run)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens the journal at `path` for a run named `run`.
    ///
    /// [`JournalMode::Create`] creates a new file, exclusively (an existing file or any
    /// symbolic link at `path` is refused), readable and writable by its owner only (0600);
    /// [`JournalMode::Append`] appends to an existing regular file and refuses a symbolic link.
    /// The file and its directory are synced at open so that the journal's directory entry
    /// exists before the first change.
    pub fn open(
        path: impl Into<PathBuf>,
        run: impl Into<String>,
        mode: JournalMode,
    ) -> Result<Self, JournalError> {
        let path = path.into();
        let open_error = |source| JournalError::Open {
            path: path.clone(),
            source,
        };
        let mut options = OpenOptions::new();
        match mode {
            JournalMode::Create => options.write(true).create_new(true),
            JournalMode::Append => options.append(true),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let file = options.open(&path).map_err(|source| match source.kind() {
            io::ErrorKind::AlreadyExists => JournalError::Exists { path: path.clone() },
            _ if is_symlink(&path) => JournalError::Symlink { path: path.clone() },
            _ => open_error(source),
        })?;
        file.sync_all().map_err(open_error)?;
        // Persist the new directory entry too (`.` when the path has no directory part); not
        // every platform lets a directory be opened, so this is best effort.
        if let Ok(d) = File::open(directory_of(&path)) {
            let _ = d.sync_all();
        }
        let (tx, rx) = mpsc::channel::<WriteRequest>();
        let writer = std::thread::Builder::new()
            .name("immutag-journal".into())
            .spawn(move || writer_loop(file, rx))
            .map_err(|source| JournalError::Open {
                path: path.clone(),
                source,
            })?;
        Ok(Self {
            path,
            run: run.into(),
            seq: AtomicU64::new(0),
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
        })
    }

    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The run name written into each record.
    pub fn run(&self) -> &str {
        &self.run
    }

    /// Appends `record` (its `run`, `seq` and `time` are filled in here) and returns once it
    /// is on stable storage. An error means the record may not be on disk: the change it
    /// announces must not proceed.
    pub async fn append(&self, mut record: JournalRecord) -> Result<JournalRecord, JournalError> {
        record.run = self.run.clone();
        record.seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        record.time = now_rfc3339();
        let mut line = serde_json::to_vec(&record).map_err(|e| JournalError::Write {
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        line.push(b'\n');
        let (ack_tx, ack_rx) = oneshot::channel();
        {
            let guard = self.tx.lock().map_err(|_| self.closed())?;
            let Some(tx) = guard.as_ref() else {
                return Err(self.closed());
            };
            tx.send((line, ack_tx)).map_err(|_| self.closed())?;
        }
        match ack_rx.await {
            Ok(Ok(())) => Ok(record),
            Ok(Err(source)) => Err(JournalError::Write {
                path: self.path.clone(),
                source,
            }),
            Err(_) => Err(self.closed()),
        }
    }

    /// Stops the writer after everything queued is on disk.
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        if let Ok(mut w) = self.writer.lock()
            && let Some(handle) = w.take()
        {
            let _ = handle.join();
        }
    }

    fn closed(&self) -> JournalError {
        JournalError::Closed {
            path: self.path.clone(),
        }
    }
}

impl crate::change::Recorder for Journal {
    async fn record(&self, record: JournalRecord) -> Result<(), crate::change::RecordError> {
        self.append(record)
            .await
            .map(|_| ())
            .map_err(|e| crate::change::RecordError(e.to_string()))
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.close();
    }
}

fn writer_loop(mut file: File, rx: mpsc::Receiver<WriteRequest>) {
    let mut failed: Option<io::ErrorKind> = None;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let result = match failed {
            Some(kind) => Err(io::Error::new(kind, "an earlier journal write failed")),
            None => {
                let mut buf = Vec::with_capacity(batch.iter().map(|(l, _)| l.len()).sum());
                for (line, _) in &batch {
                    buf.extend_from_slice(line);
                }
                file.write_all(&buf).and_then(|()| file.sync_data())
            }
        };
        if let Err(e) = &result {
            failed = Some(e.kind());
        }
        for (_, ack) in batch {
            let r = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
            };
            let _ = ack.send(r);
        }
    }
}

/// Reads a journal file ([`parse_journal`] on its text; every warning and error names the
/// file). A last line cut short by a crash is a warning; any other bad line is an error.
pub fn read(path: &Path) -> Result<JournalContents, JournalError> {
    let text = std::fs::read_to_string(path).map_err(|source| JournalError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut contents = parse_journal(&text).map_err(|e| JournalError::Parse {
        path: path.to_owned(),
        line: e.line,
        problem: e.problem,
    })?;
    for w in &mut contents.warnings {
        *w = format!("{}: {w}", path.display());
    }
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use immutag_core::TagMutability;
    use immutag_core::change::{RepoKey, Setting};
    use immutag_core::journal::{Operation, Phase};

    fn draft(name: &str, phase: Phase) -> JournalRecord {
        JournalRecord {
            run: String::new(),
            seq: 0,
            time: String::new(),
            operation: Operation::Remediate,
            phase,
            key: RepoKey::new(Some("111111111111"), Some("us-east-1"), name),
            previous: Setting::new(TagMutability::Mutable, vec![]).into(),
            new: Setting::immutable().into(),
            observed: None,
            error_code: None,
            error: None,
            outcome_known: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_appends_are_all_on_disk_in_seq_order_per_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let journal =
            std::sync::Arc::new(Journal::open(&path, "run-1", JournalMode::Create).unwrap());
        let mut tasks = Vec::new();
        for i in 0..200 {
            let j = journal.clone();
            tasks.push(tokio::spawn(async move {
                j.append(draft(&format!("repo-{i}"), Phase::Intent)).await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        journal.close();
        let back = read(&path).unwrap();
        assert!(back.warnings.is_empty());
        assert_eq!(back.records.len(), 200);
        let mut seqs: Vec<u64> = back.records.iter().map(|r| r.seq).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
        assert!(
            back.records
                .iter()
                .all(|r| r.run == "run-1" && r.time.ends_with('Z'))
        );
    }

    #[test]
    fn timestamps_have_the_documented_shapes() {
        let t = compact_timestamp();
        assert_eq!(t.len(), 16, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[8] == b'T');
        let p = default_path("immutag-journal");
        let s = p.to_string_lossy();
        assert!(s.starts_with("immutag-journal-") && s.ends_with("Z.jsonl"));
    }

    #[tokio::test]
    async fn opening_in_a_missing_directory_names_the_file() {
        let err = Journal::open("/nonexistent-dir-immutag/j.jsonl", "r", JournalMode::Create)
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir-immutag/j.jsonl"));
    }

    #[test]
    fn the_directory_synced_is_the_parent_or_the_current_one() {
        assert_eq!(directory_of(Path::new("j.jsonl")), Path::new("."));
        assert_eq!(directory_of(Path::new("out/j.jsonl")), Path::new("out"));
        assert_eq!(directory_of(Path::new("/j.jsonl")), Path::new("/"));
    }

    #[tokio::test]
    async fn a_new_journal_is_exclusive_private_and_never_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = Journal::open(&path, "r1", JournalMode::Create).unwrap();
        j.append(draft("a", Phase::Intent)).await.unwrap();
        j.close();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{mode:o}");
        }
        // A second run may not silently append to it...
        let err = Journal::open(&path, "r2", JournalMode::Create).unwrap_err();
        assert!(matches!(err, JournalError::Exists { .. }), "{err}");
        assert!(err.to_string().contains("--append-journal"), "{err}");
        // ... unless asked to.
        let j = Journal::open(&path, "r2", JournalMode::Append).unwrap();
        j.append(draft("b", Phase::Intent)).await.unwrap();
        j.close();
        let back = read(&path).unwrap();
        let runs: Vec<&str> = back.records.iter().map(|r| r.run.as_str()).collect();
        assert_eq!(runs, ["r1", "r2"]);

        #[cfg(unix)]
        {
            let target = dir.path().join("elsewhere.jsonl");
            std::fs::write(&target, "").unwrap();
            let link = dir.path().join("link.jsonl");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            for mode in [JournalMode::Create, JournalMode::Append] {
                let err = Journal::open(&link, "r", mode).unwrap_err();
                assert!(
                    matches!(
                        err,
                        JournalError::Exists { .. } | JournalError::Symlink { .. }
                    ),
                    "{mode:?}: {err}"
                );
            }
            let dangling = dir.path().join("dangling.jsonl");
            std::os::unix::fs::symlink(dir.path().join("nothing-here"), &dangling).unwrap();
            let err = Journal::open(&dangling, "r", JournalMode::Create).unwrap_err();
            assert!(
                matches!(
                    err,
                    JournalError::Exists { .. } | JournalError::Symlink { .. }
                ),
                "{err}"
            );
            assert!(
                !dir.path().join("nothing-here").exists(),
                "created through the link"
            );
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
        }
    }
}
