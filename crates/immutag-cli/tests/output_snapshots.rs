//! Snapshots of every output format over the test fixtures (the inputs a reviewer can
//! open next to the snapshot). Review changes with `cargo insta review`, or run with
//! `INSTA_UPDATE=always` and read the diff.

mod common;

use common::{fixture, run};

fn inputs() -> Vec<String> {
    vec![
        fixture("describe-repositories.json"),
        fixture("config-rule-event.json"),
    ]
}

fn evaluate(format: &str) -> String {
    let inputs = inputs();
    let mut args = vec!["evaluate", "--output", format];
    args.extend(inputs.iter().map(String::as_str));
    let out = run(&args, None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    // The version changes with every release; the rest must not change by accident.
    out.stdout.replace(env!("CARGO_PKG_VERSION"), "[VERSION]")
}

#[test]
fn table_plain() {
    insta::assert_snapshot!("fixtures_table", evaluate("table"));
}

#[test]
fn json() {
    insta::assert_snapshot!("fixtures_json", evaluate("json"));
}

#[test]
fn csv() {
    insta::assert_snapshot!("fixtures_csv", evaluate("csv"));
}

#[test]
fn sarif() {
    insta::assert_snapshot!("fixtures_sarif", evaluate("sarif"));
}
