//! From [`ScpOptions`] to validated, size-checked Service Control Policies.

use schemars::JsonSchema;
use serde::Serialize;

use crate::condition::{BaseOperator, ConditionOperator, SetQualifier};
use crate::error::ScpError;
use crate::keys::{self, KeyStatus};
use crate::options::{ExemptTag, ScpOptions};
use crate::policy::{
    Condition, ConditionValue, OneOrMany, PolicyDocument, SCP_MAX_BYTES, Statement,
};
use crate::wildcard;

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

/// Sid of the mutability lock statement.
pub const SID_LOCK_MUTABILITY: &str = "ImmutagLockTagMutability";
/// Sid of the statement that protects the exemption tag.
pub const SID_PROTECT_EXEMPTION_TAG: &str = "ImmutagProtectExemptionTag";
/// Sid of the creation restriction statement.
pub const SID_RESTRICT_CREATION: &str = "ImmutagRestrictRepositoryCreation";
/// Sid prefix of the required-tag statements (`ImmutagRequireCreationTag1`, ...).
pub const SID_REQUIRE_TAG_PREFIX: &str = "ImmutagRequireCreationTag";
/// Sid of the creation template lock statement.
pub const SID_LOCK_TEMPLATES: &str = "ImmutagLockCreationTemplates";

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
    fn new(code: &str, message: impl Into<String>) -> Self {
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
    let mut warnings = Vec::new();
    validate_name(&opts.name)?;
    if !(1..=5).contains(&opts.max_policies) {
        return Err(ScpError::InvalidMaxPolicies {
            value: opts.max_policies,
        });
    }
    if !opts.lock_mutability
        && !opts.restrict_creation
        && !opts.lock_creation_templates
        && opts.require_creation_tags.is_empty()
    {
        return Err(ScpError::NoControls);
    }

    let exempt = dedup(&opts.exempt_principals);
    let mut creators = exempt.clone();
    creators.extend(dedup(&opts.creation_principals));
    let creators = dedup(&creators);
    for p in exempt.iter().chain(&creators) {
        if let Some(w) = validate_principal_pattern(p)?
            && !warnings.contains(&w)
        {
            warnings.push(w);
        }
    }
    // Lockout: each control must leave someone able to do what it denies.
    if opts.lock_mutability && exempt.is_empty() {
        return Err(ScpError::Lockout {
            control: "lock_mutability",
            actions: "ecr:PutImageTagMutability",
            field: "exempt_principals",
        });
    }
    if opts.restrict_creation && creators.is_empty() {
        return Err(ScpError::Lockout {
            control: "restrict_creation",
            actions: "ecr:CreateRepository",
            field: "exempt_principals or creation_principals",
        });
    }
    if opts.lock_creation_templates && exempt.is_empty() {
        return Err(ScpError::Lockout {
            control: "lock_creation_templates",
            actions: "the repository creation template actions",
            field: "exempt_principals",
        });
    }
    if let Some(role) = &opts.platform_role_name {
        validate_role_name(role)?;
        if (opts.lock_mutability || opts.lock_creation_templates) && !exempts_role(&exempt, role) {
            return Err(ScpError::PlatformRoleNotExempt {
                name: role.clone(),
                patterns: if exempt.is_empty() {
                    "none given".to_owned()
                } else {
                    exempt.join(", ")
                },
            });
        }
    }
    let partition_ok = (1..=32).contains(&opts.partition.len())
        && opts.partition.starts_with("aws")
        && opts
            .partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-');
    if !partition_ok {
        return Err(ScpError::InvalidPartition {
            partition: opts.partition.clone(),
        });
    }
    let repositories = opts
        .exempt_repositories
        .iter()
        .map(|p| repository_arn_pattern(p, &opts.partition))
        .collect::<Result<Vec<_>, _>>()?;
    let repositories = dedup(&repositories);
    for r in &opts.regions {
        validate_region(r)?;
    }
    for tag in &opts.require_creation_tags {
        validate_tag_key(&tag.key)?;
        for v in &tag.values {
            validate_tag_value(&tag.key, v)?;
        }
    }
    if let Some(ExemptTag { key, value }) = &opts.exempt_repository_tag {
        validate_tag_key(key)?;
        validate_tag_value(key, value)?;
    }

    // Build the statements.
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
        if !repositories.is_empty() {
            s.resource = None;
            s.not_resource = Some(OneOrMany::from_vec(repositories.clone()));
        }
        s
    };

    let mut statements = Vec::new();
    if opts.lock_mutability {
        let mut c = base_condition(&exempt)?;
        if let Some(tag) = &opts.exempt_repository_tag {
            c.insert(
                ConditionOperator::plain(BaseOperator::StringNotEquals),
                &format!("aws:ResourceTag/{}", tag.key),
                vec![tag.value.as_str().into()],
            )?;
        }
        let mut s = scoped(Statement::deny(
            SID_LOCK_MUTABILITY,
            LOCK_MUTABILITY_ACTIONS,
        ));
        s.condition = Some(c);
        statements.push(s);
        if let Some(tag) = &opts.exempt_repository_tag {
            // Without this, anyone allowed to tag a repository could exempt it.
            let mut c = base_condition(&exempt)?;
            c.insert(
                ConditionOperator {
                    qualifier: Some(SetQualifier::ForAnyValue),
                    base: BaseOperator::StringEqualsIgnoreCase,
                    if_exists: false,
                },
                "aws:TagKeys",
                vec![tag.key.as_str().into()],
            )?;
            let mut s = Statement::deny(SID_PROTECT_EXEMPTION_TAG, TAGGING_ACTIONS);
            s.condition = Some(c);
            statements.push(s);
        }
    }
    if opts.restrict_creation {
        let mut s = scoped(Statement::deny(SID_RESTRICT_CREATION, CREATE_ACTIONS));
        s.condition = Some(base_condition(&creators)?);
        statements.push(s);
    }
    for (i, tag) in opts.require_creation_tags.iter().enumerate() {
        let mut c = base_condition(&exempt)?;
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
        s.condition = Some(base_condition(&exempt)?);
        statements.push(s);
    }
    for s in &statements {
        guard_condition_keys(s)?;
    }

    let policies = pack(&opts.name, statements, opts.max_policies)?;

    // Warnings the reader must see every time.
    warnings.push(Warning::new(
        "management-account",
        "SCPs never restrict the management account: principals there can still create mutable repositories and change tag mutability; keep workloads out of it and let the Config rule watch it",
    ));
    warnings.push(Warning::new(
        "service-linked-roles",
        "SCPs never restrict service-linked roles, so what ECR does through its own (replication into destination registries) is not denied; repositories ECR creates itself (replication, pull through cache, create on push) take their mutability from repository creation templates: lock the templates and let the Config rule and remediation catch the rest",
    ));
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
    if policies.len() > 1 {
        warnings.push(Warning::new(
            "split",
            format!(
                "the statements did not fit in one SCP of {SCP_MAX_BYTES} bytes and were split into {} policies; attach all of them to the same targets (at most 5 SCPs per target, FullAWSAccess usually being one)",
                policies.len()
            ),
        ));
    }
    Ok(Generated { policies, warnings })
}

