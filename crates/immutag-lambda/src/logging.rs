//! The Lambda's logs: JSON lines (CloudWatch), one object per event, with the current span
//! (`{"span":{"request_id":"...","name":"invocation"}}`), so that every line an invocation
//! writes carries its Lambda request id. `main` installs [`subscriber`] on stdout; tests
//! install it on a buffer and read the lines back.

use tracing::Subscriber;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The JSON-lines subscriber at `level`, writing to `writer`.
pub fn subscriber<W>(level: LevelFilter, writer: W) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_current_span(true)
        .with_span_list(false)
        .with_ansi(false)
        .with_writer(writer)
        .finish()
}
