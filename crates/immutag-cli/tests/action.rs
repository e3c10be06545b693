//! The GitHub Action (`action.yml`, logic in `action/immutag-action.sh`), run offline the way
//! the runner runs a composite action: every `${{ ... }}` of the step is evaluated from the
//! inputs (defaults from action.yml) and the `github` context, the step's `run` is written to a
//! file and run with `bash --noprofile --norc -eo pipefail FILE` (the runner's `shell: bash`)
//! in the workspace root, with the runner's variables (`GITHUB_ACTION_PATH`, `GITHUB_OUTPUT`,
//! `GITHUB_STEP_SUMMARY`, `RUNNER_OS`, `RUNNER_ARCH`, `RUNNER_TEMP`), and the action's outputs
//! are read back from `GITHUB_OUTPUT`. An expression the emulator does not know fails the test.
//!
//! Releases are served from a local directory through a `file://` URL: an archive laid out as
//! the release workflow publishes it (`immutag-cli-TARGET.tar.gz` holding
//! `immutag-cli-TARGET/immutag`, the binary of this test build, and `ARCHIVE.sha256`). The
//! source path builds a stand-in crate with the action's real `cargo install` command (the
//! real CLI would take a release build of the AWS SDK: minutes); it records its arguments.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Deserialize)]
struct ActionFile {
    inputs: BTreeMap<String, InputDef>,
    outputs: BTreeMap<String, OutputDef>,
    runs: Runs,
}