/// Refuses a statement whose condition names a key the reference does not list for one
/// of its actions (the generator's promise: never emit a key IAM does not know).
fn guard_condition_keys(s: &Statement) -> Result<(), ScpError> {
    let Some(condition) = &s.condition else {
        return Ok(());
    };
    let actions: Vec<&String> = s.action.iter().flat_map(|a| a.iter()).collect();
    for (op, key, values) in condition.entries() {
        if keys::is_mutability_key(key) {
            return Err(ScpError::NoSuchConditionKey {
                key: key.to_owned(),
            });
        }
        for action in &actions {
            let Some(entry) = keys::ecr_action(action) else {
                continue;
            };
            let status = keys::key_status(entry, key);
            if status == KeyStatus::UnknownEcrKey {
                return Err(ScpError::NoSuchConditionKey {
                    key: key.to_owned(),
                });
            }
            if !status.can_be_present() {
                let values: Vec<String> = values.iter().map(ConditionValue::as_text).collect();
                let listed: Vec<&str> = entry.all_keys().collect();
                return Err(ScpError::ConditionKeyNotListed {
                    key: key.to_owned(),
                    action: (*action).clone(),
                    operator: op.to_string(),
                    outcome: if op.result_when_key_absent(&values) {
                        "always true (the Deny would apply to every call)"
                    } else {
                        "never true (the statement would never apply)"
                    },
                    listed: if listed.is_empty() {
                        "only global keys such as aws:PrincipalArn and aws:RequestedRegion"
                            .to_owned()
                    } else {
                        format!("{} and the global keys", listed.join(", "))
                    },
                });
            }
        }
    }
    Ok(())
}

