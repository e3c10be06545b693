//! Checks the options before any statement is built, and resolves who is exempt from what.
//! Every refusal is an [`ScpError`] that says why and what to write instead.

use crate::error::ScpError;
use crate::options::{ExemptTag, ScpOptions};
use crate::principal::{self, Breadth};
use crate::wildcard;

use super::Warning;

/// The options, checked, with the exemptions resolved.
pub(crate) struct Resolved {
    /// Exempt from every control (deduplicated, in the order given).
    pub exempt: Vec<String>,
    /// Exempt from `restrict_creation`: `exempt` and then `creation_principals`.
    pub creators: Vec<String>,
    /// `exempt_repositories` as ARN patterns (rendered as `NotResource`).
    pub repositories: Vec<String>,
    /// Warnings about valid but broad exemptions.
    pub warnings: Vec<Warning>,
}

/// Validates `opts`: at least one control, no lockout, sane patterns, names, tags, regions.
pub(crate) fn resolve(opts: &ScpOptions) -> Result<Resolved, ScpError> {
    let mut warnings = Vec::new();
    validate_name(&opts.name)?;
    if !(1..=crate::limits::MAX_SCPS_PER_TARGET).contains(&opts.max_policies) {
        return Err(ScpError::InvalidMaxPolicies {
            value: opts.max_policies,
        });
    }
    if !opts.lock_mutability
        && !opts.restrict_creation
        && !opts.lock_creation_templates
        && !opts.protect_tags
        && opts.rule_exemption_tag_key.is_none()
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
    let lockout = |control, actions, field| ScpError::Lockout {
        control,
        actions,
        field,
    };
    if opts.lock_mutability && exempt.is_empty() {
        return Err(lockout(
            "lock_mutability",
            "ecr:PutImageTagMutability",
            "exempt_principals",
        ));
    }
    if opts.restrict_creation && creators.is_empty() {
        return Err(lockout(
            "restrict_creation",
            "ecr:CreateRepository",
            "exempt_principals or creation_principals",
        ));
    }
    if opts.lock_creation_templates && exempt.is_empty() {
        return Err(lockout(
            "lock_creation_templates",
            "the repository creation template actions",
            "exempt_principals",
        ));
    }
    if opts.protect_tags && exempt.is_empty() {
        return Err(lockout(
            "protect_tags",
            "ecr:BatchDeleteImage and ecr:DeleteRepository",
            "exempt_principals",
        ));
    }
    if opts.rule_exemption_tag_key.is_some() && exempt.is_empty() {
        return Err(lockout(
            "rule_exemption_tag_key",
            "adding or removing the exemption tag",
            "exempt_principals",
        ));
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
    if let Some(key) = &opts.rule_exemption_tag_key {
        validate_tag_key(key)?;
    }
    Ok(Resolved {
        exempt,
        creators,
        repositories,
        warnings,
    })
}

/// The items in order, each once.
pub(crate) fn dedup(items: &[String]) -> Vec<String> {
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
/// broad (see [`crate::principal`]).
///
/// ```
/// use immutag_scp::generate::validate_principal_pattern;
/// assert!(validate_principal_pattern("arn:aws:iam::*:role/ImmutagPlatform").unwrap().is_none());
/// let err = validate_principal_pattern("arn:aws:sts::*:assumed-role/Admin/*").unwrap_err();
/// assert!(err.to_string().contains("role ARN"));
/// assert!(validate_principal_pattern("*").is_err());
/// assert!(validate_principal_pattern("arn:aws:iam::*:role/*").is_err());
/// assert!(validate_principal_pattern("arn:aws:iam::*:role/pipelines/*").unwrap().is_some());
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
    match principal::breadth(pattern) {
        Breadth::Narrow => Ok(None),
        Breadth::Everyone(who) => Err(refuse(&format!(
            "matches {}, so the control would lock (almost) no one: name the roles (role/NAME, role/PATH/NAME-*)",
            who.describe()
        ))),
        Breadth::Broad => Ok(Some(Warning::new(
            "broad-exemption",
            format!(
                "exempt principal pattern `{pattern}` ends in a wildcard segment: it exempts every principal of the matching account or path, and the control binds only the others"
            ),
        ))),
    }
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