#[derive(Debug, Deserialize)]
struct InputDef {
    default: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OutputDef {
    value: String,
}

#[derive(Debug, Deserialize)]
struct Runs {
    using: String,
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
struct Step {
    id: Option<String>,
    shell: String,
    #[serde(default)]
    env: BTreeMap<String, String>,
    run: String,
}

/// What one run of the action produced.
#[derive(Debug)]
struct ActionRun {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    summary: String,
}

/// One run of the action: its checkout, inputs and the ref it was called at.
struct Invocation<'a> {
    action_dir: PathBuf,
    inputs: Vec<(&'a str, String)>,
    action_ref: &'a str,
    runner_temp: PathBuf,
    env: Vec<(&'a str, String)>,
}

impl<'a> Invocation<'a> {
    /// An invocation in the workspace root whose SARIF report (unless a test sets
    /// `sarif-file`) goes to `runner_temp`, not into the checkout.
    fn new(runner_temp: &Path) -> Self {
        Invocation {
            action_dir: common::root(),
            inputs: vec![(
                "sarif-file",
                runner_temp.join("immutag.sarif").display().to_string(),
            )],
            action_ref: "main",
            runner_temp: runner_temp.to_path_buf(),
            env: Vec::new(),
        }
    }

    /// Sets input `name` (the last value given wins).
    fn input(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.inputs.retain(|(n, _)| *n != name);
        self.inputs.push((name, value.into()));
        self
    }

    /// Runs the action as the runner would, one step after the other.
    fn run(&self) -> ActionRun {
        // Action runs are serialized: each one unpacks a debug binary (tens of MB).
        static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
        let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());

        let text = std::fs::read_to_string(self.action_dir.join("action.yml")).unwrap();
        let action: ActionFile = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(action.runs.using, "composite");
        for (name, _) in &self.inputs {
            assert!(
                action.inputs.contains_key(*name),
                "action.yml has no input {name}"
            );
        }
        let inputs: BTreeMap<String, String> = action
            .inputs
            .iter()
            .map(|(name, def)| {
                let given = self.inputs.iter().find(|(n, _)| n == name);
                let value = given
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| def.default.clone().unwrap_or_default());
                (name.clone(), value)
            })
            .collect();
        let action_path = self.action_dir.display().to_string();
        let mut steps: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let (mut stdout, mut stderr) = (String::new(), String::new());
        let summary_file = self.runner_temp.join("step-summary.md");
        std::fs::write(&summary_file, "").unwrap();
        let mut code = 0;
        for (i, step) in action.runs.steps.iter().enumerate() {
            assert_eq!(step.shell, "bash", "only `shell: bash` steps are emulated");
            let eval = |s: &str| {
                expand(s, &|expr| match expr.split_once('.') {
                    Some(("inputs", name)) => inputs.get(name).cloned(),
                    Some(("github", "action_path")) => Some(action_path.clone()),
                    Some(("github", "action_ref")) => Some(self.action_ref.to_string()),
                    _ => None,
                })
            };
            let script = self.runner_temp.join(format!("step-{i}.sh"));
            std::fs::write(&script, eval(&step.run)).unwrap();
            let output_file = self.runner_temp.join(format!("step-{i}.out"));
            std::fs::write(&output_file, "").unwrap();
            let mut cmd = Command::new("bash");
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
                .arg(&script)
                .current_dir(common::root())
                .env_remove("CARGO_TARGET_DIR")
                .env_remove("CARGO_BUILD_TARGET_DIR")
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_ACTION_PATH", &self.action_dir)
                .env("GITHUB_OUTPUT", &output_file)
                .env("GITHUB_STEP_SUMMARY", &summary_file)
                .env("GITHUB_WORKSPACE", common::root())
                .env("RUNNER_OS", runner_os())
                .env("RUNNER_ARCH", runner_arch())
                .env("RUNNER_TEMP", &self.runner_temp);
            for (k, v) in &step.env {
                cmd.env(k, eval(v));
            }
            for (k, v) in &self.env {
                cmd.env(k, v);
            }
            let out = cmd.output().unwrap();
            stdout.push_str(&String::from_utf8_lossy(&out.stdout));
            stderr.push_str(&String::from_utf8_lossy(&out.stderr));
            if let Some(id) = &step.id {
                steps.insert(
                    id.clone(),
                    parse_outputs(&std::fs::read_to_string(&output_file).unwrap()),
                );
            }
            code = out.status.code().expect("the step was killed by a signal");
            if code != 0 {
                break;
            }
        }
        let outputs = action
            .outputs
            .iter()
            .map(|(name, def)| {
                let value = expand(&def.value, &|expr| {
                    let mut parts = expr.split('.');
                    match (parts.next(), parts.next(), parts.next(), parts.next()) {
                        (Some("steps"), Some(id), Some("outputs"), Some(name)) => Some(
                            steps
                                .get(id)
                                .and_then(|o| o.get(name))
                                .cloned()
                                .unwrap_or_default(),
                        ),
                        _ => None,
                    }
                });
                (name.clone(), value)
            })
            .collect();
        ActionRun {
            code,
            stdout,
            stderr,
            outputs,
            summary: std::fs::read_to_string(&summary_file).unwrap(),
        }
    }
}

/// Replaces every `${{ EXPR }}` of `text` by `lookup(EXPR)`; an unknown expression panics.
fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("unclosed ${{") + start;
        let expr = rest[start + 3..end].trim();
        out.push_str(
            &lookup(expr).unwrap_or_else(|| panic!("the emulator does not know ${{{{ {expr} }}}}")),
        );
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The `GITHUB_OUTPUT` file: `NAME=VALUE` lines and `NAME<<DELIMITER` blocks.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            outputs.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_string(), value.to_string());
        }
    }
    outputs
}

fn runner_os() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "macOS",
        other => panic!("no runner OS for {other}"),
    }
}

fn runner_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "X64",
        "aarch64" => "ARM64",
        other => panic!("no runner architecture for {other}"),
    }
}

/// The release build the action picks for this machine.
fn release_target() -> &'static str {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "x86_64-unknown-linux-musl",
        ("linux", "aarch64") => "aarch64-unknown-linux-musl",
        ("macos", "x86_64") => "x86_64-apple-darwin",
        ("macos", "aarch64") => "aarch64-apple-darwin",
        other => panic!("no release build for {other:?}"),
    }
}

fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A release directory served at `file://DIR`: `v9.9.9` holds this build's `immutag` packed as
/// the release workflow packs it, with its checksum file; `v9.9.8` holds the same archive
/// with one byte appended after its checksum was taken.
struct Releases {
    _dir: tempfile::TempDir,
    url: String,
    archive_sha256: String,
}

