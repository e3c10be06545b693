//! CloudTrail event history: `LookupEvents` with `EventName=PutImage`, per account and region
//! (the fan-out of `immutag scan`), the last 90 days. CloudTrail answers at most 2 requests
//! per second per account and region with 50 events each, so each (account, region) is paced
//! to [`REQUESTS_PER_SECOND`] and the progress notes say how long the rest will take, from the
//! part of the window the pages read so far cover.

use std::time::Duration;

use aws_sdk_cloudtrail::Client;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_smithy_types::DateTime;
use immutag_core::evidence::{EvidenceBuilder, record};
use immutag_core::time::{self, Timestamp};
use tokio::time::Instant;

use super::{EvidenceOptions, EvidenceReport, ReadProgress, builder, window_end};
use crate::error::AwsError;
use crate::targets::{self, Progress, Target};

/// The requests per second CloudTrail allows `LookupEvents` per account and region.
pub const REQUESTS_PER_SECOND: u32 = 2;
/// Events per `LookupEvents` page (the API maximum).
pub const EVENTS_PER_PAGE: i32 = 50;
/// Days of event history CloudTrail keeps.
pub const LOOKUP_RETENTION_DAYS: i64 = 90;
/// A progress note every this many pages of one account and region.
const NOTE_EVERY: u64 = 20;

/// Waits so that requests go out at most `REQUESTS_PER_SECOND` a second.
struct Pacer {
    next: Option<Instant>,
    interval: Duration,
}

impl Pacer {
    fn new() -> Self {
        Self {
            next: None,
            interval: Duration::from_millis(1000 / u64::from(REQUESTS_PER_SECOND)),
        }
    }

    async fn wait(&mut self) {
        if let Some(next) = self.next {
            tokio::time::sleep_until(next).await;
        }
        self.next = Some(Instant::now() + self.interval);
    }
}

/// Forwards the fan-out's per-target progress.
struct Targets<'a>(&'a dyn ReadProgress);

impl Progress for Targets<'_> {
    fn start(&self, targets: usize) {
        self.0.planned(targets as u64, "account-regions");
        self.0.note(&format!(
            "event history: {targets} account-region(s), each paced to {REQUESTS_PER_SECOND} LookupEvents requests a second ({EVENTS_PER_PAGE} events each, {} pushes a minute)",
            i64::from(REQUESTS_PER_SECOND) * i64::from(EVENTS_PER_PAGE) * 60
        ));
    }

    fn finish(&self, _: &Target, _: Result<usize, &AwsError>) {
        self.0.advanced(0);
    }
}

pub(super) async fn read(
    base: &aws_types::SdkConfig,
    opts: &EvidenceOptions,
    progress: &dyn ReadProgress,
) -> Result<EvidenceReport, AwsError> {
    let oldest = opts
        .now
        .checked_sub(jiff::SignedDuration::from_hours(24 * LOOKUP_RETENTION_DAYS))
        .unwrap_or(opts.now);
    let since = match opts.selection.window.since {
        Some(s) if s >= oldest => s,
        Some(_) => {
            progress.note(&format!(
                "event history keeps {LOOKUP_RETENTION_DAYS} days: reading from {}",
                time::format(oldest)
            ));
            oldest
        }
        None => oldest,
    };
    let until = window_end(opts);
    let targets = Targets(progress);
    let out = targets::sweep(base, &opts.targets, &targets, |config, target| async move {
        let client = Client::new(&config);
        let b = lookup(&client, &target, since, until, opts, progress).await?;
        Ok(vec![b])
    })
    .await?;
    let mut total = builder(opts);
    let mut units = 0;
    for (b, pages) in out.items {
        total.merge(b);
        units += pages;
    }
    Ok(EvidenceReport {
        evidence: total.finish(),
        failures: out.failures,
        units,
        bytes: 0,
    })
}

