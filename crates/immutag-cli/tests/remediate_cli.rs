//! `immutag remediate` and `immutag rollback` as a user runs them, against a moto server on
//! 127.0.0.1 (`scripts/setup.sh` installs it): dry run, apply, second run, plan file on
//! stdin with REVIEW and exclusion targets, rollback dry run and apply, exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use aws_sdk_ecr::types::ImageTagMutability;
use immutag_aws::testing::{MotoServer, push_image, wildcard_filter};

const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

fn moto() -> MotoServer {
    match MotoServer::start() {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

fn immutag(moto: &MotoServer, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_immutag"));
    cmd.args(args)
        .envs(moto.env("eu-west-1"))
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// (region, name) -> (mode, filters) of every repository.
type State = BTreeMap<(String, String), (String, Vec<String>)>;

async fn state(moto: &MotoServer) -> State {
    let mut out = State::new();
    for region in REGIONS {
        let c = aws_sdk_ecr::Client::new(&moto.sdk_config(region).await);
        let resp = c.describe_repositories().send().await.unwrap();
        for r in resp.repositories() {
            out.insert(
                (region.to_owned(), r.repository_name().unwrap().to_owned()),
                (
                    r.image_tag_mutability().unwrap().as_str().to_owned(),
                    r.image_tag_mutability_exclusion_filters()
                        .iter()
                        .map(|f| f.filter().to_owned())
                        .collect(),
                ),
            );
        }
    }
    out
}

async fn seed(moto: &MotoServer) {
    for region in REGIONS {
        let c = aws_sdk_ecr::Client::new(&moto.sdk_config(region).await);
        for (name, mode, filters) in [
            ("api", ImageTagMutability::Mutable, vec![]),
            ("web", ImageTagMutability::Mutable, vec![]),
            (
                "jobs",
                ImageTagMutability::MutableWithExclusion,
                vec!["release", "stable"],
            ),
            ("done", ImageTagMutability::Immutable, vec![]),
        ] {
            let mut req = c
                .create_repository()
                .repository_name(name)
                .image_tag_mutability(mode);
            for f in filters {
                req = req.image_tag_mutability_exclusion_filters(wildcard_filter(f));
            }
            req.send().await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_scan_dry_run_apply_rerun_and_rollback() {
    let moto = moto();
    seed(&moto).await;
    let before = state(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let journal_s = journal.to_str().unwrap();
    let regions = "--regions=eu-west-1,us-east-1";

    // Dry run: prints what would change (exit 1: changes pending), changes nothing, writes no
    // journal.
    let o = immutag(&moto, &["remediate", regions, "--journal", journal_s], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(out.matches("CHANGE ").count(), 6, "{}", text(&o));
    assert!(
        out.contains("/eu-west-1/jobs  MUTABLE_WITH_EXCLUSION [release, stable] -> IMMUTABLE"),
        "{out}"
    );
    assert!(out.contains("dry run: nothing changed"), "{out}");
    assert_eq!(state(&moto).await, before);
    assert!(!journal.exists());

    // Apply.
    let o = immutag(
        &moto,
        &["remediate", regions, "--apply", "--journal", journal_s],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("6 changed and verified, 0 failed"), "{out}");
    let after = state(&moto).await;
    assert!(
        after
            .values()
            .all(|(m, f)| m == "IMMUTABLE" && f.is_empty()),
        "{after:?}"
    );

    // Second run: nothing to do.
    let o = immutag(&moto, &["remediate", regions, "--apply"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(!out.contains("CHANGED"), "{out}");
    assert_eq!(state(&moto).await, after);

    // Rollback: dry run (exit 1: restores pending), then apply; every mode and filter list back
    // exactly.
    let o = immutag(&moto, &["rollback", journal_s], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .matches("RESTORE ")
            .count(),
        6,
        "{}",
        text(&o)
    );
    assert_eq!(state(&moto).await, after);
    let rj = dir.path().join("rollback.jsonl");
    let o = immutag(
        &moto,
        &[
            "rollback",
            journal_s,
            "--apply",
            "--journal",
            rj.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(state(&moto).await, before);
    // Rolling back twice does nothing more.
    let o = immutag(&moto, &["rollback", journal_s, "--apply"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("0 changed"),
        "{}",
        text(&o)
    );
    assert_eq!(state(&moto).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_on_stdin_review_is_skipped_and_exclusions_are_applied() {
    let moto = moto();
    seed(&moto).await;
    let acct = immutag_aws::testing::MOTO_DEFAULT_ACCOUNT;
    let entry = |name: &str, rec: &str, filters: &[&str]| {
        serde_json::json!({
            "account_id": acct,
            "region": "eu-west-1",
            "name": name,
            "current_mutability": "MUTABLE",
            "compliance": "NON_COMPLIANT",
            "reason": "mutable",
            "recommendation": rec,
            "target_filters": filters.iter().map(|f| serde_json::json!({"filter_type": "WILDCARD", "filter": f})).collect::<Vec<_>>(),
            "evidence": {"images": 0, "tagged_images": 0, "untagged_images": 0, "referrers": 0, "tags": 0, "floating_tags": [], "notes": ["latest re-pushed by 40 builds"]},
        })
    };
    let plan = serde_json::json!({
        "schema_version": 1,
        "repositories": [
            entry("api", "IMMUTABLE_WITH_EXCLUSION", &["latest"]),
            entry("web", "REVIEW", &[]),
            entry("gone", "IMMUTABLE", &[]),
        ],
        "failures": [],
    })
    .to_string();
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("j.jsonl");
    let o = immutag(
        &moto,
        &[
            "remediate",
            "--plan",
            "-",
            "--apply",
            "--journal",
            j.to_str().unwrap(),
        ],
        Some(&plan),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("web  marked for review: latest re-pushed by 40 builds"),
        "{out}"
    );
    assert!(
        out.contains("gone  not applicable: the repository no longer exists"),
        "{out}"
    );
    let s = state(&moto).await;
    assert_eq!(
        s[&("eu-west-1".to_owned(), "api".to_owned())],
        (
            "IMMUTABLE_WITH_EXCLUSION".to_owned(),
            vec!["latest".to_owned()]
        )
    );
    assert_eq!(s[&("eu-west-1".to_owned(), "web".to_owned())].0, "MUTABLE");

    // A plan that is not one is a usage error naming the input.
    let o = immutag(&moto, &["remediate", "--plan", "-"], Some("{\"nope\":1}"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a plan"),
        "{}",
        text(&o)
    );
}

/// A live scan in the default `--mode plan` plans on the spot: a repository whose `latest`
/// moves is fenced with an exclusion, not switched to a plain IMMUTABLE that would refuse the
/// next push of `latest`; `--mode immutable` forces plain IMMUTABLE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_scan_plans_reused_tags_before_changing() {
    let moto = moto();
    let c = aws_sdk_ecr::Client::new(&moto.sdk_config("eu-west-1").await);
    for name in ["app", "lib"] {
        c.create_repository()
            .repository_name(name)
            .image_tag_mutability(ImageTagMutability::Mutable)
            .send()
            .await
            .unwrap();
    }
    for (repo, n, tag) in [
        ("app", 1, "v1.0.0"),
        ("app", 2, "latest"),
        ("app", 3, "latest"), // latest moves
        ("lib", 4, "v2.1.0"),
    ] {
        push_image(&c, repo, n, tag).await.unwrap();
    }

    let o = immutag(&moto, &["remediate", "--regions=eu-west-1"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("/eu-west-1/app  MUTABLE -> IMMUTABLE_WITH_EXCLUSION [latest]"),
        "{out}"
    );
    assert!(
        out.contains("/eu-west-1/lib  MUTABLE -> IMMUTABLE\n"),
        "{out}"
    );

    let o = immutag(
        &moto,
        &["remediate", "--regions=eu-west-1", "--mode", "immutable"],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("/eu-west-1/app  MUTABLE -> IMMUTABLE\n"),
        "{out}"
    );

    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("j.jsonl");
    let o = immutag(
        &moto,
        &[
            "remediate",
            "--regions=eu-west-1",
            "--apply",
            "--journal",
            j.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = state(&moto).await;
    assert_eq!(
        s[&("eu-west-1".to_owned(), "app".to_owned())],
        (
            "IMMUTABLE_WITH_EXCLUSION".to_owned(),
            vec!["latest".to_owned()]
        )
    );
    assert_eq!(
        s[&("eu-west-1".to_owned(), "lib".to_owned())],
        ("IMMUTABLE".to_owned(), vec![])
    );
}

/// No mode changes a compliant repository: an IMMUTABLE_WITH_EXCLUSION [latest] repository
/// whose filter the rule parameters allow is kept (and shown as kept) by `--mode immutable`,
/// while a MUTABLE one is changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_immutable_keeps_compliant_exclusions() {
    let moto = moto();
    let c = aws_sdk_ecr::Client::new(&moto.sdk_config("eu-west-1").await);
    c.create_repository()
        .repository_name("fenced")
        .image_tag_mutability(ImageTagMutability::ImmutableWithExclusion)
        .image_tag_mutability_exclusion_filters(wildcard_filter("latest"))
        .send()
        .await
        .unwrap();
    c.create_repository()
        .repository_name("open")
        .image_tag_mutability(ImageTagMutability::Mutable)
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("j.jsonl");
    let args = [
        "remediate",
        "--regions=eu-west-1",
        "--mode",
        "immutable",
        "--param",
        "AllowedExclusionFilters=latest",
    ];
    let o = immutag(&moto, &args, None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("KEEP") && out.contains("/eu-west-1/fenced  compliant: kept"),
        "{out}"
    );
    assert!(
        out.contains("/eu-west-1/open  MUTABLE -> IMMUTABLE"),
        "{out}"
    );

    let mut apply = args.to_vec();
    apply.extend(["--apply", "--journal", j.to_str().unwrap()]);
    let o = immutag(&moto, &apply, None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = state(&moto).await;
    assert_eq!(
        s[&("eu-west-1".to_owned(), "fenced".to_owned())],
        (
            "IMMUTABLE_WITH_EXCLUSION".to_owned(),
            vec!["latest".to_owned()]
        )
    );
    assert_eq!(
        s[&("eu-west-1".to_owned(), "open".to_owned())].0,
        "IMMUTABLE"
    );

    // The journal exists now: a second applied run naming it is refused (exit 2) unless it
    // appends.
    c.create_repository()
        .repository_name("late")
        .image_tag_mutability(ImageTagMutability::Mutable)
        .send()
        .await
        .unwrap();
    let o = immutag(&moto, &apply, None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--append-journal"), "{}", text(&o));
    apply.push("--append-journal");
    let o = immutag(&moto, &apply, None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let journal = std::fs::read_to_string(&j).unwrap();
    assert!(
        journal.contains("\"repository\":\"open\"") && journal.contains("\"repository\":\"late\"")
    );
}

/// Names from a plan file and from a journal reach the remediate and rollback text escaped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediate_and_rollback_text_escape_control_characters() {
    let moto = moto();
    seed(&moto).await;
    let acct = immutag_aws::testing::MOTO_DEFAULT_ACCOUNT;
    let evil = "gone\u{1b}[2J\u{1b}]0;owned\u{7}";
    let plan = serde_json::json!({
        "schema_version": 1,
        "repositories": [{
            "account_id": acct, "region": "eu-west-1", "name": evil,
            "current_mutability": "MUTABLE", "compliance": "NON_COMPLIANT", "reason": "mutable",
            "recommendation": "REVIEW", "target_filters": [],
            "evidence": {"images": 0, "tagged_images": 0, "untagged_images": 0, "referrers": 0,
                "tags": 0, "floating_tags": [], "notes": ["moved by \u{1b}[31mci"]},
        }],
        "failures": [],
    })
    .to_string();
    let raw = |s: &str| s.contains('\u{1b}') || s.contains('\u{7}');
    let o = immutag(&moto, &["remediate", "--plan", "-"], Some(&plan));
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert!(!raw(&out) && !raw(&err), "{}", text(&o));
    assert!(out.contains("gone\\u{1b}[2J"), "{}", text(&o));

    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let line = |seq: u64, phase: &str| {
        serde_json::json!({"run": "r1", "seq": seq, "time": "2026-11-26T15:22:48Z",
            "operation": "remediate", "phase": phase, "account": acct, "region": "eu-west-1",
            "repository": evil, "previous": {"mode": "MUTABLE"}, "new": {"mode": "IMMUTABLE"}})
        .to_string()
    };
    std::fs::write(
        &journal,
        format!("{}\n{}\n", line(1, "intent"), line(2, "applied")),
    )
    .unwrap();
    let o = immutag(&moto, &["rollback", journal.to_str().unwrap()], None);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert!(!raw(&out) && !raw(&err), "{}", text(&o));
    assert!(
        out.contains("gone\\u{1b}[2J") || err.contains("gone\\u{1b}[2J"),
        "{}",
        text(&o)
    );
}
