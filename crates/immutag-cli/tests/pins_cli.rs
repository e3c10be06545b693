//! `immutag pins check` and `immutag pins resolve`, the real binary: on the fixture tree of
//! every file kind (tests/fixtures/pins/repo), and against moto's ECR with the fixture's images
//! pushed (a single-platform image per tag, an OCI index for `multi:v2`). The resolve diff is
//! a golden file; after `--write`, `check --live` finds every ECR reference PINNED and the
//! files differ from the originals by the inserted digests only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use aws_sdk_ecr::types::ImageTagMutability;
use immutag_aws::testing::{MOTO_DEFAULT_ACCOUNT, MotoServer, TestManifest, push_image};

const TREE: &str = "tests/fixtures/pins/repo";

fn tree() -> PathBuf {
    common::root().join(TREE)
}

/// `immutag ARGS` in `dir` with `env`.
fn run_in(dir: &Path, args: &[&str], env: &[(&str, String)]) -> common::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_immutag"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    common::Output {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A copy of the tree `from` in `to`.
fn copy_dir(from: &Path, to: &Path) {
    for file in walk(from) {
        let dest = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&file, dest).unwrap();
    }
}

fn json_pins(out: &common::Output) -> Vec<serde_json::Value> {
    serde_json::from_str::<Vec<serde_json::Value>>(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr))
}

#[test]
fn check_lists_every_kind_with_exit_1() {
    let out = run_in(&tree(), &["pins", "check", ".", "-o", "json"], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let pins = json_pins(&out);
    let kinds: std::collections::BTreeSet<&str> =
        pins.iter().map(|p| p["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "cloudformation",
            "compose",
            "dockerfile",
            "ecs-task-definition",
            "github-actions",
            "kubernetes"
        ]
    );
    assert!(
        out.stderr
            .contains("chart/templates: skipped, Helm chart templates"),
        "{}",
        out.stderr
    );
    let first = &pins[0];
    for field in [
        "file",
        "line",
        "column",
        "text",
        "registry",
        "repository",
        "status",
    ] {
        assert!(first.get(field).is_some(), "{field} in {first}");
    }

    let table = run_in(
        &tree(),
        &["pins", "check", "Dockerfile", "--color", "never"],
        &[],
    );
    assert_eq!(table.code, 1);
    assert!(table.stdout.contains("Dockerfile:8:32"), "{}", table.stdout);
    assert!(
        table
            .stdout
            .ends_with("5 references: 1 PINNED, 3 UNPINNED, 1 UNRESOLVED\n"),
        "{}",
        table.stdout
    );

    let csv = run_in(&tree(), &["pins", "check", "ecs", "-o", "csv"], &[]);
    assert_eq!(csv.stdout.lines().count(), 3, "{}", csv.stdout);
    assert!(csv.stdout.starts_with("file,line,column,kind,context,text,registry,repository,tag,digest,account_id,region,status,detail\n"));

    let sarif = run_in(&tree(), &["pins", "check", ".", "-o", "sarif"], &[]);
    let v: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        pins.iter().filter(|p| p["status"] != "PINNED").count()
    );
    assert!(
        results
            .iter()
            .all(|r| r["partialFingerprints"]["immutagPin/v1"].is_string())
    );
}

