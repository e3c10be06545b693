//! Fault tests with aws-smithy-mocks: what moto cannot show (it neither paginates
//! DescribeRepositories nor injects faults).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aws_sdk_ecr::Client;
use aws_sdk_ecr::operation::describe_images::DescribeImagesOutput;
use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesOutput;
use aws_sdk_ecr::types::{ImageDetail, ImageTagMutability, Repository};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_types::sdk_config::SharedTimeSource;
use immutag_aws::session::{DEFAULT_MAX_ATTEMPTS, retry_config};
use immutag_aws::targets::{NoProgress, Target, run_targets};
use immutag_core::TagMutability;

fn repos(prefix: &str, n: usize) -> Vec<Repository> {
    (0..n)
        .map(|i| {
            Repository::builder()
                .repository_name(format!("{prefix}-{i:05}"))
                .registry_id("111122223333")
                .repository_arn(format!(
                    "arn:aws:ecr:eu-west-1:111122223333:repository/{prefix}-{i:05}"
                ))
                .image_tag_mutability(if i % 2 == 0 {
                    ImageTagMutability::Mutable
                } else {
                    ImageTagMutability::Immutable
                })
                .build()
        })
        .collect()
}

const THROTTLE: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
const SERVER: &str = r#"{"__type":"ServerException","message":"internal error"}"#;

/// A mocked client with immutag's retry settings (adaptive, 5 attempts), fast backoff, on the
/// system clock: the mock's default clock is frozen in 2009, under which the adaptive retry's
/// rate limiter never refills and a retried call waits forever.
macro_rules! client {
    ($rules:expr) => {
        mock_client!(aws_sdk_ecr, RuleMode::MatchAny, $rules, |c| c
            .retry_config(
                retry_config(DEFAULT_MAX_ATTEMPTS).with_initial_backoff(Duration::from_millis(1))
            )
            .time_source(SharedTimeSource::default()))
    };
}

#[tokio::test]
async fn inventory_asks_for_1000_and_follows_next_token() {
    let first = mock!(Client::describe_repositories)
        .match_requests(|r| r.max_results() == Some(1000) && r.next_token().is_none())
        .then_output(|| {
            DescribeRepositoriesOutput::builder()
                .set_repositories(Some(repos("a", 1000)))
                .next_token("page-2")
                .build()
        });
    let second = mock!(Client::describe_repositories)
        .match_requests(|r| r.max_results() == Some(1000) && r.next_token() == Some("page-2"))
        .then_output(|| {
            DescribeRepositoriesOutput::builder()
                .set_repositories(Some(repos("b", 1000)))
                .next_token("page-3")
                .build()
        });
    let third = mock!(Client::describe_repositories)
        .match_requests(|r| r.max_results() == Some(1000) && r.next_token() == Some("page-3"))
        .then_output(|| {
            DescribeRepositoriesOutput::builder()
                .set_repositories(Some(repos("c", 500)))
                .build()
        });
    let client = client!(&[&first, &second, &third]);
    let found = immutag_aws::ecr::inventory(&client, "111122223333", "eu-west-1")
        .await
        .unwrap();
    assert_eq!(found.len(), 2500);
    // ceil(2500 / 1000) = 3 calls, one per page, nothing per repository.
    assert_eq!(
        (first.num_calls(), second.num_calls(), third.num_calls()),
        (1, 1, 1)
    );
    assert_eq!(found[0].name.as_deref(), Some("a-00000"));
    assert_eq!(found[2499].name.as_deref(), Some("c-00499"));
    let mutable = found
        .iter()
        .filter(|r| {
            r.tag_mutability == immutag_core::MutabilitySetting::set(TagMutability::Mutable)
        })
        .count();
    assert_eq!(mutable, 1250);
}

#[tokio::test]
async fn a_repeated_next_token_is_an_error_not_a_loop() {
    let looping = mock!(Client::describe_repositories).then_output(|| {
        DescribeRepositoriesOutput::builder()
            .set_repositories(Some(repos("a", 1)))
            .next_token("same")
            .build()
    });
    let client = client!(&[&looping]);
    let err = immutag_aws::ecr::inventory(&client, "111122223333", "eu-west-1")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("pagination"), "{err}");
    assert_eq!(looping.num_calls(), 2);
}