/// Packs statements, in order, into as few documents of at most [`SCP_MAX_BYTES`] as
/// possible without reordering them.
fn pack(
    name: &str,
    statements: Vec<Statement>,
    max: u8,
) -> Result<Vec<ServiceControlPolicy>, ScpError> {
    let overhead = PolicyDocument::new(Vec::new()).minified_len()?;
    let mut bins: Vec<Vec<Statement>> = Vec::new();
    let mut current: Vec<Statement> = Vec::new();
    let mut current_len = overhead;
    for s in statements {
        let len = s.minified_len()?;
        if overhead + len > SCP_MAX_BYTES {
            return Err(ScpError::StatementTooLarge {
                sid: s.sid.clone().unwrap_or_default(),
                bytes: len,
            });
        }
        let added = len + usize::from(!current.is_empty());
        if current_len + added > SCP_MAX_BYTES {
            bins.push(std::mem::take(&mut current));
            current_len = overhead;
            current.push(s);
            current_len += len;
        } else {
            current.push(s);
            current_len += added;
        }
    }
    if !current.is_empty() {
        bins.push(current);
    }
    if bins.len() > usize::from(max) {
        return Err(ScpError::TooManyPolicies {
            needed: bins.len(),
            max,
        });
    }
    let count = bins.len();
    let mut out = Vec::with_capacity(count);
    for (i, statements) in bins.into_iter().enumerate() {
        let document = PolicyDocument::new(statements);
        let minified_bytes = document.minified_len()?;
        if minified_bytes > SCP_MAX_BYTES {
            // The arithmetic above is exact; this is the fail-closed backstop.
            return Err(ScpError::TooManyPolicies {
                needed: count + 1,
                max,
            });
        }
        out.push(ServiceControlPolicy {
            name: if count == 1 {
                name.to_owned()
            } else {
                format!("{name}-{}", i + 1)
            },
            document,
            minified_bytes,
        });
    }
    Ok(out)
}

fn dedup(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for i in items {
        if !out.contains(i) {
            out.push(i.clone());
        }
    }
    out
}

fn validate_name(name: &str) -> Result<(), ScpError> {
    let ok = (1..=100).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ScpError::InvalidName {
            name: name.to_owned(),
        })
    }
}

fn validate_role_name(name: &str) -> Result<(), ScpError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ScpError::InvalidPrincipalPattern {
            pattern: name.to_owned(),
            reason: "(platform_role_name) is not an IAM role name: 1 to 64 characters of A-Z a-z 0-9 + = , . @ _ -; give the name, not the ARN".to_owned(),
        })
    }
}

