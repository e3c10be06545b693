//! `immutag remediate --from-securityhub` as a user runs it, against a moto server on
//! 127.0.0.1: the findings from a file of `aws securityhub get-findings` output and from
//! GetFindings (moto ignores its filters: immutag filters again), dry run, apply, and the
//! notes, which moto cannot take (it lacks BatchUpdateFindings): they are reported by finding
//! id and the run is incomplete (exit 3), the changes made and journaled all the same.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Output, Stdio};

use aws_sdk_ecr::types::ImageTagMutability;
use immutag_aws::testing::{MOTO_DEFAULT_ACCOUNT, MotoServer};

const REGION: &str = "us-east-1";

fn immutag(moto: &MotoServer, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_immutag"))
        .args(args)
        .envs(moto.env(REGION))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn seed(moto: &MotoServer) -> aws_sdk_ecr::Client {
    let c = aws_sdk_ecr::Client::new(&moto.sdk_config(REGION).await);
    for (name, mode) in [
        ("svc-mutable", ImageTagMutability::Mutable),
        ("svc-immutable", ImageTagMutability::Immutable),
        ("svc-passed", ImageTagMutability::Mutable),
    ] {
        c.create_repository()
            .repository_name(name)
            .image_tag_mutability(mode)
            .send()
            .await
            .unwrap();
    }
    c
}

async fn mode(c: &aws_sdk_ecr::Client, name: &str) -> String {
    let r = c
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
        .unwrap();
    r.repositories()[0]
        .image_tag_mutability()
        .unwrap()
        .as_str()
        .to_owned()
}

/// One ECR.2 finding in moto's account and region.
fn asff(
    id: &str,
    repository_arn: &str,
    status: &str,
) -> aws_sdk_securityhub::types::AwsSecurityFinding {
    use aws_sdk_securityhub::types::{AwsSecurityFinding, Compliance, RecordState, Resource};
    AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(id)
        .product_arn("arn:aws:securityhub:eu-west-1::product/aws/securityhub")
        .generator_id("security-control/ECR.2")
        .aws_account_id(MOTO_DEFAULT_ACCOUNT)
        .region(REGION)
        .created_at("2026-11-01T08:00:00.000Z")
        .updated_at("2026-11-20T08:00:00.000Z")
        .title("ECR private repositories should have tag immutability configured")
        .description("ECR.2")
        .resources(
            Resource::builder()
                .r#type("AwsEcrRepository")
                .id(repository_arn)
                .build(),
        )
        .compliance(
            Compliance::builder()
                .status(status.into())
                .security_control_id("ECR.2")
                .build(),
        )
        .record_state(RecordState::Active)
        .build()
}

/// Imports the findings of the fixture file into moto's Security Hub (BatchImportFindings),
/// and `extra` (finding number, repository name, compliance status).
async fn import_findings(moto: &MotoServer, extra: &[(u32, &str, &str)]) {
    let sh = aws_sdk_securityhub::Client::new(&moto.sdk_config(REGION).await);
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join(common::fixture("securityhub-findings.json")))
            .unwrap(),
    )
    .unwrap();
    let mut findings: Vec<_> = file["Findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            asff(
                f["Id"].as_str().unwrap(),
                f["Resources"][0]["Id"].as_str().unwrap(),
                f["Compliance"]["Status"].as_str().unwrap(),
            )
        })
        .collect();
    for (n, repo, status) in extra {
        let arn = format!("arn:aws:ecr:{REGION}:{MOTO_DEFAULT_ACCOUNT}:repository/{repo}");
        findings.push(asff(&finding_id(*n), &arn, status));
    }
    sh.batch_import_findings()
        .set_findings(Some(findings))
        .send()
        .await
        .unwrap();
}

