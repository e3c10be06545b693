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

/// `-` named more than once among the paths of [`scan_inputs`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`-` (standard input) given more than once")]
pub struct StdinTwice;

/// Reads `paths` as [`scan`] does, `-` (at most once) standing for `stdin`: UTF-8 text of at
/// most [`MAX_FILE_BYTES`], file name `-`, an error recorded like a file's. Returns the scan
/// and the text read from `stdin` (for `immutag pins resolve` to rewrite).
///
/// ```
/// use std::path::PathBuf;
/// use immutag_pins::files::scan_inputs;
/// let pod = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: web\n    image: nginx:1.27\n";
/// let (scan, text) = scan_inputs(&[PathBuf::from("-")], pod.as_bytes()).unwrap();
/// assert_eq!((scan.files_read, scan.pins.len()), (1, 1));
/// assert_eq!(text.as_deref(), Some(pod));
/// assert!(scan_inputs(&[PathBuf::from("-"), PathBuf::from("-")], &b""[..]).is_err());
/// ```
pub fn scan_inputs(
    paths: &[PathBuf],
    stdin: impl std::io::Read,
) -> Result<(Scan, Option<String>), StdinTwice> {
    let stdin_count = paths.iter().filter(|p| p.as_os_str() == "-").count();
    if stdin_count > 1 {
        return Err(StdinTwice);
    }
    let on_disk: Vec<PathBuf> = paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    let mut scan = if on_disk.is_empty() {
        Scan::default()
    } else {
        scan(&on_disk, 0)
    };
    if stdin_count == 0 {
        return Ok((scan, None));
    }
    match read_stdin(stdin) {
        Ok(text) => {
            let s = scan_text("-", &text);
            scan.pins.extend(s.pins);
            scan.errors.extend(s.errors);
            scan.files_read += s.files_read;
            Ok((scan, Some(text)))
        }
        Err(error) => {
            scan.files_read += 1;
            scan.errors.push(FileError {
                file: "-".into(),
                error,
            });
            Ok((scan, None))
        }
    }
}

/// Standard input as UTF-8 text of at most [`MAX_FILE_BYTES`].
fn read_stdin(stdin: impl std::io::Read) -> Result<String, PinsError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let read = stdin
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| PinsError::Read(e.to_string()))?;
    if read as u64 > MAX_FILE_BYTES {
        return Err(PinsError::TooLarge {
            size: read as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|_| PinsError::NotUtf8)
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

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn standard_input_over_the_limit_is_a_named_error_not_read_whole() {
        let big = std::io::repeat(b'a').take(MAX_FILE_BYTES + 10);
        let (scan, text) = scan_inputs(&[PathBuf::from("-")], big).unwrap();
        assert_eq!(text, None);
        assert_eq!(scan.files_read, 1);
        assert_eq!(scan.errors.len(), 1);
        assert_eq!(scan.errors[0].file, "-");
        assert!(
            matches!(scan.errors[0].error, PinsError::TooLarge { size, limit } if size == MAX_FILE_BYTES + 1 && limit == MAX_FILE_BYTES),
            "{:?}",
            scan.errors[0].error
        );
    }

    #[test]
    fn standard_input_that_is_not_utf8_is_a_named_error() {
        let (scan, text) = scan_inputs(&[PathBuf::from("-")], &[0xff_u8, 0xfe][..]).unwrap();
        assert_eq!(text, None);
        assert_eq!(scan.errors[0].error, PinsError::NotUtf8);
    }

    #[test]
    fn standard_input_named_twice_is_refused() {
        let paths = [PathBuf::from("-"), PathBuf::from("-")];
        assert_eq!(scan_inputs(&paths, &b""[..]), Err(StdinTwice));
    }
}