fn releases() -> &'static Releases {
    static RELEASES: OnceLock<Releases> = OnceLock::new();
    RELEASES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let target = release_target();
        let stage = dir.path().join("stage");
        let inner = stage.join(format!("immutag-cli-{target}"));
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_immutag"), inner.join("immutag")).unwrap();
        std::fs::write(inner.join("README.md"), "immutag\n").unwrap();
        let archive_name = format!("immutag-cli-{target}.tar.gz");
        let good = dir.path().join("v9.9.9");
        std::fs::create_dir_all(&good).unwrap();
        let status = Command::new("tar")
            .arg("-czf")
            .arg(good.join(&archive_name))
            .arg("-C")
            .arg(&stage)
            .arg(format!("immutag-cli-{target}"))
            .status()
            .unwrap();
        assert!(status.success(), "tar failed");
        std::fs::remove_dir_all(&stage).unwrap();
        let archive_sha256 = sha256_hex(&good.join(&archive_name));
        let checksum_line = format!("{archive_sha256}  {archive_name}\n");
        std::fs::write(good.join(format!("{archive_name}.sha256")), &checksum_line).unwrap();

        let tampered = dir.path().join("v9.9.8");
        std::fs::create_dir_all(&tampered).unwrap();
        let mut bytes = std::fs::read(good.join(&archive_name)).unwrap();
        bytes.push(0);
        std::fs::write(tampered.join(&archive_name), bytes).unwrap();
        std::fs::write(
            tampered.join(format!("{archive_name}.sha256")),
            &checksum_line,
        )
        .unwrap();

        Releases {
            url: format!("file://{}", dir.path().display()),
            _dir: dir,
            archive_sha256,
        }
    })
}

/// An invocation that installs the fake release `v9.9.9`.
fn released<'a>(temp: &Path) -> Invocation<'a> {
    Invocation::new(temp)
        .input("version", "v9.9.9")
        .input("release-url", releases().url.clone())
}

