//! JSON output: a pretty-printed array of [`Evaluation`], one per resource, in input order.
//!
//! The element shape is [`Evaluation`]'s serde form; `immutag schema evaluation` prints its
//! JSON Schema. Fields are added, never renamed or removed, within a major version.

use std::io::{self, Write};

use immutag_core::Evaluation;

/// Writes `evals` as a JSON array followed by a newline.
pub fn write(evals: &[Evaluation], out: &mut dyn Write) -> io::Result<()> {
    let mut array = Array::new(out);
    for e in evals {
        array.push(e)?;
    }
    array.finish()
}

/// The JSON array written one evaluation at a time, byte for byte what
/// `serde_json::to_writer_pretty` writes for the whole slice (plus the final newline).
pub struct Array<W: Write> {
    out: W,
    items: usize,
    buf: Vec<u8>,
}

impl<W: Write> Array<W> {
    /// An empty array; nothing is written before the first [`Array::push`] or
    /// [`Array::finish`].
    pub fn new(out: W) -> Self {
        Self {
            out,
            items: 0,
            buf: Vec::new(),
        }
    }

    /// Writes one element.
    pub fn push(&mut self, e: &Evaluation) -> io::Result<()> {
        self.buf.clear();
        serde_json::to_writer_pretty(&mut self.buf, e).map_err(io::Error::other)?;
        self.out
            .write_all(if self.items == 0 { b"[\n" } else { b",\n" })?;
        // One level deeper: JSON text holds no raw newline inside a string, so every line
        // of the element is indented.
        for (i, line) in self.buf.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                self.out.write_all(b"\n")?;
            }
            self.out.write_all(b"  ")?;
            self.out.write_all(line)?;
        }
        self.items += 1;
        Ok(())
    }

    /// Closes the array and writes the final newline.
    pub fn finish(mut self) -> io::Result<()> {
        self.out
            .write_all(if self.items == 0 { b"[]\n" } else { b"\n]\n" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use immutag_core::{InputKind, Repository, RuleParameters, TagMutability, evaluate};

    #[test]
    fn round_trips() {
        let evals = vec![evaluate(
            &Repository::new("api", InputKind::Ecr).with_mutability(TagMutability::Mutable),
            &RuleParameters::default(),
        )];
        let mut out = Vec::new();
        write(&evals, &mut out).unwrap();
        let back: Vec<Evaluation> = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, evals);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v[0]["compliance"], "NON_COMPLIANT");
        assert_eq!(v[0]["reason"], "mutable");
    }

    #[test]
    fn streamed_array_is_what_serde_json_prints() {
        let p = RuleParameters::default();
        for n in [0, 1, 3] {
            let evals: Vec<Evaluation> = (0..n)
                .map(|i| {
                    evaluate(
                        &Repository::new(format!("r{i}"), InputKind::Ecr)
                            .with_mutability(TagMutability::parse("a\n\"b")),
                        &p,
                    )
                })
                .collect();
            let mut out = Vec::new();
            write(&evals, &mut out).unwrap();
            let mut want = serde_json::to_vec_pretty(&evals).unwrap();
            want.push(b'\n');
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(want).unwrap()
            );
        }
    }
}
