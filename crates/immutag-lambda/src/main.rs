//! `bootstrap`: the AWS Config custom-rule Lambda of immutag (runtime `provided.al2023`).
//!
//! Builds the AWS clients once per container, then hands every event to
//! [`immutag_lambda::handle`]. Logs are JSON lines on stdout (CloudWatch), level from
//! `RUST_LOG` (default `info`).
#![forbid(unsafe_code)]

use immutag_lambda::{AwsClientProvider, HandlerOptions, handle};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .with_span_list(false)
        .with_ansi(false)
        .init();

    let sdk = immutag_aws::session::load(&immutag_aws::session::SessionOptions::default()).await;
    let provider = AwsClientProvider::new(&sdk);
    let options = HandlerOptions::default();

    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let provider = &provider;
        let options = &options;
        async move {
            match handle(event.payload, provider, options).await {
                Ok(summary) => serde_json::to_value(summary).map_err(|e| Diagnostic {
                    error_type: "ImmutagSummary".into(),
                    error_message: e.to_string(),
                }),
                Err(err) => {
                    tracing::error!(error = %err, "invocation failed");
                    Err(Diagnostic {
                        error_type: "ImmutagError".into(),
                        error_message: err.to_string(),
                    })
                }
            }
        }
    }))
    .await
}
