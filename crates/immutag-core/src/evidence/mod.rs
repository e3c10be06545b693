//! Evidence: who re-pointed which tag, read from CloudTrail `PutImage` events.
//!
//! Every push to a private ECR repository is an `ecr.amazonaws.com` `PutImage` event with the
//! repository, the tag, the digest the tag names after it, who pushed it and with what client.
//! The [`EvidenceBuilder`] takes those events one at a time, from any source (log files,
//! event history, Athena rows: the readers live in `immutag-aws`), keeps only the pushes of
//! the [`Selection`], and [`EvidenceBuilder::finish`] orders them into the [`Evidence`]: per
//! (account, region, repository, tag) the pushes in time order ([`TagHistory`]) and the
//! *moves* (a push that gave the tag another digest than it had). Memory holds the kept pushes
//! only (a few tens of bytes each: principals, user agents and digests are shared), never
//! the other events or the logs.
//!
//! Pure: no I/O, no clock (the window comes from the caller).
//!
//! ```
//! use immutag_core::evidence::{record, EvidenceBuilder, Selection};
//! let log = br#"{"Records":[
//!   {"eventID":"1","eventTime":"2026-11-20T10:00:00Z","eventSource":"ecr.amazonaws.com","eventName":"PutImage",
//!    "awsRegion":"eu-west-1","recipientAccountId":"111122223333","userAgent":"docker/27",
//!    "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ci"},
//!    "requestParameters":{"repositoryName":"web","imageTag":"latest"},
//!    "responseElements":{"image":{"imageId":{"imageDigest":"sha256:aa","imageTag":"latest"}}}},
//!   {"eventID":"2","eventTime":"2026-11-21T10:00:00Z","eventSource":"ecr.amazonaws.com","eventName":"PutImage",
//!    "awsRegion":"eu-west-1","recipientAccountId":"111122223333",
//!    "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ci"},
//!    "requestParameters":{"repositoryName":"web","imageTag":"latest"},
//!    "responseElements":{"image":{"imageId":{"imageDigest":"sha256:bb","imageTag":"latest"}}}}]}"#;
//! let mut builder = EvidenceBuilder::new(Selection::default());
//! record::read_log(log, &mut builder).unwrap();
//! let evidence = builder.finish();
//! let moves = evidence.tags()[0].moves();
//! assert_eq!((moves[0].from, moves[0].push.digest.as_deref()), ("sha256:aa", Some("sha256:bb")));
//! let web = evidence.repository(Some("111122223333"), Some("eu-west-1"), "web");
//! assert_eq!(web.moved_tags().next().unwrap().principals[0].principal_arn, "arn:aws:iam::111122223333:user/ci");
//! ```

pub mod record;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::time;
use crate::wildcard;

/// The error code of a push refused because the tag exists in an immutable repository: a
/// pipeline that already tries to move a tag.
pub const TAG_EXISTS: &str = "ImageTagAlreadyExistsException";

/// The time window of the evidence: pushes at or after `since` and at or before `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    /// The start (inclusive); `None`: no start.
    pub since: Option<Timestamp>,
    /// The end (inclusive); `None`: no end.
    pub until: Option<Timestamp>,
}

impl Window {
    /// True when `t` is in the window.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }
}

/// Which pushes to keep: a window, and optionally accounts, regions, a repository and a tag.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    /// The window.
    pub window: Window,
    /// These accounts only (empty: every account).
    pub accounts: Vec<String>,
    /// These regions only (empty: every region).
    pub regions: Vec<String>,
    /// Repositories whose name matches this pattern (`*` any run of characters).
    pub repository: Option<String>,
    /// Tags that match this pattern.
    pub tag: Option<String>,
}

impl Selection {
    /// True when the (account, region) pair is selected.
    pub fn keeps_target(&self, account_id: &str, region: &str) -> bool {
        (self.accounts.is_empty() || self.accounts.iter().any(|a| a == account_id))
            && (self.regions.is_empty() || self.regions.iter().any(|r| r == region))
    }

