#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use super::record::{LogError, read_log, read_log_stream, read_record};
use super::*;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cloudtrail/AWSLogs")
}

fn fixture_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&fixture_dir(), &mut out);
    out.sort();
    assert_eq!(out.len(), 5);
    out
}

fn ts(s: &str) -> Timestamp {
    time::parse(s).unwrap()
}

fn build(selection: Selection) -> Evidence {
    let mut b = EvidenceBuilder::new(selection);
    for f in fixture_files() {
        b.set_source(&f.display().to_string());
        read_log(&std::fs::read(&f).unwrap(), &mut b).unwrap();
    }
    b.finish()
}

fn key(evidence: &Evidence, repo: &str, tag: &str) -> TagHistory {
    evidence
        .tags()
        .iter()
        .find(|t| t.key.repository == repo && t.key.tag == tag)
        .cloned()
        .unwrap_or_else(|| panic!("no {repo}:{tag}"))
}

#[test]
fn fixtures_give_the_pushes_and_moves_in_time_order() {
    let e = build(Selection::default());
    let s = e.stats();
    // 15 records, 10 ECR PutImage ones (the ECR Public push is not one), of which one is untagged
    // and one the same event delivered twice.
    assert_eq!(s.records, 15);
    assert_eq!(s.put_image, 10);
    assert_eq!(s.untagged, 1);
    assert_eq!(s.duplicates, 1);
    assert_eq!(s.kept, 9);
    assert!(e.problems().is_empty(), "{:?}", e.problems());
    let keys: Vec<String> = e
        .tags()
        .iter()
        .map(|t| {
            format!(
                "{}/{}/{}:{}",
                t.key.account_id, t.key.region, t.key.repository, t.key.tag
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            "111122223333/eu-west-1/web:latest",
            "111122223333/eu-west-1/web:v1.2.3",
            "444455556666/us-east-1/api:stable"
        ]
    );

    let latest = key(&e, "web", "latest");
    let times: Vec<String> = latest.pushes.iter().map(|p| time::format(p.at)).collect();
    assert_eq!(
        times,
        [
            "2026-11-20T10:00:00Z",
            "2026-11-21T09:30:00Z",
            "2026-11-22T14:00:00Z",
            "2026-11-22T14:05:00Z"
        ]
    );
    let moves = latest.moves();
    assert_eq!(moves.len(), 2);
    assert_eq!(moves[0].from, format!("sha256:{}", "a".repeat(64)));
    assert_eq!(
        moves[0].push.digest.as_deref(),
        Some(format!("sha256:{}", "b".repeat(64)).as_str())
    );
    // The role behind the assumed-role session, and the session.
    assert_eq!(
        &*moves[0].push.principal_arn,
        "arn:aws:iam::111122223333:role/ci-deploy"
    );
    assert_eq!(moves[0].push.session_name.as_deref(), Some("build-102"));
    assert!(
        moves[0]
            .push
            .user_agent
            .as_deref()
            .unwrap()
            .starts_with("docker/27.3.1")
    );
    // alice re-pushed the same digest: a push, not a move.
    assert_eq!(time::format(moves[1].push.at), "2026-11-22T14:05:00Z");

    let pinned = key(&e, "web", "v1.2.3");
    assert!(pinned.moves().is_empty());
    assert_eq!(pinned.pushes.len(), 2);
    let refused = &pinned.pushes[1];
    assert_eq!(refused.error_code.as_deref(), Some(TAG_EXISTS));
    assert_eq!(
        &*refused.principal_arn,
        "arn:aws:iam::111122223333:user/alice"
    );
    assert_eq!(refused.session_name, None);
    assert!(e.moved());
}

#[test]
fn summaries_name_the_principals_and_counts() {
    let e = build(Selection::default());
    let web = e.repository(Some("111122223333"), Some("eu-west-1"), "web");
    assert!(!web.nothing_moved());
    let cov = web.coverage.as_ref().unwrap();
    assert_eq!(
        (cov.from.as_str(), cov.to.as_str()),
        ("2026-11-20T09:58:00Z", "2026-11-22T14:06:00Z")
    );
    assert_eq!(cov.records, 12);
    let moved: Vec<&TagSummary> = web.moved_tags().collect();
    assert_eq!(moved.len(), 1);
    let latest = moved[0];
    assert_eq!(
        (latest.tag.as_str(), latest.pushes, latest.moves),
        ("latest", 4, 2)
    );
    assert_eq!(
        latest.principals[0].principal_arn,
        "arn:aws:iam::111122223333:role/ci-deploy"
    );
    assert_eq!(
        (latest.principals[0].pushes, latest.principals[0].moves),
        (3, 2)
    );
    assert_eq!(
        latest.principals[1].principal_arn,
        "arn:aws:iam::111122223333:user/alice"
    );
    assert_eq!(latest.principals[1].moves, 0);
    assert_eq!(
        latest.last_moved_at.as_deref(),
        Some("2026-11-22T14:05:00Z")
    );
    assert_eq!(
        latest.digest.as_deref(),
        Some(format!("sha256:{}", "d".repeat(64)).as_str())
    );
    let pinned = web.tags.iter().find(|t| t.tag == "v1.2.3").unwrap();
    assert_eq!((pinned.moves, pinned.refused_moves), (0, 1));
    assert_eq!(
        pinned.principals[0].principal_arn,
        "arn:aws:iam::111122223333:user/alice"
    );

    // A repository of an account the logs cover, where nothing was pushed: safe on this
    // evidence; one of an account they do not cover: no evidence.
    assert!(
        e.repository(Some("111122223333"), Some("eu-west-1"), "quiet")
            .nothing_moved()
    );
    let unknown = e.repository(Some("999999999999"), Some("eu-west-1"), "web");
    assert!(unknown.coverage.is_none() && !unknown.nothing_moved());
}

#[test]
fn the_window_keeps_the_digest_it_opened_with() {
    // From 2026-11-21: the push of the 20th is before the window, but it says what
    // `latest` named when the window opened, so the push of the 21st is still a move.
    let e = build(Selection {
        window: Window {
            since: Some(ts("2026-11-21T00:00:00Z")),
            until: Some(ts("2026-11-22T14:01:00Z")),
        },
        ..Selection::default()
    });
    let latest = key(&e, "web", "latest");
    assert_eq!(latest.pushes.len(), 2);
    assert_eq!(latest.moves().len(), 1);
    assert_eq!(
        time::format(latest.before.as_ref().unwrap().at),
        "2026-11-20T10:00:00Z"
    );
    // api:stable was pushed only before the window: it did nothing in it.
    assert!(e.tags().iter().all(|t| t.key.repository != "api"));
    assert_eq!(e.stats().outside_window, 6);
}

#[test]
fn at_tells_what_each_tag_named() {
    let e = build(Selection::default());
    let at = |t: &str| {
        e.at(ts(t))
            .into_iter()
            .map(|s| format!("{}:{}={}", s.repository, s.tag, &s.digest.unwrap()[7..8]))
            .collect::<Vec<_>>()
    };
    assert_eq!(at("2026-11-20T09:00:00Z"), Vec::<String>::new());
    assert_eq!(at("2026-11-20T10:00:00Z"), ["web:latest=a"]);
    assert_eq!(
        at("2026-11-21T12:00:00Z"),
        ["web:latest=b", "web:v1.2.3=a", "api:stable=2"]
    );
    assert_eq!(
        at("2026-11-23T00:00:00Z"),
        ["web:latest=d", "web:v1.2.3=a", "api:stable=2"]
    );
}

#[test]
fn selection_narrows_accounts_regions_repositories_and_tags() {
    let only = |sel: Selection| {
        build(sel)
            .tags()
            .iter()
            .map(|t| t.key.tag.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        only(Selection {
            accounts: vec!["444455556666".into()],
            ..Selection::default()
        }),
        ["stable"]
    );
    assert_eq!(
        only(Selection {
            regions: vec!["eu-west-1".into()],
            tag: Some("v*".into()),
            ..Selection::default()
        }),
        ["v1.2.3"]
    );
    assert_eq!(
        only(Selection {
            repository: Some("we*".into()),
            ..Selection::default()
        }),
        ["latest", "v1.2.3"]
    );
}

#[test]
fn entries_list_moves_pushes_and_refusals_oldest_first() {
    let e = build(Selection::default());
    let rows = e.entries(false);
    assert_eq!(rows.len(), 8);
    let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "push", "push", "push", "move", "move", "refused", "push", "move"
        ]
    );
    let moves = e.entries(true);
    assert_eq!(moves.len(), 3);
    assert!(
        moves
            .iter()
            .all(|m| m.from_digest.is_some() && m.to_digest.is_some())
    );
    let json = serde_json::to_value(&moves[0]).unwrap();
    for field in [
        "kind",
        "repository",
        "tag",
        "account_id",
        "region",
        "from_digest",
        "to_digest",
        "at",
        "principal_arn",
        "user_agent",
    ] {
        assert!(json.get(field).is_some(), "{field} missing in {json}");
    }
    assert_eq!(json["repository"], "api");
    assert_eq!(
        json["principal_arn"],
        "arn:aws:iam::444455556666:role/release"
    );
}