/// Reads the PutImage events of one account and region between `since` and `until`.
/// Returns the builder and the pages read.
async fn lookup(
    client: &Client,
    target: &Target,
    since: Timestamp,
    until: Timestamp,
    opts: &EvidenceOptions,
    progress: &dyn ReadProgress,
) -> Result<(EvidenceBuilder, u64), AwsError> {
    const OP: &str = "cloudtrail:LookupEvents";
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventName)
        .attribute_value(record::PUT_IMAGE)
        .build()
        .map_err(|e| AwsError::Evidence(format!("{OP}: {e}")))?;
    let mut b = builder(opts);
    let label = format!("lookup {}/{}", target.account_id, target.region);
    b.set_source(&label);
    let mut pacer = Pacer::new();
    let started = Instant::now();
    let mut token: Option<String> = None;
    let mut pages: u64 = 0;
    loop {
        pacer.wait().await;
        let resp = client
            .lookup_events()
            .lookup_attributes(attribute.clone())
            .start_time(DateTime::from_secs(since.as_second()))
            .end_time(DateTime::from_secs(until.as_second()))
            .max_results(EVENTS_PER_PAGE)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::api(OP, e))?;
        pages += 1;
        let mut oldest: Option<i64> = None;
        for event in resp.events() {
            if let Some(t) = event.event_time() {
                oldest = Some(oldest.map_or(t.secs(), |o| o.min(t.secs())));
            }
            match event.cloud_trail_event() {
                Some(json) => {
                    if let Err(e) = record::read_record(json, &mut b) {
                        b.put_image_problem(event.event_id(), format!("CloudTrailEvent: {e}"));
                    }
                }
                None => {
                    b.put_image_problem(event.event_id(), "event without CloudTrailEvent".into())
                }
            }
        }
        token = crate::ecr::next_token(OP, token.as_deref(), resp.next_token(), pages as usize)?;
        if token.is_none() {
            break;
        }
        if pages.is_multiple_of(NOTE_EVERY)
            && let Some(o) = oldest
        {
            progress.note(&format!(
                "{label}: {pages} pages, back to {}; {}",
                time::rfc3339(o),
                eta(since.as_second(), until.as_second(), o, pages)
            ));
        }
    }
    b.cover(&target.account_id, &target.region, since, until);
    tracing::debug!(target = %label, pages, elapsed_ms = started.elapsed().as_millis() as u64, "event history read");
    Ok((b, pages))
}

