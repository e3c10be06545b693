//! YAML (and JSON, which saphyr-parser reads as YAML flow) loaded into a light tree whose
//! scalars keep their byte span, line and column, so that finders can report positions and
//! `resolve` can replace exactly the bytes of a value.
//!
//! Every document of a multi-document stream (`---`, as `helm template` prints) is kept.
//! Aliases to scalars are followed (the pin points at the anchored value); aliases to
//! mappings and sequences are not (no billion laughs).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use crate::error::PinsError;

/// Deepest nesting accepted.
const MAX_DEPTH: usize = 256;

/// A scalar and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Scalar {
    /// The value (after YAML unquoting and escapes).
    pub value: String,
    /// Byte range of the scalar in the source, quotes included.
    pub start: usize,
    pub end: usize,
    /// 1-based line and character column of the scalar's first character.
    pub line: u32,
    pub column: u32,
    pub style: ScalarStyle,
    /// A local tag such as `!Sub` (CloudFormation short forms), without the `!`.
    pub tag: Option<String>,
}

/// A node of the tree.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Map(Vec<(Scalar, Node)>, Option<String>),
    Seq(Vec<Node>, Option<String>),
    Scalar(Scalar),
    /// An alias to a collection, or a complex key's value: not read.
    Other,
}

impl Node {
    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries, _) => entries.iter().find(|(k, _)| k.value == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The scalar value, for a scalar node.
    pub fn str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) => Some(&s.value),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Scalar, Node)] {
        match self {
            Node::Map(e, _) => e,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match self {
            Node::Seq(i, _) => i,
            _ => &[],
        }
    }

    pub fn tag(&self) -> Option<&str> {
        match self {
            Node::Map(_, t) | Node::Seq(_, t) => t.as_deref(),
            Node::Scalar(s) => s.tag.as_deref(),
            Node::Other => None,
        }
    }
}

impl Scalar {
    /// The byte range holding exactly `value`, when the source spells it without escapes,
    /// folding or line breaks (plain, or quoted with the quotes excluded); else `None`.
    pub fn value_span(&self, source: &str) -> Option<(usize, usize)> {
        // The span saphyr gives a scalar can run on over the blanks and a comment after it:
        // find the value's own end.
        let raw = source.get(self.start..self.end)?;
        let (start, end) = match self.style {
            ScalarStyle::Plain => {
                let raw = raw.trim_end_matches([' ', '\t']);
                (self.start, self.start + raw.len())
            }
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                let close = closing_quote(raw, self.style == ScalarStyle::DoubleQuoted)?;
                (self.start + 1, self.start + close)
            }
            _ => return None,
        };
        (source.get(start..end)? == self.value).then_some((start, end))
    }
}

/// The byte index of the quote that closes the quoted scalar `raw` (which starts with its
/// opening quote): `''` is an escaped quote in single quotes, `\` escapes in double quotes.
fn closing_quote(raw: &str, double: bool) -> Option<usize> {
    let b = raw.as_bytes();
    let q = if double { b'"' } else { b'\'' };
    if b.first() != Some(&q) {
        return None;
    }
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' if double => i += 2,
            c if c == q && !double && b.get(i + 1) == Some(&q) => i += 2,
            c if c == q => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Converts saphyr's character indexes to byte offsets.
struct Offsets<'a> {
    source: &'a str,
    /// Byte offset of each character, when the source is not ASCII.
    chars: Option<Vec<usize>>,
}

impl<'a> Offsets<'a> {
    fn new(source: &'a str) -> Self {
        let chars = (!source.is_ascii()).then(|| {
            source
                .char_indices()
                .map(|(i, _)| i)
                .chain([source.len()])
                .collect()
        });
        Self { source, chars }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.chars {
            None => char_index.min(self.source.len()),
            Some(v) => v.get(char_index).copied().unwrap_or(self.source.len()),
        }
    }
}

