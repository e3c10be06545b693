//! Dockerfiles and Containerfiles: the images of `FROM` (after its flags, such as
//! `--platform=$BUILDPLATFORM`) and of `COPY --from=IMAGE`.
//!
//! - `FROM scratch` and `FROM stage` / `COPY --from=stage` (a name given by an earlier
//!   `FROM ... AS stage`, or a stage index) are not images and are skipped.
//! - `ARG` defaults are substituted: global ones (before the first `FROM`) in `FROM`, those of
//!   the stage in `COPY --from`. A reference that is exactly one variable (`FROM ${BASE}`) is
//!   pinned at the `ARG` default that defines it; other references are pinned where written.
//! - Line continuations (the `# escape=` directive's character, `\` by default), comment lines
//!   inside them, and heredoc bodies (`RUN <<EOF ... EOF`) are understood.

use std::collections::HashMap;

use crate::pin::{Found, Target};
use crate::text::Lines;
use crate::vars::{self, Escape};

/// One instruction, its text without continuations, and the source byte of each of its bytes.
struct Instruction {
    text: String,
    map: Vec<usize>,
}

/// A word of an instruction: its text and its range in [`Instruction::text`].
struct Word<'a> {
    text: &'a str,
    start: usize,
}

impl Instruction {
    fn words(&self) -> Vec<Word<'_>> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, c) in self.text.char_indices() {
            if c == ' ' || c == '\t' {
                if let Some(s) = start.take() {
                    out.push(Word {
                        text: &self.text[s..i],
                        start: s,
                    });
                }
            } else if start.is_none() {
                start = Some(i);
            }
        }
        if let Some(s) = start {
            out.push(Word {
                text: &self.text[s..],
                start: s,
            });
        }
        out
    }

    /// The source byte range of `text[start..start+len]`, when contiguous in the source.
    fn source_range(&self, start: usize, len: usize) -> Option<(usize, usize)> {
        if len == 0 {
            return None;
        }
        let a = *self.map.get(start)?;
        let b = *self.map.get(start + len - 1)?;
        (b - a == len - 1).then_some((a, b + 1))
    }
}

/// A declared `ARG`: its default (expanded), and where the default is written.
#[derive(Clone)]
struct Arg {
    value: Option<String>,
    /// Source range of the default as written, when it is a literal (no variables).
    literal: Option<(usize, usize)>,
}

/// The references of a Dockerfile.
pub(crate) fn find(source: &str) -> Vec<Found> {
    let lines = Lines::new(source);
    let escape = escape_char(source);
    let mut found = Vec::new();
    let mut global: HashMap<String, Arg> = HashMap::new();
    let mut stage: HashMap<String, Arg> = HashMap::new();
    let mut stages: Vec<String> = Vec::new();
    let mut in_stage = false;

    for ins in instructions(source, escape) {
        let words = ins.words();
        let Some(first) = words.first() else { continue };
        let keyword = first.text.to_ascii_uppercase();
        match keyword.as_str() {
            "ARG" => {
                for w in &words[1..] {
                    let (name, value) = match w.text.split_once('=') {
                        Some((n, v)) => (n, Some((v, w.start + n.len() + 1))),
                        None => (w.text, None),
                    };
                    let scope = if in_stage { &stage } else { &global };
                    let arg = match value {
                        Some((v, at)) => {
                            let (v, at) = unquote(v, at);
                            let lookup = |n: &str| lookup(scope, &global, n, in_stage);
                            let literal = (!vars::has_variables(v, Escape::Backslash(escape)))
                                .then(|| ins.source_range(at, v.len()))
                                .flatten();
                            Arg {
                                value: vars::expand(v, Escape::Backslash(escape), &lookup).ok(),
                                literal,
                            }
                        }
                        // `ARG NAME` in a stage takes the global default.
                        None if in_stage => global.get(name).cloned().unwrap_or(Arg {
                            value: None,
                            literal: None,
                        }),
                        None => Arg {
                            value: None,
                            literal: None,
                        },
                    };
                    if in_stage {
                        stage.insert(name.to_owned(), arg);
                    } else {
                        global.insert(name.to_owned(), arg);
                    }
                }
            }
            "FROM" => {
                in_stage = true;
                stage.clear();
                let rest: Vec<&Word> = words[1..]
                    .iter()
                    .filter(|w| !w.text.starts_with("--"))
                    .collect();
                let Some(image) = rest.first() else { continue };
                let name = match (rest.get(1), rest.get(2)) {
                    (Some(a), Some(n)) if a.text.eq_ignore_ascii_case("as") => {
                        Some(n.text.to_ascii_lowercase())
                    }
                    _ => None,
                };
                let context = match &name {
                    Some(n) => format!("FROM (stage {n})"),
                    None => "FROM".to_owned(),
                };
                let lookup = |n: &str| global.get(n).and_then(|a| a.value.clone());
                if let Some(f) = reference(
                    &ins, image, context, &stages, &global, &lookup, &lines, escape,
                ) {
                    found.push(f);
                }
                stages.push(name.unwrap_or_default());
            }
            "COPY" => {
                for w in &words[1..] {
                    let Some(value) = w.text.strip_prefix("--from=") else {
                        if !w.text.starts_with("--") {
                            break;
                        }
                        continue;
                    };
                    let word = Word {
                        text: value,
                        start: w.start + "--from=".len(),
                    };
                    if value.bytes().all(|b| b.is_ascii_digit()) {
                        continue; // a stage index
                    }
                    let lookup = |n: &str| lookup(&stage, &global, n, true);
                    if let Some(f) = reference(
                        &ins,
                        &word,
                        "COPY --from".to_owned(),
                        &stages,
                        &stage,
                        &lookup,
                        &lines,
                        escape,
                    ) {
                        found.push(f);
                    }
                }
            }
            _ => {}
        }
    }
    found
}