    /// True when the repository and the tag are selected.
    pub fn keeps_tag(&self, repository: &str, tag: &str) -> bool {
        self.repository
            .as_deref()
            .is_none_or(|p| wildcard::matches(p, repository))
            && self
                .tag
                .as_deref()
                .is_none_or(|p| wildcard::matches(p, tag))
    }
}

/// Who made a call, borrowed from the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal<'a> {
    /// The role behind an assumed-role session, the IAM user, the root, or the AWS service.
    pub arn: &'a str,
    /// The session name of an assumed role (often the person or the build).
    pub session: Option<&'a str>,
}

/// One `PutImage` event, whatever its source, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutImageEvent<'a> {
    /// `eventID`.
    pub event_id: Option<&'a str>,
    /// `eventTime` (RFC 3339).
    pub event_time: &'a str,
    /// The account of the repository (the registry id).
    pub account_id: &'a str,
    /// The region.
    pub region: &'a str,
    /// The repository name.
    pub repository: &'a str,
    /// The tag; `None` for a push by digest alone.
    pub tag: Option<&'a str>,
    /// The digest the tag names after a successful push (the one asked for, when refused).
    pub digest: Option<&'a str>,
    /// Who pushed.
    pub principal: Principal<'a>,
    /// `userAgent`.
    pub user_agent: Option<&'a str>,
    /// `errorCode`: the push was refused.
    pub error_code: Option<&'a str>,
}

/// One push of one tag, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// When.
    pub at: Timestamp,
    /// The digest the tag named after it (`None`: the record does not say).
    pub digest: Option<Arc<str>>,
    /// Who: the role behind an assumed-role session, the IAM user, ...
    pub principal_arn: Arc<str>,
    /// The session name of an assumed role.
    pub session_name: Option<Arc<str>>,
    /// The client (`docker/27.3.1 ...`, `aws-cli/2 ...`).
    pub user_agent: Option<Arc<str>>,
    /// Set when the push was refused (`ImageTagAlreadyExistsException`, ...).
    pub error_code: Option<Arc<str>>,
    /// `eventID`, to keep an event delivered twice once.
    pub event_id: Option<Box<str>>,
}

impl Push {
    /// True when the push was refused.
    pub fn refused(&self) -> bool {
        self.error_code.is_some()
    }
}

/// A tag of a repository: the key of a [`TagHistory`].
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct TagKey {
    /// The account of the repository.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// The repository name.
    pub repository: String,
    /// The tag.
    pub tag: String,
}

/// A push that gave a tag another digest than it had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move<'a> {
    /// The digest the tag named before.
    pub from: &'a str,
    /// The push that moved it (its digest is the new one).
    pub push: &'a Push,
}

/// The pushes of one tag in the window, in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagHistory {
    /// The tag.
    pub key: TagKey,
    /// The last successful push before the window, when the sources read reach that far: what
    /// the tag named when the window opened.
    pub before: Option<Push>,
    /// The pushes in the window (refused ones included), oldest first, each event once.
    pub pushes: Vec<Push>,
}

