//! `immutag plan --evidence` end to end: repositories on a moto server (127.0.0.1), CloudTrail
//! `PutImage` logs of the last days on disk, the plan built on the moves (a moved tag re-used
//! whatever its name, a floating name that never moved made IMMUTABLE, a moving production tag
//! sent to review with the pipeline named, an uncovered region not called safe), the table's
//! labels and totals, and the plan fed to `immutag remediate --plan`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Output;

use aws_sdk_ecr::types::ImageTagMutability;
use immutag_aws::testing::{MOTO_DEFAULT_ACCOUNT, MotoServer, push_image};
use immutag_core::plan::{Grounds, Plan};
use immutag_core::time::{self, Timestamp};

fn immutag(moto: &MotoServer, args: &[&str], stdin: Option<&str>) -> Output {
    let env = moto.env("eu-west-1");
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    common::run_env(args, stdin.map(str::as_bytes), &env)
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr)
}

/// One successful `PutImage` record, `hours_ago` before now, by an assumed role.
fn push(
    n: u32,
    hours_ago: i64,
    repo: &str,
    tag: &str,
    digest: &str,
    role: &str,
) -> serde_json::Value {
    let at = Timestamp::from_second(Timestamp::now().as_second() - hours_ago * 3600).unwrap();
    let acct = MOTO_DEFAULT_ACCOUNT;
    serde_json::json!({
        "eventVersion": "1.08",
        "eventID": format!("evt-{n}"),
        "eventTime": time::format(at),
        "eventSource": "ecr.amazonaws.com",
        "eventName": "PutImage",
        "awsRegion": "eu-west-1",
        "recipientAccountId": acct,
        "userAgent": "docker/27.3",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::{acct}:assumed-role/{role}/build-{n}"),
            "accountId": acct,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{acct}:role/{role}"), "userName": role}}
        },
        "requestParameters": {"repositoryName": repo, "imageTag": tag, "registryId": acct},
        "responseElements": {"image": {"registryId": acct, "repositoryName": repo,
            "imageId": {"imageDigest": digest, "imageTag": tag}}}
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_on_evidence_feeds_remediate() {
    let moto = MotoServer::start().unwrap_or_else(|e| panic!("{e}"));
    let acct = MOTO_DEFAULT_ACCOUNT;
    let eu = aws_sdk_ecr::Client::new(&moto.sdk_config("eu-west-1").await);
    let us = aws_sdk_ecr::Client::new(&moto.sdk_config("us-east-1").await);
    for (client, name) in [(&eu, "web"), (&eu, "api"), (&eu, "svc"), (&us, "batch")] {
        client
            .create_repository()
            .repository_name(name)
            .image_tag_mutability(ImageTagMutability::Mutable)
            .send()
            .await
            .unwrap();
    }
    // `web`: `build` moved (a name the guess calls fixed); `api`: `latest` never moved; `svc`:
    // `stable` moved (production: never excluded); `batch` in us-east-1, which no log covers.
    let web1 = push_image(&eu, "web", 1, "build").await.unwrap();
    let web2 = push_image(&eu, "web", 2, "build").await.unwrap();
    push_image(&eu, "web", 2, "v1.0.0").await.unwrap();
    push_image(&eu, "web", 1, None).await.unwrap(); // what `build` left behind, untagged
    let api = push_image(&eu, "api", 3, "latest").await.unwrap();
    let svc1 = push_image(&eu, "svc", 4, "stable").await.unwrap();
    let svc2 = push_image(&eu, "svc", 5, "stable").await.unwrap();
    push_image(&us, "batch", 6, "v2.0.0").await.unwrap();

    let records = vec![
        push(1, 50, "web", "build", &web1, "ci"),
        push(2, 30, "web", "build", &web2, "ci"),
        push(3, 40, "api", "latest", &api, "ci"),
        push(4, 20, "svc", "stable", &svc1, "deploy-prod"),
        push(5, 10, "svc", "stable", &svc2, "deploy-prod"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("trail.json");
    std::fs::write(&log, serde_json::json!({"Records": records}).to_string()).unwrap();
    let log = log.to_str().unwrap();
    let plan_on = |extra: &[&str]| {
        let mut args = vec![
            "plan",
            "--evidence",
            log,
            "--regions",
            "eu-west-1,us-east-1",
            "--no-progress",
        ];
        args.extend_from_slice(extra);
        immutag(&moto, &args, None)
    };

    let o = plan_on(&["-o", "json"]);
    assert_eq!(o.code, 1, "{}", text(&o));
    let doc: Plan = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(doc.schema_version, 2);
    let get = |name: &str| doc.repositories.iter().find(|r| r.name == name).unwrap();

    let web = get("web");
    assert_eq!(web.basis.grounds, Grounds::Evidence);
    assert_eq!(web.proposal.as_str(), "IMMUTABLE_WITH_EXCLUSION");
    assert_eq!(web.proposal.filters()[0].filter, "build");
    let moved = web.basis.floating_tags[0].moved.as_ref().unwrap();
    assert_eq!(moved.moves, 1);
    assert_eq!(
        moved.principals[0].principal_arn,
        format!("arn:aws:iam::{acct}:role/ci")
    );
    assert_eq!(web.basis.untagged_images, 1);
    assert!(web.basis.untagged_bytes > 0);

    let api = get("api");
    assert_eq!(
        (api.basis.grounds, api.proposal.as_str()),
        (Grounds::Evidence, "IMMUTABLE")
    );

    let svc = get("svc");
    assert_eq!(svc.proposal.as_str(), "REVIEW");
    assert!(
        svc.basis
            .notes
            .iter()
            .any(|n| n.contains("`stable`") && n.contains("role/deploy-prod (1 move(s))")),
        "{:?}",
        svc.basis.notes
    );

    let batch = get("batch");
    assert_eq!(
        (batch.basis.grounds, batch.proposal.as_str()),
        (Grounds::NotCovered, "REVIEW")
    );
    assert!(batch.basis.notes[0].contains(&format!("does not cover {acct}/us-east-1")));

    // The table labels the basis and totals the untagged images at the given price.
    let o = plan_on(&["--storage-price", "0.5"]);
    assert_eq!(o.code, 1, "{}", text(&o));
    let table = o.stdout.clone();
    assert!(
        table.contains("evidence") && table.contains("not covered"),
        "{table}"
    );
    assert!(
        table.contains("Untagged images: 1,") && table.contains("at $0.5 per GB-month"),
        "{table}"
    );
    assert!(
        table.contains("1 repositor(ies) in accounts or regions the evidence does not cover"),
        "{table}"
    );

    // The plan is the input of remediate: exclusions and IMMUTABLE applied, reviews left.
    let plan = serde_json::to_string(&doc).unwrap();
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
            "--no-progress",
        ],
        Some(&plan),
    );
    assert_eq!(o.code, 1, "{}", text(&o));
    let mode = |client: aws_sdk_ecr::Client, name: &'static str| async move {
        let r = client
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
    };
    assert_eq!(mode(eu.clone(), "web").await, "IMMUTABLE_WITH_EXCLUSION");
    assert_eq!(mode(eu.clone(), "api").await, "IMMUTABLE");
    assert_eq!(mode(eu.clone(), "svc").await, "MUTABLE");
    assert_eq!(mode(us.clone(), "batch").await, "MUTABLE");
}

#[test]
fn evidence_flags_are_checked() {
    let run = |args: &[&str]| common::run_env(args, None, &[("AWS_REGION", "eu-west-1")]);
    let o = run(&["plan", "--since", "7d", "--regions", "eu-west-1"]);
    assert_eq!(o.code, 2, "{}", text(&o));
    assert!(o.stderr.contains("give --evidence or --athena"));
    let o = run(&["plan", "--storage-price=-1", "--regions", "eu-west-1"]);
    assert_eq!(o.code, 2, "{}", text(&o));
    assert!(o.stderr.contains("not a price"));
    let o = run(&[
        "plan",
        "--evidence",
        "x",
        "--athena",
        "db.t",
        "--regions",
        "eu-west-1",
    ]);
    assert_eq!(o.code, 2, "{}", text(&o));
}

/// The lifecycle policy of `name`: its text, or `None` (LifecyclePolicyNotFoundException).
async fn policy(client: &aws_sdk_ecr::Client, name: &str) -> Option<String> {
    use aws_sdk_ecr::error::ProvideErrorMetadata;
    match client
        .get_lifecycle_policy()
        .repository_name(name)
        .send()
        .await
    {
        Ok(o) => o.lifecycle_policy_text().map(str::to_owned),
        Err(e) if e.code() == Some("LifecyclePolicyNotFoundException") => None,
        Err(e) => panic!("{e:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn remediate_lifecycle_applies_where_none_is_journaled_and_rolls_back() {
    let moto = MotoServer::start().unwrap_or_else(|e| panic!("{e}"));
    let eu = aws_sdk_ecr::Client::new(&moto.sdk_config("eu-west-1").await);
    for name in ["web", "own"] {
        eu.create_repository()
            .repository_name(name)
            .image_tag_mutability(ImageTagMutability::Mutable)
            .send()
            .await
            .unwrap();
        // One versioned image and one untagged manifest: the plan suggests the policy.
        push_image(&eu, name, 1, "v1.0.0").await.unwrap();
        push_image(&eu, name, 2, None).await.unwrap();
    }
    let own = r#"{"rules":[{"rulePriority":1,"description":"team policy","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":500},"action":{"type":"expire"}}]}"#;
    eu.put_lifecycle_policy()
        .repository_name("own")
        .lifecycle_policy_text(own)
        .send()
        .await
        .unwrap();

    let o = immutag(
        &moto,
        &[
            "plan",
            "--regions",
            "eu-west-1",
            "-o",
            "json",
            "--no-progress",
        ],
        None,
    );
    assert_eq!(o.code, 1, "{}", text(&o));
    let plan = o.stdout.clone();
    let doc: Plan = serde_json::from_str(&plan).unwrap();
    assert!(
        doc.repositories
            .iter()
            .all(|r| r.lifecycle_policy.is_some()),
        "{plan}"
    );

    // Dry run: the policy would be put on `web`; `own` keeps its own, listed.
    let o = immutag(
        &moto,
        &["remediate", "--plan", "-", "--lifecycle", "--no-progress"],
        Some(&plan),
    );
    assert_eq!(o.code, 1, "{}", text(&o));
    let out = o.stdout.clone();
    assert!(out.contains("CHANGE  123456789012/eu-west-1/web  no lifecycle policy -> lifecycle policy (1 rule(s))"), "{out}");
    assert!(
        out.contains("own  has a lifecycle policy of its own: left alone"),
        "{out}"
    );
    assert_eq!(policy(&eu, "web").await, None, "a dry run changes nothing");

    // Apply: journaled, verified.
    let apply = |journal: &str| {
        immutag(
            &moto,
            &[
                "remediate",
                "--plan",
                "-",
                "--lifecycle",
                "--apply",
                "--journal",
                journal,
                "--no-progress",
            ],
            Some(&plan),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("j.jsonl");
    let js = j.to_str().unwrap();
    let o = apply(js);
    assert_eq!(o.code, 0, "{}", text(&o));
    let put = policy(&eu, "web").await.expect("the policy is put");
    let put: serde_json::Value = serde_json::from_str(&put).unwrap();
    assert_eq!(put, immutag_core::plan::untagged_lifecycle_policy());
    assert_eq!(policy(&eu, "own").await.as_deref(), Some(own), "left alone");
    let journal = std::fs::read_to_string(&j).unwrap();
    assert!(
        journal.contains(r#""previous":{"lifecycle_policy":null}"#),
        "{journal}"
    );
    assert!(journal.contains(r#""phase":"verified""#), "{journal}");

    // Rollback deletes the policy it put (and restores the mutability); `own` untouched.
    let o = immutag(
        &moto,
        &[
            "rollback",
            js,
            "--apply",
            "--journal",
            dir.path().join("rb.jsonl").to_str().unwrap(),
            "--no-progress",
        ],
        None,
    );
    assert_eq!(o.code, 0, "{}", text(&o));
    assert_eq!(policy(&eu, "web").await, None);
    assert_eq!(policy(&eu, "own").await.as_deref(), Some(own));
    let r = eu
        .describe_repositories()
        .repository_names("web")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.repositories()[0].image_tag_mutability().unwrap().as_str(),
        "MUTABLE"
    );

    // A policy put since the journal is someone else's: the rollback leaves it.
    let o = apply(dir.path().join("j2.jsonl").to_str().unwrap());
    assert_eq!(o.code, 0, "{}", text(&o));
    eu.put_lifecycle_policy()
        .repository_name("web")
        .lifecycle_policy_text(own)
        .send()
        .await
        .unwrap();
    let o = immutag(
        &moto,
        &[
            "rollback",
            dir.path().join("j2.jsonl").to_str().unwrap(),
            "--no-progress",
        ],
        None,
    );
    let out = o.stdout.clone();
    assert!(out.contains("changed since the journal"), "{}", text(&o));

    // --lifecycle needs a plan.
    let o = immutag(
        &moto,
        &[
            "remediate",
            "--mode",
            "immutable",
            "--lifecycle",
            "--regions",
            "eu-west-1",
        ],
        None,
    );
    assert_eq!(o.code, 2, "{}", text(&o));
}
