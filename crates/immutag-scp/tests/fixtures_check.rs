//! The linter on the fixture policies shared with the CI validators (parliament).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::path::PathBuf;

use immutag_scp::{FindingCode, PolicyKind, check_policy};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/policies")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_often_suggested_policy_is_flagged_for_the_right_reasons() {
    let report = check_policy(
        &fixture("bad-create-unless-immutable.json"),
        PolicyKind::Scp,
    )
    .unwrap();
    let codes: Vec<FindingCode> = report.findings.iter().map(|f| f.code).collect();
    assert_eq!(
        codes,
        [
            FindingCode::UnknownConditionKey,
            FindingCode::ConditionAlwaysTrue,
            FindingCode::NoPrincipalExemption
        ]
    );
    assert!(
        report.findings[0]
            .message
            .contains("ecr:ImageTagMutability")
    );
    assert!(report.findings[1].message.contains("ecr:CreateRepository"));
}
