//! Log files in S3, as a trail delivers them:
//! `s3://BUCKET/[PREFIX/]AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/FILE.json.gz`.
//!
//! Only what the window and the selection need is listed: the account folders (one listing
//! per level unless the accounts are given), the regions of each account (unless given),
//! then one listing per day of the window (and the day after it, where late deliveries land)
//! under each region. Objects are read `concurrency` at a time, each parsed off the async
//! workers with its own builder.

use std::fmt;

use aws_sdk_s3::Client;
use aws_types::SdkConfig;
use futures::StreamExt;
use immutag_core::evidence::EvidenceBuilder;
use immutag_core::time::Timestamp;

use super::files::{is_skipped_folder, read_log};
use super::{EvidenceOptions, EvidenceReport, ReadProgress, builder, unit_failure, window_end};
use crate::error::{AwsError, check_account_id, check_region};
use crate::targets::Failure;

/// `s3://BUCKET/PREFIX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket.
    pub bucket: String,
    /// The key prefix (may be empty).
    pub prefix: String,
}

impl S3Location {
    /// Parses `s3://BUCKET[/PREFIX]`.
    pub fn parse(text: &str) -> Result<Self, AwsError> {
        let rest = text.strip_prefix("s3://").unwrap_or(text);
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        if !ok {
            return Err(AwsError::Evidence(format!(
                "`{}` is not s3://BUCKET/PREFIX (a bucket name is 3 to 63 lowercase letters, digits, dots and dashes)",
                immutag_core::text::printable(text)
            )));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// How far into the key layout a prefix reaches.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Layout {
    /// Up to and including `AWSLogs/`.
    base: String,
    /// `o-...` when given.
    org: Option<String>,
    /// The account when given.
    account: Option<String>,
    /// The region when given.
    region: Option<String>,
    /// Given past the region (a day, a file): listed as is, recursively.
    literal: Option<String>,
}

fn layout(prefix: &str) -> Layout {
    let parts: Vec<&str> = prefix.split('/').collect();
    let Some(i) = parts.iter().position(|p| *p == "AWSLogs") else {
        let mut base = prefix.trim_end_matches('/').to_owned();
        if !base.is_empty() {
            base.push('/');
        }
        base.push_str("AWSLogs/");
        return Layout {
            base,
            ..Layout::default()
        };
    };
    let mut l = Layout {
        base: format!("{}/", parts[..=i].join("/")),
        ..Layout::default()
    };
    let mut rest = parts[i + 1..]
        .iter()
        .copied()
        .filter(|p| !p.is_empty())
        .peekable();
    if let Some(org) = rest.next_if(|p| p.starts_with("o-")) {
        l.org = Some(org.to_owned());
    }
    l.account = rest.next().map(str::to_owned);
    let _cloudtrail = rest.next();
    l.region = rest.next().map(str::to_owned);
    if rest.peek().is_some() {
        l.literal = Some(prefix.to_owned());
    }
    l
}

/// The day folders (`YYYY/MM/DD/`, UTC) from the day of `since` to the day after `until`
/// (CloudTrail files an event under the day of the file it delivers, up to about 15 minutes
/// later), never past the day of `now`.
///
/// ```
/// use immutag_aws::evidence::day_prefixes;
/// let t = |s: &str| s.parse().unwrap();
/// assert_eq!(
///     day_prefixes(t("2026-12-30T10:00:00Z"), t("2026-12-31T23:00:00Z"), t("2027-02-01T00:00:00Z")),
///     ["2026/12/30/", "2026/12/31/", "2027/01/01/"]
/// );
/// ```
pub fn day_prefixes(since: Timestamp, until: Timestamp, now: Timestamp) -> Vec<String> {
    let utc = jiff::tz::TimeZone::UTC;
    let first = since.to_zoned(utc.clone()).date();
    let last = until.min(now).to_zoned(utc.clone()).date();
    let today = now.to_zoned(utc).date();
    let last = last.tomorrow().ok().filter(|d| *d <= today).unwrap_or(last);
    let mut out = Vec::new();
    let mut d = first;
    while d <= last {
        out.push(format!("{:04}/{:02}/{:02}/", d.year(), d.month(), d.day()));
        match d.tomorrow() {
            Ok(next) => d = next,
            Err(_) => break,
        }
    }
    out
}

/// An S3 client for `bucket`: path-style addressing when an endpoint is set (emulators), and
/// the bucket's own region, read from `HeadBucket` (or from the redirect it answers).
async fn client_for(base: &SdkConfig, bucket: &str) -> Result<Client, AwsError> {
    let make = |config: &SdkConfig| {
        let mut b = aws_sdk_s3::config::Builder::from(config);
        if config.endpoint_url().is_some() {
            b = b.force_path_style(true);
        }
        Client::from_conf(b.build())
    };
    let client = make(base);
    let region = match client.head_bucket().bucket(bucket).send().await {
        Ok(out) => out.bucket_region().map(str::to_owned),
        Err(e) => {
            let moved = e
                .raw_response()
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(str::to_owned);
            match moved {
                Some(r) => Some(r),
                None => return Err(AwsError::api("s3:HeadBucket", e)),
            }
        }
    };
    Ok(match region {
        Some(r) if base.region().map(|x| x.as_ref()) != Some(r.as_str()) => {
            make(&crate::session::with_region(base, &r))
        }
        _ => client,
    })
}

/// One ListObjectsV2 walk of `prefix`: the keys, or (with `delimiter`) the sub-folders.
async fn list(
    client: &Client,
    bucket: &str,
    prefix: &str,
    delimiter: bool,
) -> Result<Vec<(String, u64)>, AwsError> {
    const OP: &str = "s3:ListObjectsV2";
    let (out, _) = crate::ecr::paginate(OP, |token| async move {
        let mut req = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token);
        if delimiter {
            req = req.delimiter("/");
        }
        let resp = req.send().await.map_err(|e| AwsError::api(OP, e))?;
        let found: Vec<(String, u64)> = if delimiter {
            resp.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix())
                .map(|p| (p.to_owned(), 0))
                .collect()
        } else {
            resp.contents()
                .iter()
                .filter_map(|o| {
                    let key = o.key()?;
                    Some((key.to_owned(), o.size().unwrap_or(0).max(0) as u64))
                })
                .collect()
        };
        Ok((found, resp.next_continuation_token().map(str::to_owned)))
    })
    .await?;
    Ok(out)
}