fn finding_id(n: u32) -> String {
    format!(
        "arn:aws:securityhub:eu-west-1:{MOTO_DEFAULT_ACCOUNT}:security-control/ECR.2/finding/0000000{n}-aaaa-bbbb-cccc-ddddeeeeffff"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_findings_file_dry_run_then_apply_with_notes_reported_by_id() {
    let moto = MotoServer::start().unwrap();
    let ecr = seed(&moto).await;
    let file = common::root()
        .join(common::fixture("securityhub-findings.json"))
        .display()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let journal = journal.to_str().unwrap();

    let o = immutag(
        &moto,
        &[
            "remediate",
            "--from-securityhub",
            &file,
            "--mode",
            "immutable",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let acct = MOTO_DEFAULT_ACCOUNT;
    assert!(
        out.contains(
            "security hub: 4 finding(s) read, 3 open ECR.2 failure(s) naming a repository"
        ),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "CHANGE  {acct}/{REGION}/svc-mutable  MUTABLE -> IMMUTABLE"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("KEEP    {acct}/{REGION}/svc-immutable")),
        "{out}"
    );
    assert!(
        out.contains(&format!("{acct}/{REGION}/svc-gone")) && out.contains("no longer exists"),
        "{out}"
    );
    // The PASSED finding is not work: its repository is not even read.
    assert!(!out.contains("svc-passed"), "{out}");
    assert_eq!(mode(&ecr, "svc-mutable").await, "MUTABLE");

    let o = immutag(
        &moto,
        &[
            "remediate",
            "--from-securityhub",
            &file,
            "--mode",
            "immutable",
            "--apply",
            "--journal",
            journal,
        ],
    );
    // Changed and verified; moto refuses BatchUpdateFindings, so the note of the changed
    // repository's finding is reported by id and the run is incomplete.
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("1 changed and verified, 0 failed"), "{out}");
    assert!(
        out.contains(&format!("NOTEFAIL {}", finding_id(1))),
        "{out}"
    );
    assert!(
        out.contains("security hub: noted 0 finding(s), 1 not updated"),
        "{out}"
    );
    assert_eq!(mode(&ecr, "svc-mutable").await, "IMMUTABLE");
    assert!(
        std::fs::read_to_string(journal)
            .unwrap()
            .contains("svc-mutable")
    );

    // JSON names the findings too.
    let o = immutag(
        &moto,
        &["remediate", "--from-securityhub", &file, "--output", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"]["read"], 4);
    assert_eq!(v["findings"]["open"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_get_findings_filters_what_moto_does_not_and_refuses_target_flags() {
    let moto = MotoServer::start().unwrap();
    let _ecr = seed(&moto).await;
    import_findings(&moto, &[]).await;

    let o = immutag(
        &moto,
        &["remediate", "--from-securityhub", "--mode", "immutable"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("3 open ECR.2 failure(s)"), "{out}");
    assert!(out.contains("svc-mutable  MUTABLE -> IMMUTABLE"), "{out}");
    assert!(!out.contains("svc-passed"), "{out}");

    let o = immutag(
        &moto,
        &["remediate", "--from-securityhub", "--regions", "eu-west-1"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the findings name the repositories"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_suppress_allowed_dry_run_then_apply_names_the_findings_moto_refuses() {
    let moto = MotoServer::start().unwrap();
    let ecr = seed(&moto).await;
    ecr.create_repository()
        .repository_name("svc-edge")
        .image_tag_mutability(ImageTagMutability::ImmutableWithExclusion)
        .image_tag_mutability_exclusion_filters(immutag_aws::testing::wildcard_filter("latest"))
        .send()
        .await
        .unwrap();
    import_findings(&moto, &[(7, "svc-edge", "FAILED")]).await;
    let args = [
        "scan",
        "--param",
        "AllowedExclusionFilters=latest",
        "--suppress-allowed",
        "--output",
        "json",
        "--no-progress",
    ];
    let o = immutag(&moto, &args);
    // svc-mutable is NON_COMPLIANT: exit 1; nothing updated.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let want = format!(
        "WOULD SUPPRESS {} ({MOTO_DEFAULT_ACCOUNT}/{REGION}/svc-edge)",
        finding_id(7)
    );
    assert!(err.contains(&want), "{err}");
    assert_eq!(err.matches("WOULD SUPPRESS").count(), 1, "{err}");
    assert!(err.contains("dry run: re-run with --apply"), "{err}");
    // stdout is still the JSON of the evaluations.
    let evals: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(evals.as_array().unwrap().len(), 4);

    let mut apply = args.to_vec();
    apply.push("--apply");
    let o = immutag(&moto, &apply);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains(&format!("finding {} not updated", finding_id(7))),
        "{err}"
    );
}

#[test]
fn scan_source_flags_are_checked_before_any_call() {
    for (args, needle) in [
        (
            vec!["scan", "--aggregator", "bad name"],
            "invalid configuration aggregator name",
        ),
        (
            vec!["scan", "--aggregator", "a", "--org"],
            "cannot be used with",
        ),
        (
            vec!["scan", "--config-query", "--accounts", "111122223333"],
            "cannot be used with",
        ),
        (vec!["scan", "--apply"], "--suppress-allowed"),
        (
            vec!["scan", "--aggregator", "a", "--accounts", "1' OR '1'='1"],
            "--accounts",
        ),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_immutag"))
            .args(&args)
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {}", text(&o));
    }
}
