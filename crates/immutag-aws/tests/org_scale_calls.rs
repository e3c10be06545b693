//! The figure of docs/performance.md: the API calls of a scan of 10,000 repositories over
//! 500 accounts and 4 regions, through a Config aggregator against a role fan-out, counted on
//! aws-smithy-mocks (calls, not time: no timed assertion). Run it with `cargo test --workspace
//! --locked --test org_scale_calls -- --nocapture` to print the table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_config::operation::batch_get_aggregate_resource_config::BatchGetAggregateResourceConfigOutput;
use aws_sdk_config::operation::select_aggregate_resource_config::SelectAggregateResourceConfigOutput;
use aws_sdk_config::types::{BaseConfigurationItem, ConfigurationItemStatus, ResourceType};
use aws_smithy_mocks::mock;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use immutag_aws::config_query::{self, QueryFilter, Store, select_expressions};
use immutag_aws::targets::{NoProgress, Target, run_targets};

const ACCOUNTS: usize = 500;
const REGIONS: [&str; 4] = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2"];
const PER_PAIR: usize = 5;
/// Every 20th repository is IMMUTABLE_WITH_EXCLUSION: its filters are not queryable.
const EXCLUSION_EVERY: usize = 20;

fn account(i: usize) -> String {
    format!("{:012}", 300_000_000_000u64 + i as u64)
}

/// The repository `n` (0..10,000): its account, region and name.
fn repo(n: usize) -> (String, &'static str, String) {
    let pair = n / PER_PAIR;
    (
        account(pair / REGIONS.len()),
        REGIONS[pair % REGIONS.len()],
        format!("svc-{n:05}"),
    )
}

const TOTAL: usize = ACCOUNTS * REGIONS.len() * PER_PAIR;

fn row(n: usize) -> String {
    let (a, r, name) = repo(n);
    let mode = if n.is_multiple_of(EXCLUSION_EVERY) {
        "IMMUTABLE_WITH_EXCLUSION"
    } else if n.is_multiple_of(2) {
        "IMMUTABLE"
    } else {
        "MUTABLE"
    };
    serde_json::json!({
        "resourceType": "AWS::ECR::Repository", "resourceId": name, "resourceName": name,
        "arn": format!("arn:aws:ecr:{r}:{a}:repository/{name}"), "accountId": a, "awsRegion": r,
        "configurationItemCaptureTime": "2026-11-20T09:58:12.000Z", "configurationItemStatus": "OK",
        "configuration": {"ImageTagMutability": mode}, "tags": []
    })
    .to_string()
}

macro_rules! client {
    ($sdk:ident, $rules:expr) => {
        immutag_aws::mocked_client!($sdk, $rules)
    };
}

/// The rows an expression selects: those of the accounts it lists (all without a list).
fn selected(expression: &str) -> Vec<usize> {
    let listed: Option<std::collections::BTreeSet<String>> =
        expression.split("accountId IN (").nth(1).map(|rest| {
            rest.split(')')
                .next()
                .unwrap()
                .split(", ")
                .map(|a| a.trim_matches('\'').to_owned())
                .collect()
        });
    (0..TOTAL)
        .filter(|n| listed.as_ref().is_none_or(|l| l.contains(&repo(*n).0)))
        .collect()
}