/// A folder to list: its account and region (when the layout names them) and its prefix.
type Folder = (Option<String>, Option<String>, String);

/// The last folder name of a `.../NAME/` prefix.
fn leaf(prefix: &str) -> &str {
    prefix
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
}

/// A folder that could not be listed.
fn folder_failure(loc: &str, account: Option<&str>, region: Option<&str>, e: &AwsError) -> Failure {
    Failure {
        account_id: account.map(str::to_owned),
        region: region.map(str::to_owned),
        repository: None,
        code: e.code().map(str::to_owned),
        error: format!("{loc}: {e}"),
    }
}

/// The `(account, region, prefix)` folders to list day by day, and what could not be listed.
async fn regions_to_read(
    client: &Client,
    bucket: &str,
    l: &Layout,
    opts: &EvidenceOptions,
) -> Result<(Vec<(String, String, String)>, Vec<Failure>), AwsError> {
    let sel = &opts.selection;
    let mut failures = Vec::new();
    // Accounts: `(account, ACCOUNT/ folder)`.
    let mut accounts: Vec<(String, String)> = Vec::new();
    let org_base = match &l.org {
        Some(o) => format!("{}{o}/", l.base),
        None => l.base.clone(),
    };
    match &l.account {
        Some(a) => accounts.push((a.clone(), format!("{org_base}{a}/"))),
        None => {
            let mut levels = vec![org_base];
            while let Some(level) = levels.pop() {
                for (p, _) in list(client, bucket, &level, true).await? {
                    let name = leaf(&p);
                    if name.starts_with("o-") && l.org.is_none() && level == l.base {
                        levels.push(p.clone());
                    } else if check_account_id(name).is_ok() {
                        accounts.push((name.to_owned(), p.clone()));
                    }
                }
            }
        }
    }
    accounts.retain(|(a, _)| sel.accounts.is_empty() || sel.accounts.contains(a));
    accounts.sort();

    let mut out = Vec::new();
    for (account, folder) in accounts {
        let trail = format!("{folder}CloudTrail/");
        let regions: Vec<String> = if let Some(r) = &l.region {
            vec![r.clone()]
        } else if !sel.regions.is_empty() {
            sel.regions.clone()
        } else {
            match list(client, bucket, &trail, true).await {
                Ok(found) => found
                    .iter()
                    .map(|(p, _)| leaf(p).to_owned())
                    .filter(|r| check_region(r).is_ok())
                    .collect(),
                Err(e) => {
                    failures.push(folder_failure(
                        &format!("s3://{bucket}/{trail}"),
                        Some(&account),
                        None,
                        &e,
                    ));
                    continue;
                }
            }
        };
        for region in regions {
            if sel.keeps_target(&account, &region) {
                out.push((account.clone(), region.clone(), format!("{trail}{region}/")));
            }
        }
    }
    Ok((out, failures))
}

