//! Text that reaches a person: what came from input is shown with its control characters
//! escaped, so a resource name, a tag or an AWS error message can never drive a terminal
//! (an ESC sequence that clears the screen, recolours it or rewrites a line).
//!
//! Every text path of immutag (tables, annotations, stderr errors, reports) passes
//! input-derived strings through [`printable`].
//!
//! ```
//! use immutag_core::text::printable;
//! assert_eq!(printable("web"), "web");
//! assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
//! assert_eq!(printable("tab\there"), "tab\\u{9}here");
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` with every control character (C0, DEL, C1) written as `\u{XX}`; borrowed unchanged
/// when it has none.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_control_character_and_nothing_else() {
        assert!(matches!(printable("plain ünïcode"), Cow::Borrowed(_)));
        assert_eq!(printable("\u{7f}\u{9b}\n"), "\\u{7f}\\u{9b}\\u{a}");
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let shown = printable(&c.to_string()).into_owned();
            assert!(!shown.chars().any(char::is_control), "{c:?} -> {shown:?}");
        }
    }
}
