//! The errors of immutag-pins.

use thiserror::Error;

/// A file that could not be read, parsed or rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PinsError {
    /// The file is not valid YAML or JSON.
    #[error("{format} syntax error at line {line} column {column}: {message}")]
    Syntax {
        /// `YAML` (JSON is read as YAML).
        format: &'static str,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// The parser's message.
        message: String,
    },
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Read(String),
    /// The file is not UTF-8 text.
    #[error("not UTF-8 text")]
    NotUtf8,
    /// Larger than [`crate::files::MAX_FILE_BYTES`].
    #[error("larger than {limit} bytes ({size} bytes)")]
    TooLarge {
        /// The file's size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A path given on the command line does not exist.
    #[error("no such file or directory")]
    NotFound,
    /// The file changed since it was read: the text at a target is not what it was.
    #[error(
        "line {line}: expected `{expected}` at byte {offset}; the file changed since it was read"
    )]
    Stale {
        /// 1-based line of the target.
        line: u32,
        /// Byte offset.
        offset: usize,
        /// The text that was there.
        expected: String,
    },
    /// Two edits of one file overlap with different replacements.
    #[error("two edits overlap at byte {0}")]
    Overlap(usize),
    /// The file could not be written.
    #[error("cannot write: {0}")]
    Write(String),
}
