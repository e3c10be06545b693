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

/// Rows of a recorded source (`immutag scan --aggregator`): account, region, capture time and
/// the source kind `config-aggregator` in every format.
#[test]
fn aggregator_rows_every_format() {
    use immutag_cli::output::{Format, RenderOptions, render};
    use immutag_core::{
        ExclusionFilter, InputKind, Repository, RuleParameters, TagMutability, evaluate_all,
    };
    let row = |account: &str, region: &str, name: &str, mode: TagMutability, filters: &[&str]| {
        let mut r = Repository::new(name, InputKind::ConfigAggregator)
            .with_mutability(mode)
            .with_filters(
                filters
                    .iter()
                    .map(|f| ExclusionFilter::wildcard(*f))
                    .collect(),
            );
        r.account_id = Some(account.into());
        r.region = Some(region.into());
        r.arn = Some(format!("arn:aws:ecr:{region}:{account}:repository/{name}"));
        r.captured_at = Some("2026-11-20T09:58:12.000Z".into());
        r
    };
    let repos = vec![
        row(
            "111122223333",
            "eu-west-1",
            "api",
            TagMutability::Mutable,
            &[],
        ),
        row(
            "111122223333",
            "eu-west-1",
            "edge",
            TagMutability::ImmutableWithExclusion,
            &["latest"],
        ),
        row(
            "444455556666",
            "us-east-1",
            "web",
            TagMutability::Immutable,
            &[],
        ),
    ];
    let params = RuleParameters {
        allowed_exclusion_filters: vec!["latest".into()],
        ..RuleParameters::default()
    };
    let evals = evaluate_all(&repos, &params);
    let text = |format| {
        let mut out = Vec::new();
        render(&evals, format, &RenderOptions::default(), &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .replace(env!("CARGO_PKG_VERSION"), "[VERSION]")
    };
    let json = text(Format::Json);
    assert!(json.contains(r#""kind": "config-aggregator""#), "{json}");
    let sarif = text(Format::Sarif);
    assert!(
        sarif.contains(r#""source": "config-aggregator""#),
        "{sarif}"
    );
    assert!(
        sarif.contains(r#""capturedAt": "2026-11-20T09:58:12.000Z""#),
        "{sarif}"
    );
    insta::assert_snapshot!("aggregator_json", json);
    insta::assert_snapshot!("aggregator_sarif", sarif);
    insta::assert_snapshot!("aggregator_csv", text(Format::Csv));
    insta::assert_snapshot!("aggregator_table", text(Format::Table));
}
