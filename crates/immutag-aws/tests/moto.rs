//! immutag-aws against a moto server on 127.0.0.1 (started by the test; `scripts/setup.sh`
//! installs it): several accounts (reached through STS AssumeRole, as in production) and
//! regions, 2,500 repositories in all four modes, images with re-used tags.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use aws_sdk_ecr::types::ImageTagMutability;
use aws_types::SdkConfig;
use futures::StreamExt;
use immutag_aws::targets::{AccountSelection, NoProgress, RegionSelection, TargetOptions};
use immutag_aws::testing::{MOTO_DEFAULT_ACCOUNT, MotoServer, push_image, wildcard_filter};
use immutag_core::{InputKind, MutabilitySetting, RuleParameters, TagMutability};

const ROLE: &str = "immutag-test-role";
const OTHER_A: &str = "111111111111";
const OTHER_B: &str = "222222222222";

fn moto() -> MotoServer {
    match MotoServer::start() {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

const MODES: [ImageTagMutability; 4] = [
    ImageTagMutability::Mutable,
    ImageTagMutability::Immutable,
    ImageTagMutability::ImmutableWithExclusion,
    ImageTagMutability::MutableWithExclusion,
];

/// Creates `n` repositories, mode `i % 4`, 16 requests at a time.
async fn seed(config: &SdkConfig, prefix: &str, n: usize) {
    let client = aws_sdk_ecr::Client::new(config);
    let client = &client;
    futures::stream::iter((0..n).map(|i| async move {
        let mode = MODES[i % 4].clone();
        let mut req = client
            .create_repository()
            .repository_name(format!("{prefix}/repo-{i:05}"))
            .image_tag_mutability(mode.clone());
        if matches!(
            mode,
            ImageTagMutability::ImmutableWithExclusion | ImageTagMutability::MutableWithExclusion
        ) {
            // moto matches filters as regular expressions: keep them literal.
            req = req.image_tag_mutability_exclusion_filters(wildcard_filter("latest"));
        }
        req.send().await.unwrap();
    }))
    .buffer_unordered(16)
    .collect::<Vec<()>>()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn inventory_of_2500_repositories_across_accounts_and_regions() {
    let moto = moto();
    // (account, region, repositories): 2,500 in all.
    let layout: [(&str, &str, usize); 5] = [
        (MOTO_DEFAULT_ACCOUNT, "eu-west-1", 1100),
        (MOTO_DEFAULT_ACCOUNT, "us-east-1", 400),
        (OTHER_A, "eu-west-1", 500),
        (OTHER_A, "us-east-1", 300),
        (OTHER_B, "us-east-1", 200),
    ];
    for (account, region, n) in layout {
        let config = moto
            .sdk_config_for_account(account, region, ROLE)
            .await
            .unwrap();
        seed(&config, &format!("team-{account}"), n).await;
    }

    let base = moto.sdk_config("eu-west-1").await;
    let opts = TargetOptions {
        accounts: AccountSelection::Listed(vec![
            OTHER_B.to_owned(),
            MOTO_DEFAULT_ACCOUNT.to_owned(),
            OTHER_A.to_owned(),
        ]),
        regions: RegionSelection::Listed(vec!["us-east-1".to_owned(), "eu-west-1".to_owned()]),
        role_name: ROLE.to_owned(),
        concurrency: 4,
    };
    let reads = immutag_aws::scan::Reads {
        tags: false,
        coverage: true,
    };
    let out = immutag_aws::scan::inventory(&base, &opts, reads, &NoProgress)
        .await
        .unwrap();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.targets.len(), 6);
    assert_eq!(out.resources.len(), 2500);
    // moto does not implement the creation template operations: one warning per account and
    // region, recognised from its answer (not retried, not a failure), nothing else changes.
    assert_eq!(out.warnings.len(), 6, "{:#?}", out.warnings);
    for w in &out.warnings {
        assert!(
            w.message
                .contains("ecr:DescribeRepositoryCreationTemplates is not implemented")
                && w.message.contains("Werkzeug"),
            "{w:?}"
        );
    }
    assert!(out.registries.iter().all(|r| r.templates.is_none()));

    let mut per_target: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut per_mode: BTreeMap<String, usize> = BTreeMap::new();
    for r in &out.resources {
        let account = r.account_id.clone().unwrap();
        let region = r.region.clone().unwrap();
        *per_target
            .entry((account.clone(), region.clone()))
            .or_default() += 1;
        let MutabilitySetting::Set { value } = &r.tag_mutability else {
            panic!("no mutability on {}", r.label())
        };
        *per_mode.entry(value.as_str().to_owned()).or_default() += 1;
        assert_eq!(r.source.kind, InputKind::Live);
        let name = r.name.as_deref().unwrap();
        assert!(
            name.starts_with(&format!("team-{account}/")),
            "{name} in {account}"
        );
        assert_eq!(
            r.arn.as_deref().unwrap(),
            format!("arn:aws:ecr:{region}:{account}:repository/{name}")
        );
        if value.takes_filters() {
            assert_eq!(r.exclusion_filters.filters()[0].filter, "latest");
        } else {
            assert!(r.exclusion_filters.filters().is_empty());
        }
    }
    for (account, region, n) in layout {
        assert_eq!(
            per_target.get(&(account.to_owned(), region.to_owned())),
            Some(&n),
            "{account}/{region}"
        );
    }
    // OTHER_B has nothing in eu-west-1: read, empty, not a failure.
    assert!(!per_target.contains_key(&(OTHER_B.to_owned(), "eu-west-1".to_owned())));
    assert_eq!(per_mode.get("MUTABLE"), Some(&625));
    assert_eq!(per_mode.get("IMMUTABLE"), Some(&625));
    assert_eq!(per_mode.get("IMMUTABLE_WITH_EXCLUSION"), Some(&625));
    assert_eq!(per_mode.get("MUTABLE_WITH_EXCLUSION"), Some(&625));

    // Evaluation of the inventory: only IMMUTABLE passes by default.
    let evals = immutag_core::evaluate_all(&out.resources, &RuleParameters::default());
    let open = evals
        .iter()
        .filter(|e| e.compliance == immutag_core::Compliance::NonCompliant)
        .count();
    assert_eq!(open, 1875);
}

#[tokio::test]
async fn plan_reads_images_and_recommends() {
    let moto = moto();
    let config = moto
        .sdk_config_for_account(OTHER_A, "eu-west-1", ROLE)
        .await
        .unwrap();
    let ecr = aws_sdk_ecr::Client::new(&config);
    for (name, mode) in [
        ("web", ImageTagMutability::Mutable),
        ("api", ImageTagMutability::Mutable),
        ("busy", ImageTagMutability::MutableWithExclusion),
        ("done", ImageTagMutability::Immutable),
    ] {
        let mut req = ecr
            .create_repository()
            .repository_name(name)
            .image_tag_mutability(mode.clone());
        if mode == ImageTagMutability::MutableWithExclusion {
            req = req.image_tag_mutability_exclusion_filters(wildcard_filter("v1"));
        }
        req.send().await.unwrap();
    }
    // web: `latest` re-pushed twice (two manifests left untagged), a branch tag, versions.
    push_image(&ecr, "web", 1, "v1.0.0").await.unwrap();
    push_image(&ecr, "web", 1, "latest").await.unwrap(); // re-tag of the same manifest
    push_image(&ecr, "web", 2, "latest").await.unwrap(); // latest moves: manifest 1 keeps v1.0.0
    push_image(&ecr, "web", 3, "latest").await.unwrap(); // latest moves: manifest 2 is left untagged
    push_image(&ecr, "web", 4, "feature-login").await.unwrap();
    push_image(&ecr, "web", 5, "feature-login").await.unwrap(); // manifest 4 is left untagged
    // ECR keeps a manifest whose last tag moved away as an untagged image; moto deletes it.
    // Push manifests 2 and 4 again by digest alone to give the state ECR would have.
    push_image(&ecr, "web", 2, None).await.unwrap();
    push_image(&ecr, "web", 4, None).await.unwrap();
    // api: versions only.
    push_image(&ecr, "api", 10, "v2.0.0").await.unwrap();
    push_image(&ecr, "api", 11, "v2.0.1").await.unwrap();
    // busy: seven floating tags.
    for (i, t) in ["latest", "dev", "staging", "main", "nightly", "edge", "qa"]
        .iter()
        .enumerate()
    {
        push_image(&ecr, "busy", 20 + i as u32, *t).await.unwrap();
    }
    push_image(&ecr, "done", 30, "v1").await.unwrap();

    let base = moto.sdk_config("eu-west-1").await;
    let opts = TargetOptions {
        accounts: AccountSelection::Listed(vec![OTHER_A.to_owned()]),
        regions: RegionSelection::Listed(vec!["eu-west-1".to_owned()]),
        role_name: ROLE.to_owned(),
        concurrency: 4,
    };
    let params = RuleParameters::default();
    let inputs = immutag_aws::plan::PlanInputs::guess(&params);
    let doc = immutag_aws::plan::plan(&base, &opts, &inputs, &NoProgress)
        .await
        .unwrap();
    assert!(doc.failures.is_empty(), "{:?}", doc.failures);
    let names: Vec<&str> = doc.repositories.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["api", "busy", "web"],
        "IMMUTABLE `done` is not planned"
    );

    let api = &doc.repositories[0];
    assert_eq!(api.proposal.as_str(), "IMMUTABLE");
    assert_eq!(api.basis.images, 2);
    assert_eq!(api.account_id.as_deref(), Some(OTHER_A));

    let busy = &doc.repositories[1];
    assert_eq!(busy.proposal.as_str(), "REVIEW");
    assert_eq!(busy.current_mutability, TagMutability::MutableWithExclusion);
    assert_eq!(busy.current_filters[0].filter, "v1");

    let web = &doc.repositories[2];
    assert_eq!(web.proposal.as_str(), "IMMUTABLE_WITH_EXCLUSION");
    let filters: Vec<&str> = web
        .proposal
        .filters()
        .iter()
        .map(|f| f.filter.as_str())
        .collect();
    assert_eq!(filters, vec!["feature-*", "latest"]);
    assert_eq!(web.basis.images, 5);
    assert_eq!(web.basis.untagged_images, 2);
    // imageSizeInBytes of the two untagged images, priced at the default 0.10 USD/GB-month.
    assert!(web.basis.untagged_bytes > 0, "{:?}", web.basis);
    assert_eq!(
        web.basis.untagged_monthly_usd,
        immutag_core::plan::monthly_usd(web.basis.untagged_bytes, 0.10)
    );
    assert_eq!(doc.untagged_total().1, web.basis.untagged_bytes);
    assert!(web.lifecycle_policy.is_some());
    assert_eq!(web.region.as_deref(), Some("eu-west-1"));
    assert!(
        web.arn
            .as_deref()
            .unwrap()
            .starts_with(&format!("arn:aws:ecr:eu-west-1:{OTHER_A}:"))
    );
    let latest = web
        .basis
        .floating_tags
        .iter()
        .find(|t| t.tag == "latest")
        .unwrap();
    assert!(latest.pushed_at.is_some());
}