fn lookup(
    scope: &HashMap<String, Arg>,
    global: &HashMap<String, Arg>,
    name: &str,
    in_stage: bool,
) -> Option<String> {
    match scope.get(name) {
        Some(a) => a.value.clone(),
        None if in_stage => None, // a global ARG must be re-declared in the stage to be seen
        None => global.get(name).and_then(|a| a.value.clone()),
    }
}

/// The reference named by `word`, or `None` when it names `scratch` or a stage.
#[allow(clippy::too_many_arguments)]
fn reference(
    ins: &Instruction,
    word: &Word<'_>,
    context: String,
    stages: &[String],
    args: &HashMap<String, Arg>,
    lookup: &dyn Fn(&str) -> Option<String>,
    lines: &Lines<'_>,
    escape: char,
) -> Option<Found> {
    let expanded = vars::expand(word.text, Escape::Backslash(escape), lookup);
    if let Ok(e) = &expanded {
        let lower = e.to_ascii_lowercase();
        if lower == "scratch" || stages.iter().any(|s| !s.is_empty() && *s == lower) {
            return None;
        }
    }
    let (src_start, src_end) = ins.source_range(word.start, word.text.len())?;
    let (line, column) = lines.position(src_start);
    // `${NAME}` / `$NAME` alone: pin the ARG default that defines it.
    let single = word
        .text
        .strip_prefix("${")
        .and_then(|s| s.strip_suffix('}'))
        .or_else(|| word.text.strip_prefix('$'))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric()));
    let target = match single.and_then(|n| args.get(n)) {
        Some(arg) => arg.literal,
        None if single.is_some() => None,
        None => Some((src_start, src_end)),
    }
    .and_then(|(a, b)| {
        Some(Target {
            start: a,
            end: b,
            text: lines.source().get(a..b)?.to_owned(),
        })
    });
    Some(Found {
        line,
        column,
        context,
        text: word.text.to_owned(),
        expanded,
        target,
    })
}

/// `"v"` or `'v'` without the quotes, and where it then starts.
fn unquote(v: &str, at: usize) -> (&str, usize) {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return (&v[1..v.len() - 1], at + 1);
        }
    }
    (v, at)
}

/// The escape character of the `# escape=` parser directive, `\` by default.
fn escape_char(source: &str) -> char {
    for line in source.trim_start_matches('\u{feff}').lines() {
        let Some(directive) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = directive.split_once('=') else {
            break;
        };
        if key.trim().eq_ignore_ascii_case("escape") {
            return match value.trim() {
                "`" => '`',
                _ => '\\',
            };
        }
    }
    '\\'
}

/// The instructions of `source`: continuations joined, comment lines dropped, heredoc bodies
/// skipped.
fn instructions(source: &str, escape: char) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut current: Option<Instruction> = None;
    let mut heredocs: Vec<(String, bool)> = Vec::new();
    let mut offset = 0usize;
    for raw in source.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some((word, strip_tabs)) = heredocs.first() {
            let l = if *strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if l == word {
                heredocs.remove(0);
            }
            continue;
        }
        let trimmed = line.trim_start_matches([' ', '\t', '\u{feff}']);
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_some()) {
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        // A continuation line keeps its leading blanks: they separate words.
        let lead = if current.is_some() {
            0
        } else {
            line.len() - trimmed.len()
        };
        let content = line[lead..].trim_end_matches([' ', '\t']);
        let (content, continues) = match content.strip_suffix(escape) {
            Some(c) => (c, true),
            None => (content, false),
        };
        let ins = current.get_or_insert_with(|| Instruction {
            text: String::new(),
            map: Vec::new(),
        });
        ins.text.push_str(content);
        ins.map.extend((0..content.len()).map(|i| start + lead + i));
        if !continues && let Some(done) = current.take() {
            heredocs = heredoc_words(&done.text);
            out.push(done);
        }
    }
    if let Some(done) = current.take() {
        out.push(done);
    }
    out
}

