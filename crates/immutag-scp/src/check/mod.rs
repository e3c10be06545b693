//! Lints existing policies (SCPs or identity policies) for the ECR mistakes: condition
//! keys no ECR request carries (`ecr:ImageTagMutability`), negated operators on them
//! (a Deny that always applies), oversize documents, and locks that lock no one or
//! everyone (a Deny with no principal exemption, a positive principal condition, an
//! exemption that matches every role).
//!
//! [`read_policy`] reads untrusted text into a [`ParsedPolicy`] (the entry point to fuzz);
//! [`check_document`] lints it; [`check_policy`] does both. The statement lints live in
//! `conditions` (condition keys and operators) and `locks` (lockout and exemptions).

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::ScpError;
use crate::keys;
use crate::limits::{IDENTITY_POLICY_MAX_BYTES, SCP_MAX_BYTES};
use crate::policy::{Condition, POLICY_VERSION, Statement};

mod conditions;
mod locks;
mod read;

pub use locks::{LOCK_ACTIONS, TAG_LOCK_ACTIONS};
pub use read::{ParsedPolicy, read_policy};

/// What kind of policy is being checked (sets the size limit and the SCP-only rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyKind {
    /// A Service Control Policy: 5,120 bytes uploaded as is, no Principal, lockout matters.
    Scp,
    /// An identity policy (managed policy: 6,144 characters, whitespace not counted).
    Identity,
}

/// How bad a finding is. Every finding makes `immutag scp check` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Probably harmless, but not what the author meant.
    Warning,
    /// The policy does not do what it seems to, or will be refused.
    Error,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FindingCode {
    /// A condition key no ECR request carries (`ecr:ImageTagMutability`) or an unknown `aws:` key.
    UnknownConditionKey,
    /// A condition that is always true because the key is absent: it does not narrow the statement.
    ConditionAlwaysTrue,
    /// A condition that is never true because the key is absent: the statement never applies.
    StatementNeverApplies,
    /// A Deny on mutability, creation, template or delete actions that exempts no principal.
    NoPrincipalExemption,
    /// A Deny on a guarded action whose principal condition is positive (`ArnLike`,
    /// `StringEquals`, ... on `aws:PrincipalArn`): it denies only the principals it names.
    PositivePrincipalCondition,
    /// A Deny on a guarded action whose exemption matches every role or user: it locks nothing.
    ExemptionMatchesEveryone,
    /// An exemption that matches every principal of an account or a path.
    BroadExemption,
    /// The minified document is over the limit.
    OverSize,
    /// The file as written (whitespace included) is over the SCP limit; upload it minified.
    RawOverSize,
    /// An `ecr:` action the reference does not list.
    UnknownEcrAction,
    /// `Principal` / `NotPrincipal` in an SCP.
    PrincipalInScp,
    /// `Version` is not `2012-10-17`.
    WrongVersion,
    /// A statement IAM would refuse (Action and NotAction together, no Resource, ...).
    MalformedStatement,
}

/// One problem found in a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Finding {
    /// What kind of problem.
    pub code: FindingCode,
    /// How bad.
    pub severity: Severity,
    /// Which statement (its Sid, or its index when it has none), if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// What is wrong and why.
    pub message: String,
    /// What to do.
    pub fix: String,
}

/// The result of checking one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CheckReport {
    /// The kind checked as.
    pub kind: PolicyKind,
    /// Size of the text as given, in bytes.
    pub raw_bytes: usize,
    /// Size of the minified document, in bytes.
    pub minified_bytes: usize,
    /// The size limit that applies.
    pub limit_bytes: usize,
    /// The findings, in statement order.
    pub findings: Vec<Finding>,
    /// Facts worth knowing that are not findings.
    pub notes: Vec<String>,
}