impl TagHistory {
    /// The moves, oldest first. The first push of the window is a move only when the digest
    /// before the window is known ([`TagHistory::before`]) and differs. After a successful
    /// push whose record has no digest, the next push cannot be compared (see
    /// [`TagSummary::unknown_digests`]).
    pub fn moves(&self) -> Vec<Move<'_>> {
        let mut current: Option<&str> = self.before.as_ref().and_then(|p| p.digest.as_deref());
        let mut moves = Vec::new();
        for push in self.pushes.iter().filter(|p| !p.refused()) {
            let digest = push.digest.as_deref();
            if let (Some(from), Some(to)) = (current, digest)
                && from != to
            {
                moves.push(Move { from, push });
            }
            current = digest;
        }
        moves
    }

    /// The last successful push at or before `t`: what the tag named then (`None`: the
    /// sources read hold no push of it until `t`).
    pub fn at(&self, t: Timestamp) -> Option<&Push> {
        self.pushes
            .iter()
            .rev()
            .filter(|p| !p.refused() && p.at <= t)
            .chain(self.before.iter().filter(|p| p.at <= t))
            .next()
    }

    /// The counts of this tag (pushes, moves, refusals, by principal).
    pub fn summary(&self) -> TagSummary {
        let moves = self.moves();
        let mut by_principal: BTreeMap<&str, PrincipalCount> = BTreeMap::new();
        for p in &self.pushes {
            let c = by_principal
                .entry(&p.principal_arn)
                .or_insert_with(|| PrincipalCount {
                    principal_arn: p.principal_arn.to_string(),
                    pushes: 0,
                    moves: 0,
                    refused_moves: 0,
                });
            c.pushes += 1;
            if p.error_code.as_deref() == Some(TAG_EXISTS) {
                c.refused_moves += 1;
            }
        }
        for m in &moves {
            if let Some(c) = by_principal.get_mut(&*m.push.principal_arn) {
                c.moves += 1;
            }
        }
        let mut principals: Vec<PrincipalCount> = by_principal.into_values().collect();
        principals.sort_by(|a, b| {
            (b.moves, b.refused_moves, b.pushes)
                .cmp(&(a.moves, a.refused_moves, a.pushes))
                .then_with(|| a.principal_arn.cmp(&b.principal_arn))
        });
        let ok = || self.pushes.iter().filter(|p| !p.refused());
        TagSummary {
            tag: self.key.tag.clone(),
            pushes: self.pushes.len(),
            moves: moves.len(),
            refused_moves: self
                .pushes
                .iter()
                .filter(|p| p.error_code.as_deref() == Some(TAG_EXISTS))
                .count(),
            unknown_digests: ok().filter(|p| p.digest.is_none()).count(),
            principals,
            first_push: self.pushes.first().map(|p| time::format(p.at)),
            last_push: self.pushes.last().map(|p| time::format(p.at)),
            last_moved_at: moves.last().map(|m| time::format(m.push.at)),
            digest: ok()
                .next_back()
                .or(self.before.as_ref())
                .and_then(|p| p.digest.as_deref())
                .map(str::to_owned),
        }
    }
}

/// What the evidence says of one tag: the figures a plan needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TagSummary {
    /// The tag.
    pub tag: String,
    /// Pushes in the window (refused ones included).
    pub pushes: usize,
    /// Moves in the window: a re-used tag when above 0, whatever its name.
    pub moves: usize,
    /// Pushes refused with `ImageTagAlreadyExistsException`: a pipeline that already breaks on
    /// an immutable tag.
    pub refused_moves: usize,
    /// Successful pushes whose record names no digest: moves around them cannot be counted,
    /// so `moves` may be low.
    pub unknown_digests: usize,
    /// Who pushed, most moves first: the pipelines to change.
    pub principals: Vec<PrincipalCount>,
    /// The first push in the window (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_push: Option<String>,
    /// The last push in the window (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_push: Option<String>,
    /// The last move (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_moved_at: Option<String>,
    /// The digest the tag names at the end of the window, as far as the events say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// One principal's pushes of one tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PrincipalCount {
    /// The role, user, root or service.
    pub principal_arn: String,
    /// Its pushes of the tag.
    pub pushes: usize,
    /// Its moves of the tag.
    pub moves: usize,
    /// Its pushes refused because the tag exists.
    pub refused_moves: usize,
}

/// The span of events read for one account and region: how far the evidence reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Coverage {
    /// The account.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// The first event read (RFC 3339), or the start of a window that was queried.
    pub from: String,
    /// The last event read, or the end of a queried window.
    pub to: String,
    /// Records read (every service), for log files; 0 for queried windows.
    pub records: u64,
}

/// What the evidence says of one repository: the input of a plan built on evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RepositoryEvidence {
    /// The account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The repository.
    pub repository: String,
    /// How far the sources reach for its account and region; `None`: the sources hold no
    /// event of them, so "nothing moved" would be no evidence at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// Every tag pushed in the window, by tag.
    pub tags: Vec<TagSummary>,
}

