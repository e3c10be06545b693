//! CloudTrail logs in S3 on a moto server (127.0.0.1): the same tree as the fixtures, gzip,
//! read through the listing of the window's day folders.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use immutag_aws::evidence::{EvidenceOptions, Quiet, S3Location, Source, read};
use immutag_aws::testing::{MotoServer, upload_cloudtrail, write_cloudtrail_tree};
use immutag_core::evidence::{Selection, Window};
use immutag_core::time::Timestamp;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn opts(selection: Selection) -> EvidenceOptions {
    EvidenceOptions {
        selection,
        now: ts("2026-11-26T12:00:00Z"),
        targets: immutag_aws::targets::TargetOptions::default(),
        concurrency: 4,
    }
}

fn window(since: &str) -> Selection {
    Selection {
        window: Window {
            since: Some(ts(since)),
            until: None,
        },
        ..Selection::default()
    }
}

#[tokio::test]
async fn s3_and_a_local_gzip_tree_give_the_same_evidence() {
    let moto = MotoServer::start().unwrap();
    let config = moto.sdk_config("eu-west-1").await;
    upload_cloudtrail(&config, "org-trail", "logs/")
        .await
        .unwrap();

    let s3 = Source::S3(S3Location::parse("s3://org-trail/logs/").unwrap());
    let all = read(&config, &s3, &opts(window("2026-11-01T00:00:00Z")), &Quiet)
        .await
        .unwrap();
    assert!(all.failures.is_empty(), "{:?}", all.failures);
    assert_eq!(all.units, 5);

    let dir = tempfile::tempdir().unwrap();
    write_cloudtrail_tree(dir.path(), true).unwrap();
    let local = read(
        &config,
        &Source::Files(dir.path().to_path_buf()),
        &opts(window("2026-11-01T00:00:00Z")),
        &Quiet,
    )
    .await
    .unwrap();
    assert_eq!(local.units, 5);
    assert!(local.failures.is_empty(), "{:?}", local.failures);
    assert_eq!(all.evidence.entries(false), local.evidence.entries(false));
    assert_eq!(all.evidence.stats(), local.evidence.stats());
    assert_eq!(all.evidence.entries(true).len(), 3);
    assert_eq!(all.evidence.stats().duplicates, 1);
}

#[tokio::test]
async fn only_the_accounts_regions_and_days_asked_for_are_read() {
    let moto = MotoServer::start().unwrap();
    let config = moto.sdk_config("eu-west-1").await;
    upload_cloudtrail(&config, "org-trail", "").await.unwrap();
    let s3 = Source::S3(S3Location::parse("s3://org-trail/AWSLogs/").unwrap());

    // From the 21st, account 111122223333 only: the files of the 21st and 22nd.
    let mut sel = window("2026-11-21T00:00:00Z");
    sel.accounts = vec!["111122223333".into()];
    let r = read(&config, &s3, &opts(sel.clone()), &Quiet)
        .await
        .unwrap();
    assert_eq!(r.units, 2);
    let e = &r.evidence;
    assert!(e.tags().iter().all(|t| t.key.account_id == "111122223333"));
    assert_eq!(e.entries(true).len(), 1);

    // A region with no folder: nothing read, nothing failed.
    sel.regions = vec!["ap-south-2".into()];
    let r = read(&config, &s3, &opts(sel), &Quiet).await.unwrap();
    assert_eq!((r.units, r.failures.len()), (0, 0));

    // A prefix down to one account and region.
    let one = Source::S3(
        S3Location::parse("s3://org-trail/AWSLogs/o-aa111bb222/444455556666/CloudTrail/us-east-1/")
            .unwrap(),
    );
    let r = read(&config, &one, &opts(window("2026-11-20T00:00:00Z")), &Quiet)
        .await
        .unwrap();
    assert_eq!(r.units, 1);

    // No window start: refused; a bucket that does not exist: an error naming the call.
    let err = read(&config, &s3, &opts(Selection::default()), &Quiet)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--since"), "{err}");
    let missing = Source::S3(S3Location::parse("s3://no-such-trail/").unwrap());
    let err = read(
        &config,
        &missing,
        &opts(window("2026-11-20T00:00:00Z")),
        &Quiet,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("s3:HeadBucket"), "{err}");
}

#[tokio::test]
async fn a_broken_file_is_named_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    write_cloudtrail_tree(dir.path(), true).unwrap();
    let bad = dir.path().join("AWSLogs/111122223333/broken.json.gz");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(&bad, b"\x1f\x8b\x08\x00garbage").unwrap();
    // Digest files have no Records: their folder is not read.
    let digest = dir
        .path()
        .join("AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/d.json.gz");
    std::fs::create_dir_all(digest.parent().unwrap()).unwrap();
    std::fs::write(&digest, b"{}").unwrap();
    let moto_less = aws_types::SdkConfig::builder().build();
    let r = read(
        &moto_less,
        &Source::Files(dir.path().to_path_buf()),
        &opts(Selection::default()),
        &Quiet,
    )
    .await
    .unwrap();
    assert_eq!(r.units, 6);
    assert_eq!(r.failures.len(), 1);
    assert!(
        r.failures[0].error.contains("broken.json.gz"),
        "{:?}",
        r.failures
    );
    assert_eq!(r.evidence.entries(true).len(), 3);
}
