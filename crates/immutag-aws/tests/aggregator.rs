//! The Config aggregator inventory (`immutag scan --aggregator`) against aws-smithy-mocks
//! (moto implements neither SelectAggregateResourceConfig nor BatchGetAggregateResourceConfig):
//! response bodies in the wire shape of the Config API reference (tests/fixtures/config), and
//! the requests recorded, so the tests prove which calls were made and with what query.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use aws_sdk_config::Client;
use aws_smithy_mocks::mock;
use immutag_aws::config_query::{
    self, MAX_EXPRESSION_CHARS, NoData, QueryFilter, SELECT_FIELDS, Store, select_expressions,
};
use immutag_aws::testing::http_response as body;
use immutag_core::{
    Compliance, InputKind, MutabilitySetting, Reason, ResourceStatus, RuleParameters,
    TagMutability, evaluate_all,
};

const AGGREGATOR: &str = "org-aggregator";
const THROTTLE: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
const NO_SUCH: &str = r#"{"__type":"NoSuchConfigurationAggregatorException","message":"The configuration aggregator does not exist. Check the configuration aggregator name and try again."}"#;

fn fixture(name: &str) -> String {
    immutag_aws::testing::fixture(&format!("config/{name}"))
}

macro_rules! client {
    ($rules:expr) => {
        immutag_aws::mocked_client!(aws_sdk_config, $rules)
    };
}

/// Everything the aggregator holds, one expression.
async fn read_all(client: &Client) -> Result<config_query::Recorded, immutag_aws::AwsError> {
    let all = select_expressions(&QueryFilter::default()).unwrap();
    config_query::read(client, Store::Aggregator(AGGREGATOR), &all).await
}

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

