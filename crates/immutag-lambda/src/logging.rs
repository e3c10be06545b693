//! The Lambda's logs: JSON lines (CloudWatch), one object per event, with the list of the
//! spans it was written in (`"spans":[..., {"name":"invocation","request_id":"..."}, ...]`),
//! so that every line an invocation writes, the AWS SDK's included, carries its Lambda
//! request id (CloudWatch Logs Insights: `filter spans.0.request_id = "..."`, or
//! `spans.1` under the runtime's own span). `main` installs [`subscriber`] on stdout; tests
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
        .with_current_span(false)
        .with_span_list(true)
        .with_ansi(false)
        .with_writer(writer)
        .finish()
}
