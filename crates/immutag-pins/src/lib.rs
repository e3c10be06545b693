//! # immutag-pins
//!
//! Step 3 of the loop: pin the consumers of ECR images to digests. This crate finds the image
//! references of a source tree, tells which are pinned, and rewrites them in place:
//!
//! * [`find`]: which files to read ([`find::Candidate`]) and the references of one file's
//!   text: Dockerfiles and Containerfiles, Compose files, Kubernetes manifests (multi-document,
//!   as `helm template` prints them), ECS task definitions (JSON, and
//!   `AWS::ECS::TaskDefinition` in CloudFormation JSON or YAML), GitHub Actions workflows and
//!   actions.
//! * [`reference`]: the image reference grammar and ECR registry hosts.
//! * [`pin`]: the [`Pin`] (a reference, where it is, and its [`PinStatus`]).
//! * [`live`]: what to ask the registry and the live status from its answer (pure; the calls
//!   are `immutag_aws::pins`).
//! * [`resolve`]: the edits that pin every unpinned ECR reference, from the digests its tags
//!   name now.
//! * [`rewrite`]: byte-span edits; nothing is re-serialized.
//! * [`files`]: the directory walk (`ignore`, parallel), reading and atomic writes.
//!
//! ```
//! use immutag_pins::{find::find, PinStatus};
//!
//! let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/api:1.4 # release\n";
//! let pins = find("deploy.yaml", yaml, None).unwrap();
//! assert_eq!(pins[0].status, PinStatus::Unpinned);
//! assert_eq!(pins[0].context, "Deployment/api containers/api");
//! assert_eq!((pins[0].line, pins[0].column), (9, 18));
//! ```
#![forbid(unsafe_code)]

mod dockerfile;
pub mod error;
pub mod files;
pub mod find;
pub mod live;
mod manifests;
pub mod pin;
pub mod reference;
pub mod resolve;
pub mod rewrite;
mod text;
mod vars;
mod yaml;

pub use error::PinsError;
pub use pin::{FileKind, Pin, PinStatus, Target};
pub use reference::{EcrRegistry, ImageRef};
