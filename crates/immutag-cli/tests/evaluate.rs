//! `immutag evaluate` end to end: exit codes, stdin, rule parameters, colour.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{find, fixture, json, run, run_env};

const DESCRIBE: &str = "describe-repositories.json";
const EVENT: &str = "config-rule-event.json";
const MALFORMED: &str = "malformed.json";
const PARAMS: &str = "params/allow-latest-pr-exempt-sandbox.json";

#[test]
fn exit_0_when_everything_passes() {
    // The rule event's own parameters allow its one exclusion filter.
    let out = run(&["evaluate", &fixture(EVENT)], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("┆ COMPLIANT "), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("1 resource: 0 NON_COMPLIANT, 1 COMPLIANT, 0 NOT_APPLICABLE")
    );
}

#[test]
fn exit_1_when_anything_is_non_compliant() {
    let out = run(&["evaluate", &fixture(DESCRIBE)], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("7 resources: 6 NON_COMPLIANT, 1 COMPLIANT, 0 NOT_APPLICABLE"),
        "{}",
        out.stdout
    );
}

#[test]
fn exit_2_for_malformed_input_naming_the_file_and_still_evaluating_the_rest() {
    let bad = fixture(MALFORMED);
    let out = run(
        &["evaluate", &bad, &fixture(EVENT), "--output", "json"],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("immutag: error: {bad}: JSON syntax error")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("1 of 2 input(s)"), "{}", out.stderr);
    // The good file is still reported.
    let evals = json(&out);
    assert_eq!(evals.len(), 1);
    assert_eq!(evals[0]["resource_id"], "team/api");
}

