//! The shipped examples in `docs/examples/` parse with content detection, and between them
//! reach every row of the decision table. `docs/examples/offline-errors/` holds events that
//! carry no item: offline they are errors naming what the rule would fetch.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use immutag_core::input::{InputFormat, parse};
use immutag_core::{Compliance, InputError, InputKind, Reason, RuleParameters, evaluate};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples")
}

fn top_level_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn evaluate_file(name: &str) -> (InputKind, Vec<(String, Compliance, Reason, String)>) {
    let path = examples_dir().join(name);
    let bytes = std::fs::read(&path).unwrap();
    let parsed = parse(&bytes, InputFormat::Auto, Some(name)).unwrap();
    let params = parsed.rule_parameters.clone().unwrap_or_default();
    let rows = parsed
        .repositories
        .iter()
        .map(|r| {
            let e = evaluate(r, &params);
            (e.resource_id, e.compliance, e.reason, e.annotation)
        })
        .collect();
    (parsed.kind, rows)
}

#[test]
fn every_top_level_example_parses_and_all_rows_are_reached() {
    let mut reasons = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    let files = top_level_files();
    assert!(files.len() >= 10, "{files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let (kind, rows) = evaluate_file(&name);
        assert!(!rows.is_empty(), "{name} holds no repository");
        kinds.insert(kind.as_str());
        for (id, _, reason, annotation) in rows {
            let n = annotation.chars().count();
            assert!((1..=256).contains(&n), "{name} {id}: {n} chars");
            reasons.insert(reason);
        }
    }
    let all = [
        Reason::NotARepository,
        Reason::Deleted,
        Reason::NotRecorded,
        Reason::LeftScope,
        Reason::ExemptByName,
        Reason::ExemptByTag,
        Reason::Immutable,
        Reason::ImmutableWithAllowedExclusions,
        Reason::ImmutableWithDisallowedExclusions,
        Reason::MutableWithExclusion,
        Reason::Mutable,
        Reason::DefaultMutable,
        Reason::UnknownMutability,
        Reason::Unresolved,
    ];
    let missing: Vec<_> = all.iter().filter(|r| !reasons.contains(r)).collect();
    assert!(missing.is_empty(), "rows no example reaches: {missing:?}");
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["cloudformation", "config", "ecr", "terraform"]
    );
}

#[test]
fn describe_repositories_example() {
    let (kind, rows) = evaluate_file("describe-repositories.json");
    assert_eq!(kind, InputKind::Ecr);
    assert_eq!(rows.len(), 13);
    let compliant: Vec<&str> = rows
        .iter()
        .filter(|r| r.1 == Compliance::Compliant)
        .map(|r| r.0.as_str())
        .collect();
    // Default parameters: Security Hub ECR.2, only IMMUTABLE passes.
    assert_eq!(
        compliant,
        ["payments/api", "payments/worker", "ml/training"]
    );
    let preview = rows.iter().find(|r| r.0 == "platform/preview").unwrap();
    assert_eq!(preview.2, Reason::ImmutableWithDisallowedExclusions);
    assert!(preview.3.contains("matches every tag"), "{}", preview.3);
    let unknown = rows.iter().find(|r| r.0 == "security/scanner").unwrap();
    assert!(unknown.3.contains("IMMUTABLE_WITH_EXCEPTIONS"));
}

