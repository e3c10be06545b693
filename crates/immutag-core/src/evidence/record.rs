//! The CloudTrail record shape, read one record at a time.
//!
//! A log file is `{"Records":[...]}`. [`read_log`] (bytes in memory) and [`read_log_stream`]
//! (any reader) walk the `Records` array with serde's `SeqAccess`: each record is
//! deserialized into the small borrowed [`Record`] (every member immutag does not need is
//! skipped by the parser, the image manifest included), handed to the builder and dropped.
//! Nothing of a log is kept but the `ecr.amazonaws.com` `PutImage` pushes.
//!
//! ```
//! use immutag_core::evidence::{record, EvidenceBuilder, Selection};
//! let log = br#"{"Records":[{"eventSource":"s3.amazonaws.com","eventName":"GetObject",
//!   "eventTime":"2026-11-20T10:00:00Z","awsRegion":"eu-west-1","recipientAccountId":"111122223333"}]}"#;
//! let mut builder = EvidenceBuilder::new(Selection::default());
//! let stats = record::read_log(log, &mut builder).unwrap();
//! assert_eq!((stats.records, stats.put_image), (1, 0));
//! ```

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::{EvidenceBuilder, Principal, PutImageEvent};
use crate::text::printable;

/// The event source of Amazon ECR (private registries).
pub const ECR_EVENT_SOURCE: &str = "ecr.amazonaws.com";
/// The event name of a push.
pub const PUT_IMAGE: &str = "PutImage";

/// One CloudTrail record: only the members immutag reads, borrowed from the log where they
/// carry no escape.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record<'a> {
    /// `eventID` (a UUID): the same event delivered twice (an organization trail beside an
    /// account trail) is kept once.
    #[serde(borrow, rename = "eventID", default)]
    pub event_id: Option<Cow<'a, str>>,
    /// `eventTime`, RFC 3339.
    #[serde(borrow, default)]
    pub event_time: Option<Cow<'a, str>>,
    /// `eventSource`, e.g. `ecr.amazonaws.com`.
    #[serde(borrow, default)]
    pub event_source: Option<Cow<'a, str>>,
    /// `eventName`, e.g. `PutImage`.
    #[serde(borrow, default)]
    pub event_name: Option<Cow<'a, str>>,
    /// `awsRegion`.
    #[serde(borrow, default)]
    pub aws_region: Option<Cow<'a, str>>,
    /// `recipientAccountId`: the account whose trail recorded the event.
    #[serde(borrow, default)]
    pub recipient_account_id: Option<Cow<'a, str>>,
    /// `userAgent`.
    #[serde(borrow, default)]
    pub user_agent: Option<Cow<'a, str>>,
    /// `errorCode`: set when the call was refused.
    #[serde(borrow, default)]
    pub error_code: Option<Cow<'a, str>>,
    /// `userIdentity`.
    #[serde(borrow, default)]
    pub user_identity: Option<UserIdentity<'a>>,
    /// `requestParameters` (null for many events).
    #[serde(borrow, default)]
    pub request_parameters: Option<RequestParameters<'a>>,
    /// `responseElements` (null when the call failed).
    #[serde(borrow, default)]
    pub response_elements: Option<ResponseElements<'a>>,
}

/// `userIdentity`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity<'a> {
    /// `type`: `AssumedRole`, `IAMUser`, `Root`, `FederatedUser`, `AWSService`, ...
    #[serde(borrow, rename = "type", default)]
    pub kind: Option<Cow<'a, str>>,
    /// `arn`: the session (`assumed-role/ROLE/SESSION`), the user, the root.
    #[serde(borrow, default)]
    pub arn: Option<Cow<'a, str>>,
    /// `principalId`.
    #[serde(borrow, default)]
    pub principal_id: Option<Cow<'a, str>>,
    /// `accountId`.
    #[serde(borrow, default)]
    pub account_id: Option<Cow<'a, str>>,
    /// `invokedBy`: the AWS service that made the call.
    #[serde(borrow, default)]
    pub invoked_by: Option<Cow<'a, str>>,
    /// `sessionContext`.
    #[serde(borrow, default)]
    pub session_context: Option<SessionContext<'a>>,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext<'a> {
    /// `sessionIssuer`: the role (or user) behind the session.
    #[serde(borrow, default)]
    pub session_issuer: Option<SessionIssuer<'a>>,
}