impl CheckReport {
    /// True when there is no finding.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

const GENERATE_HINT: &str = "`immutag scp generate --preset baseline` emits the controls IAM can enforce; the Config rule with remediation catches the mutability setting itself";

/// Checks one policy document given as JSON text: [`read_policy`], then [`check_document`].
///
/// Errors only when the text is not a policy document at all (the message says why);
/// everything else is a finding.
///
/// ```
/// use immutag_scp::check::{check_policy, FindingCode, PolicyKind};
/// let bad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:CreateRepository","Resource":"*",
///   "Condition":{"StringNotEquals":{"ecr:ImageTagMutability":"IMMUTABLE"}}}]}"#;
/// let report = check_policy(bad, PolicyKind::Scp).unwrap();
/// let codes: Vec<_> = report.findings.iter().map(|f| f.code).collect();
/// assert!(codes.contains(&FindingCode::UnknownConditionKey));
/// assert!(codes.contains(&FindingCode::ConditionAlwaysTrue));
/// assert!(codes.contains(&FindingCode::NoPrincipalExemption));
/// ```
pub fn check_policy(text: &str, kind: PolicyKind) -> Result<CheckReport, ScpError> {
    Ok(check_document(&read_policy(text)?, kind))
}

/// Lints a policy read by [`read_policy`].
pub fn check_document(policy: &ParsedPolicy, kind: PolicyKind) -> CheckReport {
    let ParsedPolicy {
        document: doc,
        raw_bytes,
        minified_bytes,
    } = policy;
    let (raw_bytes, minified_bytes) = (*raw_bytes, *minified_bytes);
    let limit_bytes = match kind {
        PolicyKind::Scp => SCP_MAX_BYTES,
        PolicyKind::Identity => IDENTITY_POLICY_MAX_BYTES,
    };
    let mut findings = Vec::new();
    let mut notes = Vec::new();

    if doc.version != POLICY_VERSION {
        findings.push(Finding {
            code: FindingCode::WrongVersion,
            severity: Severity::Error,
            statement: None,
            message: format!(
                "Version is `{}`: SCPs require {POLICY_VERSION}, and older versions disable policy variables",
                doc.version
            ),
            fix: format!("set \"Version\": \"{POLICY_VERSION}\""),
        });
    }
    if minified_bytes > limit_bytes {
        findings.push(Finding {
            code: FindingCode::OverSize,
            severity: Severity::Error,
            statement: None,
            message: format!("the minified document is {minified_bytes} bytes, over the {limit_bytes}-byte limit: AWS refuses it"),
            fix: "split the statements across several policies (at most 5 SCPs per target) or shorten the lists".to_owned(),
        });
    } else if kind == PolicyKind::Scp && raw_bytes > limit_bytes {
        findings.push(Finding {
            code: FindingCode::RawOverSize,
            severity: Severity::Warning,
            statement: None,
            message: format!(
                "the file is {raw_bytes} bytes as written (whitespace counts for SCPs), over {limit_bytes}; minified it is {minified_bytes} bytes"
            ),
            fix: "upload the minified form (`jq -c . FILE`, or `immutag scp generate` without --pretty)".to_owned(),
        });
    }

    for (index, statement) in doc.statements().enumerate() {
        let mut out = StatementFindings {
            label: statement.label(index),
            findings: &mut findings,
        };
        check_statement(statement, kind, &mut out);
    }
    if kind == PolicyKind::Scp {
        notes
            .push("SCPs never restrict the management account nor service-linked roles".to_owned());
    }
    CheckReport {
        kind,
        raw_bytes,
        minified_bytes,
        limit_bytes,
        findings,
        notes,
    }
}

/// The findings of one statement, labelled with it.
struct StatementFindings<'a> {
    label: String,
    findings: &'a mut Vec<Finding>,
}

impl StatementFindings<'_> {
    fn push(&mut self, code: FindingCode, severity: Severity, message: String, fix: &str) {
        self.findings.push(Finding {
            code,
            severity,
            statement: Some(self.label.clone()),
            message,
            fix: fix.to_owned(),
        });
    }
}

fn check_statement(s: &Statement, kind: PolicyKind, out: &mut StatementFindings<'_>) {
    if kind == PolicyKind::Scp && (s.principal.is_some() || s.not_principal.is_some()) {
        out.push(
            FindingCode::PrincipalInScp,
            Severity::Error,
            "SCPs do not support Principal or NotPrincipal".to_owned(),
            "exempt principals with a condition instead: \"ArnNotLike\": {\"aws:PrincipalArn\": [...]}",
        );
    }
    if s.action.is_some() == s.not_action.is_some() {
        out.push(
            FindingCode::MalformedStatement,
            Severity::Error,
            "a statement needs exactly one of Action and NotAction".to_owned(),
            "keep one of them",
        );
    }
    if s.resource.is_some() && s.not_resource.is_some()
        || s.resource.is_none() && s.not_resource.is_none()
    {
        out.push(
            FindingCode::MalformedStatement,
            Severity::Error,
            "a statement needs exactly one of Resource and NotResource".to_owned(),
            "add \"Resource\": \"*\" or keep one of them",
        );
    }

    let (covered, unknown_actions) = conditions::covered_ecr_actions(s);
    for a in unknown_actions {
        out.push(
            FindingCode::UnknownEcrAction,
            Severity::Warning,
            format!(
                "`{a}` is not an ECR action in the Service Authorization Reference ({}): the statement does not cover what it names",
                keys::CHECKED
            ),
            "fix the spelling (for example ecr:PutImageTagMutability); if AWS added the action since, ignore this",
        );
    }

    let empty = Condition::new();
    let condition = s.condition.as_ref().unwrap_or(&empty);
    conditions::lint(s, condition, &covered, out);
    if kind == PolicyKind::Scp {
        locks::lint(s, condition, &covered, out);
    }
}

#[cfg(test)]
mod tests;
