//! Reading the files: directories are walked with the `ignore` crate (as ripgrep does:
//! `.gitignore`, `.ignore` and `.immutagignore` are respected, inside a git repository or
//! not; hidden directories such as `.github` are read, `.git` is not; symbolic links are not
//! followed), files are read in parallel, and every file that could not be read or parsed is
//! reported by name, never skipped silently.
//!
//! Files under the `templates/` directory of a Helm chart (beside a `Chart.yaml`) are Go
//! templates, not YAML: they are listed as skipped (`helm template CHART | immutag pins
//! check -` reads what the chart renders).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::PinsError;
use crate::find::{Candidate, find};
use crate::pin::Pin;

/// Largest file read (32 MiB).
pub const MAX_FILE_BYTES: u64 = 32 << 20;

/// The ignore file of immutag's own, beside `.gitignore`.
pub const IGNORE_FILE: &str = ".immutagignore";

/// A file that could not be read or parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The path.
    pub file: String,
    /// What went wrong.
    pub error: PinsError,
}

/// A directory left out on purpose, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The path.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// What reading a set of paths found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// Every reference, sorted by file, line and column.
    pub pins: Vec<Pin>,
    /// Files that could not be read or parsed, sorted by file.
    pub errors: Vec<FileError>,
    /// Directories left out (Helm chart templates).
    pub skipped: Vec<Skipped>,
    /// Files read.
    pub files_read: usize,
}

/// Reads `paths` (files or directories) with `threads` threads (0: one per core).
pub fn scan(paths: &[PathBuf], threads: usize) -> Scan {
    let out = Mutex::new(Scan::default());
    let mut dirs = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => dirs.push(path.clone()),
            // A file named on the command line is read whatever its name; its content decides.
            Ok(_) => read_one(path, Candidate::of(path), &out),
            Err(e) => push_error(
                &out,
                path,
                if e.kind() == std::io::ErrorKind::NotFound {
                    PinsError::NotFound
                } else {
                    PinsError::Read(e.to_string())
                },
            ),
        }
    }
    if let Some((first, rest)) = dirs.split_first() {
        let mut builder = ignore::WalkBuilder::new(first);
        for d in rest {
            builder.add(d);
        }
        builder
            .hidden(false)
            .require_git(false)
            .follow_links(false)
            .add_custom_ignore_filename(IGNORE_FILE)
            .threads(threads)
            .filter_entry(|e| e.file_name() != ".git");
        builder.build_parallel().run(|| {
            Box::new(|entry| {
                let entry = match entry {
                    Ok(e) => e,
                    Err(err) => {
                        let file = match &err {
                            ignore::Error::WithPath { path, .. } => path.display().to_string(),
                            _ => String::new(),
                        };
                        lock(&out).errors.push(FileError {
                            file,
                            error: PinsError::Read(err.to_string()),
                        });
                        return ignore::WalkState::Continue;
                    }
                };
                let path = entry.path();
                match entry.file_type() {
                    Some(t) if t.is_dir() && is_helm_templates(path) => {
                        lock(&out).skipped.push(Skipped {
                            path: path.display().to_string(),
                            reason: "Helm chart templates: render them (helm template CHART | immutag pins check -)"
                                .to_owned(),
                        });
                        return ignore::WalkState::Skip;
                    }
                    Some(t) if t.is_file() => {
                        if let Some(c) = Candidate::of(path) {
                            read_one(path, Some(c), &out);
                        }
                    }
                    _ => {}
                }
                ignore::WalkState::Continue
            })
        });
    }
    let mut scan = out
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    scan.pins
        .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    scan.errors.sort_by(|a, b| a.file.cmp(&b.file));
    scan.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    scan
}

/// The references of `text` read from standard input (file name `-`), kind by content.
pub fn scan_text(file: &str, text: &str) -> Scan {
    let mut scan = Scan {
        files_read: 1,
        ..Scan::default()
    };
    match find(file, text, None) {
        Ok(pins) => scan.pins = pins,
        Err(error) => scan.errors.push(FileError {
            file: file.to_owned(),
            error,
        }),
    }
    scan
}

fn lock(m: &Mutex<Scan>) -> std::sync::MutexGuard<'_, Scan> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn push_error(out: &Mutex<Scan>, path: &Path, error: PinsError) {
    lock(out).errors.push(FileError {
        file: path.display().to_string(),
        error,
    });
}

fn is_helm_templates(dir: &Path) -> bool {
    dir.file_name().is_some_and(|n| n == "templates")
        && dir.parent().is_some_and(|p| p.join("Chart.yaml").is_file())
}

/// Reads `path` as UTF-8 text of at most [`MAX_FILE_BYTES`].
pub fn read_text(path: &Path) -> Result<String, PinsError> {
    let meta = std::fs::metadata(path).map_err(|e| PinsError::Read(e.to_string()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(PinsError::TooLarge {
            size: meta.len(),
            limit: MAX_FILE_BYTES,
        });
    }
    let bytes = std::fs::read(path).map_err(|e| PinsError::Read(e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| PinsError::NotUtf8)
}

fn read_one(path: &Path, candidate: Option<Candidate>, out: &Mutex<Scan>) {
    let file = path.display().to_string();
    let result = read_text(path).and_then(|text| find(&file, &text, candidate));
    let mut out = lock(out);
    out.files_read += 1;
    match result {
        Ok(pins) => out.pins.extend(pins),
        Err(error) => out.errors.push(FileError { file, error }),
    }
}

/// Replaces the content of `path` with `text`: written to a temporary file in the same
/// directory with the same permissions, then renamed over the original, so that a reader
/// never sees half a file.
pub fn write_text(path: &Path, text: &str) -> Result<(), PinsError> {
    use std::io::Write;
    let err = |e: std::io::Error| PinsError::Write(e.to_string());
    let perms = std::fs::metadata(path).map_err(err)?.permissions();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.immutag-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::set_permissions(&tmp, perms)?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}