#[tokio::test]
async fn two_pages_then_the_full_items_of_the_rows_the_query_cannot_decide() {
    let selects = log();
    let (s1, s2) = (selects.clone(), selects.clone());
    let page1 = mock!(Client::select_aggregate_resource_config)
        .match_requests(move |r| {
            s1.lock().unwrap().push(format!(
                "{}|{:?}|{:?}|{}",
                r.configuration_aggregator_name().unwrap_or_default(),
                r.limit(),
                r.next_token(),
                r.expression().unwrap_or_default()
            ));
            r.next_token().is_none()
        })
        .then_http_response(|| body(200, fixture("select-page-1.json")));
    let page2 = mock!(Client::select_aggregate_resource_config)
        .match_requests(move |r| {
            s2.lock().unwrap().push(format!("{:?}", r.next_token()));
            r.next_token() == Some("eyJwYWdlIjoyfQ==")
        })
        .then_http_response(|| body(200, fixture("select-page-2.json")));
    let batches = log();
    let b = batches.clone();
    let batch = mock!(Client::batch_get_aggregate_resource_config)
        .match_requests(move |r| {
            let mut ids: Vec<String> = r
                .resource_identifiers()
                .iter()
                .map(|i| {
                    format!(
                        "{}/{}/{}/{}",
                        i.source_account_id(),
                        i.source_region(),
                        i.resource_type().as_str(),
                        i.resource_id()
                    )
                })
                .collect();
            ids.sort();
            b.lock().unwrap().push(ids.join(","));
            true
        })
        .then_http_response(|| body(200, fixture("batch-get.json")));
    let client = client!(&[&page1, &page2, &batch]);
    let filter = QueryFilter {
        accounts: vec!["444455556666".into(), "111122223333".into()],
        regions: vec!["us-east-1".into(), "eu-west-1".into()],
    }
    .checked()
    .unwrap();
    let expressions = select_expressions(&filter).unwrap();
    let got = config_query::read(&client, Store::Aggregator(AGGREGATOR), &expressions)
        .await
        .unwrap();

    // The query as sent: the filters pushed down, quoted, sorted; 100 rows a page.
    let want = format!(
        "org-aggregator|Some(100)|None|SELECT {SELECT_FIELDS} WHERE resourceType IN \
         ('AWS::ECR::Repository', 'AWS::ECR::RepositoryCreationTemplate') AND accountId IN \
         ('111122223333', '444455556666') AND awsRegion IN ('eu-west-1', 'us-east-1')"
    );
    let sent = selects.lock().unwrap().clone();
    assert_eq!(sent[0], want);
    assert!(
        sent.contains(&"Some(\"eyJwYWdlIjoyfQ==\")".to_owned()),
        "{sent:?}"
    );
    // Calls by construction: 2 select pages, and one batch read for the 2 rows that need the
    // full item (an exclusion mode; a row without configuration), none per account.
    assert_eq!(
        (page1.num_calls(), page2.num_calls(), batch.num_calls()),
        (1, 1, 1)
    );
    assert_eq!(
        batches.lock().unwrap().as_slice(),
        [
            "111122223333/eu-west-1/AWS::ECR::Repository/edge,444455556666/us-east-1/AWS::ECR::Repository/legacy"
        ]
    );
    assert_eq!(got.calls.select_pages, 2);
    assert_eq!(got.calls.batch_reads, 1);
    assert!(got.failures.is_empty(), "{:?}", got.failures);

    // Every row becomes a repository carrying account, region, capture time and the source.
    assert_eq!(got.repositories.len(), 6);
    for r in &got.repositories {
        assert_eq!(
            r.source.kind,
            InputKind::ConfigAggregator,
            "{}",
            r.resource_id
        );
        assert!(
            r.account_id.is_some() && r.region.is_some(),
            "{}",
            r.resource_id
        );
        assert!(r.captured_at.is_some(), "{}", r.resource_id);
    }
    let by = |id: &str| {
        got.repositories
            .iter()
            .find(|r| r.resource_id == id)
            .unwrap()
    };
    assert_eq!(by("api").tags["team"], "payments");
    assert_eq!(
        by("api").captured_at.as_deref(),
        Some("2026-11-20T09:58:12.000Z")
    );
    let edge = by("edge");
    assert_eq!(
        edge.tag_mutability,
        MutabilitySetting::set(TagMutability::ImmutableWithExclusion)
    );
    assert_eq!(edge.exclusion_filters.filters()[0].filter, "latest");
    // The row's tags survive the full item (BatchGet returns no tags).
    assert!(edge.tags.contains_key("immutag:exempt"));
    assert_eq!(
        edge.captured_at.as_deref(),
        Some("2025-11-20T09:58:12.000Z")
    );
    assert_eq!(by("legacy").tags["owner"], "platform");
    assert_eq!(by("gone").status, ResourceStatus::Deleted);
    assert_eq!(
        by("ROOT").resource_type.as_str(),
        "AWS::ECR::RepositoryCreationTemplate"
    );
    assert_eq!(
        by("ROOT").kind(),
        Some(immutag_core::ResourceKind::CreationTemplate)
    );

    // One evaluation path: the same rule as every other input.
    let params = RuleParameters {
        allowed_exclusion_filters: vec!["latest".into()],
        ..RuleParameters::default()
    };
    let evals = evaluate_all(&got.repositories, &params);
    let verdict = |id: &str| evals.iter().find(|e| e.resource_id == id).unwrap();
    assert_eq!(verdict("api").compliance, Compliance::NonCompliant);
    assert_eq!(verdict("web").compliance, Compliance::Compliant);
    assert_eq!(
        verdict("edge").reason,
        Reason::ImmutableWithAllowedExclusions
    );
    assert_eq!(verdict("legacy").reason, Reason::Mutable);
    assert_eq!(verdict("gone").compliance, Compliance::NotApplicable);
    assert_eq!(verdict("edge").source.kind.as_str(), "config-aggregator");
}

