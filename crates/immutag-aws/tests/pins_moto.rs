//! `immutag_aws::pins` against moto's ECR with real manifests pushed: a single-platform image,
//! an OCI image index of two platform manifests, a moved tag, a deleted digest, a missing
//! repository.
//!
//! moto quirks the test is written around: `BatchGetImage` returns an image's *last* tag in
//! `imageId.imageTag` (AWS returns the requested one), so each looked-up tag is the last one
//! given to its image; moto makes up digests unless `PutImage` sends `imageDigest` (the helper
//! sends the manifest's real SHA-256).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_ecr::types::ImageTagMutability;
use immutag_aws::pins::{LiveOptions, check, resolve};
use immutag_aws::targets::NoProgress;
use immutag_aws::testing::{MOTO_DEFAULT_ACCOUNT, MotoServer, TestManifest, push_image};
use immutag_pins::resolve::Outcome;
use immutag_pins::{Pin, PinStatus};

fn registry() -> String {
    format!("{MOTO_DEFAULT_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com")
}

fn pins(lines: &[String]) -> Vec<Pin> {
    let text: String = lines.iter().map(|l| format!("FROM {l}\n")).collect();
    immutag_pins::find::find(
        "Dockerfile",
        &text,
        Some(immutag_pins::find::Candidate::Dockerfile),
    )
    .unwrap()
}