/// The documents of `source`.
pub(crate) fn load(source: &str) -> Result<Vec<Node>, PinsError> {
    let offsets = Offsets::new(source);
    let mut parser = Parser::new_from_str(source);
    let mut docs = Vec::new();
    // Open collections: (node, pending key).
    let mut stack: Vec<(Node, Option<Scalar>)> = Vec::new();
    let mut anchors: HashMap<usize, Scalar> = HashMap::new();

    let scalar = |value: String, span: &Span, style: ScalarStyle, tag: Option<String>| {
        let mut start = offsets.byte(span.start.index());
        let end = offsets.byte(span.end.index()).max(start);
        let mut column = span.start.col() + 1;
        // The span of a tagged scalar (`!Sub text`, `!!str 5`) starts at its tag.
        if let Some(rest) = source.get(start..end)
            && rest.starts_with('!')
        {
            let tag_len = rest.find([' ', '\t', '\r', '\n']).unwrap_or(rest.len());
            let blanks =
                rest[tag_len..].len() - rest[tag_len..].trim_start_matches([' ', '\t']).len();
            if !rest[tag_len + blanks..].starts_with(['\r', '\n']) {
                start += tag_len + blanks;
                column += rest[..tag_len + blanks].chars().count();
            }
        }
        Scalar {
            value,
            start,
            end,
            line: u32::try_from(span.start.line()).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            style,
            tag,
        }
    };

    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| PinsError::Syntax {
            format: "YAML",
            line: u32::try_from(e.marker().line()).unwrap_or(u32::MAX),
            column: u32::try_from(e.marker().col() + 1).unwrap_or(u32::MAX),
            message: e.info().to_owned(),
        })?;
        let node = match event {
            Event::StreamStart
            | Event::StreamEnd
            | Event::Nothing
            | Event::DocumentStart(_)
            | Event::DocumentEnd => continue,
            Event::MappingStart(_, tag) | Event::SequenceStart(_, tag)
                if stack.len() >= MAX_DEPTH =>
            {
                let _ = tag;
                return Err(PinsError::Syntax {
                    format: "YAML",
                    line: u32::try_from(span.start.line()).unwrap_or(u32::MAX),
                    column: u32::try_from(span.start.col() + 1).unwrap_or(u32::MAX),
                    message: format!("nesting deeper than {MAX_DEPTH} levels"),
                });
            }
            Event::MappingStart(_, tag) => {
                stack.push((Node::Map(Vec::new(), local_tag(tag.as_deref())), None));
                continue;
            }
            Event::SequenceStart(_, tag) => {
                stack.push((Node::Seq(Vec::new(), local_tag(tag.as_deref())), None));
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => match stack.pop() {
                Some((node, _)) => node,
                None => continue,
            },
            Event::Scalar(value, style, anchor, tag) => {
                let s = scalar(value.into_owned(), &span, style, local_tag(tag.as_deref()));
                if anchor > 0 {
                    anchors.insert(anchor, s.clone());
                }
                Node::Scalar(s)
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(s) => Node::Scalar(s.clone()),
                None => Node::Other,
            },
        };
        match stack.last_mut() {
            None => docs.push(node),
            Some((Node::Seq(items, _), _)) => items.push(node),
            Some((Node::Map(entries, _), key)) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => match node {
                    Node::Scalar(s) => *key = Some(s),
                    // A complex key: its value is read into a key nobody looks up.
                    _ => *key = Some(scalar(String::new(), &span, ScalarStyle::Plain, None)),
                },
            },
            Some(_) => {}
        }
    }
    Ok(docs)
}

fn local_tag(tag: Option<&saphyr_parser::Tag>) -> Option<String> {
    let tag = tag?;
    (tag.handle == "!" && !tag.suffix.is_empty()).then(|| tag.suffix.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_image(src: &str) -> Scalar {
        let docs = load(src).unwrap();
        let doc = &docs[0];
        let holder = [doc.get("a"), doc.get("c").and_then(|c| c.items().first())]
            .into_iter()
            .flatten()
            .find(|h| h.get("image").is_some())
            .unwrap_or(doc);
        holder.get("image").unwrap().as_scalar().unwrap().clone()
    }

    #[test]
    fn spans_are_bytes_of_the_value() {
        for src in [
            "image: app:1\n",
            "image: 'app:1'\n",
            "image: \"app:1\"\n",
            "\u{feff}image: app:1\n",
            "# é comment ü\nimage:   app:1   # trailing\n",
            "x: ü\r\nimage: \"app:1\"\r\n",
            "{\"image\":\"app:1\"}",
            "{ \"é\": 1,\n  \"image\" :  \"app:1\" }\n",
            "image: 'app:1' # a 'comment'\n",
            "a:\n  image: \"app:1\"  # \"x\"\nb: 1\n",
            "c: [{name: p, image: \"app:1\"}]\n",
        ] {
            let s = first_image(src);
            let (a, b) = s
                .value_span(src)
                .unwrap_or_else(|| panic!("{src:?}: {s:?}"));
            assert_eq!(&src[a..b], "app:1", "{src:?}");
        }
        let s = first_image("a: 1\nb: 2\nimage:   app:1\n");
        assert_eq!((s.line, s.column), (3, 10));
        let s = first_image("ü: 1\nimage: ü\n");
        assert_eq!(s.column, 8);
    }

    #[test]
    fn escapes_and_blocks_are_not_rewritable() {
        let src = "image: \"app\\u003a1\"\n";
        let s = first_image(src);
        assert_eq!(s.value, "app:1");
        assert!(s.value_span(src).is_none());
        let src = "image: |\n  app:1\n";
        assert!(first_image(src).value_span(src).is_none());
    }

    #[test]
    fn documents_aliases_and_tags() {
        let src =
            "---\n# Source: chart/templates/a.yaml\na: &img app:1\nb: *img\n---\n---\nc: !Sub x\n";
        let docs = load(src).unwrap();
        assert_eq!(docs.len(), 3, "{docs:?}");
        let b = docs[0].get("b").unwrap().as_scalar().unwrap();
        assert_eq!((b.value.as_str(), b.line), ("app:1", 3));
        let c = docs[2].get("c").unwrap();
        assert_eq!(c.tag(), Some("Sub"));
        let c = c.as_scalar().unwrap();
        assert_eq!(c.value_span(src).map(|(a, b)| &src[a..b]), Some("x"));
        assert_eq!(c.column, 9);
        assert!(load("a: [1\n").is_err());
        assert!(load(&"[".repeat(MAX_DEPTH + 2)).is_err());
    }
}
