//! # immutag-core
//!
//! The pure evaluator of immutag: it turns a description of an Amazon ECR repository
//! (from AWS Config, the ECR API, a CloudFormation template or a Terraform plan) into a
//! COMPLIANT / NON_COMPLIANT / NOT_APPLICABLE verdict with an annotation that says what to do.
//!
//! No I/O, no async, no AWS SDK: embed it anywhere (it builds for `wasm32`).
//!
//! ```
//! use immutag_core::{evaluate, Compliance, InputKind, Repository, RuleParameters, TagMutability};
//!
//! let params = RuleParameters::default(); // Security Hub ECR.2: only IMMUTABLE passes
//! let repo = Repository::new("payments", InputKind::Ecr).with_mutability(TagMutability::Mutable);
//! let verdict = evaluate(&repo, &params);
//! assert_eq!(verdict.compliance, Compliance::NonCompliant);
//! println!("{}: {}", verdict.resource_id, verdict.annotation);
//! ```
#![forbid(unsafe_code)]

/// The README's example (the crate's page on crates.io) is compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod change;
pub mod coverage;
pub mod error;
pub mod evaluate;
pub mod evidence;
pub mod finding;
pub mod input;
pub mod journal;
pub mod model;
pub mod params;
pub mod plan;
pub mod remediation;
pub mod rollback;
pub mod text;
pub mod time;
pub mod wildcard;

pub use error::{InputError, ParamError};
pub use evaluate::{Compliance, Evaluation, Reason, evaluate, evaluate_all};
pub use model::{
    AppliedFor, ECR_CREATION_TEMPLATE_TYPE, ECR_REGISTRY_TYPE, ECR_REPOSITORY_TYPE,
    ExclusionFilter, FilterSetting, FilterType, InputKind, MutabilitySetting, Repository,
    ResourceKind, ResourceStatus, ResourceType, Source, TagMutability, TemplatePrefix,
    TemplateScope,
};
pub use params::{RemediationMode, RuleParameters};
