//! Rewriting a file so that only reference texts change: each edit replaces the bytes of one
//! located span; every other byte (comments, quoting, indentation, line endings, a BOM) is
//! copied as it was. Nothing is re-serialized.
//!
//! ```
//! use immutag_pins::rewrite::{apply, Edit};
//! let src = "image: 'app:1'   # keep me\r\n";
//! let edit = Edit { start: 8, end: 13, expected: "app:1".into(), replacement: "app:1@sha256:x".into(), line: 1 };
//! assert_eq!(apply(src, &[edit]).unwrap(), "image: 'app:1@sha256:x'   # keep me\r\n");
//! ```

use crate::error::PinsError;
use crate::pin::Pin;

/// Replace `start..end` (which must hold `expected`) with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edit {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// The text there now.
    pub expected: String,
    /// The new text.
    pub replacement: String,
    /// 1-based line of `start` (for messages).
    pub line: u32,
}

impl Edit {
    /// The edit that pins `pin` to `digest`, when the pin can be rewritten in place.
    pub fn pin(pin: &Pin, digest: &str) -> Option<Self> {
        let target = pin.target.as_ref()?;
        Some(Self {
            start: target.start,
            end: target.end,
            expected: target.text.clone(),
            replacement: pin.pinned_text(digest)?,
            line: pin.line,
        })
    }
}

/// `source` with `edits` applied. Identical edits (one `ARG` default used by two `FROM`s) are
/// applied once; overlapping different edits, and an edit whose span no longer holds its
/// expected text, are errors and nothing is changed.
pub fn apply(source: &str, edits: &[Edit]) -> Result<String, PinsError> {
    let mut edits: Vec<&Edit> = edits.iter().collect();
    edits.sort();
    edits.dedup_by(|a, b| a.start == b.start && a.end == b.end && a.replacement == b.replacement);
    let mut out = String::with_capacity(source.len() + edits.len() * 80);
    let mut at = 0usize;
    for e in edits {
        if e.start < at {
            return Err(PinsError::Overlap(e.start));
        }
        if source.get(e.start..e.end) != Some(e.expected.as_str()) {
            return Err(PinsError::Stale {
                line: e.line,
                offset: e.start,
                expected: e.expected.clone(),
            });
        }
        out.push_str(&source[at..e.start]);
        out.push_str(&e.replacement);
        at = e.end;
    }
    out.push_str(&source[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(start: usize, end: usize, expected: &str, replacement: &str) -> Edit {
        Edit {
            start,
            end,
            expected: expected.into(),
            replacement: replacement.into(),
            line: 1,
        }
    }

    #[test]
    fn applies_dedups_and_refuses() {
        let src = "ab cd ef";
        let e1 = edit(3, 5, "cd", "XY");
        let e0 = edit(0, 2, "ab", "Z");
        assert_eq!(
            apply(src, &[e1.clone(), e0.clone(), e1.clone()]).unwrap(),
            "Z XY ef"
        );
        assert!(matches!(
            apply(src, &[edit(0, 2, "zz", "q")]),
            Err(PinsError::Stale { .. })
        ));
        assert!(matches!(
            apply(src, &[edit(0, 4, "ab c", "q"), e1]),
            Err(PinsError::Overlap(3))
        ));
        assert!(matches!(
            apply(src, &[edit(7, 99, "f", "q")]),
            Err(PinsError::Stale { .. })
        ));
        assert_eq!(apply(src, &[]).unwrap(), src);
    }
}
