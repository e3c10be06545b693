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
    let sh = aws_sdk_securityhub::Client::new(&moto.sdk_config(REGION).await);
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join(common::fixture("securityhub-findings.json")))
            .unwrap(),
    )
    .unwrap();
    let findings: Vec<aws_sdk_securityhub::types::AwsSecurityFinding> = file["Findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let res = &f["Resources"][0];
            aws_sdk_securityhub::types::AwsSecurityFinding::builder()
                .schema_version("2018-10-08")
                .id(f["Id"].as_str().unwrap())
                .product_arn(f["ProductArn"].as_str().unwrap())
                .generator_id("security-control/ECR.2")
                .aws_account_id(MOTO_DEFAULT_ACCOUNT)
                .region(REGION)
                .created_at("2026-11-01T08:00:00.000Z")
                .updated_at("2026-11-20T08:00:00.000Z")
                .title("ECR private repositories should have tag immutability configured")
                .description("ECR.2")
                .resources(
                    aws_sdk_securityhub::types::Resource::builder()
                        .r#type("AwsEcrRepository")
                        .id(res["Id"].as_str().unwrap())
                        .build(),
                )
                .compliance(
                    aws_sdk_securityhub::types::Compliance::builder()
                        .status(f["Compliance"]["Status"].as_str().unwrap().into())
                        .security_control_id("ECR.2")
                        .build(),
                )
                .record_state(aws_sdk_securityhub::types::RecordState::Active)
                .build()
        })
        .collect();
    sh.batch_import_findings()
        .set_findings(Some(findings))
        .send()
        .await
        .unwrap();

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