/// Checks one exempt principal pattern; returns a warning for patterns that are valid but
/// broad.
///
/// ```
/// use immutag_scp::generate::validate_principal_pattern;
/// assert!(validate_principal_pattern("arn:aws:iam::*:role/ImmutagPlatform").unwrap().is_none());
/// let err = validate_principal_pattern("arn:aws:sts::*:assumed-role/Admin/*").unwrap_err();
/// assert!(err.to_string().contains("role ARN"));
/// assert!(validate_principal_pattern("*").is_err());
/// ```
pub fn validate_principal_pattern(pattern: &str) -> Result<Option<Warning>, ScpError> {
    let refuse = |reason: &str| ScpError::InvalidPrincipalPattern {
        pattern: pattern.to_owned(),
        reason: reason.to_owned(),
    };
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return Err(refuse(
            "is not an ARN pattern: write arn:aws:iam::ACCOUNT:role/NAME, wildcards * and ? allowed (for example arn:aws:iam::*:role/ImmutagPlatform)",
        ));
    }
    let (service, account, resource) = (parts[2], parts[4], parts[5]);
    if service.eq_ignore_ascii_case("sts") {
        return Err(refuse(
            "names an STS session: for assumed-role sessions aws:PrincipalArn carries the role ARN (arn:aws:iam::ACCOUNT:role/PATH/NAME), never the sts assumed-role ARN, so this pattern exempts no one; write the role ARN",
        ));
    }
    if service != "iam" && !wildcard::has_wildcard(service) {
        return Err(refuse(
            "is not an IAM principal ARN (the service part must be `iam`)",
        ));
    }
    if resource.is_empty() || resource.chars().all(|c| c == '*') {
        return Err(refuse(
            "matches every principal, so the control would deny no one: name the roles (role/NAME, role/PATH/*)",
        ));
    }
    let account_ok = account == "aws"
        || wildcard::has_wildcard(account)
        || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()));
    if !account_ok {
        return Err(refuse(
            "has an account part that is neither 12 digits nor a wildcard",
        ));
    }
    if let Some(rest) = resource
        .strip_prefix("role/")
        .or_else(|| resource.strip_prefix("user/"))
        && rest.chars().all(|c| c == '*')
    {
        return Ok(Some(Warning::new(
            "broad-exemption",
            format!(
                "exempt principal pattern `{pattern}` exempts every role or user of the matching accounts; the control then binds almost no one"
            ),
        )));
    }
    Ok(None)
}

/// True when one of `patterns` matches the role `name` in some account (pattern accounts
/// and partitions are kept when they are literal).
fn exempts_role(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| {
        let parts: Vec<&str> = p.splitn(6, ':').collect();
        if parts.len() != 6 {
            return false;
        }
        let partition = if wildcard::has_wildcard(parts[1]) {
            "aws"
        } else {
            parts[1]
        };
        let account = if wildcard::has_wildcard(parts[4]) {
            "111122223333"
        } else {
            parts[4]
        };
        let arn = format!("arn:{partition}:iam::{account}:role/{name}");
        wildcard::matches(p, &arn, false)
    })
}

