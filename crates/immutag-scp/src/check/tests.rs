//! The tests of the linter: one per finding, the presets clean, the wrapped CLI outputs.

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
        serde_json::json!({"Policy": {"PolicySummary": {"Id": "p-1"}, "Content": bad}}).to_string();
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

/// (code, severity) of every finding on the SCP `text`.
fn graded(text: &str) -> Vec<(FindingCode, Severity)> {
    check_policy(text, PolicyKind::Scp)
        .unwrap()
        .findings
        .iter()
        .map(|f| (f.code, f.severity))
        .collect()
}

fn deny(action: &str, condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Sid":"Lock","Effect":"Deny","Action":{action},"Resource":"*","Condition":{condition}}}}}"#
    )
}

#[test]
fn a_positive_principal_condition_locks_only_the_named() {
    for condition in [
        r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ImmutagPlatform"}}"#,
        r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::*:role/ImmutagPlatform"}}"#,
        r#"{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Dev*"}}"#,
        r#"{"StringEquals":{"aws:PrincipalTag/team":"sandbox"}}"#,
        r#"{"StringEqualsIgnoreCase":{"aws:username":"mallory"}}"#,
    ] {
        for action in [
            r#""ecr:PutImageTagMutability""#,
            r#""ecr:CreateRepository""#,
            r#""ecr:UpdateRepositoryCreationTemplate""#,
            r#"["ecr:BatchDeleteImage","ecr:DeleteRepository"]"#,
        ] {
            let report = check_policy(&deny(action, condition), PolicyKind::Scp).unwrap();
            let f = report
                .findings
                .iter()
                .find(|f| f.code == FindingCode::PositivePrincipalCondition)
                .unwrap_or_else(|| panic!("{action} {condition}: {:?}", report.findings));
            assert_eq!(f.severity, Severity::Error);
            assert_eq!(f.statement.as_deref(), Some("statement `Lock`"));
            assert!(
                f.message.contains("locks only the principals it names"),
                "{}",
                f.message
            );
            assert!(f.fix.contains("ArnNotLike"), "{}", f.fix);
        }
    }
    // The tagging actions are guarded when the Deny is about tag keys.
    let tag = r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Dev"},"ForAnyValue:StringEquals":{"aws:TagKeys":"immutag:exempt"}}"#;
    assert_eq!(
        codes(
            &deny(r#"["ecr:TagResource","ecr:UntagResource"]"#, tag),
            PolicyKind::Scp
        ),
        [FindingCode::PositivePrincipalCondition]
    );
    // Not about tag keys, not a lock: a Deny of tagging to one role is someone's choice.
    let plain = r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Dev"}}"#;
    assert!(codes(&deny(r#""ecr:TagResource""#, plain), PolicyKind::Scp).is_empty());
    // A quarantine of some roles from everything is a guardrail, not an ECR lock.
    assert!(codes(&deny(r#""*""#, plain), PolicyKind::Scp).is_empty());
    // Scoping by account or organization is not naming principals.
    let scoped = r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc"},"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ImmutagPlatform"}}"#;
    assert!(
        codes(
            &deny(r#""ecr:PutImageTagMutability""#, scoped),
            PolicyKind::Scp
        )
        .is_empty()
    );
    // Identity policies are not locks across accounts.
    let arn_like = r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ImmutagPlatform"}}"#;
    assert!(
        codes(
            &deny(r#""ecr:PutImageTagMutability""#, arn_like),
            PolicyKind::Identity
        )
        .is_empty()
    );
}

#[test]
fn an_exemption_of_every_role_or_user_locks_nothing() {
    for pattern in [
        "*",
        "arn:aws:iam::*:*",
        "arn:aws:iam::*:role/*",
        "arn:aws:iam::*:user/*",
        "arn:aws:iam::*:*/*",
        "arn:*:iam::*:role/*",
    ] {
        for op in ["ArnNotLike", "ArnNotEquals", "StringNotLike"] {
            let condition = format!(
                r#"{{"{op}":{{"aws:PrincipalArn":["arn:aws:iam::*:role/ImmutagPlatform","{pattern}"]}}}}"#
            );
            let text = deny(r#""ecr:PutImageTagMutability""#, &condition);
            assert_eq!(
                graded(&text),
                [(FindingCode::ExemptionMatchesEveryone, Severity::Error)],
                "{op} {pattern}"
            );
            let report = check_policy(&text, PolicyKind::Scp).unwrap();
            assert!(
                report.findings[0].message.contains(pattern),
                "{}",
                report.findings[0].message
            );
            assert!(report.findings[0].message.contains("locks nothing"));
        }
    }
    // StringNotEquals compares exactly: `*` there is the literal string, which exempts no one.
    let exact = r#"{"StringNotEquals":{"aws:PrincipalArn":"*"}}"#;
    assert!(
        codes(
            &deny(r#""ecr:PutImageTagMutability""#, exact),
            PolicyKind::Scp
        )
        .is_empty()
    );
}

#[test]
fn a_broad_but_partial_exemption_is_a_warning() {
    for pattern in [
        "arn:aws:iam::111122223333:role/*",
        "arn:aws:iam::*:role/aws-reserved/*",
        "arn:aws:iam::111122223333:*",
    ] {
        let condition = format!(r#"{{"ArnNotLike":{{"aws:PrincipalArn":"{pattern}"}}}}"#);
        assert_eq!(
            graded(&deny(r#""ecr:CreateRepository""#, &condition)),
            [(FindingCode::BroadExemption, Severity::Warning)],
            "{pattern}"
        );
    }
}

#[test]
fn deleting_images_without_an_exemption_is_a_lockout() {
    let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":["ecr:BatchDeleteImage","ecr:DeleteRepository"],"Resource":"*"}}"#;
    let report = check_policy(text, PolicyKind::Scp).unwrap();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].code, FindingCode::NoPrincipalExemption);
    assert!(report.findings[0].message.contains("ecr:BatchDeleteImage"));
}

#[test]
fn read_policy_reports_sizes_of_the_unwrapped_document() {
    let doc = r#"{"Version":"2012-10-17","Statement":[]}"#;
    let wrapped = serde_json::json!({"Policy": {"Content": doc}}).to_string();
    let p = read_policy(&wrapped).unwrap();
    assert_eq!((p.raw_bytes, p.minified_bytes), (doc.len(), doc.len()));
    let report = check_document(&p, PolicyKind::Scp);
    assert!(report.is_clean());
}