/// `userIdentity.sessionContext.sessionIssuer`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer<'a> {
    /// `arn` of the role.
    #[serde(borrow, default)]
    pub arn: Option<Cow<'a, str>>,
}

/// `requestParameters` of `PutImage` (other events' members are skipped).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestParameters<'a> {
    /// `repositoryName`.
    #[serde(borrow, default)]
    pub repository_name: Option<Cow<'a, str>>,
    /// `imageTag`, when the push names a tag.
    #[serde(borrow, default)]
    pub image_tag: Option<Cow<'a, str>>,
    /// `imageDigest`, when the push names one.
    #[serde(borrow, default)]
    pub image_digest: Option<Cow<'a, str>>,
    /// `registryId`: the account of the repository, when given.
    #[serde(borrow, default)]
    pub registry_id: Option<Cow<'a, str>>,
}

/// `responseElements` of `PutImage`.
#[derive(Debug, Default, Deserialize)]
pub struct ResponseElements<'a> {
    /// `image`.
    #[serde(borrow, default)]
    pub image: Option<ResponseImage<'a>>,
}

/// `responseElements.image`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseImage<'a> {
    /// `registryId`.
    #[serde(borrow, default)]
    pub registry_id: Option<Cow<'a, str>>,
    /// `imageId`.
    #[serde(borrow, default)]
    pub image_id: Option<ImageId<'a>>,
}

/// `responseElements.image.imageId`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageId<'a> {
    /// `imageDigest`: the digest the tag names after the push.
    #[serde(borrow, default)]
    pub image_digest: Option<Cow<'a, str>>,
    /// `imageTag`.
    #[serde(borrow, default)]
    pub image_tag: Option<Cow<'a, str>>,
}

fn text<'s>(c: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    c.as_deref()
}

impl<'a> Record<'a> {
    /// True for an `ecr.amazonaws.com` `PutImage` event (successful or refused).
    pub fn is_put_image(&self) -> bool {
        text(&self.event_source) == Some(ECR_EVENT_SOURCE)
            && text(&self.event_name) == Some(PUT_IMAGE)
    }

    /// The push this record describes, or what it lacks. Only meaningful when
    /// [`Record::is_put_image`].
    pub fn put_image(&self) -> Result<PutImageEvent<'_>, String> {
        let request = self.request_parameters.as_ref();
        let image = self
            .response_elements
            .as_ref()
            .and_then(|r| r.image.as_ref());
        let image_id = image.and_then(|i| i.image_id.as_ref());
        let missing = |what: &str| format!("PutImage record without {what}");
        let repository = request
            .and_then(|r| text(&r.repository_name))
            .ok_or_else(|| missing("requestParameters.repositoryName"))?;
        let region = text(&self.aws_region).ok_or_else(|| missing("awsRegion"))?;
        let account_id = request
            .and_then(|r| text(&r.registry_id))
            .or_else(|| image.and_then(|i| text(&i.registry_id)))
            .or_else(|| text(&self.recipient_account_id))
            .ok_or_else(|| missing("requestParameters.registryId or recipientAccountId"))?;
        let event_time = text(&self.event_time).ok_or_else(|| missing("eventTime"))?;
        let tag = request
            .and_then(|r| text(&r.image_tag))
            .or_else(|| image_id.and_then(|i| text(&i.image_tag)));
        let error_code = text(&self.error_code);
        let digest = image_id
            .and_then(|i| text(&i.image_digest))
            .or_else(|| request.and_then(|r| text(&r.image_digest)));
        Ok(PutImageEvent {
            event_id: text(&self.event_id),
            event_time,
            account_id,
            region,
            repository,
            tag,
            digest,
            principal: self.principal(),
            user_agent: text(&self.user_agent),
            error_code,
        })
    }

    /// Who made the call: the role behind an assumed-role session (with the session name),
    /// an IAM user, the root, or the AWS service that acted.
    pub fn principal(&self) -> Principal<'_> {
        let Some(id) = self.user_identity.as_ref() else {
            return Principal {
                arn: "unknown",
                session: None,
            };
        };
        let arn = text(&id.arn);
        let issuer = id
            .session_context
            .as_ref()
            .and_then(|s| s.session_issuer.as_ref())
            .and_then(|i| text(&i.arn));
        match text(&id.kind) {
            Some("AssumedRole") | Some("FederatedUser") => {
                let session = arn.and_then(|a| a.rsplit_once('/')).map(|(_, s)| s);
                Principal {
                    arn: issuer.or(arn).unwrap_or("unknown"),
                    session,
                }
            }
            Some("AWSService") => Principal {
                arn: text(&id.invoked_by).unwrap_or("AWSService"),
                session: None,
            },
            _ => Principal {
                arn: arn
                    .or_else(|| text(&id.principal_id))
                    .or_else(|| text(&id.account_id))
                    .or_else(|| text(&id.invoked_by))
                    .unwrap_or("unknown"),
                session: None,
            },
        }
    }
}

