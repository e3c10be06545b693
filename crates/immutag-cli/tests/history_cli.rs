//! `immutag history` end to end: the binary over the CloudTrail fixtures as a gzip tree on
//! disk and in S3 on a moto server (127.0.0.1), every output format and exit code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Output;

use immutag_aws::testing::{MotoServer, upload_cloudtrail, write_cloudtrail_tree};

fn immutag(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_immutag"));
    cmd.env_remove("AWS_PROFILE").env("AWS_REGION", "eu-west-1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.arg("history")
        .args(args)
        .arg("--no-progress")
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_cloudtrail_tree(dir.path(), true).unwrap();
    dir
}

#[test]
fn json_lists_pushes_and_moves_and_exits_1_when_a_tag_moved() {
    let dir = tree();
    let path = dir.path().to_str().unwrap();
    let o = immutag(&["--cloudtrail", path, "-o", "json"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(rows.len(), 8);
    let moves: Vec<&serde_json::Value> = rows.iter().filter(|r| r["kind"] == "move").collect();
    assert_eq!(moves.len(), 3);
    let m = moves.iter().find(|m| m["repository"] == "web").unwrap();
    assert_eq!(m["tag"], "latest");
    assert_eq!(m["account_id"], "111122223333");
    assert_eq!(m["region"], "eu-west-1");
    assert_eq!(m["from_digest"], format!("sha256:{}", "a".repeat(64)));
    assert_eq!(m["to_digest"], format!("sha256:{}", "b".repeat(64)));
    assert_eq!(m["at"], "2026-11-21T09:30:00Z");
    assert_eq!(
        m["principal_arn"],
        "arn:aws:iam::111122223333:role/ci-deploy"
    );
    assert_eq!(m["session_name"], "build-102");
    assert!(m["user_agent"].as_str().unwrap().starts_with("docker/"));
    let refused = rows.iter().find(|r| r["kind"] == "refused").unwrap();
    assert_eq!(refused["error_code"], "ImageTagAlreadyExistsException");
    assert!(err(&o).contains("1 by digest only"), "{}", err(&o));
    assert!(err(&o).contains("1 read twice"), "{}", err(&o));

    // Nothing moved: exit 0.
    let o = immutag(
        &[
            "--cloudtrail",
            path,
            "--tag",
            "v1.*",
            "-o",
            "json",
            "--moves-only",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o).trim(), "[]");
}

#[test]
fn table_csv_and_at() {
    let dir = tree();
    let path = dir.path().to_str().unwrap();
    let o = immutag(&["--cloudtrail", path, "--repository", "web"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let text = out(&o);
    assert!(
        text.contains("refused (ImageTagAlreadyExistsException)"),
        "{text}"
    );
    assert!(text.contains("sha256:aaaaaaaaaaaa"), "{text}");
    assert!(
        text.contains("6 push(es) of 2 tag(s); 2 move(s) of 1 tag(s)."),
        "{text}"
    );
    assert!(
        text.contains("111122223333/eu-west-1 web:latest: 2 move(s), last 2026-11-22T14:05:00Z, by arn:aws:iam::111122223333:role/ci-deploy (2)"),
        "{text}"
    );

    let o = immutag(&["--cloudtrail", path, "-o", "csv", "--moves-only"], &[]);
    let csv = out(&o);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "kind,repository,tag,account_id,region,from_digest,to_digest,at,principal_arn,session_name,user_agent,error_code"
    );
    assert_eq!(lines.count(), 3);

    let o = immutag(
        &[
            "--cloudtrail",
            path,
            "--at",
            "2026-11-21T12:00:00Z",
            "-o",
            "json",
        ],
        &[],
    );
    let states: Vec<serde_json::Value> = serde_json::from_str(&out(&o)).unwrap();
    let latest = states.iter().find(|s| s["tag"] == "latest").unwrap();
    assert_eq!(latest["digest"], format!("sha256:{}", "b".repeat(64)));
    assert_eq!(latest["pushed_at"], "2026-11-21T09:30:00Z");
    let o = immutag(&["--cloudtrail", path, "--at", "2026-11-21T12:00:00Z"], &[]);
    assert!(
        out(&o).contains("3 tag(s) as they were at 2026-11-21T12:00:00Z."),
        "{}",
        out(&o)
    );
}

#[test]
fn control_characters_are_escaped_and_broken_files_exit_3() {
    let dir = tree();
    let evil = r#"{"Records":[{"eventID":"e-1","eventTime":"2026-11-20T10:00:00Z","eventSource":"ecr.amazonaws.com","eventName":"PutImage","awsRegion":"eu-west-1","recipientAccountId":"111122223333","userAgent":"x\u001b[2J","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/m\u001b]0;pwned\u0007"},"requestParameters":{"repositoryName":"web","imageTag":"t\u001b[31m"},"responseElements":{"image":{"imageId":{"imageDigest":"sha256:1"}}}}]}"#;
    std::fs::write(dir.path().join("evil.json"), evil).unwrap();
    std::fs::write(dir.path().join("cut.json"), &evil[..120]).unwrap();
    let o = immutag(&["--cloudtrail", dir.path().to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    let text = out(&o);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("t\\u{1b}[31m"), "{text}");
    assert!(text.contains("Moved tags"), "the rest is printed: {text}");
    assert!(err(&o).contains("cut.json"), "{}", err(&o));
    assert!(!err(&o).contains('\u{1b}'));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--cloudtrail", "x", "--since", "yesterday"][..],
        &["--cloudtrail", "s3://A/"][..],
        &["--cloudtrail", "x", "--athena", "db.t"][..],
        &["--athena", "nodot"][..],
        &[
            "--cloudtrail",
            "x",
            "--since",
            "2026-11-20",
            "--until",
            "2026-11-01",
        ][..],
        &[][..],
    ] {
        let o = immutag(args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
    }
}

#[test]
fn s3_on_moto() {
    let moto = MotoServer::start().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let config = moto.sdk_config("eu-west-1").await;
        upload_cloudtrail(&config, "org-trail", "").await.unwrap();
    });
    let env: Vec<(&str, String)> = moto.env("eu-west-1");
    let o = immutag(
        &[
            "--cloudtrail",
            "s3://org-trail/AWSLogs/",
            "--since",
            "2026-11-20",
            "--until",
            "2026-11-23",
            "--accounts",
            "111122223333",
            "-o",
            "json",
            "--moves-only",
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["repository"] == "web"));
    assert!(err(&o).contains("(3 unit(s)"), "{}", err(&o));
}