#[test]
fn streaming_reader_and_parallel_merge_agree_with_the_slice_reader() {
    let whole = build(Selection::default());
    let mut merged = EvidenceBuilder::new(Selection::default());
    for f in fixture_files() {
        let mut b = EvidenceBuilder::new(Selection::default());
        read_log_stream(std::fs::File::open(&f).unwrap(), &mut b).unwrap();
        merged.merge(b);
    }
    assert_eq!(merged.finish(), whole);
}

#[test]
fn event_history_records_are_read_one_by_one() {
    let text = std::fs::read_to_string(&fixture_files()[2]).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut b = EvidenceBuilder::new(Selection::default());
    let mut puts = 0;
    for r in v["Records"].as_array().unwrap() {
        if read_record(&r.to_string(), &mut b).unwrap() {
            puts += 1;
        }
    }
    assert_eq!(puts, 3, "the ECR Public push is not an ECR PutImage");
    assert!(read_record("[1]", &mut b).is_err());
}

#[test]
fn identities_of_every_kind_name_a_principal() {
    let rec = |identity: &str| {
        format!(
            r#"{{"Records":[{{"eventTime":"2026-11-20T10:00:00Z","eventSource":"ecr.amazonaws.com","eventName":"PutImage",
            "awsRegion":"eu-west-1","recipientAccountId":"111122223333","userIdentity":{identity},
            "requestParameters":{{"repositoryName":"r","imageTag":"t"}},
            "responseElements":{{"image":{{"imageId":{{"imageDigest":"sha256:1"}}}}}}}}]}}"#
        )
    };
    let principal = |identity: &str| {
        let mut b = EvidenceBuilder::new(Selection::default());
        read_log(rec(identity).as_bytes(), &mut b).unwrap();
        let e = b.finish();
        let p = &e.tags()[0].pushes[0];
        (
            p.principal_arn.to_string(),
            p.session_name.as_deref().map(str::to_owned),
        )
    };
    assert_eq!(
        principal(r#"{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s"}"#),
        ("arn:aws:sts::1:assumed-role/r/s".into(), Some("s".into()))
    );
    assert_eq!(
        principal(r#"{"type":"Root","arn":"arn:aws:iam::1:root"}"#).0,
        "arn:aws:iam::1:root"
    );
    assert_eq!(
        principal(r#"{"type":"AWSService","invokedBy":"ecr.amazonaws.com"}"#).0,
        "ecr.amazonaws.com"
    );
    assert_eq!(
        principal(r#"{"type":"AWSAccount","principalId":"AIDA1","accountId":"2"}"#).0,
        "AIDA1"
    );
    assert_eq!(principal("null").0, "unknown");
}

#[test]
fn bad_logs_and_bad_records_are_named_not_dropped() {
    let mut b = EvidenceBuilder::new(Selection::default());
    for (bad, want) in [
        (&b"not json"[..], "not a CloudTrail log"),
        (b"[]", "not a CloudTrail log"),
        (
            br#"{"Records":[{"eventSource":"ecr.amazonaws.com"},"#,
            "EOF",
        ),
        (br#"{"Records":[1]}"#, "invalid type"),
        (br#"{"Records":[]} x"#, "trailing"),
    ] {
        let err = read_log(bad, &mut b).unwrap_err();
        assert!(err.to_string().contains(want), "{err}");
    }
    assert_eq!(
        read_log(br#"{"other":1}"#, &mut b),
        Err(LogError::NoRecords)
    );
    assert_eq!(read_log(br#"{"Records":null}"#, &mut b).unwrap().records, 0);

    b.set_source("f.json");
    let log = br#"{"Records":[
      {"eventID":"x1","eventTime":"2026-11-20T10:00:00Z","eventSource":"ecr.amazonaws.com","eventName":"PutImage","awsRegion":"eu-west-1","recipientAccountId":"1"},
      {"eventID":"x2","eventTime":"yesterday","eventSource":"ecr.amazonaws.com","eventName":"PutImage","awsRegion":"eu-west-1","recipientAccountId":"1","requestParameters":{"repositoryName":"r","imageTag":"t"}},
      {"eventID":"x3","eventTime":"2026-11-20T10:00:00Z","eventSource":"ecr.amazonaws.com","eventName":"PutImage","awsRegion":"eu-west-1","recipientAccountId":"1","requestParameters":{"repositoryName":"r","imageTag":"t\u001b[2J"},"responseElements":null}
    ]}"#;
    let stats = read_log(log, &mut b).unwrap();
    assert_eq!((stats.records, stats.put_image), (3, 3));
    let e = b.finish();
    let problems: Vec<(&str, &str)> = e
        .problems()
        .iter()
        .map(|p| (p.event_id.as_deref().unwrap(), p.problem.as_str()))
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].1.contains("requestParameters.repositoryName"));
    assert!(problems[1].1.contains("yesterday"));
    assert_eq!(e.problems()[0].source.as_deref(), Some("f.json"));
    // A successful push with no digest is kept, and flagged as one moves cannot be told around.
    let t = e.repository(Some("1"), Some("eu-west-1"), "r");
    assert_eq!((t.tags[0].pushes, t.tags[0].unknown_digests), (1, 1));
    assert!(!t.nothing_moved());
}