impl RepositoryEvidence {
    /// The tags that moved in the window.
    pub fn moved_tags(&self) -> impl Iterator<Item = &TagSummary> {
        self.tags.iter().filter(|t| t.moves > 0)
    }

    /// True when the sources cover the repository's account and region and no tag of it
    /// moved or had a push that cannot be compared: the repository can be made IMMUTABLE on
    /// this evidence.
    pub fn nothing_moved(&self) -> bool {
        self.coverage.is_some()
            && self
                .tags
                .iter()
                .all(|t| t.moves == 0 && t.unknown_digests == 0)
    }
}

/// What a history row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A successful push that gave the tag another digest.
    Move,
    /// A successful push that did not move the tag (first seen, or the same digest).
    Push,
    /// A refused push (`error_code` says why).
    Refused,
}

impl EntryKind {
    /// The JSON / table spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Move => "move",
            Self::Push => "push",
            Self::Refused => "refused",
        }
    }
}

/// One row of `immutag history`: a push, a move or a refused push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryEntry {
    /// Move, push or refused.
    pub kind: EntryKind,
    /// The repository.
    pub repository: String,
    /// The tag.
    pub tag: String,
    /// The account of the repository.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// The digest the tag named before (moves only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_digest: Option<String>,
    /// The digest the tag names after (for a refused push: the digest asked for, when known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_digest: Option<String>,
    /// When (RFC 3339).
    pub at: String,
    /// Who: the role behind an assumed-role session, the IAM user, the root, the service.
    pub principal_arn: String,
    /// The session name of an assumed role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// The client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Why a push was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

/// What a tag named at a given time (`immutag history --at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TagState {
    /// The repository.
    pub repository: String,
    /// The tag.
    pub tag: String,
    /// The account of the repository.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// The digest the tag named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The push that made it name that digest (RFC 3339).
    pub pushed_at: String,
    /// Who made that push.
    pub principal_arn: String,
    /// The client of that push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// A `PutImage` record that could not be used, by source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordProblem {
    /// Where it was read (a file, an S3 key, `lookup ACCOUNT/REGION`, the Athena query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Its `eventID`, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// What is wrong.
    pub problem: String,
}

/// What was read and what was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Stats {
    /// Records seen (every service; for event history and Athena, the PutImage events).
    pub records: u64,
    /// ECR `PutImage` events among them.
    pub put_image: u64,
    /// Pushes kept (selected and in the window), before duplicates are removed.
    pub kept: u64,
    /// Pushes by digest alone, with no tag.
    pub untagged: u64,
    /// Pushes outside the window.
    pub outside_window: u64,
    /// Pushes of accounts, regions, repositories or tags not selected.
    pub not_selected: u64,
    /// The same event read twice (same `eventID`), kept once.
    pub duplicates: u64,
}

/// The evidence: per tag, its pushes and moves in the window, with how far the sources reach.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evidence {
    window: Window,
    tags: Vec<TagHistory>,
    coverage: Vec<Coverage>,
    problems: Vec<RecordProblem>,
    stats: Stats,
}

impl Evidence {
    /// The window the pushes were kept for.
    pub fn window(&self) -> Window {
        self.window
    }

    /// Every tag pushed in the window, sorted by account, region, repository, tag.
    pub fn tags(&self) -> &[TagHistory] {
        &self.tags
    }

    /// How far the sources reach, per account and region, sorted.
    pub fn coverage(&self) -> &[Coverage] {
        &self.coverage
    }

    /// The coverage of one account and region.
    pub fn covers(&self, account_id: &str, region: &str) -> Option<&Coverage> {
        self.coverage
            .iter()
            .find(|c| c.account_id == account_id && c.region == region)
    }

    /// `PutImage` records that could not be used.
    pub fn problems(&self) -> &[RecordProblem] {
        &self.problems
    }

    /// The counts.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// True when some tag moved in the window.
    pub fn moved(&self) -> bool {
        self.tags.iter().any(|t| !t.moves().is_empty())
    }