/// How long the rest of a window will take: events come newest first, so the pages read so
/// far covered `until - oldest`; the rest, `oldest - since`, takes as many pages per second
/// of window, at the paced rate.
fn eta(since: i64, until: i64, oldest: i64, pages: u64) -> String {
    let covered = (until - oldest).max(1) as f64;
    let rest = (oldest - since).max(0) as f64;
    let pages_left = (pages as f64 * rest / covered).ceil();
    let secs = pages_left / f64::from(REQUESTS_PER_SECOND);
    if secs < 90.0 {
        format!("about {secs:.0} s more at {REQUESTS_PER_SECOND} requests a second")
    } else {
        format!(
            "about {:.0} min more at {REQUESTS_PER_SECOND} requests a second",
            secs / 60.0
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::sync::{Arc, Mutex};

    use super::*;
    use aws_sdk_cloudtrail::operation::lookup_events::LookupEventsOutput;
    use aws_sdk_cloudtrail::types::Event;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_types::sdk_config::SharedTimeSource;
    use immutag_core::evidence::Selection;

    /// The records of the fixture logs, newest first (as event history returns them).
    fn fixture_events() -> Vec<Event> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/cloudtrail/AWSLogs/o-aa111bb222/111122223333/CloudTrail/eu-west-1/2026/11");
        let mut events = Vec::new();
        for day in ["20", "21", "22"] {
            let dir = root.join(day);
            for f in std::fs::read_dir(dir).unwrap() {
                let v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(f.unwrap().path()).unwrap()).unwrap();
                for r in v["Records"].as_array().unwrap() {
                    if r["eventName"] != "PutImage" {
                        continue;
                    }
                    let t: Timestamp = r["eventTime"].as_str().unwrap().parse().unwrap();
                    events.push(
                        Event::builder()
                            .event_id(r["eventID"].as_str().unwrap())
                            .event_name("PutImage")
                            .event_time(DateTime::from_secs(t.as_second()))
                            .cloud_trail_event(r.to_string())
                            .build(),
                    );
                }
            }
        }
        events.sort_by_key(|e| std::cmp::Reverse(e.event_time().map(|t| t.secs())));
        assert_eq!(events.len(), 8);
        events
    }

    fn opts() -> EvidenceOptions {
        EvidenceOptions {
            selection: Selection::default(),
            now: "2026-11-26T12:00:00Z".parse().unwrap(),
            targets: crate::targets::TargetOptions::default(),
            concurrency: 4,
        }
    }

    fn target() -> Target {
        Target {
            account_id: "111122223333".into(),
            region: "eu-west-1".into(),
        }
    }

    fn page(events: &[Event], next: Option<&str>) -> LookupEventsOutput {
        LookupEventsOutput::builder()
            .set_events(Some(events.to_vec()))
            .set_next_token(next.map(str::to_owned))
            .build()
    }

    const THROTTLE: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;

    #[tokio::test]
    async fn pages_are_followed_and_paced_to_two_a_second() {
        let events = fixture_events();
        let sent: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let (e1, e2, e3) = (
            events[..3].to_vec(),
            events[3..6].to_vec(),
            events[6..].to_vec(),
        );
        let log = |want: Option<&'static str>| {
            let sent = sent.clone();
            move |r: &aws_sdk_cloudtrail::operation::lookup_events::LookupEventsInput| {
                let attr = &r.lookup_attributes()[0];
                let ok = r.next_token() == want
                    && r.max_results() == Some(EVENTS_PER_PAGE)
                    && attr.attribute_key() == &LookupAttributeKey::EventName
                    && attr.attribute_value() == "PutImage"
                    && r.start_time().map(|t| t.secs()) == Some(1_795_694_400 - 30 * 86_400);
                if ok {
                    sent.lock().unwrap().push(Instant::now());
                }
                ok
            }
        };
        let p1 = mock!(Client::lookup_events)
            .match_requests(log(None))
            .then_output(move || page(&e1, Some("t2")));
        let p2 = mock!(Client::lookup_events)
            .match_requests(log(Some("t2")))
            .then_output(move || page(&e2, Some("t3")));
        let p3 = mock!(Client::lookup_events)
            .match_requests(log(Some("t3")))
            .then_output(move || page(&e3, None));
        let client = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, &[&p1, &p2, &p3]);
        let since: Timestamp = "2026-10-27T12:00:00Z".parse().unwrap();
        let until: Timestamp = "2026-11-26T12:00:00Z".parse().unwrap();
        let (b, pages) = lookup(
            &client,
            &target(),
            since,
            until,
            &opts(),
            &super::super::Quiet,
        )
        .await
        .unwrap();
        assert_eq!(pages, 3);
        let sent = sent.lock().unwrap();
        assert_eq!(sent.len(), 3);
        for w in sent.windows(2) {
            assert!(
                w[1] - w[0] >= Duration::from_millis(500),
                "{:?}",
                w[1] - w[0]
            );
        }
        let e = b.finish();
        assert_eq!(
            e.stats().put_image,
            7,
            "the untagged push counts, the ECR Public one does not"
        );
        let web = e.repository(Some("111122223333"), Some("eu-west-1"), "web");
        let latest = web.moved_tags().next().unwrap();
        assert_eq!((latest.tag.as_str(), latest.moves), ("latest", 2));
        // Queried windows count as covered, pushes or not.
        let cov = e.covers("111122223333", "eu-west-1").unwrap();
        assert_eq!(
            (cov.from.as_str(), cov.to.as_str()),
            ("2026-10-27T12:00:00Z", "2026-11-26T12:00:00Z")
        );
    }

    #[tokio::test]
    async fn throttling_is_retried_and_a_lasting_error_is_the_targets() {
        let events = fixture_events();
        let throttled = mock!(Client::lookup_events)
            .sequence()
            .http_status(400, Some(THROTTLE.to_owned()))
            .times(2)
            .output(move || page(&events, None))
            .build();
        let client = mock_client!(
            aws_sdk_cloudtrail,
            RuleMode::Sequential,
            &[&throttled],
            |c| c
                .retry_config(
                    crate::session::retry_config(5).with_initial_backoff(Duration::from_millis(1))
                )
                .time_source(SharedTimeSource::default())
        );
        let since: Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
        let until: Timestamp = "2026-11-26T00:00:00Z".parse().unwrap();
        let (b, pages) = lookup(
            &client,
            &target(),
            since,
            until,
            &opts(),
            &super::super::Quiet,
        )
        .await
        .unwrap();
        assert_eq!(pages, 1);
        assert_eq!(b.finish().tags().len(), 2);

        let denied = mock!(Client::lookup_events).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
                aws_smithy_types::body::SdkBody::from(
                    r#"{"__type":"AccessDeniedException","message":"not allowed"}"#,
                ),
            )
        });
        let client = mock_client!(aws_sdk_cloudtrail, RuleMode::Sequential, &[&denied]);
        let err = lookup(
            &client,
            &target(),
            since,
            until,
            &opts(),
            &super::super::Quiet,
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), Some("AccessDeniedException"));
        assert!(err.to_string().contains("cloudtrail:LookupEvents"), "{err}");
    }

    #[test]
    fn eta_scales_the_pages_read_to_the_window_left() {
        // 10 pages covered a quarter of the window: 30 more pages, 15 s.
        assert_eq!(
            eta(0, 4000, 3000, 10),
            "about 15 s more at 2 requests a second"
        );
        assert_eq!(eta(0, 4000, 0, 10), "about 0 s more at 2 requests a second");
        assert_eq!(
            eta(0, 1000, 990, 20),
            "about 16 min more at 2 requests a second"
        );
    }
}
