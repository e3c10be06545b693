//! Where things sit in a JSON document: the one JSON line locator of immutag.
//!
//! The JSON readers record where a resource sits as a JSON pointer (`/repositories/3`,
//! `/Resources/Api`); SARIF viewers and the table want a line. This module finds, without
//! building a tree and in one pass per parent container, the line of the value at a pointer
//! (of an object member: the line of its key). It also walks the members of one object in
//! document order ([`members`]), which the CloudFormation reader uses to read a template
//! resource by resource. It never panics: malformed text gives `None` or fewer members.
//!
//! A pointer that leads into a JSON string holding JSON (a Config rule event's
//! `invokingEvent`) resolves to the line of that string.
//!
//! ```
//! use immutag_core::input::locate::pointer_lines;
//! let doc = b"{\n  \"repositories\": [\n    {\"repositoryName\": \"a\"},\n    {\"repositoryName\": \"b\"}\n  ]\n}";
//! let lines = pointer_lines(doc, &["/repositories/1"]);
//! assert_eq!(lines["/repositories/1"], 4);
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use crate::model::Repository;

/// Sets `source.line` of every repository that has a pointer but no line, when `bytes`
/// is JSON.
pub fn fill_json_lines(bytes: &[u8], repos: &mut [Repository]) {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if !matches!(first_non_ws(text), Some(b'{' | b'[')) {
        return;
    }
    let wanted: Vec<Option<String>> = repos
        .iter()
        .map(|r| match (&r.source.line, &r.source.pointer) {
            (None, Some(p)) => Some(p.clone()),
            _ => None,
        })
        .collect();
    let pointers: Vec<&str> = wanted.iter().flatten().map(String::as_str).collect();
    if pointers.is_empty() {
        return;
    }
    let lines = pointer_lines(text, &pointers);
    for (repo, pointer) in repos.iter_mut().zip(&wanted) {
        if let Some(p) = pointer {
            repo.source.line = lines.get(p.as_str()).copied();
        }
    }
}

/// The 1-based line at which the value each pointer designates (or the deepest value on
/// its way that exists) starts; for an object member, the line of its key. Pointers that do
/// not resolve at all are absent.
pub fn pointer_lines<'p>(text: &[u8], pointers: &[&'p str]) -> BTreeMap<&'p str, u32> {
    // Group by parent so that each container is walked once.
    let mut by_parent: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for p in pointers {
        if let Some(i) = p.rfind('/') {
            by_parent
                .entry(&p[..i])
                .or_default()
                .insert(unescape(&p[i + 1..]));
        }
    }
    // parent -> (its position, its wanted children's positions)
    let resolved: BTreeMap<&str, (Option<usize>, BTreeMap<String, Child>)> = by_parent
        .iter()
        .map(|(parent, children)| {
            let pos = resolve(text, parent);
            let kids = pos
                .map(|at| children_at(text, at, children))
                .unwrap_or_default();
            (*parent, (pos, kids))
        })
        .collect();
    let mut positions: BTreeMap<&'p str, usize> = BTreeMap::new();
    for p in pointers {
        let pos = match p.rfind('/') {
            None => resolve(text, p),
            Some(i) => resolved.get(&p[..i]).and_then(|(parent, kids)| {
                kids.get(&unescape(&p[i + 1..]))
                    .map(|c| c.shown)
                    .or(*parent)
            }),
        };
        if let Some(pos) = pos {
            positions.insert(p, pos);
        }
    }
    lines_of(text, positions)
}

/// Counts lines forward through a text: [`LineCounter::line_at`] with offsets that do not
/// decrease costs one pass over the text in all.
#[derive(Debug, Clone)]
pub struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: u32,
}

impl<'a> LineCounter<'a> {
    /// A counter at the start of `text` (line 1).
    pub fn new(text: &'a [u8]) -> Self {
        Self {
            text,
            at: 0,
            line: 1,
        }
    }

    /// The 1-based line of byte offset `pos`. An offset before the last one asked gives the
    /// last line counted.
    pub fn line_at(&mut self, pos: usize) -> u32 {
        let end = pos.min(self.text.len());
        if end > self.at {
            let newlines = self.text[self.at..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.line = self
                .line
                .saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
            self.at = end;
        }
        self.line
    }
}

/// Converts byte positions to 1-based lines in one pass.
fn lines_of<'p>(text: &[u8], positions: BTreeMap<&'p str, usize>) -> BTreeMap<&'p str, u32> {
    let mut sorted: Vec<(usize, &'p str)> = positions.into_iter().map(|(p, i)| (i, p)).collect();
    sorted.sort_unstable();
    let mut counter = LineCounter::new(text);
    sorted
        .into_iter()
        .map(|(pos, p)| (p, counter.line_at(pos)))
        .collect()
}

