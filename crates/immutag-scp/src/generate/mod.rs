//! From [`ScpOptions`] to validated, size-checked Service Control Policies.
//!
//! One job per module, in the order [`generate`] runs them:
//! - `validate`: checks the options and resolves who is exempt from what (refusals: lockout,
//!   an exemption of everyone, bad names, tags, regions, repository patterns);
//! - `controls`: one Deny statement per enabled control (the Sids and actions are
//!   constants here, re-exported below);
//! - `guard`: refuses a statement whose condition key the reference does not list for one of
//!   its actions (never emit `ecr:ImageTagMutability`);
//! - `pack`: fits the statements, in order, into documents of at most 5,120 bytes.
//!
//! A new control is an option in [`ScpOptions`], its lockout rule in `validate`, its
//! statement in `controls`, and a preset in [`crate::presets`] with its golden file.

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::ScpError;
use crate::limits::SCP_MAX_BYTES;
use crate::options::ScpOptions;
use crate::policy::PolicyDocument;

mod controls;
mod guard;
mod pack;
mod validate;

pub use controls::{
    CREATE_ACTIONS, LOCK_MUTABILITY_ACTIONS, PROTECT_TAGS_ACTIONS, SID_LOCK_MUTABILITY,
    SID_LOCK_TEMPLATES, SID_PROTECT_EXEMPTION_TAG, SID_PROTECT_TAGS, SID_REQUIRE_TAG_PREFIX,
    SID_RESTRICT_CREATION, TAGGING_ACTIONS, TEMPLATE_ACTIONS,
};
pub use validate::validate_principal_pattern;

/// One generated SCP, ready to upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ServiceControlPolicy {
    /// File stem (`NAME` of `NAME.json`): the options' `name`, with `-1`, `-2`, ... when split.
    pub name: String,
    /// The document.
    pub document: PolicyDocument,
    /// Size of the minified document in bytes (the limit is [`SCP_MAX_BYTES`]).
    pub minified_bytes: usize,
}

/// Something the reader should know about the generated policies; never blocks generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Warning {
    /// Stable identifier (`management-account`, `split`, ...).
    pub code: String,
    /// What it means and what to do.
    pub message: String,
}

impl Warning {
    pub(crate) fn new(code: &str, message: impl Into<String>) -> Self {
        Warning {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// The generator's output: the policies (usually one) and the warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Generated {
    /// The policies, in attachment order.
    pub policies: Vec<ServiceControlPolicy>,
    /// Warnings.
    pub warnings: Vec<Warning>,
}

/// Validates the options and generates the policies.
///
/// ```
/// use immutag_scp::{generate, ScpOptions};
/// let opts = ScpOptions {
///     lock_mutability: true,
///     exempt_principals: vec!["arn:aws:iam::*:role/ImmutagPlatform".into()],
///     ..ScpOptions::default()
/// };
/// let out = generate(&opts).unwrap();
/// assert_eq!(out.policies.len(), 1);
/// assert!(out.policies[0].minified_bytes <= 5120);
///
/// // Without an exempt principal, nobody could ever fix a repository again: refused.
/// let locked_out = ScpOptions { exempt_principals: vec![], ..opts };
/// assert!(generate(&locked_out).unwrap_err().to_string().contains("every principal"));
/// ```
pub fn generate(opts: &ScpOptions) -> Result<Generated, ScpError> {
    let resolved = validate::resolve(opts)?;
    let statements = controls::statements(opts, &resolved)?;
    for s in &statements {
        guard::condition_keys(s)?;
    }
    let policies = pack::pack(&opts.name, statements, opts.max_policies)?;
    let mut warnings = resolved.warnings;
    warnings.extend(advice(opts, policies.len()));
    Ok(Generated { policies, warnings })
}

/// The warnings the reader must see every time, and those the options call for.
fn advice(opts: &ScpOptions, policies: usize) -> Vec<Warning> {
    let mut warnings = vec![
        Warning::new(
            "management-account",
            "SCPs never restrict the management account: principals there can still create mutable repositories and change tag mutability; keep workloads out of it and let the Config rule watch it",
        ),
        Warning::new(
            "service-linked-roles",
            "SCPs never restrict service-linked roles, so what ECR does through its own (replication into destination registries) is not denied; repositories ECR creates itself (replication, pull through cache, create on push) take their mutability from repository creation templates: lock the templates and let the Config rule and remediation catch the rest",
        ),
    ];
    if opts.restrict_creation && !opts.lock_creation_templates {
        warnings.push(Warning::new(
            "templates-unlocked",
            "restrict_creation is on but lock_creation_templates is off: anyone allowed to edit a repository creation template can still make ECR create MUTABLE repositories",
        ));
    }
    if opts.restrict_creation {
        warnings.push(Warning::new(
            "pull-through-cache",
            "ECR documents that the principal pulling through a pull through cache rule needs ecr:CreateRepository the first time; restrict_creation denies that to non-exempt principals (add them to creation_principals, or pre-create the repositories)",
        ));
    }
    if opts.lock_mutability && !opts.protect_tags {
        warnings.push(Warning::new(
            "delete-and-repush",
            "lock_mutability is on but protect_tags is off: IMMUTABLE refuses a push only while the tag exists, so whoever may ecr:BatchDeleteImage can delete a tag and push other bytes under the same name; add protect_tags (preset strict)",
        ));
    }
    if opts.protect_tags {
        warnings.push(Warning::new(
            "protect-tags",
            "protect_tags denies ecr:BatchDeleteImage and ecr:DeleteRepository to non-exempt principals: clean-up jobs that delete images must run as an exempt principal or become lifecycle policies (their expiry is done by ECR and keeps working)",
        ));
    }
    if policies > 1 {
        warnings.push(Warning::new(
            "split",
            format!(
                "the statements did not fit in one SCP of {SCP_MAX_BYTES} bytes and were split into {policies} policies; attach all of them to the same targets (at most 5 SCPs per target, FullAWSAccess usually being one)"
            ),
        ));
    }
    warnings
}

#[cfg(test)]
mod tests;
