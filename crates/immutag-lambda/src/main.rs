//! `bootstrap`: the AWS Config custom-rule Lambda of immutag (runtime `provided.al2023`).
//!
//! Builds the AWS clients once per container, then hands every event to
//! [`immutag_lambda::handle`]. Logs are JSON lines on stdout (CloudWatch) at the level named
//! by `RUST_LOG` (`error`, `warn`, `info`, `debug`, `trace` or `off`; default and fallback
//! `info`). A level rather than a full filter directive keeps the regex engine out of the
//! binary.
//!
//! The clients are built in a task started during init, not before the runtime loop: building
//! them reads the system trust store (hundreds of milliseconds on a cold container), and doing
//! it first would delay the first Runtime API request by as much. The first event waits for
//! that task (a `OnceCell`); every later event finds the clients ready.
#![forbid(unsafe_code)]

use std::sync::Arc;

use immutag_lambda::{AwsClientProvider, HandlerOptions, handle, log_level};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use tokio::sync::OnceCell;

/// Loads the shared configuration and builds the clients (once per container).
async fn build_provider() -> AwsClientProvider {
    let sdk = immutag_aws::session::load(&immutag_aws::session::SessionOptions::default()).await;
    AwsClientProvider::new(&sdk)
}

/// When auto-remediation must stop starting changes: the invocation deadline (from the Lambda
/// context) less the time kept to report ([`immutag_lambda::report_margin`]).
///
/// Lambda sends the deadline as milliseconds since the epoch. A value before the year 2000
/// cannot be one: `cargo lambda watch` sends the function's timeout there (600000), so such a
/// value is read as the time left from now.
fn remediation_deadline(deadline_ms: u64) -> Option<tokio::time::Instant> {
    const YEAR_2000_MS: u64 = 946_684_800_000;
    let left_ms = if deadline_ms < YEAR_2000_MS {
        deadline_ms
    } else {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_millis();
        u64::try_from(u128::from(deadline_ms).saturating_sub(now_ms)).unwrap_or(u64::MAX)
    };
    let left = std::time::Duration::from_millis(left_ms);
    Some(tokio::time::Instant::now() + left.saturating_sub(immutag_lambda::report_margin(left)))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let requested = std::env::var("RUST_LOG").ok();
    let level = log_level(requested.as_deref());
    tracing_subscriber::fmt()
        .json()
        .with_max_level(level.unwrap_or_else(|fallback| fallback))
        .with_current_span(false)
        .with_span_list(false)
        .with_ansi(false)
        .init();
    if level.is_err() {
        tracing::warn!(
            rust_log = requested.as_deref().unwrap_or_default(),
            "RUST_LOG is not a level (error, warn, info, debug, trace, off); logging at info"
        );
    }

    let provider: Arc<OnceCell<AwsClientProvider>> = Arc::new(OnceCell::new());
    let warm = Arc::clone(&provider);
    tokio::spawn(async move {
        warm.get_or_init(build_provider).await;
    });

    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let provider = Arc::clone(&provider);
        async move {
            let provider = provider.get_or_init(build_provider).await;
            let options = HandlerOptions {
                deadline: remediation_deadline(event.context.deadline),
                ..HandlerOptions::default()
            };
            match handle(event.payload, provider, &options).await {
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
