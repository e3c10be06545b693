//! # immutag-scp
//!
//! Generates the Service Control Policies that IAM can actually enforce for ECR tag
//! immutability, and checks existing policies for the common mistakes. Pure: no I/O.
//!
//! No IAM condition key exposes a repository's tag mutability (see [`keys`]), so the
//! often-suggested "deny `ecr:CreateRepository` unless `ecr:ImageTagMutability` is
//! `IMMUTABLE`" denies every creation. What IAM can enforce instead:
//!
//! - deny `ecr:PutImageTagMutability` to all but exempt principals (no one can turn a
//!   repository back to MUTABLE);
//! - deny `ecr:CreateRepository` to all but the pipeline / IaC principals whose templates
//!   are checked;
//! - deny the repository creation template actions likewise;
//! - deny `ecr:BatchDeleteImage` and `ecr:DeleteRepository` likewise (IMMUTABLE refuses a
//!   push only while the tag exists: delete it, push it again);
//! - deny adding or removing the Config rule's exemption tag key likewise;
//! - deny `ecr:CreateRepository` without a given request tag.
//!
//! Modules: [`policy`] (the typed document), [`condition`] (operators and what they do on an
//! absent key), [`keys`] (the Service Authorization Reference table), [`limits`],
//! [`principal`] (how much an exemption exempts), [`options`] and [`presets`] (what to
//! generate), [`generate`] (options to policies), [`check`] (the linter; its reading entry
//! point is [`check::read_policy`]).
//!
//! ```
//! use immutag_scp::{generate, presets, Style};
//! let baseline = presets::get("baseline").unwrap();
//! let out = generate(&baseline.options).unwrap();
//! let uploaded = out.policies[0].document.render(Style::Minified).unwrap();
//! assert!(uploaded.len() <= immutag_scp::SCP_MAX_BYTES);
//! assert!(uploaded.contains("ecr:PutImageTagMutability"));
//! ```
#![forbid(unsafe_code)]

pub mod check;
pub mod condition;
pub mod error;
pub mod generate;
pub mod keys;
pub mod limits;
pub mod options;
pub mod policy;
pub mod presets;
pub mod principal;
pub mod wildcard;

pub use check::{CheckReport, Finding, FindingCode, PolicyKind, Severity, check_policy};
pub use condition::{BaseOperator, ConditionOperator, SetQualifier};
pub use error::ScpError;
pub use generate::{Generated, ServiceControlPolicy, Warning, generate};
pub use limits::{IDENTITY_POLICY_MAX_BYTES, MAX_SCPS_PER_TARGET, SCP_MAX_BYTES};
pub use options::{ExemptTag, OptionsFormat, RequiredTag, ScpOptions};
pub use policy::{
    Condition, ConditionValue, Effect, OneOrMany, POLICY_VERSION, PolicyDocument, Statement, Style,
};
