//! Line numbers for resources found in JSON inputs.
//!
//! The JSON parsers of immutag-core record where a repository sits as a JSON pointer
//! (`/repositories/3`) but not its line; SARIF viewers and the table want a line. This
//! module finds the line where the value at a pointer starts, without building a tree and
//! in one pass per parent container, so a describe-repositories dump of thousands of
//! repositories costs one scan. It never panics: malformed text gives `None`.
//!
//! A pointer that leads into a JSON string holding JSON (a Config rule event's
//! `invokingEvent`) resolves to the line of that string.

use std::collections::{BTreeMap, BTreeSet};

use immutag_core::Repository;

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
/// its way that exists) starts. Pointers that do not resolve at all are absent.
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
    let resolved: BTreeMap<&str, (Option<usize>, BTreeMap<String, usize>)> = by_parent
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
            Some(i) => resolved
                .get(&p[..i])
                .and_then(|(parent, kids)| kids.get(&unescape(&p[i + 1..])).copied().or(*parent)),
        };
        if let Some(pos) = pos {
            positions.insert(p, pos);
        }
    }
    lines_of(text, positions)
}

/// Converts byte positions to 1-based lines in one pass.
fn lines_of<'p>(text: &[u8], positions: BTreeMap<&'p str, usize>) -> BTreeMap<&'p str, u32> {
    let mut sorted: Vec<(usize, &'p str)> = positions.into_iter().map(|(p, i)| (i, p)).collect();
    sorted.sort_unstable();
    let mut out = BTreeMap::new();
    let mut line: u32 = 1;
    let mut at = 0usize;
    for (pos, p) in sorted {
        let end = pos.min(text.len());
        if end > at {
            let newlines = text[at..end].iter().filter(|&&b| b == b'\n').count();
            line = line.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
            at = end;
        }
        out.insert(p, line);
    }
    out
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
            Some(&p) => pos = p,
            None => break,
        }
    }
    Some(pos)
}

/// Positions of the wanted members (object keys, or array indexes as decimal text) of the
/// container starting at `pos`.
fn children_at(text: &[u8], pos: usize, wanted: &BTreeSet<String>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let mut i = pos;
    match text.get(i) {
        Some(b'{') => {
            i += 1;
            while let Some(j) = skip_ws(text, i) {
                i = j;
                if text.get(i) != Some(&b'"') {
                    break;
                }
                let key_start = i;
                let Some(j) = skip_string(text, i) else { break };
                i = j;
                let key: Option<String> = serde_json::from_slice(&text[key_start..i]).ok();
                let Some(j) = skip_ws(text, i) else { break };
                i = j;
                if text.get(i) != Some(&b':') {
                    break;
                }
                let Some(j) = skip_ws(text, i + 1) else { break };
                i = j;
                if let Some(k) = key.filter(|k| wanted.contains(k)) {
                    out.insert(k, i);
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
            }
        }
        Some(b'[') => {
            i += 1;
            let mut index = 0usize;
            while let Some(j) = skip_ws(text, i) {
                i = j;
                if text.get(i) == Some(&b']') {
                    break;
                }
                let k = index.to_string();
                if wanted.contains(&k) {
                    out.insert(k, i);
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
        }
    }
}
