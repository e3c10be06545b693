//! Parse + evaluate, each beside a plain `serde_json::from_slice::<serde_json::Value>` over
//! the same bytes, so that the figure to read is the ratio.
//!
//! ```text
//! cargo bench -p immutag-core --bench parse_evaluate
//! ```
//!
//! Criterion reports each pair; at the end a ratio table (median of repeated runs, measured
//! with `std::time::Instant`) is printed. For YAML there is no JSON parse of the same bytes:
//! the YAML template is set beside `serde_json` over the equivalent JSON template, and
//! beside a bare saphyr-parser event walk over the YAML bytes (the floor of any YAML read).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use immutag_core::input::{InputFormat, parse};
use immutag_core::{RuleParameters, evaluate};

const REPOSITORIES: usize = 10_000;

fn params() -> RuleParameters {
    RuleParameters::from_json(
        r#"{"AllowedExclusionFilters":"latest","ExemptionTagKey":"immutag:exempt"}"#,
    )
    .unwrap()
}

fn config_event() -> Vec<u8> {
    include_bytes!("../../../docs/examples/config-event-ok.json").to_vec()
}

/// A GetResourceConfigHistory-style list of `n` items (API form, `configuration` a string).
fn config_items(n: usize) -> Vec<u8> {
    let items: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let name = format!("team-{}/service-{i}", i % 40);
            let mutability = ["IMMUTABLE", "MUTABLE", "IMMUTABLE_WITH_EXCLUSION"][i % 3];
            let configuration = serde_json::json!({
                "RepositoryName": name,
                "Arn": format!("arn:aws:ecr:eu-west-1:123456789012:repository/{name}"),
                "ImageTagMutability": mutability,
                "ImageTagMutabilityExclusionFilters": [{"ImageTagMutabilityExclusionFilterType": "WILDCARD", "ImageTagMutabilityExclusionFilterValue": "latest"}],
                "ImageScanningConfiguration": {"ScanOnPush": true},
                "LifecyclePolicy": {}, "RepositoryPolicyText": {},
                "Tags": [{"Key": "team", "Value": format!("team-{}", i % 40)}]
            });
            serde_json::json!({
                "version": "1.3", "accountId": "123456789012",
                "configurationItemCaptureTime": "2026-11-19T22:04:11.532000+00:00",
                "configurationItemStatus": "OK", "configurationStateId": "1763589851532",
                "configurationItemMD5Hash": "",
                "arn": format!("arn:aws:ecr:eu-west-1:123456789012:repository/{name}"),
                "resourceType": "AWS::ECR::Repository", "resourceId": name, "resourceName": name,
                "awsRegion": "eu-west-1", "availabilityZone": "Not Applicable",
                "tags": {"team": format!("team-{}", i % 40)}, "relatedEvents": [], "relationships": [],
                "configuration": configuration.to_string(), "supplementaryConfiguration": {}
            })
        })
        .collect();
    serde_json::to_vec_pretty(&serde_json::json!({ "configurationItems": items })).unwrap()
}

/// A CDK-like JSON template with `n` repositories (pretty-printed with one-space indent
/// like `cdk synth`).
fn cfn_json(n: usize) -> Vec<u8> {
    let mut resources = serde_json::Map::new();
    for i in 0..n {
        let mutability = match i % 5 {
            0 => serde_json::json!("IMMUTABLE"),
            1 => serde_json::json!("MUTABLE"),
            2 => serde_json::json!({"Ref": "Mode"}),
            3 => serde_json::json!("IMMUTABLE_WITH_EXCLUSION"),
            _ => serde_json::json!({"Fn::Sub": "${Mode}"}),
        };
        let mut props = serde_json::json!({
            "ImageScanningConfiguration": {"ScanOnPush": true},
            "ImageTagMutability": mutability,
            "RepositoryName": format!("team-{}/service-{i}", i % 40),
            "Tags": [{"Key": "team", "Value": format!("team-{}", i % 40)}]
        });
        if i % 5 == 3 {
            props["ImageTagMutabilityExclusionFilters"] = serde_json::json!([
                {"ImageTagMutabilityExclusionFilterType": "WILDCARD", "ImageTagMutabilityExclusionFilterValue": "latest"}
            ]);
        }
        resources.insert(
            format!("Repository{i:05}A1B2C3D4"),
            serde_json::json!({
                "Type": "AWS::ECR::Repository",
                "Properties": props,
                "UpdateReplacePolicy": "Retain",
                "DeletionPolicy": "Retain",
                "Metadata": {"aws:cdk:path": format!("Stack/Repository{i}/Resource")}
            }),
        );
    }
    let doc = serde_json::json!({
        "Parameters": {"Mode": {"Type": "String", "Default": "IMMUTABLE"}},
        "Resources": resources
    });
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(&doc, &mut ser).unwrap();
    out
}

