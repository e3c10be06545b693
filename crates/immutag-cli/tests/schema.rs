//! `immutag schema`: prints JSON Schemas that describe what the other commands emit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fixture, run};
use serde_json::Value;

fn schema(which: &str) -> Value {
    let out = run(&["schema", which], None);
    assert_eq!(out.code, 0, "{out:?}");
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn params_schema_lists_every_rule_parameter_as_a_string() {
    let s = schema("params");
    let props = s["properties"].as_object().unwrap();
    for key in immutag_core::params::KNOWN_KEYS {
        assert!(props.contains_key(key), "{key} missing from {s}");
    }
    assert_eq!(s["additionalProperties"], false, "unknown keys are errors");
}

#[test]
fn evaluation_schema_describes_the_json_output() {
    let s = schema("evaluation");
    let props = s["properties"].as_object().unwrap();
    let required: Vec<&str> = s["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let out = run(
        &[
            "evaluate",
            &fixture("describe-repositories.json"),
            &fixture("config-rule-event.json"),
            "-o",
            "json",
        ],
        None,
    );
    let evals: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert!(!evals.is_empty());
    for e in &evals {
        let obj = e.as_object().unwrap();
        for key in obj.keys() {
            assert!(props.contains_key(key), "`{key}` is not in the schema");
        }
        for key in &required {
            assert!(obj.contains_key(*key), "required `{key}` missing in {e}");
        }
    }
}

#[test]
fn repository_schema_and_bad_choice() {
    let s = schema("repository");
    assert!(s["properties"]["tag_mutability"].is_object(), "{s}");
    let out = run(&["schema", "nope"], None);
    assert_eq!(out.code, 2, "{out:?}");
}

fn rule_parameter_fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/rule-parameters")
        .join(name)
}

/// The CDK checks its rule-parameter validation against this copy of the schema
/// (cdk/test/rule-parameters.test.ts): it must be what `immutag schema params` prints.
#[test]
fn params_schema_is_the_copy_the_cdk_checks_against() {
    let out = run(&["schema", "params"], None);
    assert_eq!(out.code, 0, "{out:?}");
    let path = rule_parameter_fixture("schema.json");
    let copy: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // Compared as JSON: the key order of the printed schema follows serde_json's features.
    let printed: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        copy == printed,
        "{} differs from `immutag schema params`: refresh it with `cargo run -q -p immutag-cli -- schema params > tests/fixtures/rule-parameters/schema.json` and make cdk/lib/rule-parameters.ts agree",
        path.display()
    );
}

/// The rule-parameter cases that the CDK's validation must decide the same way.
#[test]
fn rule_parameter_cases_are_decided_as_listed() {
    let text = std::fs::read_to_string(rule_parameter_fixture("cases.json")).unwrap();
    let cases: Value = serde_json::from_str(&text).unwrap();
    let cases = cases["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for key in immutag_core::params::KNOWN_KEYS {
        assert!(
            cases.iter().any(|c| c["key"] == key && c["valid"] == false),
            "no refused case for {key}"
        );
    }
    for case in cases {
        let key = case["key"].as_str().unwrap();
        let value = case["value"].as_str().unwrap();
        let map = std::collections::BTreeMap::from([(key.to_owned(), value.to_owned())]);
        match immutag_core::RuleParameters::from_map(&map) {
            Ok(params) => {
                assert_eq!(case["valid"], true, "{key}={value:?} was accepted");
                let wire = serde_json::to_value(params.to_wire()).unwrap();
                assert_eq!(wire.get(key), case.get("wire"), "{key}={value:?}");
            }
            Err(e) => {
                assert_eq!(case["valid"], false, "{key}={value:?} was refused: {e}");
                assert!(e.to_string().contains(key), "{e}");
            }
        }
    }
}
