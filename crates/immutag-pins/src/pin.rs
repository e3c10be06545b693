//! The *pin*: one image reference found in a file, where it is, and its status.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::reference::{ImageRef, ReferenceError};

/// The kinds of file image references are read from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// A Dockerfile or Containerfile (`FROM`, `COPY --from`).
    Dockerfile,
    /// A Compose file (`services.*.image`).
    Compose,
    /// Kubernetes manifests (`containers`, `initContainers`, `ephemeralContainers`).
    Kubernetes,
    /// An ECS task definition (`containerDefinitions[].image`).
    EcsTaskDefinition,
    /// A CloudFormation template (`AWS::ECS::TaskDefinition` `ContainerDefinitions[].Image`).
    Cloudformation,
    /// A GitHub Actions workflow or action (`container`, `services`, `uses: docker://`).
    GithubActions,
}

impl FileKind {
    /// The kebab-case name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dockerfile => "dockerfile",
            Self::Compose => "compose",
            Self::Kubernetes => "kubernetes",
            Self::EcsTaskDefinition => "ecs-task-definition",
            Self::Cloudformation => "cloudformation",
            Self::GithubActions => "github-actions",
        }
    }
}

/// The status of a pin. Everything but [`PinStatus::Pinned`] is a finding.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PinStatus {
    /// The reference names a digest.
    Pinned,
    /// A tag only, or neither tag nor digest (implicit `latest`).
    Unpinned,
    /// Built from a variable or expression whose value is not known statically (an `ARG`
    /// without default, `${{ matrix.image }}`, `!Sub` with `${AWS::AccountId}`): it cannot be
    /// shown to be pinned.
    Unresolved,
    /// The text is not an image reference the registry grammar accepts.
    Invalid,
    /// (`--live`) Unpinned, and the ECR repository is not compliant: the tag can be re-pointed
    /// now.
    MutableRepository,
    /// (`--live`) The pinned digest is not in the repository (or the repository is gone).
    DigestMissing,
    /// (`--live`) A `tag@digest` whose tag now names another digest.
    TagMoved,
}

impl PinStatus {
    /// Every status, in the order of the SARIF rules.
    pub const ALL: [PinStatus; 7] = [
        Self::Pinned,
        Self::Unpinned,
        Self::Unresolved,
        Self::Invalid,
        Self::MutableRepository,
        Self::DigestMissing,
        Self::TagMoved,
    ];

    /// The SCREAMING_SNAKE_CASE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pinned => "PINNED",
            Self::Unpinned => "UNPINNED",
            Self::Unresolved => "UNRESOLVED",
            Self::Invalid => "INVALID",
            Self::MutableRepository => "MUTABLE_REPOSITORY",
            Self::DigestMissing => "DIGEST_MISSING",
            Self::TagMoved => "TAG_MOVED",
        }
    }

    /// True for every status but `PINNED`.
    pub fn is_finding(self) -> bool {
        self != Self::Pinned
    }
}

/// Where `resolve` writes: a byte range of the file and the text it holds now.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// The text in `start..end` when the file was read.
    pub text: String,
}

/// An image reference found in a file, and its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Pin {
    /// The file, as given or as found by the walk (`-` for stdin).
    pub file: String,
    /// 1-based line of the reference text.
    pub line: u32,
    /// 1-based column (in characters) of the reference text.
    pub column: u32,
    /// The kind of file.
    pub kind: FileKind,
    /// Where in the file: `FROM`, `services.web`, `Deployment/api containers/app`, ...
    pub context: String,
    /// The reference text as written (variables unexpanded).
    pub text: String,
    /// The reference after static expansion, parsed; absent when unresolved or invalid.
    #[serde(flatten)]
    pub image: Option<ImageRef>,
    /// The status.
    pub status: PinStatus,
    /// Why, when there is more to say (the variable not resolved, the digest a tag moved to).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Where `resolve` writes the digest, when the reference can be rewritten in place.
    #[serde(skip)]
    #[schemars(skip)]
    pub target: Option<Target>,
}

/// What a finder knows of one reference before it is judged.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub line: u32,
    pub column: u32,
    pub context: String,
    pub text: String,
    /// The expanded text, or why it could not be expanded.
    pub expanded: Result<String, String>,
    pub target: Option<Target>,
}

impl Pin {
    /// A pin from what a finder found: parsed, with its static status.
    pub(crate) fn from_found(file: &str, kind: FileKind, f: Found) -> Self {
        let (image, status, detail) = match f.expanded {
            Err(why) => (None, PinStatus::Unresolved, Some(why)),
            Ok(text) => match ImageRef::parse(&text) {
                Ok(r) => {
                    let status = if r.is_pinned() {
                        PinStatus::Pinned
                    } else {
                        PinStatus::Unpinned
                    };
                    let detail = (text != f.text).then(|| format!("expands to {text}"));
                    (Some(r), status, detail)
                }
                Err(e) => (None, PinStatus::Invalid, Some(invalid_detail(&text, &e))),
            },
        };
        Self {
            file: file.to_owned(),
            line: f.line,
            column: f.column,
            kind,
            context: f.context,
            text: f.text,
            image,
            status,
            detail,
            target: f.target,
        }
    }

    /// True when this reference names a private ECR registry.
    pub fn is_ecr(&self) -> bool {
        self.image.as_ref().is_some_and(|i| i.ecr.is_some())
    }

    /// The text `resolve` writes at [`Pin::target`] to pin `digest`: the target's text with
    /// `@DIGEST` appended (and `:latest` before it when the reference names no tag), so that
    /// variables and the registry spelling stay as written.
    pub fn pinned_text(&self, digest: &str) -> Option<String> {
        let target = self.target.as_ref()?;
        let image = self.image.as_ref()?;
        let tag = if image.tag.is_none() {
            format!(":{}", crate::reference::IMPLICIT_TAG)
        } else {
            String::new()
        };
        Some(format!("{}{tag}@{digest}", target.text))
    }
}

fn invalid_detail(text: &str, e: &ReferenceError) -> String {
    format!("`{text}`: {e}")
}