/// The position of the value at `pointer`, or of the deepest existing value on its way.
fn resolve(text: &[u8], pointer: &str) -> Option<usize> {
    let mut pos = skip_ws(text, 0)?;
    if pointer.is_empty() {
        return Some(pos);
    }
    for token in pointer.strip_prefix('/')?.split('/') {
        let token = unescape(token);
        let mut want = BTreeSet::new();
        want.insert(token.clone());
        match children_at(text, pos, &want).get(&token) {
            Some(c) => pos = c.value,
            None => break,
        }
    }
    Some(pos)
}

/// Where one child of a container is: its value, and where a reader is pointed (the key of
/// an object member, the value of an array element).
#[derive(Debug, Clone, Copy)]
struct Child {
    value: usize,
    shown: usize,
}

/// Positions of the wanted members (object keys, or array indexes as decimal text) of the
/// container starting at `pos`.
fn children_at(text: &[u8], pos: usize, wanted: &BTreeSet<String>) -> BTreeMap<String, Child> {
    let mut out = BTreeMap::new();
    match text.get(pos) {
        Some(b'{') => {
            for m in members(text, pos) {
                if wanted.contains(m.key.as_ref()) {
                    out.insert(
                        m.key.into_owned(),
                        Child {
                            value: m.value.start,
                            shown: m.key_at,
                        },
                    );
                    if out.len() == wanted.len() {
                        break;
                    }
                }
            }
        }
        Some(b'[') => {
            let mut i = pos + 1;
            let mut index = 0usize;
            while let Some(j) = skip_ws(text, i) {
                i = j;
                if text.get(i) == Some(&b']') {
                    break;
                }
                let k = index.to_string();
                if wanted.contains(&k) {
                    out.insert(k, Child { value: i, shown: i });
                    if out.len() == wanted.len() {
                        break;
                    }
                }
                let Some(j) = skip_value(text, i) else { break };
                let Some(j) = skip_ws(text, j) else { break };
                i = j;
                if text.get(i) != Some(&b',') {
                    break;
                }
                i += 1;
                index += 1;
            }
        }
        _ => {}
    }
    out
}

/// One member of a JSON object, as [`members`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member<'a> {
    /// The decoded key (borrowed when it has no escapes).
    pub key: Cow<'a, str>,
    /// The byte offset of the key's opening quote.
    pub key_at: usize,
    /// The byte range of the value.
    pub value: Range<usize>,
}

/// The members of the JSON object that starts at byte `pos` of `text`, in document order.
/// The walk stops at the first thing that is not a well-formed member (on valid JSON, at the
/// object's end).
pub fn members(text: &[u8], pos: usize) -> Members<'_> {
    let open = text.get(pos) == Some(&b'{');
    Members {
        text,
        i: pos + 1,
        done: !open,
    }
}

/// The iterator of [`members`].
#[derive(Debug, Clone)]
pub struct Members<'a> {
    text: &'a [u8],
    i: usize,
    done: bool,
}

impl<'a> Iterator for Members<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        if self.done {
            return None;
        }
        let member = self.step();
        if member.is_none() {
            self.done = true;
        }
        member
    }
}

impl<'a> Members<'a> {
    fn step(&mut self) -> Option<Member<'a>> {
        let text = self.text;
        let mut i = skip_ws(text, self.i)?;
        if text.get(i) == Some(&b',') {
            i = skip_ws(text, i + 1)?;
        }
        if text.get(i) != Some(&b'"') {
            return None;
        }
        let key_at = i;
        let key_end = skip_string(text, i)?;
        let key = decode_key(&text[key_at..key_end])?;
        let colon = skip_ws(text, key_end)?;
        if text.get(colon) != Some(&b':') {
            return None;
        }
        let start = skip_ws(text, colon + 1)?;
        let end = skip_value(text, start)?;
        self.i = end;
        Some(Member {
            key,
            key_at,
            value: start..end,
        })
    }
}

/// Decodes a JSON string token (quotes included), borrowing when it has no escape.
fn decode_key(raw: &[u8]) -> Option<Cow<'_, str>> {
    let inner = raw.get(1..raw.len().checked_sub(1)?)?;
    if !inner.contains(&b'\\') {
        return std::str::from_utf8(inner).ok().map(Cow::Borrowed);
    }
    serde_json::from_slice::<String>(raw).ok().map(Cow::Owned)
}

/// Escapes one JSON pointer token (RFC 6901: `~` is `~0`, `/` is `~1`).
///
/// ```
/// assert_eq!(immutag_core::input::locate::pointer_token("a~/b"), "a~0~1b");
/// ```
pub fn pointer_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// JSON pointer token unescaping (`~1` is `/`, `~0` is `~`).
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn first_non_ws(text: &[u8]) -> Option<u8> {
    skip_ws(text, 0).and_then(|i| text.get(i).copied())
}

