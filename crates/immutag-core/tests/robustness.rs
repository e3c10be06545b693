//! Property tests: parsing never panics, whatever the bytes, and every evaluation of
//! whatever parses carries an annotation of 1 to 256 characters.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use immutag_core::input::{InputFormat, cloudformation, parse};
use immutag_core::{InputKind, RuleParameters, evaluate};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const KEYS: &[&str] = &[
    "Ref",
    "Fn::If",
    "Fn::Sub",
    "Fn::GetAtt",
    "Fn::FindInMap",
    "Fn::Join",
    "Fn::Select",
    "Fn::ImportValue",
    "Condition",
    "ImageTagMutability",
    "ImageTagMutabilityExclusionFilters",
    "ImageTagMutabilityExclusionFilterValue",
    "ImageTagMutabilityExclusionFilterType",
    "RepositoryName",
    "Tags",
    "Key",
    "Value",
    "Type",
    "Properties",
    "Resources",
    "Parameters",
    "Default",
    "Mappings",
    "repositoryName",
    "repositoryArn",
    "registryId",
    "imageTagMutability",
    "imageTagMutabilityExclusionFilters",
    "filter",
    "filterType",
    "configuration",
    "configurationItem",
    "configurationItems",
    "configurationItemStatus",
    "configurationItemCaptureTime",
    "configurationItemSummary",
    "resourceType",
    "resourceId",
    "invokingEvent",
    "ruleParameters",
    "eventLeftScope",
    "messageType",
    "tags",
    "ARN",
    "arn",
    "name",
    "image_tag_mutability",
    "image_tag_mutability_exclusion_filter",
    "filter_type",
    "resource_changes",
    "change",
    "after",
    "after_unknown",
    "actions",
    "type",
    "address",
    "planned_values",
    "root_module",
    "resources",
    "child_modules",
    "values",
    "format_version",
];

const WORDS: &[&str] = &[
    "IMMUTABLE",
    "MUTABLE",
    "IMMUTABLE_WITH_EXCLUSION",
    "MUTABLE_WITH_EXCLUSION",
    "WILDCARD",
    "*",
    "latest",
    "AWS::ECR::Repository",
    "AWS::S3::Bucket",
    "aws_ecr_repository",
    "OK",
    "ResourceDiscovered",
    "ResourceDeleted",
    "ResourceNotRecorded",
    "ScheduledNotification",
    "OversizedConfigurationItemChangeNotification",
    "ConfigurationItemChangeNotification",
    "AWS::NoValue",
    "AWS::Region",
    "${AWS::Region}",
    "${P}",
    "P",
    "R",
    "delete",
    "create",
    "arn:aws:ecr:eu-west-1:123456789012:repository/x",
    "{}",
    "{\"configurationItem\":{}}",
    "{\"AllowedExclusionFilters\":\"latest\"}",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(WORDS).prop_map(|s| Value::String(s.to_owned())),
        ".{0,300}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(KEYS).prop_map(str::to_owned),
                        "[a-zA-Z:_]{0,12}"
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Wraps a value into each shape, so that the arbitrary part lands where each parser looks.
fn shaped(v: &Value) -> Vec<Value> {
    vec![
        v.clone(),
        json!({"repositories": [v]}),
        json!([v]),
        json!({"configurationItem": v, "messageType": "ConfigurationItemChangeNotification"}),
        json!({"invokingEvent": json!({"configurationItem": v}).to_string(), "ruleParameters": "{}"}),
        json!({"resourceType": "AWS::ECR::Repository", "resourceId": "r", "configuration": v}),
        json!({"resourceType": "AWS::ECR::Repository", "resourceId": "r", "configuration": v.to_string()}),
        json!({"Parameters": {"P": {"Type": "String", "Default": v}},
               "Resources": {"R": {"Type": "AWS::ECR::Repository", "Properties": v}}}),
        json!({"Resources": {"R": {"Type": "AWS::ECR::Repository",
               "Properties": {"ImageTagMutability": v, "ImageTagMutabilityExclusionFilters": [v]}}}}),
        json!({"resource_changes": [{"type": "aws_ecr_repository", "change": {"after": v, "after_unknown": v}}]}),
        json!({"planned_values": {"root_module": {"resources": [{"type": "aws_ecr_repository", "values": v}], "child_modules": [v]}}}),
    ]
}

fn params() -> Vec<RuleParameters> {
    vec![
        RuleParameters::default(),
        RuleParameters::from_json(
            r#"{"AllowedExclusionFilters":"latest,dev-*","ExemptRepositoryPatterns":"x*","ExemptionTagKey":"Key"}"#,
        )
        .unwrap(),
    ]
}

const FORMATS: [InputFormat; 5] = [
    InputFormat::Auto,
    InputFormat::Kind(InputKind::Config),
    InputFormat::Kind(InputKind::Ecr),
    InputFormat::Kind(InputKind::Cloudformation),
    InputFormat::Kind(InputKind::Terraform),
];

fn check_all(bytes: &[u8]) {
    for format in FORMATS {
        if let Ok(parsed) = parse(bytes, format, Some("prop")) {
            let mut sets = params();
            sets.extend(parsed.rule_parameters.clone());
            for p in &sets {
                for r in &parsed.repositories {
                    let e = evaluate(r, p);
                    let n = e.annotation.chars().count();
                    assert!(
                        (1..=256).contains(&n),
                        "annotation of {n} chars: {}",
                        e.annotation
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(v in value()) {
        for doc in shaped(&v) {
            let text = doc.to_string();
            check_all(text.as_bytes());
            // JSON is YAML too: the YAML reader must cope with it.
            if let Ok(repos) = cloudformation::parse_yaml(text.as_bytes(), None, false) {
                for r in &repos {
                    let n = evaluate(r, &RuleParameters::default()).annotation.chars().count();
                    prop_assert!((1..=256).contains(&n));
                }
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_all(&bytes);
    }

    #[test]
    fn yamlish_text_never_panics(text in "(Resources:|  R:|    Type: AWS::ECR::Repository|    Properties:|      ImageTagMutability: |!Ref |!If |!Sub |[-:\\[\\]{}!&*|>'\"#? \n]|[a-zA-Z0-9_]{1,8}){0,60}") {
        check_all(text.as_bytes());
    }

    #[test]
    fn truncated_examples_never_panic(cut in 0usize..30_000, which in 0usize..4) {
        let files: [&[u8]; 4] = [
            include_bytes!("../../../docs/examples/describe-repositories.json"),
            include_bytes!("../../../docs/examples/config-event-ok.json"),
            include_bytes!("../../../docs/examples/cloudformation-repositories.yaml"),
            include_bytes!("../../../docs/examples/terraform-plan.json"),
        ];
        let bytes = files[which];
        check_all(&bytes[..cut.min(bytes.len())]);
    }
}
