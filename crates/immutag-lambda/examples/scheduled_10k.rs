//! Benchmark driver (not a test): one scheduled run of the handler over N repositories
//! (default 10,000) served by mocked DescribeRepositories pages of 1000, with mocked
//! PutEvaluations. Run under `/usr/bin/time -v` to read the peak memory; see
//! `bench/lambda-memory.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use aws_sdk_config::operation::put_evaluations::PutEvaluationsOutput;
use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesOutput;
use aws_sdk_ecr::types::{ImageTagMutability, Repository};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use immutag_lambda::{ClientProvider, Clients, HandlerError, HandlerOptions, handle};

struct Fixed(Clients);

impl ClientProvider for Fixed {
    async fn own_account(&self) -> Result<String, immutag_aws::AwsError> {
        Ok("123456789012".to_owned())
    }

    async fn clients_for(
        &self,
        _: &str,
        _: &str,
        _: Option<&str>,
    ) -> Result<Clients, HandlerError> {
        Ok(self.0.clone())
    }
}

fn page(start: usize, end: usize, last: bool) -> Rule {
    let token_in = (start > 0).then(|| format!("p{start}"));
    let token_out = (!last).then(|| format!("p{end}"));
    mock!(aws_sdk_ecr::Client::describe_repositories)
        .match_requests(move |r| r.next_token() == token_in.as_deref())
        .then_output(move || {
            let repos = (start..end)
                .map(|i| {
                    let name = format!("team-{:02}/service-{i:05}", i % 37);
                    Repository::builder()
                        .repository_arn(format!(
                            "arn:aws:ecr:us-east-1:123456789012:repository/{name}"
                        ))
                        .registry_id("123456789012")
                        .repository_uri(format!(
                            "123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}"
                        ))
                        .repository_name(name)
                        .image_tag_mutability(if i % 4 == 0 {
                            ImageTagMutability::Immutable
                        } else {
                            ImageTagMutability::Mutable
                        })
                        .build()
                })
                .collect();
            DescribeRepositoriesOutput::builder()
                .set_repositories(Some(repos))
                .set_next_token(token_out.clone())
                .build()
        })
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().unwrap())
        .unwrap_or(10_000);
    let event_path = format!(
        "{}/../../tests/fixtures/events/scheduled.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(event_path).unwrap()).unwrap();
    let pages: Vec<Rule> = (0..n.div_ceil(1000))
        .map(|p| page(p * 1000, ((p + 1) * 1000).min(n), (p + 1) * 1000 >= n))
        .collect();
    let put = mock!(aws_sdk_config::Client::put_evaluations)
        .then_output(|| PutEvaluationsOutput::builder().build());
    let ecr = mock_client!(aws_sdk_ecr, RuleMode::MatchAny, pages.iter());
    let config = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&put]);
    let started = std::time::Instant::now();
    let summary = handle(
        event,
        &Fixed(Clients {
            ecr,
            config,
            region: "us-east-1".into(),
        }),
        &HandlerOptions::default(),
    )
    .await
    .unwrap();
    let json = serde_json::to_vec(&summary).unwrap();
    eprintln!(
        "repositories={n} put_evaluations_calls={} summary_bytes={} elapsed_ms={}",
        summary.put_evaluations_calls,
        json.len(),
        started.elapsed().as_millis()
    );
}
