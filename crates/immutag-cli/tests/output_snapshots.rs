//! Snapshots of every output format over the test fixtures (the inputs a reviewer can
//! open next to the snapshot). Review changes with `cargo insta review`, or run with
//! `INSTA_UPDATE=always` and read the diff.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fixture, run};

/// The test fixtures (stable: owned by these tests).
fn fixtures() -> Vec<String> {
    vec![
        fixture("describe-repositories.json"),
        fixture("config-rule-event.json"),
    ]
}

/// `docs/examples/*` as the shell expands it (sorted), files only: the README's command.
fn examples() -> Vec<String> {
    let dir = common::root().join("docs/examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| format!("docs/examples/{}", e.file_name().to_string_lossy()))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "docs/examples has {} files", names.len());
    names
}

fn evaluate(inputs: &[String], format: &str) -> String {
    let mut args = vec!["evaluate", "--output", format];
    args.extend(inputs.iter().map(String::as_str));
    let out = run(&args, None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    // The version changes with every release; the rest must not change by accident.
    out.stdout.replace(env!("CARGO_PKG_VERSION"), "[VERSION]")
}

#[test]
fn fixtures_every_format() {
    let inputs = fixtures();
    insta::assert_snapshot!("fixtures_table", evaluate(&inputs, "table"));
    insta::assert_snapshot!("fixtures_json", evaluate(&inputs, "json"));
    insta::assert_snapshot!("fixtures_csv", evaluate(&inputs, "csv"));
    insta::assert_snapshot!("fixtures_sarif", evaluate(&inputs, "sarif"));
}

#[test]
fn docs_examples_every_format() {
    let inputs = examples();
    insta::assert_snapshot!("examples_table", evaluate(&inputs, "table"));
    insta::assert_snapshot!("examples_json", evaluate(&inputs, "json"));
    insta::assert_snapshot!("examples_csv", evaluate(&inputs, "csv"));
    insta::assert_snapshot!("examples_sarif", evaluate(&inputs, "sarif"));
}

#[test]
fn readme_command_exits_1_and_skips_the_offline_errors_directory() {
    // `immutag evaluate docs/examples/*` with the directory the glob also expands to.
    let mut inputs = examples();
    inputs.push("docs/examples/offline-errors".to_owned());
    let mut args = vec!["evaluate"];
    args.extend(inputs.iter().map(String::as_str));
    let out = run(&args, None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("docs/examples/offline-errors: is a directory, skipped"),
        "{}",
        out.stderr
    );
}

#[test]
fn offline_errors_name_what_the_rule_would_fetch() {
    for (file, needle) in [
        ("config-event-oversized.json", "GetResourceConfigHistory"),
        ("config-event-scheduled.json", "describe-repositories"),
    ] {
        let path = format!("docs/examples/offline-errors/{file}");
        let out = run(&["evaluate", &path], None);
        assert_eq!(out.code, 2, "{out:?}");
        assert!(
            out.stderr.contains(&path) && out.stderr.contains(needle),
            "{}",
            out.stderr
        );
    }
}