pub(super) async fn read(
    base: &SdkConfig,
    location: &S3Location,
    opts: &EvidenceOptions,
    progress: &dyn ReadProgress,
) -> Result<EvidenceReport, AwsError> {
    let bucket = location.bucket.as_str();
    let l = layout(&location.prefix);
    let since = opts.selection.window.since.ok_or_else(|| {
        AwsError::Evidence(
            "an S3 source needs the start of the window (--since): only its day folders are listed"
                .into(),
        )
    })?;
    let until = window_end(opts);
    let client = client_for(base, bucket).await?;
    let concurrency = opts.concurrency.max(1);

    // The folders to list: literal, or one per day per account and region.
    let (folders, mut failures): (Vec<Folder>, Vec<Failure>) = match &l.literal {
        Some(p) => (vec![(None, None, p.clone())], Vec::new()),
        None => {
            let (regions, failures) = regions_to_read(&client, bucket, &l, opts).await?;
            let days = day_prefixes(since, until, opts.now);
            let folders = regions
                .into_iter()
                .flat_map(|(a, r, p)| {
                    days.iter()
                        .map(move |d| (Some(a.clone()), Some(r.clone()), format!("{p}{d}")))
                })
                .collect();
            (folders, failures)
        }
    };
    progress.note(&format!(
        "listing {} day folder(s) of s3://{bucket}/{}",
        folders.len(),
        l.base
    ));
    let listed: Vec<_> = futures::stream::iter(folders.iter().map(|(a, r, p)| {
        let client = &client;
        async move { (a, r, p, list(client, bucket, p, false).await) }
    }))
    .buffer_unordered(concurrency)
    .collect()
    .await;
    let mut objects: Vec<(String, u64)> = Vec::new();
    for (a, r, p, result) in listed {
        match result {
            Ok(keys) => objects.extend(keys.into_iter().filter(|(k, _)| {
                let lower = k.to_ascii_lowercase();
                (lower.ends_with(".json.gz") || lower.ends_with(".json"))
                    && !k.split('/').any(is_skipped_folder)
            })),
            Err(e) => failures.push(folder_failure(
                &format!("s3://{bucket}/{p}"),
                a.as_deref(),
                r.as_deref(),
                &e,
            )),
        }
    }
    objects.sort();
    progress.planned(objects.len() as u64, "objects");

    let mut total = builder(opts);
    let mut results = futures::stream::iter(objects.iter().map(|(key, size)| {
        let client = &client;
        async move {
            let name = format!("s3://{bucket}/{key}");
            let body = client
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| AwsError::api("s3:GetObject", e).to_string());
            let bytes = match body {
                Ok(out) => out
                    .body
                    .collect()
                    .await
                    .map(|b| b.into_bytes())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            let mut b: EvidenceBuilder = builder(opts);
            let parsed = match bytes {
                Ok(bytes) => {
                    b.set_source(&name);
                    tokio::task::spawn_blocking(move || {
                        let mut buffer = Vec::new();
                        let r = read_log(&bytes[..], &mut buffer, &mut b);
                        (b, r.map(|_| ()))
                    })
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|(b, r)| r.map(|()| b))
                }
                Err(e) => Err(e),
            };
            (name, *size, parsed)
        }
    }))
    .buffer_unordered(concurrency);
    while let Some((name, size, parsed)) = results.next().await {
        progress.advanced(size);
        match parsed {
            Ok(b) => total.merge(b),
            Err(e) => failures.push(unit_failure(&name, e)),
        }
    }
    failures.sort();
    Ok(EvidenceReport {
        evidence: total.finish(),
        failures,
        units: objects.len() as u64,
        bytes: objects.iter().map(|(_, s)| s).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_locations_and_layouts() {
        let loc = S3Location::parse("s3://trail-bucket/logs/AWSLogs/o-aa111bb222/").unwrap();
        assert_eq!(
            (loc.bucket.as_str(), loc.prefix.as_str()),
            ("trail-bucket", "logs/AWSLogs/o-aa111bb222/")
        );
        assert_eq!(
            loc.to_string(),
            "s3://trail-bucket/logs/AWSLogs/o-aa111bb222/"
        );
        assert!(S3Location::parse("s3://UPPER/x").is_err());
        assert!(S3Location::parse("s3://ab").is_err());

        let l = layout("logs/AWSLogs/o-aa111bb222/");
        assert_eq!(
            (l.base.as_str(), l.org.as_deref(), l.account.as_deref()),
            ("logs/AWSLogs/", Some("o-aa111bb222"), None)
        );
        let l = layout("AWSLogs/111122223333/CloudTrail/eu-west-1");
        assert_eq!(
            (
                l.account.as_deref(),
                l.region.as_deref(),
                l.literal.as_deref()
            ),
            (Some("111122223333"), Some("eu-west-1"), None)
        );
        let l = layout("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/20/");
        assert_eq!(
            l.literal.as_deref(),
            Some("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/20/")
        );
        assert_eq!(layout("").base, "AWSLogs/");
        assert_eq!(layout("team/").base, "team/AWSLogs/");
    }

    #[test]
    fn day_prefixes_cover_the_window_and_the_day_after() {
        let t = |s: &str| -> Timestamp { s.parse().unwrap() };
        let now = t("2026-11-26T12:00:00Z");
        assert_eq!(
            day_prefixes(t("2026-11-25T23:00:00Z"), now, now),
            ["2026/11/25/", "2026/11/26/"]
        );
        assert_eq!(
            day_prefixes(t("2026-11-20T00:00:00Z"), t("2026-11-20T01:00:00Z"), now),
            ["2026/11/20/", "2026/11/21/"]
        );
        assert_eq!(
            day_prefixes(t("2024-02-28T00:00:00Z"), t("2024-03-01T00:00:00Z"), now).len(),
            4
        );
        assert!(day_prefixes(t("2026-11-27T00:00:00Z"), now, now).is_empty());
    }
}
