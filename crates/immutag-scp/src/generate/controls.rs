//! One Deny statement per enabled control, each with its principal exemption
//! (`ArnNotLike` on `aws:PrincipalArn`) and the scope the options give (regions, extra
//! conditions, exempt repositories, the exempt repository tag).

use crate::condition::{BaseOperator, ConditionOperator, SetQualifier};
use crate::error::ScpError;
use crate::options::ScpOptions;
use crate::policy::{Condition, OneOrMany, Statement};

use super::validate::{Resolved, dedup};

/// The actions of the mutability lock.
pub const LOCK_MUTABILITY_ACTIONS: &[&str] = &["ecr:PutImageTagMutability"];
/// The action of the creation restriction and of required tags.
pub const CREATE_ACTIONS: &[&str] = &["ecr:CreateRepository"];
/// The repository creation template actions.
pub const TEMPLATE_ACTIONS: &[&str] = &[
    "ecr:CreateRepositoryCreationTemplate",
    "ecr:UpdateRepositoryCreationTemplate",
    "ecr:DeleteRepositoryCreationTemplate",
];
/// The actions that can add or remove a tag on a repository.
pub const TAGGING_ACTIONS: &[&str] = &[
    "ecr:CreateRepository",
    "ecr:TagResource",
    "ecr:UntagResource",
];
/// The actions that remove a tag so that it can be pushed again (the delete-and-re-push
/// bypass of IMMUTABLE).
pub const PROTECT_TAGS_ACTIONS: &[&str] = &["ecr:BatchDeleteImage", "ecr:DeleteRepository"];

/// Sid of the mutability lock statement.
pub const SID_LOCK_MUTABILITY: &str = "ImmutagLockTagMutability";
/// Sid of the statement that protects the exemption tag keys.
pub const SID_PROTECT_EXEMPTION_TAG: &str = "ImmutagProtectExemptionTag";
/// Sid of the creation restriction statement.
pub const SID_RESTRICT_CREATION: &str = "ImmutagRestrictRepositoryCreation";
/// Sid prefix of the required-tag statements (`ImmutagRequireCreationTag1`, ...).
pub const SID_REQUIRE_TAG_PREFIX: &str = "ImmutagRequireCreationTag";
/// Sid of the creation template lock statement.
pub const SID_LOCK_TEMPLATES: &str = "ImmutagLockCreationTemplates";
/// Sid of the statement that denies deleting images and repositories.
pub const SID_PROTECT_TAGS: &str = "ImmutagProtectTags";

/// Builds the statements in their documented order: mutability lock, exemption tag
/// protection, creation restriction, required tags, template lock, tag protection.
pub(crate) fn statements(opts: &ScpOptions, r: &Resolved) -> Result<Vec<Statement>, ScpError> {
    let base_condition = |principals: &[String]| -> Result<Condition, ScpError> {
        let mut c = Condition::new();
        if !principals.is_empty() {
            c.insert(
                ConditionOperator::plain(BaseOperator::ArnNotLike),
                "aws:PrincipalArn",
                principals.iter().map(|p| p.as_str().into()).collect(),
            )?;
        }
        if !opts.regions.is_empty() {
            c.insert(
                ConditionOperator::plain(BaseOperator::StringEquals),
                "aws:RequestedRegion",
                dedup(&opts.regions)
                    .iter()
                    .map(|r| r.as_str().into())
                    .collect(),
            )?;
        }
        if let Some(extra) = &opts.extra_conditions {
            c.merge(extra)?;
        }
        Ok(c)
    };
    let scoped = |mut s: Statement| -> Statement {
        if !r.repositories.is_empty() {
            s.resource = None;
            s.not_resource = Some(OneOrMany::from_vec(r.repositories.clone()));
        }
        s
    };
    // Repositories carrying the exempt tag are left out of the mutability and tag locks.
    let unless_exempt_tag = |c: &mut Condition| -> Result<(), ScpError> {
        if let Some(tag) = &opts.exempt_repository_tag {
            c.insert(
                ConditionOperator::plain(BaseOperator::StringNotEquals),
                &format!("aws:ResourceTag/{}", tag.key),
                vec![tag.value.as_str().into()],
            )?;
        }
        Ok(())
    };

    let mut statements = Vec::new();
    if opts.lock_mutability {
        let mut c = base_condition(&r.exempt)?;
        unless_exempt_tag(&mut c)?;
        let mut s = scoped(Statement::deny(
            SID_LOCK_MUTABILITY,
            LOCK_MUTABILITY_ACTIONS,
        ));
        s.condition = Some(c);
        statements.push(s);
    }
    let protected_keys = protected_tag_keys(opts);
    if !protected_keys.is_empty() {
        // Without this, anyone allowed to tag a repository could exempt it.
        let mut c = base_condition(&r.exempt)?;
        c.insert(
            ConditionOperator {
                qualifier: Some(SetQualifier::ForAnyValue),
                base: BaseOperator::StringEqualsIgnoreCase,
                if_exists: false,
            },
            "aws:TagKeys",
            protected_keys.iter().map(|k| k.as_str().into()).collect(),
        )?;
        let mut s = Statement::deny(SID_PROTECT_EXEMPTION_TAG, TAGGING_ACTIONS);
        s.condition = Some(c);
        statements.push(s);
    }
    if opts.restrict_creation {
        let mut s = scoped(Statement::deny(SID_RESTRICT_CREATION, CREATE_ACTIONS));
        s.condition = Some(base_condition(&r.creators)?);
        statements.push(s);
    }
    for (i, tag) in opts.require_creation_tags.iter().enumerate() {
        let mut c = base_condition(&r.exempt)?;
        let key = format!("aws:RequestTag/{}", tag.key);
        if tag.values.is_empty() {
            c.insert(
                ConditionOperator::plain(BaseOperator::Null),
                &key,
                vec!["true".into()],
            )?;
        } else {
            // Negated on purpose: a missing tag (absent key) is denied too.
            c.insert(
                ConditionOperator::plain(BaseOperator::StringNotEquals),
                &key,
                dedup(&tag.values)
                    .iter()
                    .map(|v| v.as_str().into())
                    .collect(),
            )?;
        }
        let mut s = scoped(Statement::deny(
            &format!("{SID_REQUIRE_TAG_PREFIX}{}", i + 1),
            CREATE_ACTIONS,
        ));
        s.condition = Some(c);
        statements.push(s);
    }
    if opts.lock_creation_templates {
        // Registry-level actions: no repository ARN to exempt, so no NotResource.
        let mut s = Statement::deny(SID_LOCK_TEMPLATES, TEMPLATE_ACTIONS);
        s.condition = Some(base_condition(&r.exempt)?);
        statements.push(s);
    }
    if opts.protect_tags {
        let mut c = base_condition(&r.exempt)?;
        unless_exempt_tag(&mut c)?;
        let mut s = scoped(Statement::deny(SID_PROTECT_TAGS, PROTECT_TAGS_ACTIONS));
        s.condition = Some(c);
        statements.push(s);
    }
    Ok(statements)
}

/// The tag keys no one but the exempt principals may add or remove: the exempt repository
/// tag (when a control honours it) and the Config rule's exemption tag key, each once
/// (tag keys compared without case, as the statement does).
fn protected_tag_keys(opts: &ScpOptions) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let exempt_tag = opts
        .exempt_repository_tag
        .as_ref()
        .filter(|_| opts.lock_mutability || opts.protect_tags)
        .map(|t| &t.key);
    for key in exempt_tag.into_iter().chain(&opts.rule_exemption_tag_key) {
        if !keys.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            keys.push(key.clone());
        }
    }
    keys
}
