//! What `immutag pins resolve` changes (pure): from the pins of a tree and the digest each
//! unpinned ECR reference's tag names now, the edits of each file, and every reference that
//! cannot be pinned, with the reason.
//!
//! ```
//! use immutag_pins::{find::find, resolve::{plan, Outcome}};
//! let src = "FROM 111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:v1\nFROM nginx:1\n";
//! let pins = find("Dockerfile", src, None).unwrap();
//! let digest = format!("sha256:{}", "a".repeat(64));
//! let plan = plan(&pins, |_, _| Ok(digest.clone()));
//! assert_eq!(plan.files.len(), 1);
//! assert_eq!(plan.files[0].edits[0].replacement, format!("111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:v1@{digest}"));
//! assert!(matches!(plan.outcomes[1].1, Outcome::LeftAlone(_)));
//! ```

use std::collections::BTreeMap;

use crate::live::{RepoId, repo_of};
use crate::pin::{Pin, PinStatus};
use crate::rewrite::Edit;

/// What happens to one pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Pinned to this digest by an edit.
    Pinned(String),
    /// Already pinned: nothing to do.
    AlreadyPinned,
    /// Not an ECR reference, or not resolvable statically: reported and left alone (why).
    LeftAlone(String),
    /// An unpinned ECR reference that cannot be pinned (the tag does not exist, the text
    /// cannot be rewritten in place, the repository could not be read): an error (why).
    Failed(String),
}

/// The edits of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdits {
    /// The file.
    pub file: String,
    /// Its edits, in file order.
    pub edits: Vec<Edit>,
}

/// The whole change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Files to change, sorted.
    pub files: Vec<FileEdits>,
    /// Every pin and what happens to it, in the order given.
    pub outcomes: Vec<(Pin, Outcome)>,
}

impl Plan {
    /// Pins that could not be pinned.
    pub fn failed(&self) -> impl Iterator<Item = (&Pin, &str)> {
        self.outcomes.iter().filter_map(|(p, o)| match o {
            Outcome::Failed(why) => Some((p, why.as_str())),
            _ => None,
        })
    }
}

/// Plans the edits for `pins`. `digest_of(repo, pin)` returns the digest the pin's tag names
/// now (or why it cannot); it is called for UNPINNED ECR pins only.
pub fn plan(pins: &[Pin], digest_of: impl Fn(&RepoId, &Pin) -> Result<String, String>) -> Plan {
    let mut by_file: BTreeMap<String, Vec<Edit>> = BTreeMap::new();
    let mut outcomes = Vec::with_capacity(pins.len());
    for pin in pins {
        let outcome = match (pin.status, repo_of(pin)) {
            (PinStatus::Pinned, _) => Outcome::AlreadyPinned,
            (PinStatus::Unresolved | PinStatus::Invalid, _) => Outcome::LeftAlone(format!(
                "{}: {}",
                pin.status.as_str(),
                pin.detail.as_deref().unwrap_or("not a static reference")
            )),
            (_, None) => Outcome::LeftAlone("not an ECR registry (no registry other than ECR is read)".to_owned()),
            (_, Some(repo)) => match digest_of(&repo, pin) {
                Err(why) => Outcome::Failed(why),
                Ok(digest) => match Edit::pin(pin, &digest) {
                    Some(edit) => {
                        by_file.entry(pin.file.clone()).or_default().push(edit);
                        Outcome::Pinned(digest)
                    }
                    None => Outcome::Failed(
                        "cannot be rewritten in place (written with escapes, a block scalar, or across lines)".to_owned(),
                    ),
                },
            },
        };
        outcomes.push((pin.clone(), outcome));
    }
    let files = by_file
        .into_iter()
        .map(|(file, mut edits)| {
            edits.sort();
            edits.dedup();
            FileEdits { file, edits }
        })
        .collect();
    Plan { files, outcomes }
}
