//! JSON output: a pretty-printed array of [`Evaluation`], one per resource, in input order.
//!
//! The element shape is [`Evaluation`]'s serde form; `immutag schema evaluation` prints its
//! JSON Schema. Fields are added, never renamed or removed, within a major version.

use std::io::{self, Write};

use immutag_core::Evaluation;

/// Writes `evals` as a JSON array followed by a newline.
pub fn write(evals: &[Evaluation], out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, evals).map_err(io::Error::other)?;
    writeln!(out)
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
}