#[tokio::test]
async fn throttling_is_retried() {
    let rule = mock!(Client::describe_repositories)
        .sequence()
        .http_status(400, Some(THROTTLE.to_owned()))
        .times(3)
        .output(|| {
            DescribeRepositoriesOutput::builder()
                .set_repositories(Some(repos("a", 3)))
                .build()
        })
        .build();
    let client = client!(&[&rule]);
    let found = immutag_aws::ecr::inventory(&client, "111122223333", "eu-west-1")
        .await
        .unwrap();
    assert_eq!(found.len(), 3);
    assert_eq!(rule.num_calls(), 4, "three throttles then success");
}

#[tokio::test]
async fn server_errors_are_retried() {
    let rule = mock!(Client::describe_repositories)
        .sequence()
        .http_status(500, Some(SERVER.to_owned()))
        .times(2)
        .http_status(503, None)
        .output(|| {
            DescribeRepositoriesOutput::builder()
                .set_repositories(Some(repos("a", 2)))
                .build()
        })
        .build();
    let client = client!(&[&rule]);
    let found = immutag_aws::ecr::inventory(&client, "111122223333", "eu-west-1")
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(rule.num_calls(), 4);
}

#[tokio::test]
async fn access_denied_is_not_retried_and_names_the_code() {
    let rule = mock!(Client::describe_repositories)
        .sequence()
        .http_status(
            400,
            Some(
                r#"{"__type":"AccessDeniedException","message":"not authorized to perform ecr:DescribeRepositories"}"#
                    .to_owned(),
            ),
        )
        .repeatedly()
        .build();
    let client = client!(&[&rule]);
    let err = immutag_aws::ecr::inventory(&client, "111122223333", "eu-west-1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert!(
        err.to_string().contains("ecr:DescribeRepositories"),
        "{err}"
    );
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn a_region_that_keeps_failing_is_reported_while_the_others_complete() {
    let broken = mock!(Client::describe_repositories)
        .sequence()
        .http_status(500, Some(SERVER.to_owned()))
        .repeatedly()
        .build();
    let ok_rule = mock!(Client::describe_repositories).then_output(|| {
        DescribeRepositoriesOutput::builder()
            .set_repositories(Some(repos("ok", 7)))
            .build()
    });
    let throttled_then_ok = mock!(Client::describe_repositories)
        .sequence()
        .http_status(400, Some(THROTTLE.to_owned()))
        .times(2)
        .output(|| {
            DescribeRepositoriesOutput::builder()
                .set_repositories(Some(repos("slow", 5)))
                .build()
        })
        .build();
    let target = |region: &str| Target {
        account_id: "111122223333".to_owned(),
        region: region.to_owned(),
    };
    let targets = vec![
        (client!(&[&ok_rule]), target("us-east-1")),
        (client!(&[&broken]), target("ap-south-2")),
        (client!(&[&throttled_then_ok]), target("eu-west-1")),
    ];
    let (items, failures) = run_targets(targets, 2, &NoProgress, |client, t| async move {
        immutag_aws::ecr::inventory(&client, &t.account_id, &t.region).await
    })
    .await;
    assert_eq!(items.len(), 12);
    assert_eq!(failures.len(), 1);
    let f = &failures[0];
    assert_eq!(f.region.as_deref(), Some("ap-south-2"));
    assert_eq!(f.account_id.as_deref(), Some("111122223333"));
    assert_eq!(f.code.as_deref(), Some("ServerException"));
    assert!(f.error.contains("ecr:DescribeRepositories"), "{}", f.error);
    assert_eq!(
        broken.num_calls(),
        DEFAULT_MAX_ATTEMPTS as usize,
        "retried until the attempts ran out"
    );
}

#[tokio::test]
async fn images_are_paginated_with_1000() {
    let first = mock!(Client::describe_images)
        .match_requests(|r| {
            r.max_results() == Some(1000)
                && r.next_token().is_none()
                && r.repository_name() == Some("web")
        })
        .then_output(|| {
            DescribeImagesOutput::builder()
                .image_details(
                    ImageDetail::builder()
                        .image_digest("sha256:1")
                        .image_tags("latest")
                        .build(),
                )
                .next_token("n")
                .build()
        });
    let second = mock!(Client::describe_images)
        .match_requests(|r| r.next_token() == Some("n"))
        .then_output(|| {
            DescribeImagesOutput::builder()
                .image_details(ImageDetail::builder().image_digest("sha256:2").build())
                .build()
        });
    let client = client!(&[&first, &second]);
    let images = immutag_aws::ecr::images(&client, Some("111122223333"), "web")
        .await
        .unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(images[0].tags, vec!["latest"]);
    assert!(images[1].tags.is_empty());
}
