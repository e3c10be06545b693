//! `immutag scan` and `immutag plan` end to end: the binary against a moto server on
//! 127.0.0.1 (started by the test; `scripts/setup.sh` installs moto), two accounts reached by
//! AssumeRole, two regions, an Organizations listing, and a region that keeps failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Output;

use aws_sdk_ecr::types::ImageTagMutability;
use immutag_aws::testing::{MOTO_DEFAULT_ACCOUNT, MotoServer, push_image, wildcard_filter};
use immutag_core::plan::Plan;
use immutag_core::{Compliance, Evaluation};

const ROLE: &str = "immutag-cli-test";
const OTHER: &str = "333333333333";

fn moto() -> MotoServer {
    match MotoServer::start() {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

fn immutag(moto: &MotoServer, args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_immutag"));
    for (k, v) in moto.env("eu-west-1") {
        cmd.env(k, v);
    }
    cmd.env_remove("AWS_PROFILE");
    cmd.args(args).output().unwrap()
}

async fn create(
    moto: &MotoServer,
    account: &str,
    region: &str,
    repos: &[(&str, ImageTagMutability)],
) {
    let config = moto
        .sdk_config_for_account(account, region, ROLE)
        .await
        .unwrap();
    let ecr = aws_sdk_ecr::Client::new(&config);
    for (name, mode) in repos {
        let mut req = ecr
            .create_repository()
            .repository_name(*name)
            .image_tag_mutability(mode.clone());
        if matches!(
            mode,
            ImageTagMutability::MutableWithExclusion | ImageTagMutability::ImmutableWithExclusion
        ) {
            // ECR (and moto) refuse a *_WITH_EXCLUSION mode without filters.
            req = req.image_tag_mutability_exclusion_filters(wildcard_filter("latest"));
        }
        req.send().await.unwrap();
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn scan_reads_accounts_and_regions_and_evaluates_like_evaluate() {
    let moto = moto();
    create(
        &moto,
        MOTO_DEFAULT_ACCOUNT,
        "eu-west-1",
        &[
            ("api", ImageTagMutability::Immutable),
            ("web", ImageTagMutability::Mutable),
        ],
    )
    .await;
    create(
        &moto,
        OTHER,
        "us-east-1",
        &[("batch", ImageTagMutability::MutableWithExclusion)],
    )
    .await;
    create(
        &moto,
        OTHER,
        "eu-west-1",
        &[("ml", ImageTagMutability::Immutable)],
    )
    .await;

    let accounts = format!("{MOTO_DEFAULT_ACCOUNT},{OTHER}");
    let out = immutag(
        &moto,
        &[
            "scan",
            "--accounts",
            &accounts,
            "--regions",
            "eu-west-1,us-east-1",
            "--role-name",
            ROLE,
            "--output",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let evals: Vec<Evaluation> = serde_json::from_slice(&out.stdout).unwrap();
    let rows: Vec<(String, String, String, Compliance)> = evals
        .iter()
        .map(|e| {
            (
                e.account_id.clone().unwrap(),
                e.region.clone().unwrap(),
                e.resource_id.clone(),
                e.compliance,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                MOTO_DEFAULT_ACCOUNT.into(),
                "eu-west-1".into(),
                "api".into(),
                Compliance::Compliant
            ),
            (
                MOTO_DEFAULT_ACCOUNT.into(),
                "eu-west-1".into(),
                "web".into(),
                Compliance::NonCompliant
            ),
            (
                OTHER.into(),
                "eu-west-1".into(),
                "ml".into(),
                Compliance::Compliant
            ),
            (
                OTHER.into(),
                "us-east-1".into(),
                "batch".into(),
                Compliance::NonCompliant
            ),
        ]
    );
    let err = stderr(&out);
    assert!(
        err.contains("scanned 4 account/region(s), 4 repositories, 0 creation template(s)"),
        "{err}"
    );
    // moto implements none of the creation template operations: one warning per account and
    // region, recognised from its answer; the verdicts and the exit code (1) are unchanged.
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| {
            l.contains("warning:")
                && l.contains("ecr:DescribeRepositoryCreationTemplates is not implemented")
        })
        .collect();
    assert_eq!(warnings.len(), 4, "{err}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(&format!("{OTHER}/us-east-1"))),
        "{err}"
    );

    // Same table and CSV renderers as `evaluate`; rows carry account and region.
    let out = immutag(
        &moto,
        &[
            "scan",
            "--accounts",
            &accounts,
            "--regions",
            "eu-west-1",
            "--role-name",
            ROLE,
            "--output",
            "csv",
        ],
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.contains(OTHER) && csv.contains("eu-west-1") && csv.contains("ml"),
        "{csv}"
    );

    // Parameters: exempting `web` by name leaves only compliant / not applicable in eu-west-1
    // of the default account: exit 0.
    let out = immutag(
        &moto,
        &[
            "scan",
            "--regions",
            "eu-west-1",
            "--param",
            "ExemptRepositoryPatterns=web",
            "--output",
            "json",
        ],
    );
    // The warning about the templates does not change the exit code either.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning:"), "{}", stderr(&out));
    let evals: Vec<Evaluation> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(evals.len(), 2);
    assert!(
        evals
            .iter()
            .any(|e| e.compliance == Compliance::NotApplicable)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_region_that_cannot_be_read_is_reported_and_the_rest_completes() {
    let moto = moto();
    create(
        &moto,
        MOTO_DEFAULT_ACCOUNT,
        "eu-west-1",
        &[("web", ImageTagMutability::Immutable)],
    )
    .await;
    // moto answers HTTP 500 for a region it does not know: the SDK retries, then gives up.
    let out = immutag(
        &moto,
        &[
            "scan",
            "--regions",
            "eu-west-1,xx-fake-1",
            "--max-attempts",
            "2",
            "--output",
            "json",
        ],
    );
    // Exit 3: incomplete (a target could not be read); the rest is still printed.
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let evals: Vec<Evaluation> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(evals.len(), 1);
    assert_eq!(evals[0].compliance, Compliance::Compliant);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{MOTO_DEFAULT_ACCOUNT}/xx-fake-1")),
        "{err}"
    );
    assert!(err.contains("ecr:DescribeRepositories"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn org_lists_active_accounts_and_all_regions_reads_enabled_ones() {
    let moto = moto();
    let base = moto.sdk_config("us-east-1").await;
    let org = aws_sdk_organizations::Client::new(&base);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let created = org
        .create_account()
        .account_name("workload")
        .email("workload@example.com")
        .send()
        .await
        .unwrap();
    let status = created.create_account_status().unwrap();
    let member = match status.account_id() {
        Some(id) => id.to_owned(),
        None => {
            let s = org
                .describe_create_account_status()
                .create_account_request_id(status.id().unwrap())
                .send()
                .await
                .unwrap();
            s.create_account_status()
                .unwrap()
                .account_id()
                .unwrap()
                .to_owned()
        }
    };
    create(
        &moto,
        &member,
        "sa-east-1",
        &[("legacy", ImageTagMutability::Mutable)],
    )
    .await;
    create(
        &moto,
        MOTO_DEFAULT_ACCOUNT,
        "eu-west-1",
        &[("api", ImageTagMutability::Immutable)],
    )
    .await;

    let out = immutag(
        &moto,
        &[
            "scan",
            "--org",
            "--all-regions",
            "--role-name",
            ROLE,
            "--concurrency",
            "16",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let evals: Vec<Evaluation> = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, String, String)> = evals
        .iter()
        .map(|e| {
            (
                e.account_id.clone().unwrap(),
                e.region.clone().unwrap(),
                e.resource_id.clone(),
            )
        })
        .collect();
    // Output is sorted by account id; moto draws the member's id at random.
    let mut expected: Vec<(String, String, String)> = vec![
        (
            MOTO_DEFAULT_ACCOUNT.into(),
            "eu-west-1".into(),
            "api".into(),
        ),
        (member.clone(), "sa-east-1".into(), "legacy".into()),
    ];
    expected.sort();
    assert_eq!(found, expected);
    // Regions that are not opted in are named as skipped, not silently dropped.
    assert!(
        stderr(&out).contains("skipped, region not enabled (not-opted-in)"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_prints_the_remediation_input() {
    let moto = moto();
    create(
        &moto,
        MOTO_DEFAULT_ACCOUNT,
        "eu-west-1",
        &[
            ("web", ImageTagMutability::Mutable),
            ("api", ImageTagMutability::Immutable),
        ],
    )
    .await;
    let config = moto.sdk_config("eu-west-1").await;
    let ecr = aws_sdk_ecr::Client::new(&config);
    // ECR keeps the manifest `latest` moved away from as an untagged image; moto deletes it, so
    // that manifest is pushed again untagged afterwards to give the state ECR would have.
    for (n, tag) in [
        (1, Some("v1.0.0")),
        (2, Some("latest")),
        (3, Some("latest")),
        (2, None),
    ] {
        push_image(&ecr, "web", n, tag).await.unwrap();
    }
    let out = immutag(
        &moto,
        &["plan", "--regions", "eu-west-1", "--output", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Plan = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc.repositories.len(), 1);
    let web = &doc.repositories[0];
    assert_eq!(web.name, "web");
    assert_eq!(web.proposal.as_str(), "IMMUTABLE_WITH_EXCLUSION");
    assert_eq!(web.proposal.filters()[0].filter, "latest");
    assert_eq!(web.basis.untagged_images, 1);

    let out = immutag(&moto, &["plan", "--regions", "eu-west-1"]);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("IMMUTABLE_WITH_EXCLUSION") && table.contains("untagged"),
        "{table}"
    );
    let out = immutag(
        &moto,
        &["plan", "--regions", "eu-west-1", "--output", "csv"],
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
}

#[test]
fn bad_flags_are_usage_errors() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_immutag"))
        .args(["scan", "--accounts", "12345", "--regions", "eu-west-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("12345"), "{}", stderr(&out));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_immutag"))
        .args(["scan", "--regions", "eu-west-1", "--all-regions"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