/// The heredoc terminators of `RUN <<EOF`, `COPY <<-"EOF" /x`, ... in order.
fn heredoc_words(text: &str) -> Vec<(String, bool)> {
    let keyword = text
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    if !matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("<<") {
        let mut after = &rest[i + 2..];
        let strip_tabs = after.starts_with('-');
        if strip_tabs {
            after = &after[1..];
        }
        let quoted = after.starts_with(['"', '\'']);
        let body = if quoted { &after[1..] } else { after };
        let len = body
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        if len > 0 {
            out.push((body[..len].to_owned(), strip_tabs));
        }
        rest = &body[len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<(String, Result<String, String>, u32, u32)> {
        find(src)
            .into_iter()
            .map(|f| (f.text, f.expanded, f.line, f.column))
            .collect()
    }

    #[test]
    fn from_flags_stages_and_scratch() {
        let src = "# syntax=docker/dockerfile:1\nFROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM scratch AS empty\nFROM build AS final\nFROM  Build\nCOPY --from=build /a /b\nCOPY --from=0 /a /b\nCOPY --chown=1 --from=nginx:1.25 /etc/nginx /x\n";
        let got = texts(src);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(
            got[0],
            ("golang:1.22".into(), Ok("golang:1.22".into()), 2, 32)
        );
        assert_eq!(got[1].0, "nginx:1.25");
        assert_eq!(got[1].2, 8);
    }

    #[test]
    fn arg_defaults() {
        let src = "ARG REG=111122223333.dkr.ecr.eu-west-1.amazonaws.com\nARG BASE=\"${REG}/base:1\"\nARG TAG\nFROM ${BASE} AS a\nFROM $REG/app:${TAG:-2} AS b\nFROM $REG/app:$TAG\nARG LOCAL=x\nCOPY --from=${LOCAL}:1 / /\n";
        let found = find(src);
        assert_eq!(found.len(), 4);
        assert_eq!(
            found[0].expanded.as_deref(),
            Ok("111122223333.dkr.ecr.eu-west-1.amazonaws.com/base:1")
        );
        // ${BASE} is defined by an ARG whose default has a variable: no in-place target.
        assert!(found[0].target.is_none());
        assert_eq!(
            found[1].expanded.as_deref(),
            Ok("111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:2")
        );
        assert_eq!(found[1].target.as_ref().unwrap().text, "$REG/app:${TAG:-2}");
        assert!(found[2].expanded.as_ref().unwrap_err().contains("TAG"));
        assert_eq!(found[3].expanded.as_deref(), Ok("x:1"));
    }

    #[test]
    fn single_variable_targets_the_arg_default() {
        let src = "ARG BASE=\"alpine:3.20\"\nFROM $BASE\nFROM ${BASE}\n";
        let found = find(src);
        assert_eq!(found.len(), 2);
        for f in &found {
            let t = f.target.as_ref().unwrap();
            assert_eq!(t.text, "alpine:3.20");
            assert_eq!(&src[t.start..t.end], "alpine:3.20");
        }
    }

    #[test]
    fn continuations_comments_heredocs_escape() {
        let src = "FROM \\\n  # a comment\n  alpine:3 \\\n  AS x\nRUN <<EOF\nFROM evil:1\nEOF\nRUN <<-'END' cat\n\tFROM evil:2\n\tEND\nFROM debian:12\r\n";
        let got = texts(src);
        assert_eq!(
            got.iter().map(|g| g.0.as_str()).collect::<Vec<_>>(),
            ["alpine:3", "debian:12"]
        );
        assert_eq!((got[0].2, got[0].3), (3, 3));
        let src = "# escape=`\nFROM alpine:3 `\n  AS x\nFROM x\nFROM c:\\path\n";
        let got = texts(src);
        assert_eq!(
            got.iter().map(|g| g.0.as_str()).collect::<Vec<_>>(),
            ["alpine:3", "c:\\path"]
        );
    }
}
