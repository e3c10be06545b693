//! Which files hold image references, and the references of one file's text (pure).

use std::path::Path;

use crate::error::PinsError;
use crate::pin::{FileKind, Pin};
use crate::{dockerfile, manifests, yaml};

/// What a file is, as far as its name tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidate {
    /// `Dockerfile`, `Containerfile`, `*.Dockerfile`, `Dockerfile.*`, ... (any case).
    Dockerfile,
    /// `*.yaml`, `*.yml`, `*.json`: the content says which kind (Compose, Kubernetes, ECS,
    /// CloudFormation, GitHub Actions), if any.
    Structured,
}

impl Candidate {
    /// The candidate `path` names, or `None` for a file that is never read in a walk.
    ///
    /// ```
    /// use immutag_pins::find::Candidate;
    /// use std::path::Path;
    /// assert_eq!(Candidate::of(Path::new("svc/Dockerfile.prod")), Some(Candidate::Dockerfile));
    /// assert_eq!(Candidate::of(Path::new("k8s/api.yaml")), Some(Candidate::Structured));
    /// assert_eq!(Candidate::of(Path::new("main.go")), None);
    /// ```
    pub fn of(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let dockerish = |stem: &str| {
            name == stem
                || name.starts_with(&format!("{stem}."))
                || name.ends_with(&format!(".{stem}"))
        };
        if dockerish("dockerfile") || dockerish("containerfile") {
            return Some(Self::Dockerfile);
        }
        let ext = name.rsplit_once('.').map(|(_, e)| e)?;
        matches!(ext, "yaml" | "yml" | "json").then_some(Self::Structured)
    }
}

/// True when `text` could hold a reference of a structured kind: every one is the value of
/// an `image` / `Image` key, a `container`, or a `docker://` use. Files without any of these
/// words are not parsed.
fn may_hold_references(text: &str) -> bool {
    text.contains("mage") || text.contains("container") || text.contains("docker://")
}

/// True when `text` reads as a Dockerfile: its first instruction is `FROM` or `ARG`.
fn looks_like_dockerfile(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .and_then(|l| l.split_whitespace().next())
        .is_some_and(|w| w.eq_ignore_ascii_case("FROM") || w.eq_ignore_ascii_case("ARG"))
}

/// The references of `text`, the content of `file`. `candidate` says what the file name
/// says (`None`: decide by content, as for a file named on the command line or stdin).
///
/// ```
/// use immutag_pins::{find::find, PinStatus};
/// let pins = find("Dockerfile", "FROM alpine:3.20 AS base\nFROM base\n", None).unwrap();
/// assert_eq!(pins.len(), 1);
/// assert_eq!(pins[0].status, PinStatus::Unpinned);
/// assert_eq!((pins[0].line, pins[0].column), (1, 6));
/// ```
pub fn find(file: &str, text: &str, candidate: Option<Candidate>) -> Result<Vec<Pin>, PinsError> {
    let candidate = candidate.unwrap_or(if looks_like_dockerfile(text) {
        Candidate::Dockerfile
    } else {
        Candidate::Structured
    });
    match candidate {
        Candidate::Dockerfile => Ok(dockerfile::find(text)
            .into_iter()
            .map(|f| Pin::from_found(file, FileKind::Dockerfile, f))
            .collect()),
        Candidate::Structured => {
            if !may_hold_references(text) {
                return Ok(Vec::new());
            }
            let mut pins = Vec::new();
            for doc in yaml::load(text)? {
                if let Some(kind) = manifests::classify(&doc) {
                    pins.extend(
                        manifests::find(kind, &doc, text)
                            .into_iter()
                            .map(|f| Pin::from_found(file, kind, f)),
                    );
                }
            }
            Ok(pins)
        }
    }
}