#[test]
fn pinned_only_is_exit_0_and_bad_input_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = format!("sha256:{}", "a".repeat(64));
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM alpine:3@{d}\n"),
    )
    .unwrap();
    let out = run_in(dir.path(), &["pins", "check", "."], &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    // A file that does not parse is named, the rest still printed, exit 2.
    std::fs::write(dir.path().join("bad.yaml"), "image: [x\n").unwrap();
    std::fs::write(dir.path().join("evil\u{1b}[2J.yaml"), "image: [x\n").unwrap();
    let out = run_in(dir.path(), &["pins", "check", "."], &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("bad.yaml: YAML syntax error"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains('\u{1b}') && out.stderr.contains(r"evil\u{1b}[2J"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("PINNED"));

    for args in [
        &["pins", "check", ".", "--org"][..],
        &["pins", "check", ".", "--accounts", "123456789012"],
        &[
            "pins",
            "check",
            ".",
            "--param",
            "AllowedExclusionFilters=latest",
        ],
        &["pins", "check"],
        &["pins", "resolve", "-", "--write"],
    ] {
        let out = run_in(dir.path(), args, &[]);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
    }
}

#[test]
fn stdin_reads_helm_output() {
    let rendered = std::fs::read(tree().join("k8s/rendered.yaml")).unwrap();
    let out = common::run_env(&["pins", "check", "-", "-o", "json"], Some(&rendered), &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let pins = json_pins(&out);
    assert_eq!(pins.len(), 6);
    assert!(pins.iter().all(|p| p["file"] == "-"));
}

#[test]
fn stdin_over_the_file_limit_is_refused_by_name_with_exit_2() {
    let big = vec![b'a'; (immutag_pins::files::MAX_FILE_BYTES + 1) as usize];
    let out = common::run_env(&["pins", "check", "-"], Some(&big), &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("(stdin): larger than 33554432 bytes"),
        "{}",
        out.stderr
    );
}

/// The ECR repositories and tags the fixture tree names, pushed to moto.
async fn push_fixture_images(moto: &MotoServer) -> Vec<(String, String)> {
    let config = moto.sdk_config("eu-west-1").await;
    let ecr = aws_sdk_ecr::Client::new(&config);
    let mut pushed = Vec::new();
    for (name, mutability) in [
        ("app", ImageTagMutability::Mutable),
        ("base", ImageTagMutability::Immutable),
        ("builder", ImageTagMutability::Mutable),
        ("tools", ImageTagMutability::Immutable),
        ("worker", ImageTagMutability::Mutable),
        ("multi", ImageTagMutability::Mutable),
    ] {
        ecr.create_repository()
            .repository_name(name)
            .image_tag_mutability(mutability)
            .send()
            .await
            .unwrap();
    }
    for (i, (repo, tag)) in [
        ("app", "v1"),
        ("app", "latest"),
        ("base", "1.0"),
        ("builder", "2.1"),
        ("tools", "3"),
        ("worker", "2.0"),
    ]
    .into_iter()
    .enumerate()
    {
        let d = push_image(&ecr, repo, 100 + i as u32, tag).await.unwrap();
        pushed.push((format!("{repo}:{tag}"), d));
    }
    let a = push_image(&ecr, "multi", 200, None).await.unwrap();
    let b = push_image(&ecr, "multi", 201, None).await.unwrap();
    let index = push_image(&ecr, "multi", TestManifest::Index(vec![a, b]), "v2")
        .await
        .unwrap();
    pushed.push(("multi:v2".to_owned(), index));
    pushed
}

#[tokio::test(flavor = "multi_thread")]
async fn live_check_then_resolve_write_then_check_pins_everything() {
    let moto = MotoServer::start().unwrap();
    let pushed = push_fixture_images(&moto).await;
    let env: Vec<(&str, String)> = moto.env("eu-west-1");
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&tree(), dir.path());

    // --live: mutability judged by the evaluator, the fixture's made-up digests missing.
    let live = run_in(
        dir.path(),
        &[
            "pins",
            "check",
            ".",
            "--live",
            "-o",
            "json",
            "--no-progress",
        ],
        &env,
    );
    assert_eq!(live.code, 1, "{}", live.stderr);
    let pins = json_pins(&live);
    let status_of = |file: &str, context: &str| {
        pins.iter()
            .find(|p| p["file"] == file && p["context"] == context)
            .map(|p| p["status"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{file} {context}"))
    };
    assert_eq!(
        status_of("./k8s/rendered.yaml", "Deployment/api containers/api"),
        "MUTABLE_REPOSITORY"
    );
    assert_eq!(
        status_of("./Dockerfile", "FROM (stage runtime)"),
        "UNPINNED",
        "base is IMMUTABLE"
    );
    assert_eq!(
        status_of("./k8s/rendered.yaml", "CronJob/report containers/report"),
        "DIGEST_MISSING"
    );
    assert_eq!(
        status_of("./docker-compose.yml", "services.cache"),
        "UNPINNED",
        "redis is not ECR"
    );

    // resolve: the golden diff (digests are the SHA-256 of the pushed manifests).
    let dry = run_in(dir.path(), &["pins", "resolve", ".", "--no-progress"], &env);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let mut diff = dry.stdout.clone();
    for (name, digest) in &pushed {
        diff = diff.replace(digest, &format!("<{name}>"));
    }
    insta::assert_snapshot!("resolve_diff", diff);
    assert!(
        dry.stderr
            .contains("pinned in 9 file(s), not written (add --write)"),
        "{}",
        dry.stderr
    );
    assert!(dry.stderr.contains("redis:7: left alone"), "{}", dry.stderr);
    let untouched = std::fs::read(dir.path().join("Dockerfile")).unwrap();
    assert_eq!(
        untouched,
        std::fs::read(tree().join("Dockerfile")).unwrap(),
        "a dry run writes nothing"
    );

    let write = run_in(
        dir.path(),
        &["pins", "resolve", ".", "--write", "--no-progress"],
        &env,
    );
    assert_eq!(write.code, 0, "{}", write.stderr);
    assert!(
        write.stderr.contains("written to 9 file(s)"),
        "{}",
        write.stderr
    );

    // Only the inserted digests differ, byte for byte (CRLF, quotes, comments kept).
    for file in walk(dir.path()) {
        let rel = file.strip_prefix(dir.path()).unwrap();
        let original = std::fs::read_to_string(tree().join(rel)).unwrap();
        let mut now = std::fs::read_to_string(&file).unwrap();
        for (_, digest) in &pushed {
            now = now
                .replace(&format!(":latest@{digest}"), "")
                .replace(&format!("@{digest}"), "");
        }
        assert_eq!(now, original, "{}", rel.display());
    }

    // check --live after the write: every ECR reference PINNED (or not statically known).
    let after = run_in(
        dir.path(),
        &[
            "pins",
            "check",
            ".",
            "--live",
            "-o",
            "json",
            "--no-progress",
        ],
        &env,
    );
    let pins = json_pins(&after);
    for p in &pins {
        if p.get("ecr").is_some()
            && p["digest"]
                .as_str()
                .is_none_or(|d| !d.starts_with("sha256:9b2c"))
        {
            assert_eq!(p["status"], "PINNED", "{p}");
        }
    }
    assert!(
        pins.iter()
            .any(|p| p["repository"] == "multi" && p["digest"] == pushed.last().unwrap().1)
    );
    // Nothing left to resolve.
    let again = run_in(dir.path(), &["pins", "resolve", ".", "--no-progress"], &env);
    assert_eq!(again.code, 0);
    assert!(again.stdout.is_empty(), "{}", again.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_that_cannot_be_read_is_exit_3() {
    let moto = MotoServer::start().unwrap();
    let env = moto.env("eu-west-1");
    let dir = tempfile::tempdir().unwrap();
    // A region moto does not serve: its ECR calls fail, the rest of the run completes.
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM {MOTO_DEFAULT_ACCOUNT}.dkr.ecr.xx-nowhere-9.amazonaws.com/app:v1\n"),
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &[
            "pins",
            "check",
            ".",
            "--live",
            "--no-progress",
            "--max-attempts",
            "1",
        ],
        &env,
    );
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("could not be read"), "{}", out.stderr);
    assert!(out.stdout.contains("not read live"), "{}", out.stdout);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}