async fn aggregator_calls(filter: QueryFilter) -> (usize, usize, usize, usize) {
    let select = mock!(aws_sdk_config::Client::select_aggregate_resource_config)
        .then_compute_output(|r| {
            let rows = selected(r.expression().unwrap());
            let start: usize = r.next_token().map(|t| t.parse().unwrap()).unwrap_or(0);
            let limit = r.limit().unwrap() as usize;
            let end = (start + limit).min(rows.len());
            SelectAggregateResourceConfigOutput::builder()
                .set_results(Some(rows[start..end].iter().map(|n| row(*n)).collect()))
                .set_next_token((end < rows.len()).then(|| end.to_string()))
                .build()
        });
    let batch = mock!(aws_sdk_config::Client::batch_get_aggregate_resource_config).then_compute_output(|r| {
        assert!(r.resource_identifiers().len() <= 100);
        let items = r
            .resource_identifiers()
            .iter()
            .map(|i| {
                let conf = serde_json::json!({"RepositoryName": i.resource_id(), "ImageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
                    "ImageTagMutabilityExclusionFilters": [{"ImageTagMutabilityExclusionFilterType": "WILDCARD", "ImageTagMutabilityExclusionFilterValue": "latest"}]});
                BaseConfigurationItem::builder()
                    .account_id(i.source_account_id())
                    .aws_region(i.source_region())
                    .resource_id(i.resource_id())
                    .resource_type(ResourceType::EcrRepository)
                    .configuration_item_status(ConfigurationItemStatus::Ok)
                    .configuration(conf.to_string())
                    .build()
            })
            .collect();
        BatchGetAggregateResourceConfigOutput::builder()
            .set_base_configuration_items(Some(items))
            .build()
    });
    let client = client!(aws_sdk_config, &[&select, &batch]);
    let filter = filter.checked().unwrap();
    let got = config_query::read(
        &client,
        Store::Aggregator("org"),
        &select_expressions(&filter).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(got.repositories.len(), TOTAL);
    assert!(got.failures.is_empty());
    assert_eq!(got.calls.select_pages, select.num_calls());
    assert_eq!(got.calls.batch_reads, batch.num_calls());
    (
        select.num_calls(),
        batch.num_calls(),
        select_expressions(&filter).unwrap().len(),
        got.calls.total(),
    )
}

fn json(text: String) -> HttpResponse {
    immutag_aws::testing::http_response(200, text)
}

/// The fan-out's reads counted on the mocks: ListAccounts pages and one DescribeRepositories
/// per (account, region), through the same sweep the live scan runs.
async fn fan_out_calls() -> (usize, usize) {
    let list = mock!(aws_sdk_organizations::Client::list_accounts).then_compute_response(|r| {
        let page: usize = r.next_token().map(|t| t.parse().unwrap()).unwrap_or(0);
        let accounts: Vec<serde_json::Value> = (page * 20..((page + 1) * 20).min(ACCOUNTS))
            .map(|i| serde_json::json!({"Id": account(i), "Arn": format!("arn:aws:organizations::300000000000:account/o-abc/{}", account(i)), "Email": "x@example.com", "Name": account(i), "State": "ACTIVE", "Status": "ACTIVE", "JoinedMethod": "CREATED", "JoinedTimestamp": 1.7e9}))
            .collect();
        let next = ((page + 1) * 20 < ACCOUNTS).then(|| (page + 1).to_string());
        aws_smithy_mocks::MockResponse::Http(json(serde_json::json!({"Accounts": accounts, "NextToken": next}).to_string()))
    });
    let org = client!(aws_sdk_organizations, &[&list]);
    let accounts = immutag_aws::org::active_accounts(&org).await.unwrap();
    assert_eq!(accounts.len(), ACCOUNTS);

    let describe = mock!(aws_sdk_ecr::Client::describe_repositories).then_http_response(|| {
        let repos: Vec<serde_json::Value> = (0..PER_PAIR)
            .map(|i| serde_json::json!({"repositoryName": format!("svc-{i}"), "imageTagMutability": "MUTABLE"}))
            .collect();
        json(serde_json::json!({"repositories": repos}).to_string())
    });
    let ecr = client!(aws_sdk_ecr, &[&describe]);
    let targets: Vec<(aws_sdk_ecr::Client, Target)> = accounts
        .iter()
        .flat_map(|a| {
            REGIONS.iter().map(|r| {
                (
                    ecr.clone(),
                    Target {
                        account_id: a.id.clone(),
                        region: (*r).to_owned(),
                    },
                )
            })
        })
        .collect();
    let (repos, failures) = run_targets(targets, 64, &NoProgress, |client, t| async move {
        immutag_aws::ecr::inventory(&client, &t.account_id, &t.region).await
    })
    .await;
    assert!(failures.is_empty());
    assert_eq!(repos.len(), TOTAL);
    (list.num_calls(), describe.num_calls())
}

#[tokio::test]
async fn aggregator_scan_against_role_fan_out() {
    assert_eq!(TOTAL, 10_000);
    let m = TOTAL / EXCLUSION_EVERY;
    let (pages, batches, expressions, _) = aggregator_calls(QueryFilter::default()).await;
    // By construction: ceil(N/100) select pages plus ceil(M/100) batch reads.
    assert_eq!(
        (pages, batches, expressions),
        (TOTAL.div_ceil(100), m.div_ceil(100), 1)
    );
    let listed = QueryFilter {
        accounts: (0..ACCOUNTS).map(account).collect(),
        regions: REGIONS.iter().map(|r| (*r).to_owned()).collect(),
    };
    let (lpages, lbatches, lexpressions, _) = aggregator_calls(listed).await;
    // The 500 listed accounts do not fit one 4,096-character expression: one extra partial
    // page per extra expression at most.
    assert!(lexpressions > 1);
    assert!(lpages < TOTAL.div_ceil(100) + lexpressions, "{lpages}");
    assert_eq!(lbatches, m.div_ceil(100));

    let (list_pages, describes) = fan_out_calls().await;
    assert_eq!(list_pages, ACCOUNTS.div_ceil(20));
    assert_eq!(describes, ACCOUNTS * REGIONS.len());
    // By construction in the fan-out (not mocked: STS is reached through each account's
    // credentials provider): one GetCallerIdentity and one AssumeRole per other account.
    let sts = 1 + (ACCOUNTS - 1);
    // The aggregator scan's coverage: DescribeConfigurationAggregators, and one
    // GetAggregateDiscoveredResourceCounts page per grouping (regions; accounts when listed).
    let coverage_all = 1 + 1;
    let coverage_listed = 1 + 2;
    let fan_out = list_pages + sts + describes;
    let agg_all = pages + batches + coverage_all;
    let agg_listed = lpages + lbatches + coverage_listed;
    println!(
        "| scan of {TOTAL} repositories, {ACCOUNTS} accounts x {} regions | calls |",
        REGIONS.len()
    );
    println!("|---|---|");
    println!(
        "| role fan-out (`--org --regions ...`): ListAccounts {list_pages} + STS {sts} + DescribeRepositories {describes} | {fan_out} |"
    );
    println!(
        "| aggregator, whole (`--aggregator`): select {pages} + batch {batches} + coverage {coverage_all} | {agg_all} |"
    );
    println!(
        "| aggregator, 500 accounts listed ({lexpressions} expressions): select {lpages} + batch {lbatches} + coverage {coverage_listed} | {agg_listed} |"
    );
    println!(
        "| ratio fan-out / aggregator (whole) | {:.1}x |",
        fan_out as f64 / agg_all as f64
    );
    assert!(fan_out > 15 * agg_all);
}