#[tokio::test]
async fn unprocessed_identifiers_are_retried_then_named() {
    let select = || {
        mock!(Client::select_aggregate_resource_config)
            .match_requests(|r| r.next_token().is_none())
            .then_http_response(|| body(200, fixture("select-page-2.json")))
    };
    // Left unprocessed once, then returned.
    let (s, retried) = (select(), log());
    let r = retried.clone();
    let batch = mock!(Client::batch_get_aggregate_resource_config)
        .sequence()
        .http_response(|| body(200, fixture("batch-get-unprocessed.json")))
        .http_response(|| body(200, fixture("batch-get-retry.json")))
        .build();
    let watch = mock!(Client::batch_get_aggregate_resource_config)
        .match_requests(move |q| {
            r.lock()
                .unwrap()
                .push(q.resource_identifiers().len().to_string());
            false
        })
        .then_http_response(|| body(500, String::new()));
    let client = client!(&[&watch, &s, &batch]);
    let got = read_all(&client).await.unwrap();
    assert!(got.failures.is_empty(), "{:?}", got.failures);
    assert_eq!(batch.num_calls(), 2);
    assert_eq!(got.calls.batch_reads, 2);
    assert_eq!(
        retried.lock().unwrap().as_slice(),
        ["1", "1"],
        "the retry names only the unprocessed one"
    );
    assert!(got.repositories.iter().any(|r| r.resource_id == "legacy"));

    // Left unprocessed every time: named, not dropped.
    let s = select();
    let always = mock!(Client::batch_get_aggregate_resource_config)
        .then_http_response(|| {
            body(
                200,
                r#"{"BaseConfigurationItems":[],"UnprocessedResourceIdentifiers":[{"SourceAccountId":"444455556666","SourceRegion":"us-east-1","ResourceId":"legacy","ResourceType":"AWS::ECR::Repository"}]}"#,
            )
        });
    let client = client!(&[&s, &always]);
    let got = read_all(&client).await.unwrap();
    assert_eq!(always.num_calls(), config_query::UNPROCESSED_ATTEMPTS);
    assert_eq!(got.failures.len(), 1, "{:?}", got.failures);
    let f = &got.failures[0];
    assert_eq!(
        (
            f.account_id.as_deref(),
            f.region.as_deref(),
            f.repository.as_deref(),
            f.code.as_deref()
        ),
        (
            Some("444455556666"),
            Some("us-east-1"),
            Some("legacy"),
            Some("UnprocessedResourceIdentifier")
        )
    );
    assert!(!got.repositories.iter().any(|r| r.resource_id == "legacy"));
}