    /// What the evidence says of one repository (`account_id` / `region` `None`: any).
    pub fn repository(
        &self,
        account_id: Option<&str>,
        region: Option<&str>,
        repository: &str,
    ) -> RepositoryEvidence {
        let tags = self
            .tags
            .iter()
            .filter(|t| {
                t.key.repository == repository
                    && account_id.is_none_or(|a| a == t.key.account_id)
                    && region.is_none_or(|r| r == t.key.region)
            })
            .map(TagHistory::summary)
            .collect();
        let coverage = match (account_id, region) {
            (Some(a), Some(r)) => self.covers(a, r).cloned(),
            _ => None,
        };
        RepositoryEvidence {
            account_id: account_id.map(str::to_owned),
            region: region.map(str::to_owned),
            repository: repository.to_owned(),
            coverage,
            tags,
        }
    }

    /// The history rows, oldest first (ties by account, region, repository, tag); only the
    /// moves with `moves_only`.
    pub fn entries(&self, moves_only: bool) -> Vec<HistoryEntry> {
        let mut rows = Vec::new();
        for t in &self.tags {
            let moves = t.moves();
            let from_of = |p: &Push| {
                moves
                    .iter()
                    .find(|m| std::ptr::eq(m.push, p))
                    .map(|m| m.from.to_owned())
            };
            for p in &t.pushes {
                let from = from_of(p);
                let kind = if p.refused() {
                    EntryKind::Refused
                } else if from.is_some() {
                    EntryKind::Move
                } else {
                    EntryKind::Push
                };
                if moves_only && kind != EntryKind::Move {
                    continue;
                }
                rows.push((
                    p.at,
                    HistoryEntry {
                        kind,
                        repository: t.key.repository.clone(),
                        tag: t.key.tag.clone(),
                        account_id: t.key.account_id.clone(),
                        region: t.key.region.clone(),
                        from_digest: from,
                        to_digest: p.digest.as_deref().map(str::to_owned),
                        at: time::format(p.at),
                        principal_arn: p.principal_arn.to_string(),
                        session_name: p.session_name.as_deref().map(str::to_owned),
                        user_agent: p.user_agent.as_deref().map(str::to_owned),
                        error_code: p.error_code.as_deref().map(str::to_owned),
                    },
                ));
            }
        }
        // Stable: within one tag the pushes are already in order.
        rows.sort_by_key(|r| r.0);
        rows.into_iter().map(|(_, e)| e).collect()
    }

    /// What each tag named at `t`, for the tags whose pushes reach back to `t`.
    pub fn at(&self, t: Timestamp) -> Vec<TagState> {
        self.tags
            .iter()
            .filter_map(|h| {
                h.at(t).map(|p| TagState {
                    repository: h.key.repository.clone(),
                    tag: h.key.tag.clone(),
                    account_id: h.key.account_id.clone(),
                    region: h.key.region.clone(),
                    digest: p.digest.as_deref().map(str::to_owned),
                    pushed_at: time::format(p.at),
                    principal_arn: p.principal_arn.to_string(),
                    user_agent: p.user_agent.as_deref().map(str::to_owned),
                })
            })
            .collect()
    }
}

#[derive(Debug, Default)]
struct TagAcc {
    before: Option<Push>,
    pushes: Vec<Push>,
}

#[derive(Debug, Clone)]
struct Span {
    first: String,
    last: String,
    records: u64,
}

/// Collects pushes, one event at a time, into [`Evidence`]. Builders of parallel readers are
/// combined with [`EvidenceBuilder::merge`].
#[derive(Debug, Default)]
pub struct EvidenceBuilder {
    selection: Selection,
    strings: HashSet<Arc<str>>,
    tags: HashMap<TagKey, TagAcc>,
    coverage: HashMap<String, HashMap<String, Span>>,
    problems: Vec<RecordProblem>,
    stats: Stats,
    source: Option<Arc<str>>,
}