fn sarif_rule_ids(path: &str) -> Vec<String> {
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn evaluate_the_examples_from_a_release_named_by_the_action_ref() {
    let temp = tempfile::tempdir().unwrap();
    let sarif = temp.path().join("reports/immutag.sarif");
    let mut inv = Invocation::new(temp.path())
        .input("release-url", releases().url.clone())
        .input("paths", "docs/examples/*")
        .input("sarif-file", sarif.display().to_string());
    inv.action_ref = "v9.9.9"; // `uses: immutag/immutag@v9.9.9`, no `version:` input
    let run = inv.run();

    assert_eq!(run.code, 1, "findings fail the step: {run:?}");
    assert_eq!(run.outputs["exit-code"], "1");
    assert_eq!(run.outputs["sarif-file"], sarif.display().to_string());
    assert!(run.stderr.contains("immutag v9.9.9 for"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("sha256 {} verified", releases().archive_sha256)),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("::error title=immutag::immutag evaluate found problems")
    );
    assert!(run.outputs["immutag"].ends_with("/immutag"));
    // The table is in the log and in the job summary.
    assert!(run.stdout.contains("NON_COMPLIANT"), "{}", run.stdout);
    assert!(run.stdout.contains("docs/examples/terraform-plan.json"));
    assert!(run.summary.starts_with("### immutag evaluate\n```text\n"));
    // What immutag itself says of the same files, run directly: the action passes them all
    // and the report it writes is that run's.
    let mut files: Vec<String> = std::fs::read_dir(common::root().join("docs/examples"))
        .unwrap()
        .map(|e| format!("docs/examples/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    files.sort();
    let mut args = vec!["evaluate", "--output", "json"];
    args.extend(files.iter().map(String::as_str));
    let direct = common::run(&args, None);
    assert_eq!(direct.code, 1, "{direct:?}");
    let evaluations: Vec<serde_json::Value> = serde_json::from_str(&direct.stdout).unwrap();
    let non_compliant: Vec<&serde_json::Value> = evaluations
        .iter()
        .filter(|e| e["compliance"] == "NON_COMPLIANT")
        .collect();
    assert!(
        non_compliant.len() >= 20,
        "the examples are non-compliant on purpose"
    );
    let summary = format!(
        "{} resources: {} NON_COMPLIANT",
        evaluations.len(),
        non_compliant.len()
    );
    assert!(run.summary.contains(&summary), "{summary}: {}", run.summary);
    // The SARIF report: one result per NON_COMPLIANT resource, rule ids the reasons.
    let mut rules = sarif_rule_ids(&sarif.display().to_string());
    let mut reasons: Vec<String> = non_compliant
        .iter()
        .map(|e| e["reason"].as_str().unwrap().to_string())
        .collect();
    rules.sort();
    reasons.sort();
    assert_eq!(rules, reasons);
}

#[test]
fn fail_on_errors_lets_findings_pass_with_a_warning() {
    let temp = tempfile::tempdir().unwrap();
    let sarif = temp.path().join("immutag.sarif");
    let run = released(temp.path())
        .input("paths", "docs/examples/terraform-plan.json")
        .input("sarif-file", sarif.display().to_string())
        .input("fail-on", "errors")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.outputs["exit-code"], "1");
    assert!(
        run.stderr
            .contains("::warning title=immutag::immutag evaluate found problems")
    );
    assert!(!sarif_rule_ids(&sarif.display().to_string()).is_empty());
}

#[test]
fn bad_input_fails_the_step_whatever_fail_on_says() {
    let temp = tempfile::tempdir().unwrap();
    let sarif = temp.path().join("immutag.sarif");
    for params in ["NoSuchParameter=1", r#"{"NoSuchParameter":"1"}"#] {
        let run = released(temp.path())
            .input("paths", "docs/examples/terraform-plan.json")
            .input("params", params)
            .input("sarif-file", sarif.display().to_string())
            .input("fail-on", "errors")
            .run();
        assert_eq!(run.code, 2, "{run:?}");
        assert_eq!(run.outputs["exit-code"], "2");
        assert!(run.stderr.contains("NoSuchParameter"), "{}", run.stderr);
        assert!(run.stderr.contains("usage or input error (exit 2)"));
    }
    // A file that is not an input of evaluate: exit 2, and the SARIF is still a document.
    let run = released(temp.path())
        .input("paths", "README.md docs/examples/terraform-plan.json")
        .input("sarif-file", sarif.display().to_string())
        .input("fail-on", "errors")
        .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("README.md"), "{}", run.stderr);
    assert!(!sarif_rule_ids(&sarif.display().to_string()).is_empty());
}

#[test]
fn params_as_json_or_key_value_lines_reach_the_rule() {
    let temp = tempfile::tempdir().unwrap();
    let template = temp.path().join("repo.yaml");
    std::fs::write(
        &template,
        "Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n    Properties:\n      \
         RepositoryName: app\n      ImageTagMutability: IMMUTABLE_WITH_EXCLUSION\n      \
         ImageTagMutabilityExclusionFilters:\n        - ImageTagMutabilityExclusionFilterType: WILDCARD\n          \
         ImageTagMutabilityExclusionFilterValue: latest\n",
    )
    .unwrap();
    let path = template.display().to_string();
    let without = released(temp.path())
        .input("paths", &path)
        .input("sarif-file", "")
        .run();
    assert_eq!(without.code, 1, "{without:?}");
    assert_eq!(without.outputs["sarif-file"], "");
    for params in [
        r#"{"AllowedExclusionFilters": "latest"}"#,
        "AllowedExclusionFilters=latest\n\nExemptRepositoryPatterns=sandbox-*\n",
    ] {
        let run = released(temp.path())
            .input("paths", &path)
            .input("params", params)
            .input("sarif-file", "")
            .run();
        assert_eq!(run.code, 0, "{params}: {run:?}");
        assert!(run.stdout.contains("COMPLIANT"), "{}", run.stdout);
    }
    let run = released(temp.path())
        .input("paths", &path)
        .input("params", "AllowedExclusionFilters")
        .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("neither KEY=VALUE nor a JSON object"));
}

