//! `immutag scp` end to end: the binary, the golden files, the fixtures, exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "../../immutag-scp/tests/support/corpus.rs"]
mod corpus;

/// Records what `immutag scp generate --output json` printed for `options`, for the SCP
/// simulation step.
fn record(source: &str, options: &immutag_scp::ScpOptions, report: &Output) {
    let v: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let docs: Vec<&serde_json::Value> = v[0]["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["document"])
        .collect();
    assert!(!docs.is_empty(), "{source}");
    corpus::record(source, options, &docs);
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn immutag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_immutag"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run immutag")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scp-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const BAD: &str = "tests/fixtures/policies/bad-create-unless-immutable.json";

#[test]
fn generate_out_reproduces_the_golden_files() {
    let dir = scratch("golden");
    let o = immutag(&["scp", "generate", "--out", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let fresh = std::fs::read(entry.path()).unwrap();
        let golden = std::fs::read(root().join("policies").join(&name)).unwrap();
        assert_eq!(fresh, golden, "{name:?}");
        count += 1;
    }
    assert_eq!(count, 7);
    assert!(stdout(&o).contains("bytes minified, limit 5120"));
}

#[test]
fn generate_preset_prints_the_uploaded_document() {
    let o = immutag(&["scp", "generate", "--preset", "baseline"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let golden = std::fs::read_to_string(root().join("policies/baseline.json")).unwrap();
    assert_eq!(stdout(&o), format!("{golden}\n"));
    let err = stderr(&o);
    assert!(err.contains("management account"), "{err}");
    assert!(
        err.contains(&format!("{} bytes minified", golden.len())),
        "{err}"
    );

    let o = immutag(&["scp", "generate", "--preset", "baseline", "--pretty"]);
    let pretty: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let minified: serde_json::Value = serde_json::from_str(&golden).unwrap();
    assert_eq!(pretty, minified);

    let o = immutag(&[
        "scp", "generate", "--preset", "baseline", "--output", "json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report[0]["policies"][0]["minified_bytes"], golden.len());
    assert_eq!(report[0]["policies"][0]["document"], minified);
}

#[test]
fn generate_from_each_example_config_format() {
    for file in [
        "docs/scp-options/example.yaml",
        "docs/scp-options/example.toml",
    ] {
        let o = immutag(&["scp", "generate", "--config", file]);
        assert_eq!(o.status.code(), Some(0), "{file}: {}", stderr(&o));
        let text = stdout(&o);
        assert!(text.contains("PlatformAutomation"), "{file}: {text}");
        // What the generator emits, the linter accepts.
        let dir = scratch("example");
        let path = dir.join("p.json");
        std::fs::write(&path, text.trim_end()).unwrap();
        let o = immutag(&["scp", "check", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{file}: {}", stdout(&o));
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        let format = immutag_scp::OptionsFormat::from_file_name(file).unwrap();
        let options = immutag_scp::ScpOptions::parse(&text, format).unwrap();
        let o = immutag(&["scp", "generate", "--config", file, "--output", "json"]);
        record(file, &options, &o);
    }
    let dir = scratch("json-config");
    let path = dir.join("opts.json");
    std::fs::write(
        &path,
        r#"{"lock_mutability": true, "exempt_principals": ["arn:aws:iam::*:role/X"]}"#,
    )
    .unwrap();
    let o = immutag(&["scp", "generate", "--config", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn generate_refusals_exit_2_and_say_why() {
    let dir = scratch("refusals");
    let cases = [
        (
            "lockout.yaml",
            "lock_mutability: true\n",
            "exempt_principals",
        ),
        (
            "mutability.json",
            r#"{"restrict_creation": true, "creation_principals": ["arn:aws:iam::*:role/P"], "extra_conditions": {"StringNotEquals": {"ecr:ImageTagMutability": "IMMUTABLE"}}}"#,
            "does not exist",
        ),
        ("typo.toml", "lock_mutabilty = true\n", "lock_mutabilty"),
        (
            "operator.yaml",
            "lock_mutability: true\nexempt_principals: ['arn:aws:iam::*:role/P']\nextra_conditions: {StringEqualz: {'aws:PrincipalOrgID': o-1}}\n",
            "StringEqualz",
        ),
        ("opts.txt", "{}", "*.json, *.yaml"),
    ];
    for (name, content, why) in cases {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        let o = immutag(&["scp", "generate", "--config", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert!(stderr(&o).contains(why), "{name}: {}", stderr(&o));
        assert!(
            stdout(&o).is_empty(),
            "{name}: nothing is printed when refused"
        );
    }
    let o = immutag(&["scp", "generate", "--preset", "strictest"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("baseline"), "{}", stderr(&o));
    let o = immutag(&["scp", "generate", "--config", "/nonexistent/x.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/x.yaml"), "{}", stderr(&o));
}

#[test]
fn check_flags_the_often_suggested_policy_with_exit_1() {
    let o = immutag(&["scp", "check", BAD]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let text = stdout(&o);
    assert!(text.contains("unknown-condition-key"), "{text}");
    assert!(text.contains("ecr:ImageTagMutability"), "{text}");
    assert!(text.contains("condition-always-true"), "{text}");
    assert!(text.contains("no-principal-exemption"), "{text}");

    let o = immutag(&[
        "scp",
        "check",
        "--output",
        "json",
        BAD,
        "policies/baseline.json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let codes: Vec<&str> = v[0]["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "unknown-condition-key",
            "condition-always-true",
            "no-principal-exemption"
        ]
    );
    assert_eq!(v[1]["report"]["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn check_golden_files_is_clean_and_unreadable_input_exits_2() {
    let mut args = vec!["scp", "check"];
    let files: Vec<String> = std::fs::read_dir(root().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 7);
    args.extend(files.iter().map(String::as_str));
    let o = immutag(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    let dir = scratch("unreadable");
    let not_json = dir.join("not.json");
    std::fs::write(&not_json, "{ nope").unwrap();
    for bad in [not_json.to_str().unwrap(), "/nonexistent/policy.json"] {
        let o = immutag(&["scp", "check", bad, BAD]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).contains(bad), "{}", stderr(&o));
        // The other file is still checked.
        assert!(stdout(&o).contains("ecr:ImageTagMutability"));
    }
}

#[test]
fn presets_and_schema() {
    let o = immutag(&["scp", "presets"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    for name in [
        "lock-mutability",
        "restrict-creation",
        "lock-creation-templates",
        "baseline",
        "protect-tags",
        "protect-exemption-tag",
        "strict",
    ] {
        assert!(text.contains(name), "{name}");
    }
    assert!(text.contains("arn:aws:iam::*:role/ImmutagPlatform"));
    assert!(text.contains("--config"));
    let o = immutag(&["scp", "presets", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 7);
    assert_eq!(v[3]["options"]["lock_mutability"], true);

    let o = immutag(&["scp", "schema"]);
    assert_eq!(o.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        schema["properties"]["exempt_principals"].is_object(),
        "{schema}"
    );
}

#[test]
fn check_reads_standard_input() {
    use std::io::Write;
    use std::process::Stdio;
    let bad = std::fs::read(root().join(BAD)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_immutag"))
        .args(["scp", "check", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bad).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("-: 3 finding(s)"), "{}", stdout(&o));
}

/// `immutag scp generate` with these arguments and `--exemption-tag-key KEY`.
fn generate_with_key(args: &[&str], key: &str) -> Output {
    let mut all = vec!["scp", "generate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--exemption-tag-key", key]);
    immutag(&all)
}

#[test]
fn exemption_tag_key_flag_adds_the_protection_to_a_preset() {
    let o = generate_with_key(&["--preset", "strict"], "team:exempt");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let protect = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "ImmutagProtectExemptionTag")
        .expect("the tag protection statement");
    assert_eq!(
        protect["Condition"]["ForAnyValue:StringEqualsIgnoreCase"]["aws:TagKeys"],
        "team:exempt"
    );
    assert_eq!(
        protect["Action"],
        serde_json::json!([
            "ecr:CreateRepository",
            "ecr:TagResource",
            "ecr:UntagResource"
        ])
    );
    let o = generate_with_key(&["--preset", "strict", "--output", "json"], "team:exempt");
    let options = immutag_scp::presets::get("strict")
        .unwrap()
        .options
        .with_rule_exemption_tag_key("team:exempt")
        .unwrap();
    record(
        "--preset strict --exemption-tag-key team:exempt",
        &options,
        &o,
    );
    // The preset's key is a placeholder: the rule's key replaces it.
    let o = generate_with_key(&["--preset", "protect-exemption-tag"], "team:exempt");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(r#""aws:TagKeys":"team:exempt""#),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("immutag:exempt"), "{}", stdout(&o));
    // An options file says what it protects: another key is refused rather than guessed.
    let dir = scratch("tag-key");
    let path = dir.join("opts.yaml");
    std::fs::write(
        &path,
        "rule_exemption_tag_key: immutag:exempt\nexempt_principals: ['arn:aws:iam::*:role/P']\n",
    )
    .unwrap();
    let o = generate_with_key(&["--config", path.to_str().unwrap()], "team:exempt");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("immutag:exempt"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    let o = generate_with_key(&["--preset", "strict"], "aws:exempt");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("reserved"), "{}", stderr(&o));
}

#[test]
fn check_flags_locks_that_lock_nothing() {
    for (fixture, code) in [
        (
            "tests/fixtures/policies/bad-arnlike-exemption.json",
            "positive-principal-condition",
        ),
        (
            "tests/fixtures/policies/bad-exempt-every-role.json",
            "exemption-matches-everyone",
        ),
    ] {
        let o = immutag(&["scp", "check", fixture]);
        assert_eq!(o.status.code(), Some(1), "{fixture}: {}", stdout(&o));
        let text = stdout(&o);
        assert!(text.contains(&format!("error[{code}]")), "{text}");
        assert!(text.contains("    fix: "), "{text}");
    }
}

#[test]
fn control_characters_from_the_policy_are_escaped_in_text() {
    let dir = scratch("escape");
    let path = dir.join("esc.json");
    // An ESC sequence (clear screen) in an action name, a condition key and a Sid.
    std::fs::write(
        &path,
        r#"{"Version":"2012-10-17","Statement":{"Sid":"S\u001b[2J","Effect":"Deny","Action":"ecr:Put\u001b[2J","Resource":"*","Condition":{"StringNotEquals":{"ecr:ImageTag\u001b]0;x\u0007":"IMMUTABLE"}}}}"#,
    )
    .unwrap();
    let o = immutag(&["scp", "check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("ecr:Put\\u{1b}[2J"), "{text}");
    assert!(text.contains("ecr:ImageTag\\u{1b}]0;x\\u{7}"), "{text}");
    // An error message quoting the input is escaped too.
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEqualz\u001b[2J":{"a:b":"c"}}}}"#,
    )
    .unwrap();
    let o = immutag(&["scp", "check", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(err.contains("StringEqualz\\u{1b}[2J"), "{err}");
}
