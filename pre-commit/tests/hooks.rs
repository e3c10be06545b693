//! The hooks of `.pre-commit-hooks.yaml`, run by pre-commit itself (`.venv-ship/bin/pre-commit`,
//! pinned in scripts/requirements-ship.txt; `$IMMUTAG_PRE_COMMIT` overrides).
//!
//! pre-commit's `language: rust` would clone this repository and `cargo install` it (a release
//! build of the AWS SDK: many minutes), so the test does not let it build: each hook of the
//! manifest is copied as it is into a `repo: local` configuration (same `files`, `types_or`,
//! `exclude`, entry arguments) with `language: unsupported` and the entry's
//! `immutag-pre-commit` replaced by the binary this test build made, behind a recorder that
//! logs the arguments. pre-commit then picks the files (its own `files`/`types` matching over
//! `git ls-files`) and calls the entry the way it calls every hook, file names as arguments.
//! The manifest itself, `language: rust` included, is checked by `pre-commit validate-manifest`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pre_commit() -> PathBuf {
    let bin = match std::env::var_os("IMMUTAG_PRE_COMMIT") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => root().join(".venv-ship/bin/pre-commit"),
    };
    assert!(
        bin.exists(),
        "pre-commit not found at {}: run `bash scripts/setup.sh` (scripts/setup.d/50-ship.sh \
         installs scripts/requirements-ship.txt into .venv-ship), or set IMMUTAG_PRE_COMMIT",
        bin.display()
    );
    bin
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn git(repo: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(repo)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out));
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A git repository (files staged) with `files` (path, source in this repository).
fn repo_with(dir: &Path, files: &[(&str, &str)]) -> PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    for (path, source) in files {
        let dest = repo.join(path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        let from = root().join(source);
        if from.is_dir() {
            copy_tree(&from, &dest);
        } else {
            std::fs::copy(&from, &dest).unwrap();
        }
    }
    git(&repo, &["add", "-A"]);
    repo
}

