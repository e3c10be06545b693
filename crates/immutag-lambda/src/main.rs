//! `bootstrap`: the AWS Config custom-rule Lambda of immutag (runtime `provided.al2023`).
//!
//! Builds the AWS clients once per container, then hands every event to
//! [`immutag_lambda::invoke`] (the handler in a span carrying the request id, and one
//! summary line per invocation). Logs are JSON lines on stdout (CloudWatch) at the level
//! named by `RUST_LOG` (`error`, `warn`, `info`, `debug`, `trace` or `off`; default and
//! fallback `info`). A level rather than a full filter directive keeps the regex engine out
//! of the binary.
//!
//! The clients are built in a task started during init, not before the runtime loop: building
//! them reads the system trust store (hundreds of milliseconds on a cold container), and doing
//! it first would delay the first Runtime API request by as much. The first event waits for
//! that task (a `OnceCell`); every later event finds the clients ready.
#![forbid(unsafe_code)]
// The invocation future (handler, span, runtime service) nests deeper than the default 128.
#![recursion_limit = "256"]

use std::sync::Arc;

use immutag_lambda::{AwsClientProvider, HandlerOptions, invoke, log_level};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use tokio::sync::OnceCell;

/// Loads the shared configuration and builds the clients (once per container).
async fn build_provider() -> AwsClientProvider {
    let sdk = immutag_lambda::clients::sdk_config_from_env(|name| std::env::var(name).ok());
    AwsClientProvider::new(&sdk)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let requested = std::env::var("RUST_LOG").ok();
    let level = log_level(requested.as_deref());
    tracing::subscriber::set_global_default(immutag_lambda::logging::subscriber(
        level.unwrap_or_else(|fallback| fallback),
        std::io::stdout,
    ))?;
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
    let options = HandlerOptions::default();

    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let provider = Arc::clone(&provider);
        let options = &options;
        async move {
            let provider = provider.get_or_init(build_provider).await;
            invoke(event, provider, options).await
        }
    }))
    .await
}
