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
//! - deny `ecr:CreateRepository` without a given request tag.
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
pub mod options;
pub mod policy;
pub mod presets;
pub mod wildcard;

pub use check::{CheckReport, Finding, FindingCode, PolicyKind, Severity, check_policy};
pub use condition::{BaseOperator, ConditionOperator, SetQualifier};
pub use error::ScpError;
pub use generate::{Generated, ServiceControlPolicy, Warning, generate};
pub use options::{ExemptTag, OptionsFormat, RequiredTag, ScpOptions};
pub use policy::{
    Condition, ConditionValue, Effect, OneOrMany, POLICY_VERSION, PolicyDocument, SCP_MAX_BYTES,
    Statement, Style,
};