#[test]
fn pins_check_writes_its_sarif_and_globs_cross_directories() {
    let temp = tempfile::tempdir().unwrap();
    let sarif = temp.path().join("pins.sarif");
    let run = released(temp.path())
        .input("command", "pins check")
        .input(
            "paths",
            "tests/fixtures/pins/repo/**/Dockerfile\ntests/fixtures/pins/repo/k8s",
        )
        .input("sarif-file", sarif.display().to_string())
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("UNPINNED"), "{}", run.stdout);
    // `**` reached vendor/Dockerfile, one directory down.
    assert!(run.stdout.contains("vendor/Dockerfile"), "{}", run.stdout);
    let rules = sarif_rule_ids(&sarif.display().to_string());
    assert!(!rules.is_empty());
    assert!(rules.iter().all(|id| id.starts_with("pin-")), "{rules:?}");
}

#[test]
fn a_tampered_archive_is_not_installed() {
    let temp = tempfile::tempdir().unwrap();
    let sarif = temp.path().join("immutag.sarif");
    let run = released(temp.path())
        .input("version", "v9.9.8")
        .input("paths", "docs/examples/terraform-plan.json")
        .input("sarif-file", sarif.display().to_string())
        .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("does not match"), "{}", run.stderr);
    assert!(run.stderr.contains(&releases().archive_sha256));
    assert!(!sarif.exists(), "immutag must not run");
    assert_eq!(run.outputs["immutag"], "");
}

#[test]
fn a_pinned_checksum_must_match_too() {
    let temp = tempfile::tempdir().unwrap();
    let ok = released(temp.path())
        .input("paths", "docs/examples/terraform-plan.json")
        .input("checksum", releases().archive_sha256.to_uppercase())
        .input("fail-on", "errors")
        .run();
    assert_eq!(ok.code, 0, "{ok:?}");
    let wrong = released(temp.path())
        .input("paths", "docs/examples/terraform-plan.json")
        .input("checksum", "0".repeat(64))
        .run();
    assert_eq!(wrong.code, 2, "{wrong:?}");
    assert!(
        wrong.stderr.contains("is not the pinned checksum"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn bad_inputs_are_usage_errors() {
    let temp = tempfile::tempdir().unwrap();
    let cases: [(&[(&str, &str)], &str); 6] = [
        (
            &[("command", "scan"), ("paths", ".")],
            "command: 'scan' is not one of",
        ),
        (
            &[("fail-on", "always"), ("paths", ".")],
            "fail-on: 'always' is not one of",
        ),
        (&[], "paths: immutag evaluate needs the files"),
        (&[("paths", "no-such-dir/*.yaml")], "paths: no file matches"),
        // An input cannot end the workflow command that reports it (% escaped).
        (
            &[("params", "X%0A::warning::y"), ("paths", ".")],
            "params: 'X%250A::warning::y' is neither",
        ),
        (
            &[
                ("version", "v1.0.0"),
                ("paths", "x"),
                ("release-url", "file:///nonexistent"),
            ],
            "cannot download",
        ),
    ];
    for (inputs, needle) in cases {
        let mut inv = released(temp.path());
        for (k, v) in inputs {
            inv = inv.input(k, *v);
        }
        let run = inv.run();
        assert!(run.code == 2 || run.code == 3, "{inputs:?}: {run:?}");
        assert!(run.stderr.contains(needle), "{inputs:?}: {}", run.stderr);
    }
}

/// A stand-in for the action's checkout: the real action.yml and script, and a crate at
/// `crates/immutag-cli` whose `immutag` binary records its arguments.
fn fake_checkout(dir: &Path) {
    let root = common::root();
    std::fs::create_dir_all(dir.join("action")).unwrap();
    std::fs::copy(root.join("action.yml"), dir.join("action.yml")).unwrap();
    std::fs::copy(
        root.join("action/immutag-action.sh"),
        dir.join("action/immutag-action.sh"),
    )
    .unwrap();
    let krate = dir.join("crates/immutag-cli");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        "[package]\nname = \"immutag-cli\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
         [[bin]]\nname = \"immutag\"\npath = \"src/main.rs\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        krate.join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"immutag-cli\"\nversion = \"0.0.0\"\n",
    )
    .unwrap();
    std::fs::write(
        krate.join("src/main.rs"),
        r#"use std::io::Write;
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args == ["--version"] {
        println!("immutag 0.0.0-from-source");
        return;
    }
    let log = std::env::var("FAKE_IMMUTAG_ARGS").unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).create(true).open(log).unwrap();
    writeln!(f, "{}", args.join(" ")).unwrap();
}
"#,
    )
    .unwrap();
}

