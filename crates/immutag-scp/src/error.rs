//! The crate's error type: every variant says what was wrong and what to do.

use crate::keys::NO_MUTABILITY_KEY_EXPLANATION;
use crate::limits::SCP_MAX_BYTES;

/// Everything that can go wrong when loading options, generating or parsing policies.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScpError {
    /// A condition operator that IAM does not define.
    #[error(
        "unknown condition operator `{operator}`: IAM knows String*, Numeric*, Date*, Bool, BinaryEquals, IpAddress, NotIpAddress, Arn* and Null, optionally prefixed by ForAllValues: or ForAnyValue: and suffixed by IfExists (not Null); fix the spelling"
    )]
    UnknownConditionOperator {
        /// The operator as written.
        operator: String,
    },
    /// The same key twice under one operator.
    #[error(
        "condition key `{key}` appears twice under `{operator}`: the second would replace the first; merge the values into one list"
    )]
    DuplicateCondition {
        /// The operator.
        operator: String,
        /// The key.
        key: String,
    },
    /// The policy document is not valid JSON or not a policy.
    #[error("not a valid IAM policy document: {0}")]
    PolicyParse(String),
    /// Rendering failed (should not happen for valid documents).
    #[error("could not render the policy: {0}")]
    Render(String),
    /// The options file could not be parsed.
    #[error(
        "cannot read SCP options as {format}: {message}; see `immutag scp schema` for the fields"
    )]
    OptionsParse {
        /// JSON, YAML or TOML.
        format: &'static str,
        /// The parser's message.
        message: String,
    },
    /// The options file's extension says nothing about its format.
    #[error(
        "cannot tell the format of options file `{name}`: name it *.json, *.yaml, *.yml or *.toml"
    )]
    UnknownOptionsFormat {
        /// The file name.
        name: String,
    },
    /// No control is enabled.
    #[error(
        "no control is enabled: set at least one of lock_mutability, restrict_creation, lock_creation_templates, protect_tags, rule_exemption_tag_key, require_creation_tags"
    )]
    NoControls,
    /// A control would deny every principal, the platform role included.
    #[error(
        "`{control}` would deny {actions} to every principal in the accounts it is attached to, including the platform role that runs remediation and your break-glass role: add at least one ARN pattern to {field} (for example arn:aws:iam::*:role/ImmutagPlatform)"
    )]
    Lockout {
        /// The option that enables the control.
        control: &'static str,
        /// The actions it denies.
        actions: &'static str,
        /// The option that lists exemptions.
        field: &'static str,
    },
    /// The named platform role is not exempt from the mutability lock.
    #[error(
        "platform_role_name `{name}` is matched by none of exempt_principals ({patterns}): remediation running as that role would be denied ecr:PutImageTagMutability; add arn:aws:iam::*:role/{name} to exempt_principals"
    )]
    PlatformRoleNotExempt {
        /// The role name.
        name: String,
        /// The patterns given.
        patterns: String,
    },
    /// A principal pattern that cannot do what an exemption must.
    #[error("exempt principal pattern `{pattern}` {reason}")]
    InvalidPrincipalPattern {
        /// The pattern.
        pattern: String,
        /// Why it is refused and what to write instead.
        reason: String,
    },
    /// A repository pattern that is not usable.
    #[error("exempt repository pattern `{pattern}` {reason}")]
    InvalidRepositoryPattern {
        /// The pattern.
        pattern: String,
        /// Why it is refused.
        reason: String,
    },
    /// A tag key or value that AWS would refuse.
    #[error("tag `{key}` {reason}")]
    InvalidTag {
        /// The tag key.
        key: String,
        /// Why it is refused.
        reason: String,
    },
    /// A region name that is not one.
    #[error(
        "`{region}` is not an AWS region name (lower-case letters, digits and dashes, like eu-west-1)"
    )]
    InvalidRegion {
        /// The value given.
        region: String,
    },
    /// A partition name that is not one.
    #[error("partition `{partition}` is not an AWS partition name (aws, aws-cn, aws-us-gov, ...)")]
    InvalidPartition {
        /// The value given.
        partition: String,
    },
    /// A policy name that cannot be a file name or an SCP name.
    #[error("policy name `{name}` must be 1 to 100 characters of letters, digits, `-` and `_`")]
    InvalidName {
        /// The name given.
        name: String,
    },
    /// The key that guides suggest and that does not exist.
    #[error("condition key `{key}` does not exist: {explanation}. To keep repositories immutable, use restrict_creation (only pipeline roles whose templates are checked may create repositories), lock_mutability, and the Config rule with remediation", explanation = NO_MUTABILITY_KEY_EXPLANATION)]
    NoSuchConditionKey {
        /// The key as written.
        key: String,
    },
    /// A condition key the reference does not list for an action of the statement.
    #[error(
        "condition key `{key}` is not listed for `{action}` in the Service Authorization Reference ({checked}): requests for that action never carry it, so `{operator}` would be {outcome}; remove it or use a key the action lists ({listed})", checked = crate::keys::CHECKED
    )]
    ConditionKeyNotListed {
        /// The key.
        key: String,
        /// The action.
        action: String,
        /// The operator.
        operator: String,
        /// "always true (the Deny applies to every call)" or "never true".
        outcome: &'static str,
        /// The keys the action does list.
        listed: String,
    },
    /// One statement alone is larger than an SCP may be.
    #[error(
        "statement `{sid}` alone is {bytes} bytes minified, over the {max}-byte SCP limit; a statement cannot be split without changing its meaning: shorten the lists (use wildcards in ARN patterns, fewer regions)", max = SCP_MAX_BYTES
    )]
    StatementTooLarge {
        /// The statement's Sid.
        sid: String,
        /// Its minified size.
        bytes: usize,
    },
    /// More policies would be needed than allowed.
    #[error(
        "the statements need {needed} policies of at most {max_bytes} bytes each, but max_policies is {max}: raise max_policies (at most 5 SCPs can be attached to one target, FullAWSAccess usually being one) or enable fewer controls", max_bytes = SCP_MAX_BYTES
    )]
    TooManyPolicies {
        /// How many would be needed.
        needed: usize,
        /// The configured maximum.
        max: u8,
    },
    /// `max_policies` outside 1..=5.
    #[error(
        "max_policies is {value}: it must be 1 to 5 (at most 5 SCPs can be attached directly to one root, OU or account)"
    )]
    InvalidMaxPolicies {
        /// The value given.
        value: u8,
    },
    /// Two different exemption tag keys for one set of options.
    #[error(
        "the exemption tag key `{given}` conflicts with rule_exemption_tag_key `{options}` of the options: give the Config rule's ExemptionTagKey once"
    )]
    ConflictingExemptionTagKey {
        /// The key given on the command line.
        given: String,
        /// The key the options already hold.
        options: String,
    },
    /// A preset name that does not exist.
    #[error("unknown preset `{name}`; the presets are: {known} (see `immutag scp presets`)")]
    UnknownPreset {
        /// The name given.
        name: String,
        /// The known names.
        known: String,
    },
}