/// The manifest's hooks as a `repo: local` configuration that runs this build's binary behind
/// a recorder appending `HOOK-ID ARGS...` to `log`.
fn local_config(dir: &Path, log: &Path) -> PathBuf {
    let manifest = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks: Vec<BTreeMap<String, serde_json::Value>> =
        serde_saphyr::from_str(&manifest).unwrap();
    let recorder = dir.join("record.sh");
    std::fs::write(
        &recorder,
        format!(
            "#!/bin/sh\nid=\"$1\"; shift\nbin=\"$1\"; shift\nprintf '%s\\n' \"$id $*\" >> '{}'\nexec \"$bin\" \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    let status = Command::new("chmod")
        .arg("+x")
        .arg(&recorder)
        .status()
        .unwrap();
    assert!(status.success());
    let binary = env!("CARGO_BIN_EXE_immutag-pre-commit");
    let local: Vec<_> = hooks
        .into_iter()
        .map(|mut hook| {
            assert_eq!(hook["language"], "rust", "{hook:?}");
            let id = hook["id"].as_str().unwrap().to_string();
            let entry = hook["entry"].as_str().unwrap().to_string();
            let rest = entry
                .strip_prefix("immutag-pre-commit ")
                .unwrap_or_else(|| panic!("{id}: the entry is not immutag-pre-commit: {entry}"));
            hook.insert("language".into(), "unsupported".into());
            hook.insert(
                "entry".into(),
                format!("{} {id} {binary} {rest}", recorder.display()).into(),
            );
            hook
        })
        .collect();
    let config = dir.join("pre-commit-config.json");
    let doc = serde_json::json!({ "repos": [{ "repo": "local", "hooks": local }] });
    std::fs::write(&config, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    config
}

/// `pre-commit run --all-files` in `repo` with the manifest's hooks; the files each hook got.
fn run_hooks(dir: &Path, repo: &Path) -> (Output, BTreeMap<String, BTreeSet<String>>) {
    let log = dir.join("calls.log");
    let config = local_config(dir, &log);
    let out = Command::new(pre_commit())
        .args(["run", "--all-files", "--color", "never", "--config"])
        .arg(&config)
        .current_dir(repo)
        .env("PRE_COMMIT_HOME", dir.join("cache"))
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let mut calls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in std::fs::read_to_string(&log).unwrap_or_default().lines() {
        let mut words = line.split(' ');
        let id = words.next().unwrap().to_string();
        let args: Vec<&str> = words.collect();
        // The entry's own words, then the file names.
        let files = match id.as_str() {
            "immutag-evaluate" => &args[1..],
            "immutag-pins" => &args[2..],
            other => panic!("unknown hook {other}"),
        };
        calls
            .entry(id)
            .or_default()
            .extend(files.iter().map(|f| f.to_string()));
    }
    (out, calls)
}

fn set(paths: &[&str]) -> BTreeSet<String> {
    paths.iter().map(|p| p.to_string()).collect()
}

#[test]
fn the_manifest_is_valid_for_pre_commit() {
    let out = Command::new(pre_commit())
        .arg("validate-manifest")
        .arg(root().join(".pre-commit-hooks.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn each_hook_gets_only_its_files_and_fails_on_findings() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo_with(
        dir.path(),
        &[
            ("", "tests/fixtures/pins/repo"),
            (
                "infra/cloudformation/repositories.yaml",
                "docs/examples/cloudformation-repositories.yaml",
            ),
            (
                "cdk.out/PaymentsStack.template.json",
                "docs/examples/cdk-PaymentsStack.template.json",
            ),
            ("deploy/tfplan.json", "docs/examples/terraform-plan.json"),
            (
                "api.template.yaml",
                "docs/examples/cloudformation-repositories.yaml",
            ),
            // Neither a template nor a plan, by name: evaluate must not see them.
            (
                "config/describe-repositories.json",
                "docs/examples/describe-repositories.json",
            ),
            ("notes/plan.md", "README.md"),
        ],
    );
    let (out, calls) = run_hooks(dir.path(), &repo);
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        log.contains("immutag evaluate (ECR tags immutable)"),
        "{log}"
    );
    assert!(
        log.contains("immutag pins check (images pinned to digests)"),
        "{log}"
    );
    assert_eq!(
        log.matches("- exit code: 1").count(),
        2,
        "both hooks find problems: {log}"
    );

    assert_eq!(
        calls["immutag-evaluate"],
        set(&[
            "api.template.yaml",
            "cdk.out/PaymentsStack.template.json",
            "cfn/stack.json",
            "cfn/stack.yaml",
            "deploy/tfplan.json",
            "infra/cloudformation/repositories.yaml",
        ]),
        "{log}"
    );
    // Every Dockerfile, YAML and JSON file git tracks but the Helm chart's templates; no
    // Markdown. (A file named on the command line is read even when .immutagignore lists it.)
    assert_eq!(
        calls["immutag-pins"],
        set(&[
            ".github/actions/tool/action.yml",
            ".github/workflows/ci.yml",
            "Dockerfile",
            "api.template.yaml",
            "cdk.out/PaymentsStack.template.json",
            "cfn/stack.json",
            "cfn/stack.yaml",
            "chart/Chart.yaml",
            "config/describe-repositories.json",
            "deploy/tfplan.json",
            "docker-compose.yml",
            "ecs/taskdef.json",
            "infra/cloudformation/repositories.yaml",
            "k8s/rendered.yaml",
            "package.json",
            "services/web/Containerfile",
            "vendor/Dockerfile",
        ]),
        "{log}"
    );
}

#[test]
fn clean_files_pass_and_bad_input_fails_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("cfn")).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(
        repo.join("cfn/registry.yaml"),
        "Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n    Properties:\n      \
         ImageTagMutability: IMMUTABLE\n",
    )
    .unwrap();
    let digest = "sha256:".to_string() + &"a".repeat(64);
    std::fs::write(
        repo.join("Dockerfile"),
        format!("FROM alpine:3.20@{digest}\n"),
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    let (out, calls) = run_hooks(dir.path(), &repo);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(calls["immutag-evaluate"], set(&["cfn/registry.yaml"]));
    assert_eq!(
        calls["immutag-pins"],
        set(&["Dockerfile", "cfn/registry.yaml"])
    );

    // A file the evaluate pattern takes that is no template: exit 2, named.
    std::fs::write(repo.join("cfn/notes.json"), "{\"owner\": \"platform\"}\n").unwrap();
    git(&repo, &["add", "-A"]);
    let dir2 = tempfile::tempdir().unwrap();
    let (out, _) = run_hooks(dir2.path(), &repo);
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("- exit code: 2"), "{log}");
    assert!(
        log.contains("cfn/notes.json: cannot tell what this input is"),
        "{log}"
    );
}