/// The same template in YAML, with short-form tags.
fn cfn_yaml(n: usize) -> Vec<u8> {
    let mut s = String::from(
        "AWSTemplateFormatVersion: \"2010-09-09\"\nParameters:\n  Mode:\n    Type: String\n    Default: IMMUTABLE\nResources:\n",
    );
    for i in 0..n {
        let mutability = match i % 5 {
            0 => "IMMUTABLE",
            1 => "MUTABLE",
            2 => "!Ref Mode",
            3 => "IMMUTABLE_WITH_EXCLUSION",
            _ => "!Sub \"${Mode}\"",
        };
        let _ = write!(
            s,
            "  Repository{i:05}A1B2C3D4:\n    Type: AWS::ECR::Repository\n    UpdateReplacePolicy: Retain\n    DeletionPolicy: Retain\n    Metadata:\n      aws:cdk:path: Stack/Repository{i}/Resource\n    Properties:\n      RepositoryName: team-{t}/service-{i}\n      ImageTagMutability: {mutability}\n      ImageScanningConfiguration:\n        ScanOnPush: true\n      Tags:\n        - Key: team\n          Value: team-{t}\n",
            t = i % 40
        );
        if i % 5 == 3 {
            s.push_str("      ImageTagMutabilityExclusionFilters:\n        - ImageTagMutabilityExclusionFilterType: WILDCARD\n          ImageTagMutabilityExclusionFilterValue: latest\n");
        }
    }
    s.into_bytes()
}

fn parse_evaluate(bytes: &[u8], params: &RuleParameters) -> usize {
    let parsed = parse(bytes, InputFormat::Auto, Some("bench")).unwrap();
    let params = parsed.rule_parameters.as_ref().unwrap_or(params);
    parsed
        .repositories
        .iter()
        .map(|r| evaluate(r, params).annotation.len())
        .sum()
}

fn plain_json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice::<serde_json::Value>(bytes).unwrap()
}

fn yaml_events(bytes: &[u8]) -> usize {
    let text = std::str::from_utf8(bytes).unwrap();
    saphyr_parser::Parser::new_from_str(text)
        .map(|e| e.unwrap())
        .count()
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    /// Bytes for the plain JSON parse (the same bytes, or the JSON twin of a YAML input).
    json_twin: Vec<u8>,
    items: usize,
}

fn cases() -> Vec<Case> {
    let event = config_event();
    let items = config_items(100);
    let json = cfn_json(REPOSITORIES);
    let yaml = cfn_yaml(REPOSITORIES);
    vec![
        Case {
            name: "config_rule_event_1_item",
            bytes: event.clone(),
            json_twin: event,
            items: 1,
        },
        Case {
            name: "config_history_100_items",
            bytes: items.clone(),
            json_twin: items,
            items: 100,
        },
        Case {
            name: "cfn_json_10000_repositories",
            bytes: json.clone(),
            json_twin: json.clone(),
            items: REPOSITORIES,
        },
        Case {
            name: "cfn_yaml_10000_repositories",
            bytes: yaml,
            json_twin: json,
            items: REPOSITORIES,
        },
    ]
}

fn bench(c: &mut Criterion) {
    let params = params();
    for case in cases() {
        // Check the input is what it claims to be before timing it.
        let parsed = parse(&case.bytes, InputFormat::Auto, None).unwrap();
        assert_eq!(parsed.repositories.len(), case.items, "{}", case.name);
        let mut g = c.benchmark_group(case.name);
        g.throughput(Throughput::Bytes(case.bytes.len() as u64));
        if case.items >= REPOSITORIES {
            g.sample_size(20).measurement_time(Duration::from_secs(8));
        }
        g.bench_function("serde_json_value", |b| {
            b.iter(|| plain_json(black_box(&case.json_twin)))
        });
        g.bench_function("parse_evaluate", |b| {
            b.iter(|| parse_evaluate(black_box(&case.bytes), &params))
        });
        if case.name.contains("yaml") {
            g.bench_function("saphyr_events", |b| {
                b.iter(|| yaml_events(black_box(&case.bytes)))
            });
        }
        g.finish();
    }
}

fn median(mut f: impl FnMut(), runs: usize) -> Duration {
    f(); // warm up
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn ratio_report() {
    let params = params();
    println!("\nimmutag-core parse+evaluate vs plain serde_json::Value parse (median of runs):");
    println!(
        "{:<30} {:>10} {:>14} {:>14} {:>8} {:>14}",
        "case", "bytes", "serde_json", "parse+eval", "ratio", "per item"
    );
    for case in cases() {
        let runs = if case.items >= REPOSITORIES { 15 } else { 2001 };
        let inner = if case.items >= REPOSITORIES { 1 } else { 50 };
        let plain = median(
            || {
                for _ in 0..inner {
                    black_box(plain_json(black_box(&case.json_twin)));
                }
            },
            runs,
        ) / inner;
        let ours = median(
            || {
                for _ in 0..inner {
                    black_box(parse_evaluate(black_box(&case.bytes), &params));
                }
            },
            runs,
        ) / inner;
        println!(
            "{:<30} {:>10} {:>14?} {:>14?} {:>7.2}x {:>14?}",
            case.name,
            case.bytes.len(),
            plain,
            ours,
            ours.as_secs_f64() / plain.as_secs_f64(),
            ours / u32::try_from(case.items).unwrap()
        );
        if case.name.contains("yaml") {
            let events = median(
                || {
                    black_box(yaml_events(black_box(&case.bytes)));
                },
                runs,
            );
            println!(
                "{:<30} {:>10} {:>14?} {:>14?} {:>7.2}x   (beside saphyr-parser events over the same YAML bytes)",
                "",
                "",
                events,
                ours,
                ours.as_secs_f64() / events.as_secs_f64()
            );
        }
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    // `cargo test --benches` runs this binary in test mode: skip the timing table there.
    if !std::env::args().any(|a| a == "--test" || a == "--list") {
        ratio_report();
    }
}