impl EvidenceBuilder {
    /// A builder that keeps the pushes of `selection`.
    pub fn new(selection: Selection) -> Self {
        Self {
            selection,
            ..Self::default()
        }
    }

    /// The selection.
    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    /// Names the source of the events that follow (used in [`RecordProblem::source`]).
    pub fn set_source(&mut self, source: &str) {
        self.source = Some(self.intern(source));
    }

    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strings.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.strings.insert(a.clone());
        a
    }

    /// Takes one CloudTrail record of any service: counts it towards the coverage of its
    /// account and region, and keeps it when it is an ECR `PutImage` push of the selection.
    /// Returns whether it was a `PutImage` record.
    pub fn record(&mut self, r: &record::Record<'_>) -> bool {
        self.stats.records += 1;
        if let (Some(account), Some(region), Some(t)) = (
            r.recipient_account_id.as_deref(),
            r.aws_region.as_deref(),
            r.event_time.as_deref(),
        ) {
            self.observe(account, region, t);
        }
        if !r.is_put_image() {
            return false;
        }
        self.stats.put_image += 1;
        match r.put_image() {
            Ok(event) => self.keep(&event),
            Err(problem) => self.problem(r.event_id.as_deref(), problem),
        }
        true
    }

    /// Takes one `PutImage` event from a source that is not a log file (event history,
    /// Athena rows): counted, and kept when selected.
    pub fn put_image(&mut self, event: &PutImageEvent<'_>) {
        self.stats.records += 1;
        self.stats.put_image += 1;
        self.keep(event);
    }

    /// Records that the sources cover `account_id`/`region` from `from` to `to` (a queried
    /// window: event history, Athena), whether or not they held any push.
    pub fn cover(&mut self, account_id: &str, region: &str, from: Timestamp, to: Timestamp) {
        self.observe_span(
            account_id,
            region,
            &time::format(from),
            &time::format(to),
            0,
        );
    }

    /// Records a `PutImage` event of a source that could not be read (an event history entry
    /// without its record, an Athena row that breaks off).
    pub fn put_image_problem(&mut self, event_id: Option<&str>, problem: String) {
        self.stats.put_image += 1;
        self.problem(event_id, problem);
    }

    fn problem(&mut self, event_id: Option<&str>, problem: String) {
        self.problems.push(RecordProblem {
            source: self.source.as_deref().map(str::to_owned),
            event_id: event_id.map(str::to_owned),
            problem,
        });
    }

    fn observe(&mut self, account: &str, region: &str, t: &str) {
        if !self.selection.keeps_target(account, region) {
            return;
        }
        if is_canonical_time(t) {
            self.observe_span(account, region, t, t, 1);
        } else if let Ok(ts) = time::parse(t) {
            let t = time::format(ts);
            self.observe_span(account, region, &t, &t, 1);
        }
    }

    fn observe_span(&mut self, account: &str, region: &str, first: &str, last: &str, n: u64) {
        let regions = match self.coverage.get_mut(account) {
            Some(r) => r,
            None => self.coverage.entry(account.to_owned()).or_default(),
        };
        match regions.get_mut(region) {
            Some(span) => {
                if first < span.first.as_str() {
                    span.first = first.to_owned();
                }
                if last > span.last.as_str() {
                    span.last = last.to_owned();
                }
                span.records += n;
            }
            None => {
                regions.insert(
                    region.to_owned(),
                    Span {
                        first: first.to_owned(),
                        last: last.to_owned(),
                        records: n,
                    },
                );
            }
        }
    }

    fn keep(&mut self, e: &PutImageEvent<'_>) {
        let at = match time::parse(e.event_time) {
            Ok(t) => t,
            Err(err) => {
                return self.problem(e.event_id, format!("PutImage record: eventTime {err}"));
            }
        };
        let Some(tag) = e.tag else {
            self.stats.untagged += 1;
            return;
        };
        if !self.selection.keeps_target(e.account_id, e.region)
            || !self.selection.keeps_tag(e.repository, tag)
        {
            self.stats.not_selected += 1;
            return;
        }
        let window = self.selection.window;
        let before = window.since.is_some_and(|s| at < s);
        if !before && !window.contains(at) {
            self.stats.outside_window += 1;
            return;
        }
        let push = Push {
            at,
            digest: e.digest.map(|d| self.intern(d)),
            principal_arn: self.intern(e.principal.arn),
            session_name: e.principal.session.map(|s| self.intern(s)),
            user_agent: e.user_agent.map(|u| self.intern(u)),
            error_code: e.error_code.map(|c| self.intern(c)),
            event_id: e.event_id.map(Box::from),
        };
        let key = TagKey {
            account_id: e.account_id.to_owned(),
            region: e.region.to_owned(),
            repository: e.repository.to_owned(),
            tag: tag.to_owned(),
        };
        let acc = self.tags.entry(key).or_default();
        if before {
            self.stats.outside_window += 1;
            // Only the last successful push before the window matters: what the tag named
            // when it opened.
            if !push.refused() && acc.before.as_ref().is_none_or(|b| b.at <= push.at) {
                acc.before = Some(push);
            }
        } else {
            self.stats.kept += 1;
            acc.pushes.push(push);
        }
    }

    /// Adds what `other` collected (a parallel reader with the same selection).
    pub fn merge(&mut self, other: EvidenceBuilder) {
        for (key, acc) in other.tags {
            let mine = self.tags.entry(key).or_default();
            mine.pushes.extend(acc.pushes);
            if let Some(b) = acc.before
                && mine.before.as_ref().is_none_or(|m| m.at <= b.at)
            {
                mine.before = Some(b);
            }
        }
        for (account, regions) in other.coverage {
            for (region, span) in regions {
                self.observe_span(&account, &region, &span.first, &span.last, span.records);
            }
        }
        self.problems.extend(other.problems);
        let (s, o) = (&mut self.stats, other.stats);
        s.records += o.records;
        s.put_image += o.put_image;
        s.kept += o.kept;
        s.untagged += o.untagged;
        s.outside_window += o.outside_window;
        s.not_selected += o.not_selected;
        s.duplicates += o.duplicates;
    }

    /// Orders the pushes of every tag in time, keeps each event once, and returns the
    /// evidence.
    pub fn finish(self) -> Evidence {
        let mut stats = self.stats;
        let mut tags: Vec<TagHistory> = self
            .tags
            .into_iter()
            .filter_map(|(key, mut acc)| {
                acc.pushes.sort_by(|a, b| {
                    (a.at, a.event_id.as_deref()).cmp(&(b.at, b.event_id.as_deref()))
                });
                let n = acc.pushes.len();
                acc.pushes
                    .dedup_by(|b, a| a.event_id.is_some() && a.event_id == b.event_id);
                stats.duplicates += (n - acc.pushes.len()) as u64;
                // A tag seen only before the window did nothing in it.
                (!acc.pushes.is_empty()).then_some(TagHistory {
                    key,
                    before: acc.before,
                    pushes: acc.pushes,
                })
            })
            .collect();
        tags.sort_by(|a, b| a.key.cmp(&b.key));
        let mut coverage: Vec<Coverage> = self
            .coverage
            .into_iter()
            .flat_map(|(account, regions)| {
                regions.into_iter().map(move |(region, span)| Coverage {
                    account_id: account.clone(),
                    region,
                    from: span.first,
                    to: span.last,
                    records: span.records,
                })
            })
            .collect();
        coverage.sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
        Evidence {
            window: self.selection.window,
            tags,
            coverage,
            problems: self.problems,
            stats,
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the form CloudTrail writes: such times order as text.
fn is_canonical_time(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 20
        && b[19] == b'Z'
        && b[10] == b'T'
        && b[4] == b'-'
        && b[7] == b'-'
        && b[13] == b':'
        && b[16] == b':'
        && b.iter()
            .enumerate()
            .all(|(i, c)| matches!(i, 4 | 7 | 10 | 13 | 16 | 19) || c.is_ascii_digit())
}

#[cfg(test)]
mod tests;
