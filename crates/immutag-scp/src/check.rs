//! Lints existing policies (SCPs or identity policies) for the ECR mistakes: condition
//! keys no ECR request carries (`ecr:ImageTagMutability`), negated operators on them
//! (a Deny that always applies), oversize documents, and Denies with no principal
//! exemption (lockout).

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::ScpError;
use crate::keys::{self, ECR_ACTIONS, EcrAction, KeyStatus, NO_MUTABILITY_KEY_EXPLANATION};
use crate::policy::{
    ConditionValue, Effect, IDENTITY_POLICY_MAX_BYTES, POLICY_VERSION, PolicyDocument,
    SCP_MAX_BYTES, Statement,
};
use crate::wildcard;

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
    /// A Deny on mutability, creation or template actions that exempts no principal.
    NoPrincipalExemption,
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

const LOCKOUT_ACTIONS: &[&str] = &[
    "PutImageTagMutability",
    "CreateRepository",
    "CreateRepositoryCreationTemplate",
    "UpdateRepositoryCreationTemplate",
    "DeleteRepositoryCreationTemplate",
];

const GENERATE_HINT: &str = "`immutag scp generate --preset baseline` emits the controls IAM can enforce; the Config rule with remediation catches the mutability setting itself";

/// Checks one policy document given as JSON text.
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
    let outer: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ScpError::PolicyParse(e.to_string()))?;
    // The output of `aws organizations describe-policy` (Policy.Content, a JSON string) and
    // of `aws iam get-policy-version` (PolicyVersion.Document) are accepted as well.
    let inner: Option<String> = if outer.get("Statement").is_some() {
        None
    } else if let Some(content) = outer.pointer("/Policy/Content") {
        Some(
            content
                .as_str()
                .ok_or_else(|| ScpError::PolicyParse("Policy.Content is not a string".to_owned()))?
                .to_owned(),
        )
    } else if let Some(document) = outer.pointer("/PolicyVersion/Document") {
        Some(match document.as_str() {
            Some(s) => s.to_owned(),
            None => serde_json::to_string(document).map_err(|e| ScpError::Render(e.to_string()))?,
        })
    } else {
        None
    };
    let text = inner.as_deref().unwrap_or(text);
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ScpError::PolicyParse(e.to_string()))?;
    let doc = PolicyDocument::from_json(text)?;
    let minified_bytes = serde_json::to_string(&value)
        .map_err(|e| ScpError::Render(e.to_string()))?
        .len();
    let raw_bytes = text.len();
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
        check_statement(statement, index, kind, &mut findings);
    }
    if kind == PolicyKind::Scp {
        notes
            .push("SCPs never restrict the management account nor service-linked roles".to_owned());
    }
    Ok(CheckReport {
        kind,
        raw_bytes,
        minified_bytes,
        limit_bytes,
        findings,
        notes,
    })
}

/// The ECR actions a statement covers, and the `ecr:` action names it gives that the
/// reference does not list.
fn covered_ecr_actions(s: &Statement) -> (Vec<&'static EcrAction>, Vec<String>) {
    let full = |a: &EcrAction| format!("ecr:{}", a.name);
    let mut unknown = Vec::new();
    let covered = if let Some(actions) = &s.action {
        let mut covered: Vec<&'static EcrAction> = Vec::new();
        for pattern in actions {
            let hits: Vec<&'static EcrAction> = ECR_ACTIONS
                .iter()
                .filter(|a| wildcard::matches(pattern, &full(a), true))
                .collect();
            if hits.is_empty() && keys::strip_ecr_prefix(pattern).is_some() {
                unknown.push(pattern.clone());
            }
            for h in hits {
                if !covered.contains(&h) {
                    covered.push(h);
                }
            }
        }
        covered
    } else if let Some(not_actions) = &s.not_action {
        ECR_ACTIONS
            .iter()
            .filter(|a| {
                !not_actions
                    .iter()
                    .any(|p| wildcard::matches(p, &full(a), true))
            })
            .collect()
    } else {
        Vec::new()
    };
    (covered, unknown)
}

