//! `immutag_aws::pins` with aws-smithy-mocks: the calls made (one DescribeRepositories walk per
//! account and region, one BatchGetImage per repository whatever the number of references,
//! chunks of 100 ids, every manifest media type asked for) and what moto cannot produce
//! (a failure code other than ImageNotFound, access denied).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_ecr::Client;
use aws_sdk_ecr::operation::batch_get_image::BatchGetImageOutput;
use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesOutput;
use aws_sdk_ecr::types::{
    Image, ImageFailure, ImageFailureCode, ImageIdentifier, ImageTagMutability, Repository,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_types::sdk_config::SharedTimeSource;
use immutag_aws::pins::{ACCEPTED_MEDIA_TYPES, read_target};
use immutag_aws::session::retry_config;
use immutag_aws::targets::Target;
use immutag_pins::live::{RepositoryState, Wanted};

macro_rules! client {
    ($rules:expr) => {
        mock_client!(aws_sdk_ecr, RuleMode::MatchAny, $rules, |c| c
            .retry_config(retry_config(2).with_initial_backoff(Duration::from_millis(1)))
            .time_source(SharedTimeSource::default()))
    };
}

fn target() -> Target {
    Target {
        account_id: "111122223333".into(),
        region: "eu-west-1".into(),
    }
}

fn digest(n: usize) -> String {
    format!("sha256:{n:064x}")
}

fn wanted(tags: usize, digests: usize) -> Wanted {
    Wanted {
        tags: (0..tags).map(|i| format!("v{i}")).collect(),
        digests: (0..digests).map(digest).collect(),
    }
}

fn repo(name: &str, m: ImageTagMutability) -> Repository {
    Repository::builder()
        .repository_name(name)
        .registry_id("111122223333")
        .image_tag_mutability(m)
        .build()
}

#[tokio::test]
async fn one_describe_and_one_batch_get_per_repository() {
    let describe = mock!(Client::describe_repositories)
        .match_requests(|r| r.max_results() == Some(1000))
        .then_output(|| {
            DescribeRepositoriesOutput::builder()
                .repositories(repo("app", ImageTagMutability::Mutable))
                .repositories(repo("web", ImageTagMutability::Immutable))
                .repositories(repo("unreferenced", ImageTagMutability::Mutable))
                .build()
        });
    let batch = mock!(Client::batch_get_image)
        .match_requests(|r| {
            r.registry_id() == Some("111122223333")
                && r.accepted_media_types()
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    == ACCEPTED_MEDIA_TYPES
                && r.image_ids().len() <= 100
        })
        .then_output(|| {
            BatchGetImageOutput::builder()
                .images(
                    Image::builder()
                        .image_id(
                            ImageIdentifier::builder()
                                .image_tag("v0")
                                .image_digest(digest(7))
                                .build(),
                        )
                        .build(),
                )
                .images(
                    Image::builder()
                        .image_id(ImageIdentifier::builder().image_digest(digest(0)).build())
                        .build(),
                )
                .build()
        });
    let client = client!(&[&describe, &batch]);
    // 150 tags and 10 digests in app (two calls: 100 + 60 ids), 3 tags in web (one call).
    let repos: BTreeMap<String, Wanted> = [
        ("app".to_owned(), wanted(150, 10)),
        ("web".to_owned(), wanted(3, 0)),
    ]
    .into();
    let params = immutag_core::RuleParameters::default();
    let (facts, failures) = read_target(&client, &target(), &repos, Some(&params), 4)
        .await
        .unwrap();
    assert!(failures.is_empty());
    assert_eq!(describe.num_calls(), 1);
    assert_eq!(batch.num_calls(), 3, "app: ceil(160/100) = 2, web: 1");
    let app = &facts[&immutag_pins::live::RepoId {
        account_id: "111122223333".into(),
        region: "eu-west-1".into(),
        repository: "app".into(),
    }];
    assert!(matches!(
        app.state,
        RepositoryState::Found {
            compliant: false,
            ..
        }
    ));
    assert_eq!(app.tags.get("v0"), Some(&digest(7)));
    // digest(7) is both the digest v0 names and one of the digests asked for.
    assert_eq!(app.digests, BTreeSet::from([digest(0), digest(7)]));
    assert_eq!(facts.len(), 2);
}

#[tokio::test]
async fn other_failure_codes_and_denials_are_failures_not_answers() {
    let describe = mock!(Client::describe_repositories).then_output(|| {
        DescribeRepositoriesOutput::builder()
            .repositories(repo("kms", ImageTagMutability::Mutable))
            .repositories(repo("ok", ImageTagMutability::Mutable))
            .build()
    });
    let kms = mock!(Client::batch_get_image)
        .match_requests(|r| r.repository_name() == Some("kms"))
        .then_output(|| {
            BatchGetImageOutput::builder()
                .failures(
                    ImageFailure::builder()
                        .image_id(ImageIdentifier::builder().image_tag("v0").build())
                        .failure_code(ImageFailureCode::KmsError)
                        .failure_reason("key disabled")
                        .build(),
                )
                .build()
        });
    let ok = mock!(Client::batch_get_image)
        .match_requests(|r| r.repository_name() == Some("ok"))
        .then_output(|| {
            BatchGetImageOutput::builder()
                .failures(
                    ImageFailure::builder()
                        .image_id(ImageIdentifier::builder().image_tag("v0").build())
                        .failure_code(ImageFailureCode::ImageNotFound)
                        .build(),
                )
                .build()
        });
    let client = client!(&[&describe, &kms, &ok]);
    let repos: BTreeMap<String, Wanted> = [
        ("kms".to_owned(), wanted(1, 0)),
        ("ok".to_owned(), wanted(1, 0)),
    ]
    .into();
    let params = immutag_core::RuleParameters::default();
    let (facts, failures) = read_target(&client, &target(), &repos, Some(&params), 1)
        .await
        .unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].repository.as_deref(), Some("kms"));
    assert_eq!(failures[0].code.as_deref(), Some("KmsError"));
    assert_eq!(facts.len(), 1, "ok is answered: its tag does not exist");
    assert!(facts.values().next().unwrap().tags.is_empty());

    // A DescribeRepositories that is denied fails the whole target.
    let denied = mock!(Client::describe_repositories).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
            aws_smithy_types::body::SdkBody::from(
                r#"{"__type":"AccessDeniedException","message":"no"}"#,
            ),
        )
    });
    let client = client!(&[&denied]);
    let err = read_target(&client, &target(), &repos, Some(&params), 1)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
}
