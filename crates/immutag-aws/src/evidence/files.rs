//! Log files on disk: a file, or a directory walked recursively (`walkdir`), `.json` and
//! `.json.gz` (gzip is recognised by its magic bytes, whatever the name), read by a few
//! threads, each with its own builder, merged at the end.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::read::MultiGzDecoder;
use immutag_core::evidence::EvidenceBuilder;
use immutag_core::evidence::record::{self, LogStats};

use super::{EvidenceOptions, EvidenceReport, ReadProgress, builder, unit_failure};
use crate::targets::Failure;

/// A log whose decompressed size is at most this is parsed from memory (members borrowed,
/// fastest); a larger one is parsed as it streams, in constant memory. CloudTrail delivers a
/// file about every 5 minutes per account and region, most far below this.
pub const MAX_BUFFERED_LOG: u64 = 64 << 20;

/// Reads one log (gzip or plain JSON) from `reader` into `builder`. `buffer` is reused from
/// one log to the next.
pub fn read_log(
    mut reader: impl Read,
    buffer: &mut Vec<u8>,
    builder: &mut EvidenceBuilder,
) -> Result<LogStats, String> {
    let mut magic = [0u8; 2];
    let n = read_full(&mut reader, &mut magic).map_err(|e| e.to_string())?;
    let head = io::Cursor::new(magic[..n].to_vec());
    let rest = head.chain(reader);
    if n == 2 && magic == [0x1f, 0x8b] {
        parse(MultiGzDecoder::new(rest), buffer, builder)
    } else {
        parse(rest, buffer, builder)
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn parse(
    reader: impl Read,
    buffer: &mut Vec<u8>,
    builder: &mut EvidenceBuilder,
) -> Result<LogStats, String> {
    buffer.clear();
    let mut limited = reader.take(MAX_BUFFERED_LOG + 1);
    limited
        .read_to_end(buffer)
        .map_err(|e| format!("cannot read or decompress: {e}"))?;
    let result = if buffer.len() as u64 <= MAX_BUFFERED_LOG {
        record::read_log(buffer, builder)
    } else {
        let rest = limited.into_inner();
        record::read_log_stream(
            io::BufReader::new(io::Cursor::new(&buffer[..]).chain(rest)),
            builder,
        )
    };
    result.map_err(|e| e.to_string())
}

/// True for a name CloudTrail gives its logs (`.json`, `.json.gz`); digest and Insights
/// folders are left out by the walk.
fn is_log_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".json") || name.ends_with(".json.gz")
}

/// Folders of a trail that hold no events: digest files, Insights events.
pub(super) fn is_skipped_folder(name: &str) -> bool {
    name == "CloudTrail-Digest" || name == "CloudTrail-Insight"
}

/// Lists the logs under `root` (sorted), and what could not be listed.
fn list(root: &Path) -> (Vec<(PathBuf, u64)>, Vec<Failure>) {
    let mut files = Vec::new();
    let mut failures = Vec::new();
    let walk = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            !(e.file_type().is_dir() && is_skipped_folder(&e.file_name().to_string_lossy()))
        });
    for entry in walk {
        match entry {
            Ok(e) if e.file_type().is_file() && (e.depth() == 0 || is_log_name(e.path())) => {
                let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                files.push((e.into_path(), len));
            }
            Ok(_) => {}
            Err(e) => {
                let name = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| root.display().to_string());
                let cause = e
                    .io_error()
                    .map(|io| io.to_string())
                    .unwrap_or_else(|| e.to_string());
                failures.push(unit_failure(&name, cause));
            }
        }
    }
    (files, failures)
}

/// Reads every log under `path` with `opts.concurrency` threads (at most the cores).
pub(super) fn read_files(
    path: &Path,
    opts: &EvidenceOptions,
    progress: &dyn ReadProgress,
) -> EvidenceReport {
    let (files, mut failures) = list(path);
    progress.planned(files.len() as u64, "files");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = opts.concurrency.clamp(1, cores).min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let failed = Mutex::new(Vec::new());
    let mut total = super::builder(opts);
    let builders: Vec<EvidenceBuilder> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut b = builder(opts);
                    let mut buffer = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((file, len)) = files.get(i) else {
                            break;
                        };
                        let name = file.display().to_string();
                        b.set_source(&name);
                        let result = std::fs::File::open(file)
                            .map_err(|e| e.to_string())
                            .and_then(|f| read_log(f, &mut buffer, &mut b));
                        if let Err(e) = result
                            && let Ok(mut f) = failed.lock()
                        {
                            f.push(unit_failure(&name, e));
                        }
                        progress.advanced(*len);
                    }
                    // Give the memory of the largest log back before the merge.
                    drop(buffer);
                    b
                })
            })
            .collect();
        workers.into_iter().filter_map(|w| w.join().ok()).collect()
    });
    for b in builders {
        total.merge(b);
    }
    failures.extend(failed.into_inner().unwrap_or_default());
    failures.sort();
    EvidenceReport {
        evidence: total.finish(),
        failures,
        units: files.len() as u64,
        bytes: files.iter().map(|(_, l)| l).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_folders() {
        assert!(is_log_name(Path::new(
            "a/111_CloudTrail_eu-west-1_20261120T1005Z_x.json.gz"
        )));
        assert!(is_log_name(Path::new("x.JSON")));
        assert!(!is_log_name(Path::new("x.json.gz.tmp")));
        assert!(is_skipped_folder("CloudTrail-Digest"));
        assert!(!is_skipped_folder("CloudTrail"));
    }

    #[test]
    fn large_logs_stream_and_give_the_same_evidence() {
        // A log above the buffer limit takes the streaming path; the result is the same.
        let record = r#"{"eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","recipientAccountId":"111122223333","requestParameters":{"key":"PAD"}}"#;
        let pad = "x".repeat(4096);
        let one = record.replace("PAD", &pad);
        let n = (MAX_BUFFERED_LOG as usize / one.len()) + 10;
        let mut log = String::with_capacity(n * (one.len() + 1) + 16);
        log.push_str(r#"{"Records":["#);
        for i in 0..n {
            if i > 0 {
                log.push(',');
            }
            log.push_str(&one);
        }
        log.push_str("]}");
        assert!(log.len() as u64 > MAX_BUFFERED_LOG);
        let mut b = EvidenceBuilder::default();
        let mut buffer = Vec::new();
        let stats = read_log(log.as_bytes(), &mut buffer, &mut b).unwrap();
        assert_eq!(stats.records, n as u64);
        let bad = read_log(&b"\x1f\x8bnot gzip"[..], &mut buffer, &mut b).unwrap_err();
        assert!(bad.contains("decompress"), "{bad}");
    }
}