/// The first non-white-space position at or after `i`, if any.
fn skip_ws(text: &[u8], mut i: usize) -> Option<usize> {
    while let Some(b) = text.get(i) {
        if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `i` is at an opening quote; returns the position after the closing quote.
fn skip_string(text: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        match text.get(j)? {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
}

/// Returns the position after the value starting at `i`.
fn skip_value(text: &[u8], i: usize) -> Option<usize> {
    match text.get(i)? {
        b'"' => skip_string(text, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match text.get(j)? {
                    b'"' => {
                        j = skip_string(text, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while let Some(b) = text.get(j) {
                if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                j += 1;
            }
            Some(j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "{\n  \"repositories\": [\n    {\"repositoryName\": \"a\"},\n    {\n      \"repositoryName\": \"b\\\"}\"\n    },\n    [1, {\"x\": \"]\"}],\n    {\"a/b\": 1, \"c~d\": {\"e\": 2}}\n  ],\n  \"invokingEvent\": \"{\\\"configurationItem\\\":{}}\"\n}\n";

    fn line(p: &str) -> Option<u32> {
        pointer_lines(DOC.as_bytes(), &[p]).get(p).copied()
    }

    #[test]
    fn lines_of_pointers() {
        assert_eq!(line(""), Some(1));
        assert_eq!(line("/repositories"), Some(2));
        assert_eq!(line("/repositories/0"), Some(3));
        assert_eq!(line("/repositories/1"), Some(4));
        assert_eq!(line("/repositories/2"), Some(7));
        assert_eq!(line("/repositories/3"), Some(8));
        assert_eq!(line("/repositories/3/a~1b"), Some(8));
        assert_eq!(line("/repositories/3/c~0d/e"), Some(8));
        // Into an embedded JSON string: the string's line.
        assert_eq!(line("/invokingEvent/configurationItem"), Some(10));
        // Past the end of an array: the array's line.
        assert_eq!(line("/repositories/9"), Some(2));
    }

    #[test]
    fn many_pointers_one_parent() {
        let got = pointer_lines(
            DOC.as_bytes(),
            &["/repositories/3", "/repositories/0", "/repositories/1"],
        );
        assert_eq!(got["/repositories/0"], 3);
        assert_eq!(got["/repositories/1"], 4);
        assert_eq!(got["/repositories/3"], 8);
    }

    #[test]
    fn malformed_text_never_panics() {
        for text in [
            "",
            "{",
            "[",
            "{\"a\"",
            "{\"a\":",
            "[\"\\",
            "}}}",
            "{\"a\":[1,",
            "\"x",
        ] {
            let _ = pointer_lines(text.as_bytes(), &["/a/0", "", "/0"]);
            let _ = members(text.as_bytes(), 0).count();
        }
        // Every truncation of a real document.
        for end in 0..DOC.len() {
            let _ = pointer_lines(
                &DOC.as_bytes()[..end],
                &[
                    "/repositories/1",
                    "/repositories/3/c~0d/e",
                    "/invokingEvent/x",
                ],
            );
            let _ = members(&DOC.as_bytes()[..end], 0).count();
        }
    }

    #[test]
    fn json_line_scanner_handles_escapes_and_nesting() {
        let doc = "{\"Description\":\"a \\\"}\\\" b\",\n\"Outputs\":{\"X\":[1,{\"y\":\"]\"}]},\n\"Resources\":{\n\"A~/\\u0042\":{\"Type\":\"t\",\"Properties\":{\"Z\":[[],{}]}},\n\n\"C\":{}}}";
        let lines = pointer_lines(doc.as_bytes(), &["/Resources/A~0~1B", "/Resources/C"]);
        assert_eq!(lines.get("/Resources/A~0~1B"), Some(&4));
        assert_eq!(lines.get("/Resources/C"), Some(&6));
        assert_eq!(pointer_token("A~/B"), "A~0~1B");
        let top: Vec<String> = members(doc.as_bytes(), 0)
            .map(|m| m.key.into_owned())
            .collect();
        assert_eq!(top, ["Description", "Outputs", "Resources"]);
    }

    #[test]
    fn members_in_document_order_with_value_ranges() {
        let doc = br#"{"b": [1, {"x": "}"}], "a" : "v", "c\u0041": {}}"#;
        let got: Vec<(String, &str)> = members(doc, 0)
            .map(|m| {
                (
                    m.key.into_owned(),
                    std::str::from_utf8(&doc[m.value]).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("b".to_owned(), r#"[1, {"x": "}"}]"#),
                ("a".to_owned(), r#""v""#),
                ("cA".to_owned(), "{}"),
            ]
        );
        assert_eq!(members(b"[1]", 0).count(), 0);
    }
}