#[tokio::test]
async fn a_row_without_configuration_whose_item_has_none_either_is_a_named_failure() {
    let s = mock!(Client::select_aggregate_resource_config)
        .then_http_response(|| body(200, fixture("select-page-2.json")));
    let batch = mock!(Client::batch_get_aggregate_resource_config)
        .then_http_response(|| body(200, fixture("batch-get-no-configuration.json")));
    let client = client!(&[&s, &batch]);
    let got = read_all(&client).await.unwrap();
    assert_eq!(got.failures.len(), 1, "{:?}", got.failures);
    let f = &got.failures[0];
    assert_eq!(f.repository.as_deref(), Some("legacy"));
    assert!(f.error.contains("without its configuration"), "{}", f.error);
    // The others are still read: the template and the deleted row.
    assert_eq!(got.repositories.len(), 2);
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk() {
    let s = mock!(Client::select_aggregate_resource_config)
        .sequence()
        .http_status(400, Some(THROTTLE.to_owned()))
        .times(2)
        .http_response(|| body(200, fixture("select-page-2.json")))
        .build();
    let batch = mock!(Client::batch_get_aggregate_resource_config)
        .sequence()
        .http_status(400, Some(THROTTLE.to_owned()))
        .http_response(|| body(200, fixture("batch-get-retry.json")))
        .build();
    let client = client!(&[&s, &batch]);
    let got = read_all(&client).await.unwrap();
    assert_eq!((s.num_calls(), batch.num_calls()), (3, 2));
    assert!(got.failures.is_empty(), "{:?}", got.failures);
    assert_eq!(got.repositories.len(), 3);
    // Counted as sent by immutag, not as the SDK's attempts.
    assert_eq!((got.calls.select_pages, got.calls.batch_reads), (1, 1));
}

#[tokio::test]
async fn an_aggregator_that_does_not_exist_stops_the_scan_with_its_name() {
    let d =
        mock!(Client::describe_configuration_aggregators).then_http_response(|| body(400, NO_SUCH));
    let s =
        mock!(Client::select_aggregate_resource_config).then_http_response(|| body(400, NO_SUCH));
    let client = client!(&[&d, &s]);
    let err = config_query::describe_aggregator(&client, "nope")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NoSuchConfigurationAggregatorException"));
    assert!(
        err.to_string()
            .contains("config:DescribeConfigurationAggregators"),
        "{err}"
    );
    let err = config_query::read(
        &client,
        Store::Aggregator("nope"),
        &[String::from("SELECT resourceId")],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Some("NoSuchConfigurationAggregatorException"));
    assert_eq!(d.num_calls() + s.num_calls(), 2, "not retried");
}

#[tokio::test]
async fn coverage_lists_the_regions_and_accounts_without_data() {
    let d = mock!(Client::describe_configuration_aggregators)
        .match_requests(|r| r.configuration_aggregator_names() == [AGGREGATOR])
        .then_http_response(|| body(200, fixture("describe-aggregators.json")));
    let by_region = mock!(Client::get_aggregate_discovered_resource_counts)
        .match_requests(|r| {
            r.group_by_key().map(|k| k.as_str()) == Some("AWS_REGION") && r.limit() == Some(1000)
        })
        .then_http_response(|| body(200, fixture("counts-by-region.json")));
    let by_account = mock!(Client::get_aggregate_discovered_resource_counts)
        .match_requests(|r| r.group_by_key().map(|k| k.as_str()) == Some("ACCOUNT_ID"))
        .then_http_response(|| body(200, fixture("counts-by-account.json")));
    let client = client!(&[&d, &by_region, &by_account]);
    let scope = config_query::describe_aggregator(&client, AGGREGATOR)
        .await
        .unwrap();
    assert_eq!(scope.regions, ["ap-southeast-2", "eu-west-1", "us-east-1"]);
    assert!(!scope.all_regions && scope.accounts.is_empty());

    // The aggregator's own regions: ap-southeast-2 has no data at all.
    let (missing, calls) = config_query::aggregator_coverage(
        &client,
        AGGREGATOR,
        &scope,
        &QueryFilter::default(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        missing,
        [NoData {
            account_id: None,
            region: Some("ap-southeast-2".into())
        }]
    );
    assert_eq!((calls, by_account.num_calls()), (1, 0));

    // Listed accounts and regions: the ones without data are named.
    let filter = QueryFilter {
        accounts: vec!["111122223333".into(), "777777777777".into()],
        regions: vec!["eu-west-1".into(), "sa-east-1".into()],
    };
    let (missing, calls) =
        config_query::aggregator_coverage(&client, AGGREGATOR, &scope, &filter, None)
            .await
            .unwrap();
    let text: Vec<String> = missing.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "region sa-east-1 (every account)",
            "account 777777777777 (every region)"
        ]
    );
    assert_eq!(calls, 2);
}

#[test]
fn a_long_account_list_is_split_across_queries() {
    let accounts: Vec<String> = (0..1000u64)
        .map(|i| format!("{:012}", 200_000_000_000 + i))
        .collect();
    let e = select_expressions(
        &QueryFilter {
            accounts,
            regions: vec!["eu-west-1".into()],
        }
        .checked()
        .unwrap(),
    )
    .unwrap();
    assert!(e.len() >= 4, "{}", e.len());
    assert!(e.iter().all(|x| x.len() <= MAX_EXPRESSION_CHARS));
}