#[test]
fn describe_repository_creation_templates_example() {
    let (kind, rows) = evaluate_file("describe-repository-creation-templates.json");
    assert_eq!(kind, InputKind::Ecr);
    let verdicts: Vec<(&str, Compliance, Reason)> =
        rows.iter().map(|r| (r.0.as_str(), r.1, r.2)).collect();
    assert_eq!(
        verdicts,
        [
            ("ROOT", Compliance::NonCompliant, Reason::Mutable),
            (
                "docker-hub",
                Compliance::NonCompliant,
                Reason::ImmutableWithDisallowedExclusions
            ),
            ("prod", Compliance::Compliant, Reason::Immutable),
        ]
    );
    assert!(
        rows[0]
            .3
            .contains("pull-through cache and replication repositories"),
        "{}",
        rows[0].3
    );
    // With `latest` allowed, the pull-through cache template that excludes it passes.
    let bytes =
        std::fs::read(examples_dir().join("describe-repository-creation-templates.json")).unwrap();
    let parsed = parse(&bytes, InputFormat::Auto, None).unwrap();
    let params = RuleParameters::from_json(r#"{"AllowedExclusionFilters":"latest"}"#).unwrap();
    assert_eq!(
        evaluate(&parsed.repositories[1], &params).compliance,
        Compliance::Compliant
    );
}

#[test]
fn creation_templates_in_cloudformation_and_terraform() {
    let rows = |file: &str| -> Vec<(String, Compliance, Reason, String)> {
        let (_, rows) = evaluate_file(file);
        rows
    };
    let cfn = rows("cloudformation-creation-templates.yaml");
    let got: Vec<(&str, Compliance, Reason)> =
        cfn.iter().map(|r| (r.0.as_str(), r.1, r.2)).collect();
    assert_eq!(
        got,
        [
            ("ROOT", Compliance::NonCompliant, Reason::Mutable),
            ("prod", Compliance::Compliant, Reason::Immutable),
            (
                "quay",
                Compliance::NonCompliant,
                Reason::ImmutableWithDisallowedExclusions
            ),
            (
                "CacheTemplate",
                Compliance::NonCompliant,
                Reason::DefaultMutable
            ),
        ],
        "the pull-through cache rule is not evaluated"
    );
    assert!(
        cfn[0]
            .3
            .contains("Set ImageTagMutability: IMMUTABLE on DefaultTemplate"),
        "{}",
        cfn[0].3
    );
    assert!(
        cfn[3].3.contains("prefix set at deployment"),
        "{}",
        cfn[3].3
    );

    let tf = rows("terraform-creation-templates.json");
    let got: Vec<(&str, Compliance, Reason)> =
        tf.iter().map(|r| (r.0.as_str(), r.1, r.2)).collect();
    assert_eq!(
        got,
        [
            (
                "docker-hub",
                Compliance::NonCompliant,
                Reason::ImmutableWithDisallowedExclusions
            ),
            ("ROOT", Compliance::NonCompliant, Reason::Mutable),
            (
                "module.replica.aws_ecr_repository_creation_template.this",
                Compliance::Compliant,
                Reason::Immutable
            ),
        ]
    );
    assert!(
        tf[1]
            .3
            .contains("create-on-push, pull-through cache and replication"),
        "{}",
        tf[1].3
    );
    assert!(
        tf[1].3.contains(
            "image_tag_mutability = \"IMMUTABLE\" on aws_ecr_repository_creation_template.root"
        ),
        "{}",
        tf[1].3
    );
    // Exemption patterns match repository names: `docker-hub/*` covers every name the
    // docker-hub template creates; an address never matches.
    let params = RuleParameters::from_json(
        r#"{"ExemptRepositoryPatterns":"docker-hub/*,module.replica*,cachetemplate*"}"#,
    )
    .unwrap();
    for file in [
        "terraform-creation-templates.json",
        "cloudformation-creation-templates.yaml",
    ] {
        let bytes = std::fs::read(examples_dir().join(file)).unwrap();
        let parsed = parse(&bytes, InputFormat::Auto, Some(file)).unwrap();
        for t in &parsed.repositories {
            let e = evaluate(t, &params);
            let exempt = e.reason == Reason::ExemptByName;
            assert_eq!(
                exempt,
                t.resource_id == "docker-hub",
                "{file} {}: {}",
                t.resource_id,
                e.annotation
            );
        }
    }
}

#[test]
fn describe_repositories_with_allowed_filters() {
    let bytes = std::fs::read(examples_dir().join("describe-repositories.json")).unwrap();
    let parsed = parse(&bytes, InputFormat::Auto, None).unwrap();
    let params =
        RuleParameters::from_json(r#"{"AllowedExclusionFilters":"latest,nightly-*"}"#).unwrap();
    let verdicts: Vec<(String, Compliance)> = parsed
        .repositories
        .iter()
        .map(|r| {
            let e = evaluate(r, &params);
            (e.resource_id, e.compliance)
        })
        .filter(|(id, _)| id.starts_with("platform/"))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("platform/base-images".to_owned(), Compliance::Compliant),
            ("platform/ci-runner".to_owned(), Compliance::Compliant),
            ("platform/preview".to_owned(), Compliance::NonCompliant),
        ]
    );
}

