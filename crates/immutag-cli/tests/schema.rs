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