#[test]
fn version_source_builds_the_checkout_with_cargo_install_locked() {
    let temp = tempfile::tempdir().unwrap();
    let checkout = temp.path().join("checkout");
    fake_checkout(&checkout);
    let args_log = temp.path().join("args.log");
    let sarif = temp.path().join("out.sarif");
    let mut inv = Invocation::new(temp.path())
        .input(
            "paths",
            "docs/examples/terraform-plan.json docs/examples/create-repository.json",
        )
        .input("params", "AllowedExclusionFilters=latest")
        .input("args", "--cfn-parameter\nMode=IMMUTABLE")
        .input("sarif-file", sarif.display().to_string());
    inv.action_dir = checkout.clone();
    inv.action_ref = "main"; // a branch: no release to download
    inv.env
        .push(("FAKE_IMMUTAG_ARGS", args_log.display().to_string()));
    let run = inv.run();

    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("immutag 0.0.0-from-source"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("building immutag from {}", checkout.display()))
    );
    let bin = PathBuf::from(&run.outputs["immutag"]);
    assert!(
        bin.starts_with(temp.path()) && bin.ends_with("cargo/bin/immutag"),
        "{bin:?}"
    );
    let files = "docs/examples/terraform-plan.json docs/examples/create-repository.json";
    let flags = "--param AllowedExclusionFilters=latest --cfn-parameter Mode=IMMUTABLE";
    assert_eq!(
        std::fs::read_to_string(&args_log).unwrap(),
        format!(
            "evaluate {flags} --output table -- {files}\nevaluate {flags} --output sarif -- {files}\n"
        )
    );
}

#[test]
fn version_installed_runs_the_immutag_on_path() {
    let temp = tempfile::tempdir().unwrap();
    let bin_dir = temp.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_immutag"), bin_dir.join("immutag")).unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let sarif = temp.path().join("immutag.sarif");
    let mut inv = Invocation::new(temp.path())
        .input("version", "installed")
        .input("paths", "docs/examples/*.json")
        .input("sarif-file", sarif.display().to_string());
    inv.env.push(("PATH", path));
    let run = inv.run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "using the installed {}",
            bin_dir.join("immutag").display()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.outputs["immutag"],
        bin_dir.join("immutag").display().to_string()
    );
    assert!(!sarif_rule_ids(&sarif.display().to_string()).is_empty());

    // Nothing on PATH: a usage error that says what to do.
    let mut inv = Invocation::new(temp.path())
        .input("version", "installed")
        .input("paths", "docs/examples/terraform-plan.json");
    inv.env.push(("PATH", "/usr/bin:/bin".to_string()));
    let run = inv.run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no immutag on PATH"), "{}", run.stderr);
}

#[test]
fn versions_that_cannot_be_installed_fail_the_step() {
    let temp = tempfile::tempdir().unwrap();
    // Not released: nothing to download (incomplete); not a version at all: a usage error.
    for (version, code, needle) in [
        ("v0.0.404", 3, "cannot download"),
        ("latest", 2, "version: 'latest' is not a release"),
    ] {
        let run = released(temp.path())
            .input("version", version)
            .input("paths", "docs/examples/terraform-plan.json")
            .run();
        assert_eq!(run.code, code, "{version}: {run:?}");
        assert!(run.stderr.contains(needle), "{version}: {}", run.stderr);
    }
}

#[test]
fn the_sarif_report_defaults_to_immutag_sarif() {
    let text = std::fs::read_to_string(common::root().join("action.yml")).unwrap();
    let action: ActionFile = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(
        action.inputs["sarif-file"].default.as_deref(),
        Some("immutag.sarif")
    );
    assert_eq!(
        action.inputs["command"].default.as_deref(),
        Some("evaluate")
    );
    assert_eq!(
        action.inputs["fail-on"].default.as_deref(),
        Some("findings")
    );
}