#[test]
fn exit_2_for_a_missing_file_and_no_table_when_nothing_was_read() {
    let out = run(&["evaluate", "no/such/file.json"], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("immutag: error: no/such/file.json: cannot open"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn exit_2_for_unrecognised_input_with_a_hint() {
    let out = run(&["evaluate", "-"], Some(br#"{"hello":"world"}"#));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("(stdin)"), "{}", out.stderr);
    assert!(out.stderr.contains("--input"), "{}", out.stderr);
}

#[test]
fn exit_2_for_bad_parameters_before_reading_anything() {
    let out = run(
        &[
            "evaluate",
            &fixture(DESCRIBE),
            "--param",
            "AllowedFilters=latest",
        ],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("`AllowedFilters`"), "{}", out.stderr);
    assert!(
        out.stderr.contains("AllowedExclusionFilters"),
        "lists the known keys: {}",
        out.stderr
    );
    assert!(out.stdout.is_empty());

    let out = run(&["evaluate", &fixture(DESCRIBE), "--param", "latest"], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("KEY=VALUE"), "{}", out.stderr);

    let out = run(
        &[
            "evaluate",
            &fixture(DESCRIBE),
            "--param",
            "AllowedExclusionFilters=*",
        ],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("matches every tag"), "{}", out.stderr);

    let out = run(
        &[
            "evaluate",
            &fixture(DESCRIBE),
            "--params-file",
            &fixture(MALFORMED),
        ],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--params-file") && out.stderr.contains(MALFORMED),
        "{}",
        out.stderr
    );
}

#[test]
fn exit_2_for_usage_errors() {
    let out = run(&["evaluate"], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("<FILE>"), "{}", out.stderr);

    let out = run(&["evaluate", "-", "-"], Some(b"{}"));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("only once"), "{}", out.stderr);

    let out = run(&["evaluate", &fixture(DESCRIBE), "--output", "xml"], None);
    assert_eq!(out.code, 2, "{out:?}");
}

#[test]
fn forced_input_kind_and_its_short_alias() {
    for kind in ["terraform", "tf"] {
        let out = run(
            &[
                "evaluate",
                "--input",
                kind,
                "docs/examples/terraform-plan.json",
                "-o",
                "json",
            ],
            None,
        );
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            json(&out)
                .iter()
                .all(|e| e["source"]["kind"] == "terraform")
        );
    }
}

#[test]
fn forced_input_kind_that_does_not_fit_is_an_input_error() {
    let out = run(&["evaluate", "--input", "config", &fixture(DESCRIBE)], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains(DESCRIBE), "{}", out.stderr);
}

#[test]
fn stdin_gives_the_same_verdicts_as_the_file() {
    let path = fixture(DESCRIBE);
    let bytes = std::fs::read(common::root().join(&path)).unwrap();
    let from_file = json(&run(&["evaluate", &path, "-o", "json"], None));
    let piped = run(&["evaluate", "-", "-o", "json"], Some(&bytes));
    assert_eq!(piped.code, 1, "{piped:?}");
    let from_stdin = json(&piped);
    assert_eq!(from_file.len(), 7);
    assert_eq!(from_file.len(), from_stdin.len());
    for (a, b) in from_file.iter().zip(&from_stdin) {
        assert_eq!(a["resource_id"], b["resource_id"]);
        assert_eq!(a["compliance"], b["compliance"]);
        assert_eq!(a["annotation"], b["annotation"]);
        assert_eq!(b["source"]["file"], "-");
    }
}

#[test]
fn a_rule_event_uses_its_own_parameters_unless_given_on_the_command_line() {
    let event = fixture(EVENT);
    // Own ruleParameters: AllowedExclusionFilters=latest, and the item excludes `latest`.
    let own = json(&run(&["evaluate", &event, "-o", "json"], None));
    assert_eq!(own[0]["compliance"], "COMPLIANT");
    assert_eq!(own[0]["reason"], "immutable-with-allowed-exclusions");

    // Command-line parameters replace the event's.
    let out = run(
        &[
            "evaluate",
            &event,
            "-o",
            "json",
            "--param",
            "AllowedExclusionFilters=dev-*",
        ],
        None,
    );
    assert_eq!(out.code, 1, "{out:?}");
    let e = &json(&out)[0];
    assert_eq!(e["compliance"], "NON_COMPLIANT");
    assert!(e["annotation"].as_str().unwrap().contains("'dev-*'"), "{e}");

    // Any command-line parameter replaces them all, even one on another key.
    let out = run(
        &[
            "evaluate",
            &event,
            "-o",
            "json",
            "--param",
            "ExemptionTagKey=immutag:exempt",
        ],
        None,
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        json(&out)[0]["reason"],
        "immutable-with-disallowed-exclusions"
    );
}

#[test]
fn params_file_and_param_merge_with_the_command_line_winning() {
    let describe = fixture(DESCRIBE);
    let params = fixture(PARAMS);
    // File: AllowedExclusionFilters=latest,pr-*; ExemptRepositoryPatterns=sandbox-*.
    let out = run(
        &[
            "evaluate",
            &describe,
            "-o",
            "json",
            "--params-file",
            &params,
        ],
        None,
    );
    assert_eq!(out.code, 1, "{out:?}");
    let evals = json(&out);
    assert_eq!(find(&evals, "web/frontend")["compliance"], "COMPLIANT");
    assert_eq!(find(&evals, "web/preview")["compliance"], "COMPLIANT");
    assert_eq!(
        find(&evals, "sandbox-alice")["compliance"],
        "NOT_APPLICABLE"
    );
    assert_eq!(find(&evals, "sandbox-alice")["reason"], "exempt-by-name");
    assert_eq!(
        find(&evals, "payments/worker")["compliance"],
        "NON_COMPLIANT"
    );

    // --param overrides one key of the file; the other key still applies.
    let out = run(
        &[
            "evaluate",
            &describe,
            "-o",
            "json",
            "--params-file",
            &params,
            "--param",
            "AllowedExclusionFilters=latest",
        ],
        None,
    );
    let evals = json(&out);
    assert_eq!(find(&evals, "web/frontend")["compliance"], "COMPLIANT");
    assert_eq!(find(&evals, "web/preview")["compliance"], "NON_COMPLIANT");
    assert_eq!(
        find(&evals, "sandbox-alice")["compliance"],
        "NOT_APPLICABLE"
    );
}

#[test]
fn colour_follows_flag_and_no_color() {
    let describe = fixture(DESCRIBE);
    let esc = '\u{1b}';
    // Piped stdout: plain by default.
    assert!(!run(&["evaluate", &describe], None).stdout.contains(esc));
    // Forced on, even with NO_COLOR.
    let forced = run_env(
        &["evaluate", &describe, "--color", "always"],
        None,
        &[("NO_COLOR", "1")],
    );
    assert!(forced.stdout.contains(esc), "{}", forced.stdout);
    assert!(
        !run(&["evaluate", &describe, "--color", "never"], None)
            .stdout
            .contains(esc)
    );
    // Colour applies to the table only.
    let j = run(
        &["evaluate", &describe, "--color", "always", "-o", "json"],
        None,
    );
    assert!(!j.stdout.contains(esc));
}

#[test]
fn csv_has_one_row_per_resource() {
    let out = run(&["evaluate", &fixture(DESCRIBE), "-o", "csv"], None);
    assert_eq!(out.code, 1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 8, "{}", out.stdout);
    assert!(lines[0].starts_with("account_id,region,resource_type,resource_id,"));
}

#[test]
fn a_reader_that_leaves_early_is_not_a_crash() {
    use std::process::{Command, Stdio};
    // `immutag ... | head -0`: stdout closes before (or while) immutag writes.
    for args in [
        vec![
            "evaluate",
            "docs/examples/describe-repositories.json",
            "-o",
            "json",
        ],
        vec!["schema", "evaluation"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_immutag"))
            .args(&args)
            .current_dir(common::root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: {stderr}");
    }
}

const TEMPLATE: &str = r#"{"Parameters":{"Mode":{"Type":"String","Default":"IMMUTABLE","AllowedValues":["IMMUTABLE","MUTABLE"]}},
 "Resources":{"Repo":{"Type":"AWS::ECR::Repository","Properties":{"RepositoryName":"app","ImageTagMutability":{"Ref":"Mode"}}}}}"#;

#[test]
fn cfn_parameters_give_the_deployed_values_in_both_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.json");
    std::fs::write(&t, TEMPLATE).unwrap();
    let t = t.to_str().unwrap();
    // Without a deployed value: a deployer picks among the AllowedValues.
    let out = run(&["evaluate", t, "-o", "json"], None);
    assert_eq!(out.code, 1, "{out:?}");
    let e = &json(&out)[0];
    assert_eq!(e["reason"], "unresolved");
    let note = e["annotation"].as_str().unwrap();
    assert!(
        note.contains("Default 'IMMUTABLE'")
            && note.contains("'IMMUTABLE', 'MUTABLE'")
            && note.contains("--cfn-parameters"),
        "{note}"
    );
    for (name, text) in [
        (
            "cli.json",
            r#"[{"ParameterKey":"Mode","ParameterValue":"IMMUTABLE"}]"#,
        ),
        ("pipeline.json", r#"{"Parameters":{"Mode":"IMMUTABLE"}}"#),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let out = run(
            &["evaluate", t, "--cfn-parameters", p.to_str().unwrap()],
            None,
        );
        assert_eq!(out.code, 0, "{name}: {out:?}");
        // --cfn-parameter wins over the file.
        let out = run(
            &[
                "evaluate",
                t,
                "--cfn-parameters",
                p.to_str().unwrap(),
                "--cfn-parameter",
                "Mode=MUTABLE",
            ],
            None,
        );
        assert_eq!(out.code, 1, "{name}: {out:?}");
    }
    // A value outside AllowedValues: exit 2 naming the parameter.
    let out = run(&["evaluate", t, "--cfn-parameter", "Mode=SOMETIMES"], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(t) && out.stderr.contains("parameter `Mode` is given `SOMETIMES`"),
        "{}",
        out.stderr
    );
    let out = run(&["evaluate", t, "--cfn-parameter", "Mode"], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("KEY=VALUE"), "{}", out.stderr);
}

fn raw(s: &str) -> bool {
    s.contains('\u{1b}') || s.contains('\u{7}')
}

/// Exit 2, and `shown` (escaped) in the error where the input had control characters.
fn escaped_error(args: &[&str], shown: &str) {
    let out = run(args, None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        !raw(&out.stderr) && out.stderr.contains(shown),
        "{}",
        out.stderr
    );
}

/// ESC sequences in the input never reach the terminal raw: not in stderr errors (file names,
/// keys and values quoted by a message), not in the table.
#[test]
fn control_characters_from_input_are_escaped_on_every_text_path() {
    let dir = tempfile::tempdir().unwrap();
    // A value quoted by an error message.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"messageType":"X\u001b[2J\u0007","configurationItem":{}}"#,
    )
    .unwrap();
    escaped_error(&["evaluate", bad.to_str().unwrap()], "X\\u{1b}[2J\\u{7}");
    // A file name with an ESC in it.
    let odd = dir.path().join("odd\u{1b}[31m.json");
    std::fs::write(&odd, "{").unwrap();
    escaped_error(&["evaluate", odd.to_str().unwrap()], "odd\\u{1b}[31m.json");
    // A rule parameter given on the command line, quoted back.
    escaped_error(
        &["evaluate", &fixture(DESCRIBE), "--param", "Bad\u{1b}[2J=1"],
        "Bad\\u{1b}[2J",
    );
    // Names, values and filters in the table.
    let repos = dir.path().join("repos.json");
    std::fs::write(
        &repos,
        r#"{"repositories":[{"repositoryName":"a\u001b[2Jb","imageTagMutability":"IMMUTABLE_WITH_EXCLUSION\u001b[31m",
           "imageTagMutabilityExclusionFilters":[{"filterType":"WILDCARD\u001b]0;x\u0007","filter":"l\u001b[1m"}]}]}"#,
    )
    .unwrap();
    let out = run(
        &["evaluate", repos.to_str().unwrap(), "--color", "never"],
        None,
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(!raw(&out.stdout) && !raw(&out.stderr), "{out:?}");
    assert!(out.stdout.contains("a\\u{1b}[2Jb"), "{}", out.stdout);
    // JSON and CSV are data: their encoders escape (JSON) or quote them, but JSON never
    // carries a raw control character.
    let out = run(&["evaluate", repos.to_str().unwrap(), "-o", "json"], None);
    assert!(!raw(&out.stdout), "{}", out.stdout);
}