fn names(actions: &[&EcrAction]) -> String {
    const SHOWN: usize = 4;
    let mut out: Vec<String> = actions
        .iter()
        .take(SHOWN)
        .map(|a| format!("ecr:{}", a.name))
        .collect();
    if actions.len() > SHOWN {
        out.push(format!("and {} more", actions.len() - SHOWN));
    }
    out.join(", ")
}

fn listed_keys(action: &EcrAction) -> String {
    let listed: Vec<&str> = action.all_keys().collect();
    if listed.is_empty() {
        format!(
            "ecr:{} lists no key of its own: only global keys such as aws:PrincipalArn, aws:RequestedRegion",
            action.name
        )
    } else {
        format!(
            "ecr:{} lists {} besides the global keys such as aws:PrincipalArn",
            action.name,
            listed.join(", ")
        )
    }
}

fn check_statement(s: &Statement, index: usize, kind: PolicyKind, findings: &mut Vec<Finding>) {
    let label = s.label(index);
    let mut push = |code, severity, message: String, fix: &str| {
        findings.push(Finding {
            code,
            severity,
            statement: Some(label.clone()),
            message,
            fix: fix.to_owned(),
        });
    };

    if kind == PolicyKind::Scp && (s.principal.is_some() || s.not_principal.is_some()) {
        push(
            FindingCode::PrincipalInScp,
            Severity::Error,
            "SCPs do not support Principal or NotPrincipal".to_owned(),
            "exempt principals with a condition instead: \"ArnNotLike\": {\"aws:PrincipalArn\": [...]}",
        );
    }
    if s.action.is_some() == s.not_action.is_some() {
        push(
            FindingCode::MalformedStatement,
            Severity::Error,
            "a statement needs exactly one of Action and NotAction".to_owned(),
            "keep one of them",
        );
    }
    if s.resource.is_some() && s.not_resource.is_some()
        || s.resource.is_none() && s.not_resource.is_none()
    {
        push(
            FindingCode::MalformedStatement,
            Severity::Error,
            "a statement needs exactly one of Resource and NotResource".to_owned(),
            "add \"Resource\": \"*\" or keep one of them",
        );
    }

    let (covered, unknown_actions) = covered_ecr_actions(s);
    for a in unknown_actions {
        push(
            FindingCode::UnknownEcrAction,
            Severity::Warning,
            format!(
                "`{a}` is not an ECR action in the Service Authorization Reference ({}): the statement does not cover what it names",
                keys::CHECKED
            ),
            "fix the spelling (for example ecr:PutImageTagMutability); if AWS added the action since, ignore this",
        );
    }

    let empty = crate::policy::Condition::new();
    let condition = s.condition.as_ref().unwrap_or(&empty);
    for (op, key, values) in condition.entries() {
        let values: Vec<String> = values.iter().map(ConditionValue::as_text).collect();
        let mutability = keys::is_mutability_key(key);
        let unknown_ecr = mutability
            || (keys::strip_ecr_prefix(key).is_some()
                && !keys::ECR_SERVICE_KEYS
                    .iter()
                    .any(|k| keys::key_matches(k, key)));
        if unknown_ecr {
            let why = if mutability {
                NO_MUTABILITY_KEY_EXPLANATION.to_owned()
            } else {
                format!(
                    "the Service Authorization Reference ({}) lists no such key for ECR (it lists {})",
                    keys::CHECKED,
                    keys::ECR_SERVICE_KEYS.join(", ")
                )
            };
            push(
                FindingCode::UnknownConditionKey,
                Severity::Error,
                format!("condition key `{key}` does not exist: {why}"),
                &format!("remove the condition; {GENERATE_HINT}"),
            );
        } else if key.to_ascii_lowercase().starts_with("aws:")
            && covered
                .first()
                .is_some_and(|a| keys::key_status(a, key) == KeyStatus::UnknownGlobalKey)
        {
            push(
                FindingCode::UnknownConditionKey,
                Severity::Warning,
                format!(
                    "`{key}` is not a global condition key immutag knows (IAM User Guide, {}); if it is a misspelling (aws:PrincipleArn for aws:PrincipalArn), requests never carry it and `{op}` is always {}",
                    keys::CHECKED,
                    if op.result_when_key_absent(&values) {
                        "true"
                    } else {
                        "false"
                    }
                ),
                "check the spelling against the IAM global condition keys",
            );
        }

        let absent: Vec<&EcrAction> = covered
            .iter()
            .copied()
            .filter(|a| {
                // An unknown aws: key may be newer than the table: warned about above,
                // not asserted absent.
                let status = keys::key_status(a, key);
                !status.can_be_present() && status != KeyStatus::UnknownGlobalKey
            })
            .collect();
        if absent.is_empty() {
            continue;
        }
        let what = if s
            .condition
            .as_ref()
            .is_some_and(|c| c.entries().count() > 1)
        {
            "every call its other conditions let through"
        } else {
            "every call (it has no other condition)"
        };
        if op.result_when_key_absent(&values) {
            let message = match s.effect {
                Effect::Deny => format!(
                    "requests for {} never carry `{key}`, so `{op}` is always true for them: this condition does not narrow the Deny, which applies to {what}",
                    names(&absent)
                ),
                Effect::Allow => format!(
                    "requests for {} never carry `{key}`, so `{op}` is always true for them: the Allow is granted whatever the condition says",
                    names(&absent)
                ),
            };
            push(
                FindingCode::ConditionAlwaysTrue,
                Severity::Error,
                message,
                &format!(
                    "use a key the action lists ({}); {GENERATE_HINT}",
                    listed_keys(absent[0])
                ),
            );
        } else if absent.len() == covered.len() {
            let message = format!(
                "requests for {} never carry `{key}`, so `{op}` is never true: this {} never applies to them",
                names(&absent),
                s.effect
            );
            push(
                FindingCode::StatementNeverApplies,
                Severity::Error,
                message,
                &format!(
                    "use a key the action lists ({}), or remove the statement",
                    listed_keys(absent[0])
                ),
            );
        }
    }

    // Lockout is judged on Denies aimed at ECR (every Action names the ecr service): a
    // broad guardrail (`"Action": "*"`, `NotAction`, a region deny) blocks ECR on purpose.
    let aimed_at_ecr = s.action.as_ref().is_some_and(|actions| {
        actions.iter().all(|a| {
            a.split_once(':')
                .is_some_and(|(svc, _)| svc.eq_ignore_ascii_case("ecr"))
        })
    });
    if kind == PolicyKind::Scp && s.effect == Effect::Deny && aimed_at_ecr {
        let locked: Vec<&EcrAction> = covered
            .iter()
            .copied()
            .filter(|a| LOCKOUT_ACTIONS.contains(&a.name))
            .collect();
        let exempts_someone = condition.entries().any(|(_, key, _)| {
            keys::is_principal_key(key)
                || keys::key_matches("aws:RequestTag/${TagKey}", key)
                || keys::key_matches("aws:TagKeys", key)
        });
        if !locked.is_empty() && !exempts_someone {
            push(
                FindingCode::NoPrincipalExemption,
                Severity::Error,
                format!(
                    "this Deny on {} exempts no principal: in every account it is attached to, no one (not the platform role that runs remediation, not a break-glass role) can do these actions again",
                    names(&locked)
                ),
                "add \"ArnNotLike\": {\"aws:PrincipalArn\": [\"arn:aws:iam::*:role/ImmutagPlatform\", ...]} naming the platform and break-glass roles",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::generate;
    use crate::policy::Style;
    use crate::presets;

    fn codes(text: &str, kind: PolicyKind) -> Vec<FindingCode> {
        check_policy(text, kind)
            .unwrap()
            .findings
            .iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn generated_presets_are_clean() {
        for p in presets::all() {
            for policy in generate(&p.options).unwrap().policies {
                for style in [Style::Minified, Style::Pretty] {
                    let text = policy.document.render(style).unwrap();
                    let report = check_policy(&text, PolicyKind::Scp).unwrap();
                    assert!(report.is_clean(), "{}: {:?}", p.name, report.findings);
                    assert_eq!(report.minified_bytes, policy.minified_bytes);
                }
            }
        }
    }

    #[test]
    fn the_often_suggested_policy() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyMutable","Effect":"Deny","Action":"ecr:CreateRepository","Resource":"*","Condition":{"StringNotEquals":{"ecr:ImageTagMutability":"IMMUTABLE"}}}]}"#;
        let report = check_policy(text, PolicyKind::Scp).unwrap();
        let unknown = report
            .findings
            .iter()
            .find(|f| f.code == FindingCode::UnknownConditionKey)
            .unwrap();
        assert!(
            unknown.message.contains("no IAM condition key exposes"),
            "{}",
            unknown.message
        );
        assert_eq!(
            unknown.statement.as_deref(),
            Some("statement `DenyMutable`")
        );
        let always = report
            .findings
            .iter()
            .find(|f| f.code == FindingCode::ConditionAlwaysTrue)
            .unwrap();
        assert!(
            always
                .message
                .contains("every call (it has no other condition)"),
            "{}",
            always.message
        );
        // As an identity policy, lockout is not the concern, the dead condition still is.
        let c = codes(text, PolicyKind::Identity);
        assert!(c.contains(&FindingCode::ConditionAlwaysTrue));
        assert!(!c.contains(&FindingCode::NoPrincipalExemption));
    }

    #[test]
    fn positive_operator_on_absent_key_never_applies() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ecr:PutImageTagMutability","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"x"},"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/P"}}}}"#;
        assert_eq!(
            codes(text, PolicyKind::Scp),
            [FindingCode::StatementNeverApplies]
        );
    }

    #[test]
    fn wildcards_and_not_action_are_expanded() {
        // ecr:* with a resource-tag condition: the registry-level actions never carry it.
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceTag/team":"platform"}}}}"#;
        let report = check_policy(text, PolicyKind::Scp).unwrap();
        let f = report
            .findings
            .iter()
            .find(|f| f.code == FindingCode::ConditionAlwaysTrue)
            .unwrap();
        assert!(
            f.message.contains("ecr:BatchImportUpstreamImage"),
            "{}",
            f.message
        );
        // Wildcards covering the guarded actions, no exemption: lockout.
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":["ecr:Put*","ecr:Create*"],"Resource":"*"}}"#;
        let report = check_policy(text, PolicyKind::Scp).unwrap();
        let f = report
            .findings
            .iter()
            .find(|f| f.code == FindingCode::NoPrincipalExemption)
            .unwrap();
        assert!(
            f.message.contains("ecr:PutImageTagMutability"),
            "{}",
            f.message
        );
        assert!(f.message.contains("ecr:CreateRepository"), "{}", f.message);
        // A broad guardrail (region deny on everything) is not an ECR lockout.
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}}"#;
        assert!(codes(text, PolicyKind::Scp).is_empty());
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ecr:PutImageTagMutabilty","Resource":"*"}}"#;
        assert_eq!(
            codes(text, PolicyKind::Scp),
            [FindingCode::UnknownEcrAction]
        );
    }

    #[test]
    fn required_tag_deny_is_not_a_lockout_and_region_deny_is() {
        let tag = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ecr:CreateRepository","Resource":"*","Condition":{"Null":{"aws:RequestTag/team":"true"}}}}"#;
        assert!(codes(tag, PolicyKind::Scp).is_empty());
        let region = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ecr:PutImageTagMutability","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}}"#;
        assert_eq!(
            codes(region, PolicyKind::Scp),
            [FindingCode::NoPrincipalExemption]
        );
    }

    #[test]
    fn size_findings() {
        let arns: Vec<String> = (0..200)
            .map(|i| format!("\"arn:aws:iam::*:role/r{i:05}\""))
            .collect();
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Action":"ecr:PutImageTagMutability","Resource":"*","Condition":{{"ArnNotLike":{{"aws:PrincipalArn":[{}]}}}}}}}}"#,
            arns.join(",")
        );
        let report = check_policy(&text, PolicyKind::Scp).unwrap();
        assert_eq!(report.minified_bytes, text.len());
        assert!(report.minified_bytes > SCP_MAX_BYTES);
        assert_eq!(
            report.findings.iter().map(|f| f.code).collect::<Vec<_>>(),
            [FindingCode::OverSize]
        );
        // Fits minified, not as written.
        let small: Vec<String> = (0..100)
            .map(|i| format!("\"arn:aws:iam::*:role/r{i:05}\""))
            .collect();
        let text = format!(
            "{{\"Version\":\"2012-10-17\",\"Statement\":{{\"Effect\":\"Deny\",\"Action\":\"ecr:PutImageTagMutability\",\"Resource\":\"*\",\"Condition\":{{\"ArnNotLike\":{{\"aws:PrincipalArn\":[\n{}\n]}}}}}}}}",
            small.join(",\n                                        ")
        );
        let c = codes(&text, PolicyKind::Scp);
        assert_eq!(c, [FindingCode::RawOverSize]);
        assert!(codes(&text, PolicyKind::Identity).is_empty());
    }

    #[test]
    fn wrapped_cli_outputs_are_unwrapped() {
        let bad = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ecr:CreateRepository","Resource":"*","Condition":{"StringNotEquals":{"ecr:ImageTagMutability":"IMMUTABLE"}}}}"#;
        let described =
            serde_json::json!({"Policy": {"PolicySummary": {"Id": "p-1"}, "Content": bad}})
                .to_string();
        let report = check_policy(&described, PolicyKind::Scp).unwrap();
        assert_eq!(report.raw_bytes, bad.len());
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.code == FindingCode::UnknownConditionKey)
        );
        let version = format!(r#"{{"PolicyVersion":{{"Document":{bad},"VersionId":"v1"}}}}"#);
        let report = check_policy(&version, PolicyKind::Identity).unwrap();
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.code == FindingCode::ConditionAlwaysTrue)
        );
        assert!(check_policy(r#"{"Policy":{"Content":7}}"#, PolicyKind::Scp).is_err());
    }

    #[test]
    fn misspelled_global_key_is_a_warning_that_explains() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ecr:PutImageTagMutability","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipleArn":"arn:aws:iam::*:role/P"}}}}"#;
        let report = check_policy(text, PolicyKind::Scp).unwrap();
        let f = &report.findings[0];
        assert_eq!(f.code, FindingCode::UnknownConditionKey);
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.message.contains("always true"), "{}", f.message);
        // aws:PrincipleArn is not a principal key: the Deny exempts no one.
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.code == FindingCode::NoPrincipalExemption)
        );
    }

    #[test]
    fn shape_findings() {
        let text = r#"{"Version":"2008-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","NotAction":"s3:Get*"}}"#;
        let c = codes(text, PolicyKind::Scp);
        for code in [
            FindingCode::WrongVersion,
            FindingCode::PrincipalInScp,
            FindingCode::MalformedStatement,
        ] {
            assert!(c.contains(&code), "{code:?} in {c:?}");
        }
        assert!(check_policy("{", PolicyKind::Scp).is_err());
        let err = check_policy(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEqual":{"a:b":"c"}}}}"#, PolicyKind::Scp).unwrap_err();
        assert!(err.to_string().contains("StringNotEqual"), "{err}");
    }
}