#[tokio::test]
async fn check_and_resolve_on_moto() {
    let moto = MotoServer::start().unwrap();
    let config = moto.sdk_config("eu-west-1").await;
    let ecr = aws_sdk_ecr::Client::new(&config);
    for (name, m) in [
        ("app", ImageTagMutability::Mutable),
        ("base", ImageTagMutability::Immutable),
        ("multi", ImageTagMutability::Mutable),
    ] {
        ecr.create_repository()
            .repository_name(name)
            .image_tag_mutability(m)
            .send()
            .await
            .unwrap();
    }
    let d1 = push_image(&ecr, "app", 1, "v1").await.unwrap();
    // `mov` names image 5, then moves to image 6; image 5 keeps its tag `keep`.
    push_image(&ecr, "app", 5, "keep").await.unwrap();
    let d5 = push_image(&ecr, "app", 5, "mov").await.unwrap();
    let d6 = push_image(&ecr, "app", 6, "mov").await.unwrap();
    let base = push_image(&ecr, "base", 2, "1.0").await.unwrap();
    let amd64 = push_image(&ecr, "multi", 3, None).await.unwrap();
    let arm64 = push_image(&ecr, "multi", 4, None).await.unwrap();
    let index = push_image(
        &ecr,
        "multi",
        TestManifest::Index(vec![amd64.clone(), arm64.clone()]),
        "v2",
    )
    .await
    .unwrap();
    assert_ne!(index, amd64);
    assert_ne!(d5, d6);

    let r = registry();
    let missing = format!("sha256:{}", "f".repeat(64));
    let mut found = pins(&[
        format!("{r}/app:v1"),         // 0 MUTABLE_REPOSITORY
        format!("{r}/base:1.0"),       // 1 UNPINNED (IMMUTABLE)
        format!("{r}/app:v1@{d1}"),    // 2 PINNED
        format!("{r}/app@{missing}"),  // 3 DIGEST_MISSING
        format!("{r}/app:mov@{d5}"),   // 4 TAG_MOVED
        format!("{r}/gone:1"),         // 5 UNPINNED, repository not found
        format!("{r}/gone@{missing}"), // 6 DIGEST_MISSING
        format!("{r}/multi:v2"),       // 7 MUTABLE_REPOSITORY
        "nginx:1.27".to_owned(),       // 8 UNPINNED, not read
        format!("{r}/app:nope"),       // 9 MUTABLE_REPOSITORY, tag not found
    ]);
    let registries = check(&config, &mut found, &LiveOptions::default(), &NoProgress)
        .await
        .unwrap();
    assert!(registries.failures.is_empty(), "{:?}", registries.failures);
    assert_eq!(registries.targets.len(), 1);
    let statuses: Vec<PinStatus> = found.iter().map(|p| p.status).collect();
    use PinStatus::*;
    assert_eq!(
        statuses,
        [
            MutableRepository,
            Unpinned,
            Pinned,
            DigestMissing,
            TagMoved,
            Unpinned,
            DigestMissing,
            MutableRepository,
            Unpinned,
            MutableRepository
        ],
        "{found:#?}"
    );
    assert!(
        found[4].detail.as_deref().unwrap().contains(&d6),
        "{:?}",
        found[4].detail
    );
    assert!(found[5].detail.as_deref().unwrap().contains("not found"));
    assert!(
        found[9]
            .detail
            .as_deref()
            .unwrap()
            .contains("tag nope not found")
    );
    assert_eq!(found[8].detail, None, "a non-ECR reference is not read");

    // With AllowedExclusionFilters the evaluator decides: IMMUTABLE_WITH_EXCLUSION [latest] on
    // app is compliant, so app:v1 is only UNPINNED.
    ecr.put_image_tag_mutability()
        .repository_name("app")
        .image_tag_mutability(ImageTagMutability::ImmutableWithExclusion)
        .image_tag_mutability_exclusion_filters(immutag_aws::testing::wildcard_filter("latest"))
        .send()
        .await
        .unwrap();
    let mut again = pins(&[format!("{r}/app:v1")]);
    let opts = LiveOptions {
        params: immutag_core::RuleParameters::from_json(r#"{"AllowedExclusionFilters":"latest"}"#)
            .unwrap(),
        ..LiveOptions::default()
    };
    check(&config, &mut again, &opts, &NoProgress)
        .await
        .unwrap();
    assert_eq!(again[0].status, Unpinned, "{:?}", again[0].detail);
    let mut strict = pins(&[format!("{r}/app:v1")]);
    check(&config, &mut strict, &LiveOptions::default(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(strict[0].status, MutableRepository);

    // resolve: the index digest for the multi-platform image, the image digest otherwise;
    // a tag that does not exist is an error for that reference.
    let to_resolve = pins(&[
        format!("{r}/multi:v2"),
        format!("{r}/base:1.0"),
        format!("{r}/app:nope"),
        format!("{r}/app:v1@{d1}"),
        "nginx:1.27".to_owned(),
    ]);
    let (plan, registries) = resolve(&config, &to_resolve, &LiveOptions::default(), &NoProgress)
        .await
        .unwrap();
    assert!(registries.failures.is_empty());
    let outcomes: Vec<&Outcome> = plan.outcomes.iter().map(|(_, o)| o).collect();
    assert_eq!(outcomes[0], &Outcome::Pinned(index.clone()));
    assert_eq!(outcomes[1], &Outcome::Pinned(base.clone()));
    assert!(
        matches!(outcomes[2], Outcome::Failed(why) if why.contains("tag nope not found")),
        "{:?}",
        outcomes[2]
    );
    assert_eq!(outcomes[3], &Outcome::AlreadyPinned);
    assert!(matches!(outcomes[4], Outcome::LeftAlone(_)));
    assert_eq!(plan.files.len(), 1);
    assert_eq!(
        plan.files[0].edits[0].replacement,
        format!("{r}/multi:v2@{index}")
    );
}

#[tokio::test]
async fn accounts_and_regions_narrow_what_is_read() {
    let moto = MotoServer::start().unwrap();
    let config = moto.sdk_config("eu-west-1").await;
    let mut found = pins(&[
        format!("{}/app:v1", registry()),
        "111122223333.dkr.ecr.us-east-1.amazonaws.com/other:1".to_owned(),
    ]);
    let opts = LiveOptions {
        accounts: vec![MOTO_DEFAULT_ACCOUNT.to_owned()],
        ..LiveOptions::default()
    };
    let registries = check(&config, &mut found, &opts, &NoProgress)
        .await
        .unwrap();
    assert_eq!(registries.not_selected.len(), 1);
    assert_eq!(registries.not_selected[0].account_id, "111122223333");
    assert!(found[1].detail.as_deref().unwrap().contains("not selected"));
    // app does not exist in the selected account: read, and found missing.
    assert!(
        found[0].detail.as_deref().unwrap().contains("not found"),
        "{:?}",
        found[0].detail
    );
}