/// Expands a repository pattern (name or ARN) into an ARN pattern, refusing catch-alls.
fn repository_arn_pattern(pattern: &str, partition: &str) -> Result<String, ScpError> {
    let refuse = |reason: &str| ScpError::InvalidRepositoryPattern {
        pattern: pattern.to_owned(),
        reason: reason.to_owned(),
    };
    let (arn, name) = if pattern.starts_with("arn:") {
        let parts: Vec<&str> = pattern.splitn(6, ':').collect();
        let name = parts
            .get(5)
            .and_then(|r| r.strip_prefix("repository/"))
            .filter(|_| parts.len() == 6 && (parts[2] == "ecr" || wildcard::has_wildcard(parts[2])))
            .ok_or_else(|| refuse("is not an ECR repository ARN pattern (arn:aws:ecr:REGION:ACCOUNT:repository/NAME)"))?;
        (pattern.to_owned(), name.to_owned())
    } else {
        let valid = !pattern.is_empty()
            && pattern.len() <= 256
            && pattern
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/*?".contains(c));
        if !valid {
            return Err(refuse(
                "is not a repository name pattern: lower-case letters, digits, . _ - / and the wildcards * ?",
            ));
        }
        (
            format!("arn:{partition}:ecr:*:*:repository/{pattern}"),
            pattern.to_owned(),
        )
    };
    if name.is_empty() || name.chars().all(|c| c == '*') {
        return Err(refuse(
            "matches every repository: the controls would protect nothing",
        ));
    }
    Ok(arn)
}

fn validate_region(region: &str) -> Result<(), ScpError> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(ScpError::InvalidRegion {
            region: region.to_owned(),
        })
    }
}

fn tag_chars_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
}

fn validate_tag_key(key: &str) -> Result<(), ScpError> {
    let refuse = |reason: &str| ScpError::InvalidTag {
        key: key.to_owned(),
        reason: reason.to_owned(),
    };
    if key.is_empty() || key.chars().count() > 128 {
        return Err(refuse("must be 1 to 128 characters"));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(refuse("uses the reserved aws: prefix"));
    }
    if !tag_chars_ok(key) {
        return Err(refuse(
            "may contain only letters, digits, spaces and _ . : / = + - @",
        ));
    }
    Ok(())
}

fn validate_tag_value(key: &str, value: &str) -> Result<(), ScpError> {
    if value.chars().count() > 256 || !tag_chars_ok(value) {
        return Err(ScpError::InvalidTag {
            key: key.to_owned(),
            reason: format!(
                "value `{value}` must be at most 256 characters of letters, digits, spaces and _ . : / = + - @"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::RequiredTag;
    use crate::policy::Style;

    fn platform() -> Vec<String> {
        vec!["arn:aws:iam::*:role/ImmutagPlatform".to_owned()]
    }

    fn all_on() -> ScpOptions {
        ScpOptions {
            lock_mutability: true,
            restrict_creation: true,
            lock_creation_templates: true,
            exempt_principals: platform(),
            ..ScpOptions::default()
        }
    }

    #[test]
    fn baseline_statements_and_conditions() {
        let out = generate(&all_on()).unwrap();
        assert_eq!(out.policies.len(), 1);
        let doc = &out.policies[0].document;
        let sids: Vec<_> = doc.statements().map(|s| s.sid.clone().unwrap()).collect();
        assert_eq!(
            sids,
            [
                SID_LOCK_MUTABILITY,
                SID_RESTRICT_CREATION,
                SID_LOCK_TEMPLATES
            ]
        );
        let text = doc.render(Style::Minified).unwrap();
        assert_eq!(text.len(), out.policies[0].minified_bytes);
        assert!(
            text.contains(
                r#""ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ImmutagPlatform"}"#
            ),
            "{text}"
        );
        assert!(
            !text.to_ascii_lowercase().contains("ecr:imagetagmutability"),
            "{text}"
        );
        assert!(out.warnings.iter().any(|w| w.code == "management-account"));
        assert!(
            out.warnings
                .iter()
                .any(|w| w.code == "service-linked-roles")
        );
    }

    #[test]
    fn each_control_needs_an_exemption() {
        for (opts, control) in [
            (
                ScpOptions {
                    lock_mutability: true,
                    ..ScpOptions::default()
                },
                "lock_mutability",
            ),
            (
                ScpOptions {
                    restrict_creation: true,
                    ..ScpOptions::default()
                },
                "restrict_creation",
            ),
            (
                ScpOptions {
                    lock_creation_templates: true,
                    ..ScpOptions::default()
                },
                "lock_creation_templates",
            ),
        ] {
            match generate(&opts) {
                Err(ScpError::Lockout { control: c, .. }) => assert_eq!(c, control),
                other => panic!("{control}: {other:?}"),
            }
        }
        // Creation principals alone are enough for restrict_creation.
        let opts = ScpOptions {
            restrict_creation: true,
            creation_principals: vec!["arn:aws:iam::*:role/Pipeline".into()],
            ..ScpOptions::default()
        };
        assert!(generate(&opts).is_ok());
        // Required tags lock no one out: anyone can add the tag.
        let opts = ScpOptions {
            require_creation_tags: vec![RequiredTag {
                key: "team".into(),
                values: vec![],
            }],
            ..ScpOptions::default()
        };
        let out = generate(&opts).unwrap();
        let text = out.policies[0].document.render(Style::Minified).unwrap();
        assert!(
            text.contains(r#""Null":{"aws:RequestTag/team":"true"}"#),
            "{text}"
        );
    }

    #[test]
    fn no_controls_is_an_error() {
        assert_eq!(
            generate(&ScpOptions::default()).unwrap_err(),
            ScpError::NoControls
        );
    }

    #[test]
    fn mutability_key_in_extra_conditions_is_refused_with_the_explanation() {
        let mut opts = all_on();
        opts.extra_conditions = Some(
            serde_json::from_str(r#"{"StringNotEquals":{"ecr:ImageTagMutability":"IMMUTABLE"}}"#)
                .unwrap(),
        );
        let err = generate(&opts).unwrap_err();
        assert!(
            matches!(err, ScpError::NoSuchConditionKey { .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("no IAM condition key exposes"), "{msg}");
        assert!(msg.contains("restrict_creation"), "{msg}");
    }

    #[test]
    fn key_not_listed_for_an_action_is_refused() {
        // aws:ResourceTag is not carried by the registry-level template actions.
        let mut opts = all_on();
        opts.extra_conditions = Some(
            serde_json::from_str(r#"{"StringNotEquals":{"aws:ResourceTag/team":"platform"}}"#)
                .unwrap(),
        );
        let err = generate(&opts).unwrap_err();
        match &err {
            ScpError::ConditionKeyNotListed {
                action, outcome, ..
            } => {
                assert_eq!(action, "ecr:CreateRepositoryCreationTemplate");
                assert!(outcome.contains("always true"));
            }
            other => panic!("{other:?}"),
        }
        // A global key is fine everywhere.
        opts.extra_conditions = Some(
            serde_json::from_str(r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}"#).unwrap(),
        );
        assert!(generate(&opts).is_ok());
        // A duplicate of a generated entry is refused rather than silently replaced.
        opts.extra_conditions = Some(
            serde_json::from_str(r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/X"}}"#)
                .unwrap(),
        );
        assert!(matches!(
            generate(&opts),
            Err(ScpError::DuplicateCondition { .. })
        ));
    }

    #[test]
    fn principal_patterns_are_checked() {
        for (bad, why) in [
            ("ImmutagPlatform", "not an ARN"),
            ("arn:aws:sts::*:assumed-role/Admin/*", "role ARN"),
            ("arn:aws:iam::*:*", "every principal"),
            ("arn:aws:s3:::bucket", "IAM principal"),
            ("arn:aws:iam::12345:role/X", "12 digits"),
        ] {
            let mut opts = all_on();
            opts.exempt_principals = vec![bad.into()];
            let msg = generate(&opts).unwrap_err().to_string();
            assert!(msg.contains(why), "{bad}: {msg}");
        }
        let mut opts = all_on();
        opts.exempt_principals = vec!["arn:aws:iam::*:role/*".into()];
        let out = generate(&opts).unwrap();
        assert!(out.warnings.iter().any(|w| w.code == "broad-exemption"));
    }

    #[test]
    fn platform_role_must_be_exempt() {
        let mut opts = all_on();
        opts.platform_role_name = Some("ImmutagRemediation".into());
        let err = generate(&opts).unwrap_err();
        assert!(
            matches!(err, ScpError::PlatformRoleNotExempt { .. }),
            "{err:?}"
        );
        opts.exempt_principals
            .push("arn:aws:iam::111122223333:role/Immutag*".into());
        assert!(generate(&opts).is_ok());
    }

    #[test]
    fn exemptions_render_as_not_resource_and_resource_tag() {
        let mut opts = all_on();
        opts.exempt_repositories = vec![
            "sandbox-*".into(),
            "arn:aws:ecr:eu-west-1:*:repository/tools/*".into(),
        ];
        opts.exempt_repository_tag = Some(ExemptTag {
            key: "immutag:exempt".into(),
            value: "true".into(),
        });
        opts.regions = vec!["eu-west-1".into(), "us-east-1".into()];
        let out = generate(&opts).unwrap();
        let doc = &out.policies[0].document;
        let lock = doc
            .statements()
            .find(|s| s.sid.as_deref() == Some(SID_LOCK_MUTABILITY))
            .unwrap();
        assert!(lock.resource.is_none());
        assert_eq!(
            lock.not_resource
                .as_ref()
                .unwrap()
                .iter()
                .cloned()
                .collect::<Vec<_>>(),
            [
                "arn:aws:ecr:*:*:repository/sandbox-*",
                "arn:aws:ecr:eu-west-1:*:repository/tools/*"
            ]
        );
        let text = serde_json::to_string(lock).unwrap();
        assert!(
            text.contains(r#""StringNotEquals":{"aws:ResourceTag/immutag:exempt":"true"}"#),
            "{text}"
        );
        assert!(
            text.contains(r#""StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}"#),
            "{text}"
        );
        let protect = doc
            .statements()
            .find(|s| s.sid.as_deref() == Some(SID_PROTECT_EXEMPTION_TAG))
            .unwrap();
        let text = serde_json::to_string(protect).unwrap();
        assert!(
            text.contains(
                r#""ForAnyValue:StringEqualsIgnoreCase":{"aws:TagKeys":"immutag:exempt"}"#
            ),
            "{text}"
        );
        let templates = doc
            .statements()
            .find(|s| s.sid.as_deref() == Some(SID_LOCK_TEMPLATES))
            .unwrap();
        assert!(
            templates.not_resource.is_none(),
            "templates have no repository ARN"
        );
        let mut o = all_on();
        o.exempt_repositories = vec!["sandbox-*".into()];
        o.partition = "aws-us-gov".into();
        let text = serde_json::to_string(&generate(&o).unwrap().policies[0].document).unwrap();
        assert!(
            text.contains("arn:aws-us-gov:ecr:*:*:repository/sandbox-*"),
            "{text}"
        );
        o.partition = "aws:x".into();
        assert!(matches!(
            generate(&o),
            Err(ScpError::InvalidPartition { .. })
        ));
        for bad in [
            "*",
            "arn:aws:ecr:*:*:repository/*",
            "Sandbox",
            "arn:aws:s3:::x",
        ] {
            let mut o = all_on();
            o.exempt_repositories = vec![bad.into()];
            assert!(
                matches!(generate(&o), Err(ScpError::InvalidRepositoryPattern { .. })),
                "{bad}"
            );
        }
    }

    fn many_principals(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("arn:aws:iam::*:role/pipelines/team-{i:04}-deployer"))
            .collect()
    }

    #[test]
    fn oversize_is_split_in_order_and_each_part_fits() {
        let mut opts = all_on();
        opts.creation_principals = many_principals(90);
        opts.exempt_principals = many_principals(60);
        let out = generate(&opts).unwrap();
        assert!(
            out.policies.len() >= 2,
            "{:?}",
            out.policies
                .iter()
                .map(|p| p.minified_bytes)
                .collect::<Vec<_>>()
        );
        let mut sids = Vec::new();
        for (i, p) in out.policies.iter().enumerate() {
            assert_eq!(p.name, format!("immutag-{}", i + 1));
            let text = p.document.render(Style::Minified).unwrap();
            assert_eq!(text.len(), p.minified_bytes);
            assert!(p.minified_bytes <= SCP_MAX_BYTES);
            sids.extend(p.document.statements().map(|s| s.sid.clone().unwrap()));
        }
        assert_eq!(
            sids,
            [
                SID_LOCK_MUTABILITY,
                SID_RESTRICT_CREATION,
                SID_LOCK_TEMPLATES
            ]
        );
        assert!(out.warnings.iter().any(|w| w.code == "split"));
        // Not allowed to split: refused with the count.
        opts.max_policies = 1;
        assert!(matches!(
            generate(&opts),
            Err(ScpError::TooManyPolicies { max: 1, .. })
        ));
        opts.max_policies = 6;
        assert!(matches!(
            generate(&opts),
            Err(ScpError::InvalidMaxPolicies { value: 6 })
        ));
    }

    #[test]
    fn a_statement_too_large_alone_is_refused() {
        let mut opts = all_on();
        opts.exempt_principals = many_principals(200);
        match generate(&opts) {
            Err(ScpError::StatementTooLarge { sid, bytes }) => {
                assert_eq!(sid, SID_LOCK_MUTABILITY);
                assert!(bytes > SCP_MAX_BYTES);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn generation_is_deterministic() {
        let mut opts = all_on();
        opts.require_creation_tags = vec![RequiredTag {
            key: "env".into(),
            values: vec!["prod".into(), "dev".into()],
        }];
        let a = generate(&opts).unwrap();
        let b = generate(&opts).unwrap();
        assert_eq!(
            a.policies[0].document.render(Style::Minified).unwrap(),
            b.policies[0].document.render(Style::Minified).unwrap()
        );
        let text = a.policies[0].document.render(Style::Minified).unwrap();
        assert!(
            text.contains(r#""StringNotEquals":{"aws:RequestTag/env":["prod","dev"]}"#),
            "{text}"
        );
    }
}