/// What one log file held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogStats {
    /// Records read (every service).
    pub records: u64,
    /// `ecr.amazonaws.com` `PutImage` records among them.
    pub put_image: u64,
}

/// A log that is not the `{"Records":[...]}` shape, or that breaks off.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// Not JSON, not the shape, or cut short: the parser's message with its line and column.
    #[error("not a CloudTrail log (`{{\"Records\":[...]}}`): {0}")]
    Shape(String),
    /// A JSON object without a `Records` array.
    #[error("not a CloudTrail log: the object has no `Records` array")]
    NoRecords,
}

/// Reads a whole log held in memory (fastest: members without escapes are borrowed).
pub fn read_log(bytes: &[u8], builder: &mut EvidenceBuilder) -> Result<LogStats, LogError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    drive(&mut de, builder)
}

/// Reads a log from a reader, one record at a time, in constant memory.
pub fn read_log_stream<R: std::io::Read>(
    reader: R,
    builder: &mut EvidenceBuilder,
) -> Result<LogStats, LogError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    drive(&mut de, builder)
}

/// Reads one record given as JSON text (CloudTrail event history's `CloudTrailEvent`).
/// Returns whether it was an ECR `PutImage` record.
pub fn read_record(json: &str, builder: &mut EvidenceBuilder) -> Result<bool, LogError> {
    let record: Record<'_> = serde_json::from_str(json)
        .map_err(|e| LogError::Shape(printable(&e.to_string()).into_owned()))?;
    Ok(builder.record(&record))
}

fn drive<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
    builder: &mut EvidenceBuilder,
) -> Result<LogStats, LogError> {
    let mut stats = LogStats::default();
    let found = de
        .deserialize_map(LogVisitor {
            builder,
            stats: &mut stats,
        })
        .and_then(|found| de.end().map(|()| found))
        .map_err(|e| LogError::Shape(printable(&e.to_string()).into_owned()))?;
    if found {
        Ok(stats)
    } else {
        Err(LogError::NoRecords)
    }
}

struct LogVisitor<'b> {
    builder: &'b mut EvidenceBuilder,
    stats: &'b mut LogStats,
}

impl<'de> Visitor<'de> for LogVisitor<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with a Records array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "Records" && !found {
                map.next_value_seed(RecordsSeed {
                    builder: &mut *self.builder,
                    stats: &mut *self.stats,
                })?;
                found = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

struct RecordsSeed<'b> {
    builder: &'b mut EvidenceBuilder,
    stats: &'b mut LogStats,
}

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // `any`, not `seq`: `"Records": null` (a file with nothing in it) reaches visit_unit.
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of CloudTrail records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(record) = seq.next_element::<Record<'de>>()? {
            self.stats.records += 1;
            if self.builder.record(&record) {
                self.stats.put_image += 1;
            }
        }
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        // `"Records": null`: a file with nothing in it.
        Ok(())
    }
}