#[test]
fn config_events_use_their_own_parameters() {
    for (file, reason) in [
        (
            "config-event-ok.json",
            Reason::ImmutableWithAllowedExclusions,
        ),
        ("config-event-discovered.json", Reason::Mutable),
        ("config-event-deleted.json", Reason::Deleted),
        ("config-event-exempt-by-name.json", Reason::ExemptByName),
        ("config-event-exempt-by-tag.json", Reason::ExemptByTag),
        ("config-event-left-scope.json", Reason::LeftScope),
        ("config-event-not-recorded.json", Reason::NotRecorded),
        (
            "config-event-public-repository.json",
            Reason::NotARepository,
        ),
        (
            "get-resource-config-history.json",
            Reason::MutableWithExclusion,
        ),
    ] {
        let (kind, rows) = evaluate_file(file);
        assert_eq!(kind, InputKind::Config, "{file}");
        assert_eq!(rows.len(), 1, "{file}");
        assert_eq!(rows[0].2, reason, "{file}: {}", rows[0].3);
    }
}

#[test]
fn templates_and_plans() {
    let (_, rows) = evaluate_file("cloudformation-repositories.yaml");
    let get = |id: &str| rows.iter().find(|r| r.0 == id).unwrap().clone();
    // Its name is a !Sub over a parameter set at deployment: no static name, the logical id.
    assert_eq!(get("ApiRepository").2, Reason::Immutable);
    // A parameter whose AllowedValues admit MUTABLE is not proof, whatever its Default.
    assert_eq!(get("payments/reports").2, Reason::Unresolved);
    assert_eq!(get("payments/web").2, Reason::Unresolved);
    assert!(
        get("payments/web")
            .3
            .contains("Set ImageTagMutability: IMMUTABLE on WebRepository")
    );
    assert_eq!(get("payments/batch").2, Reason::DefaultMutable);

    let (_, rows) = evaluate_file("terraform-plan.json");
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().any(|r| r.2 == Reason::Unresolved));

    let (_, rows) = evaluate_file("cdk-PaymentsStack.template.json");
    assert_eq!(
        rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        [
            Reason::Immutable,
            Reason::ImmutableWithDisallowedExclusions,
            Reason::Unresolved,
            Reason::DefaultMutable
        ]
    );
}

#[test]
fn offline_errors_name_the_fetch() {
    for (file, needle) in [
        (
            "config-event-scheduled.json",
            "DescribeRepositories in account 123456789012 region eu-west-1",
        ),
        (
            "config-event-oversized.json",
            "GetResourceConfigHistory(resourceType=AWS::ECR::Repository, resourceId=platform/base-images, laterTime=2026-11-20T10:15:30.123Z, limit=1)",
        ),
    ] {
        let bytes = std::fs::read(examples_dir().join("offline-errors").join(file)).unwrap();
        let err = parse(&bytes, InputFormat::Auto, Some(file)).unwrap_err();
        assert!(matches!(err, InputError::NeedsAws(_)), "{file}: {err:?}");
        assert!(err.to_string().contains(needle), "{file}: {err}");
    }
}

#[test]
fn explicit_format_overrides_detection() {
    let bytes = std::fs::read(examples_dir().join("describe-repositories.json")).unwrap();
    let err = parse(
        &bytes,
        InputFormat::Kind(InputKind::Terraform),
        Some("describe-repositories.json"),
    )
    .unwrap_err();
    assert!(matches!(err, InputError::Shape { .. }), "{err:?}");
    let err = parse(&bytes, InputFormat::Kind(InputKind::Cloudformation), None).unwrap_err();
    assert!(err.to_string().contains("Resources"), "{err}");
    let parsed = parse(&bytes, InputFormat::Kind(InputKind::Ecr), None).unwrap();
    assert_eq!(parsed.repositories.len(), 13);
    // A BOM is skipped.
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(&bytes);
    assert_eq!(
        parse(&with_bom, InputFormat::Auto, None)
            .unwrap()
            .repositories
            .len(),
        13
    );
}
