//! AWS Config's recorded state as the inventory: advanced queries against a configuration
//! aggregator (`immutag scan --aggregator NAME`) or the caller's own account (`immutag scan
//! --config-query`), instead of a role in every account and a DescribeRepositories per
//! account and region.
//!
//! **Calls, by construction** (N recorded repositories and templates, M of them in an
//! exclusion mode, whose filters are not queryable):
//!
//! - `config:SelectAggregateResourceConfig` (or `SelectResourceConfig`): pages of 100 rows,
//!   `ceil(N/100)` calls, plus one per extra expression when the account list is too long for
//!   one (4,096 characters: [`select_expressions`] splits it);
//! - `config:BatchGetAggregateResourceConfig` (or `BatchGetResourceConfig`): the full items
//!   of the M rows the query cannot decide, 100 per call, `ceil(M/100)` calls, plus one per
//!   retry of `UnprocessedResourceIdentifiers` (at most [`UNPROCESSED_ATTEMPTS`] rounds; what
//!   is still unprocessed is a [`Failure`] naming the repository);
//! - coverage ([`aggregator_coverage`]): `config:DescribeConfigurationAggregators` once (it
//!   also tells an aggregator that does not exist), `config:GetAggregateDiscoveredResourceCounts`
//!   grouped by region (and by account when accounts are listed), pages of 1,000, and
//!   `ec2:DescribeRegions` once when the aggregator takes every region and none are listed.
//!
//! None of these is per account. Rows become [`Repository`]s through immutag-core's Config
//! reader ([`immutag_core::input::config::parse`]): one evaluation path with `immutag
//! evaluate` of a configuration item. Every row carries the account, the region and the
//! capture time; its source kind is [`InputKind::ConfigAggregator`] (or
//! [`InputKind::ConfigQuery`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_config::Client;
use aws_sdk_config::types::{
    AggregateResourceIdentifier, BaseConfigurationItem, ResourceCountGroupKey, ResourceKey,
    ResourceType,
};
use immutag_core::input::config;
use immutag_core::{ECR_REPOSITORY_TYPE, InputKind, Repository, ResourceStatus, Source};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{AwsError, check_account_id, check_region};
use crate::targets::Failure;

/// The resource types read: repositories, and creation templates where Config records them.
pub const RESOURCE_TYPES: [&str; 2] = [ECR_REPOSITORY_TYPE, TEMPLATE_TYPE];

/// The Config resource type of a repository creation template.
pub const TEMPLATE_TYPE: &str = "AWS::ECR::RepositoryCreationTemplate";

/// The longest `Expression` Config accepts.
pub const MAX_EXPRESSION_CHARS: usize = 4096;

/// Rows per select page (the API maximum).
pub const PAGE_LIMIT: i32 = 100;

/// Identifiers per batch read (the API maximum).
pub const BATCH_SIZE: usize = 100;

/// Rounds of a batch read whose identifiers come back unprocessed (the first included).
pub const UNPROCESSED_ATTEMPTS: usize = 4;

/// Groups per coverage page (the API maximum of GetAggregateDiscoveredResourceCounts).
pub const COUNT_PAGE_LIMIT: i32 = 1000;

/// The fields each row selects.
pub const SELECT_FIELDS: &str = "resourceType, resourceId, resourceName, arn, accountId, awsRegion, \
configurationItemCaptureTime, configurationItemStatus, configuration.ImageTagMutability, tags";

/// Which accounts and regions a query keeps; empty lists keep all. Pushed down into the
/// expression's `WHERE`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryFilter {
    /// 12-digit account ids.
    pub accounts: Vec<String>,
    /// Region names.
    pub regions: Vec<String>,
}

impl QueryFilter {
    /// Checks every value (each goes into the expression): 12-digit accounts, region names.
    /// Sorted, deduplicated.
    pub fn checked(mut self) -> Result<Self, AwsError> {
        for a in &self.accounts {
            check_account_id(a)?;
        }
        for r in &self.regions {
            check_region(r)?;
        }
        self.accounts.sort();
        self.accounts.dedup();
        self.regions.sort();
        self.regions.dedup();
        Ok(self)
    }
}

/// Checks a configuration aggregator name as the API defines it: 1 to 256 characters of
/// letters, digits, `_` and `-`.
pub fn check_aggregator_name(name: &str) -> Result<(), AwsError> {
    let ok = !name.is_empty()
        && name.len() <= 256
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(AwsError::InvalidAggregatorName(name.to_owned()))
    }
}

/// `'a', 'b'`: values that [`QueryFilter::checked`] (or the constants) vouch for, each
/// quoted; a quote inside one would be doubled, as SQL escapes it.
fn quoted_list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    values
        .into_iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The select expressions for `filter` (checked): one when it fits in
/// [`MAX_EXPRESSION_CHARS`], else the account list split across as many as needed.
///
/// ```
/// use immutag_aws::config_query::{select_expressions, QueryFilter};
/// let f = QueryFilter { accounts: vec!["111122223333".into()], regions: vec!["eu-west-1".into()] };
/// let e = select_expressions(&f.checked().unwrap()).unwrap();
/// assert_eq!(e.len(), 1);
/// assert!(e[0].ends_with("AND accountId IN ('111122223333') AND awsRegion IN ('eu-west-1')"));
/// ```
pub fn select_expressions(filter: &QueryFilter) -> Result<Vec<String>, AwsError> {
    let head = format!(
        "SELECT {SELECT_FIELDS} WHERE resourceType IN ({})",
        quoted_list(RESOURCE_TYPES)
    );
    let regions = if filter.regions.is_empty() {
        String::new()
    } else {
        format!(
            " AND awsRegion IN ({})",
            quoted_list(filter.regions.iter().map(String::as_str))
        )
    };
    let with_accounts = |accounts: &[String]| {
        if accounts.is_empty() {
            format!("{head}{regions}")
        } else {
            format!(
                "{head} AND accountId IN ({}){regions}",
                quoted_list(accounts.iter().map(String::as_str))
            )
        }
    };
    let fixed = with_accounts(&[]).len();
    if fixed > MAX_EXPRESSION_CHARS {
        return Err(AwsError::ExpressionTooLong { chars: fixed });
    }
    let mut out = Vec::new();
    let mut chunk: Vec<String> = Vec::new();
    for account in &filter.accounts {
        chunk.push(account.clone());
        if with_accounts(&chunk).len() > MAX_EXPRESSION_CHARS {
            chunk.pop();
            if chunk.is_empty() {
                let chars = with_accounts(std::slice::from_ref(account)).len();
                return Err(AwsError::ExpressionTooLong { chars });
            }
            out.push(with_accounts(&chunk));
            chunk = vec![account.clone()];
        }
    }
    if !chunk.is_empty() || out.is_empty() {
        out.push(with_accounts(&chunk));
    }
    Ok(out)
}

/// The calls a read made, counted as they were sent (retries of the SDK not included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Calls {
    /// Select pages.
    pub select_pages: usize,
    /// Batch reads of full items.
    pub batch_reads: usize,
    /// Coverage calls (aggregator description, resource counts, region list).
    pub coverage: usize,
}

impl Calls {
    /// All calls.
    pub fn total(&self) -> usize {
        self.select_pages + self.batch_reads + self.coverage
    }
}

/// What a recorded-state read found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recorded {
    /// One repository (or template) per row, in query order.
    pub repositories: Vec<Repository>,
    /// Rows that could not be read in full (named).
    pub failures: Vec<Failure>,
    /// The calls made.
    pub calls: Calls,
}

/// Where the recorded state is read: an aggregator, or the caller's own Config (one region).
#[derive(Debug, Clone, Copy)]
pub enum Store<'a> {
    /// `SelectAggregateResourceConfig` / `BatchGetAggregateResourceConfig` on this aggregator.
    Aggregator(&'a str),
    /// `SelectResourceConfig` / `BatchGetResourceConfig` in the client's account and region.
    Own,
}

impl Store<'_> {
    fn kind(self) -> InputKind {
        match self {
            Self::Aggregator(_) => InputKind::ConfigAggregator,
            Self::Own => InputKind::ConfigQuery,
        }
    }

    fn select_op(self) -> &'static str {
        match self {
            Self::Aggregator(_) => "config:SelectAggregateResourceConfig",
            Self::Own => "config:SelectResourceConfig",
        }
    }

    fn batch_op(self) -> &'static str {
        match self {
            Self::Aggregator(_) => "config:BatchGetAggregateResourceConfig",
            Self::Own => "config:BatchGetResourceConfig",
        }
    }
}

/// What identifies a row's resource (for the batch read and for a failure).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    resource_type: String,
    resource_id: String,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    aws_region: Option<String>,
}

impl Identity {
    fn failure(&self, code: &str, error: String) -> Failure {
        Failure {
            account_id: self.account_id.clone(),
            region: self.aws_region.clone(),
            repository: Some(self.resource_id.clone()),
            code: Some(code.to_owned()),
            error,
        }
    }
}

/// Reads every repository and template `expressions` select from `store` (see the module
/// documentation): select pages, then the full items of the rows that need them.
pub async fn read(
    client: &Client,
    store: Store<'_>,
    expressions: &[String],
) -> Result<Recorded, AwsError> {
    let mut rows = Vec::new();
    let mut select_pages = 0;
    for expression in expressions {
        let (found, pages) = select_all(client, store, expression).await?;
        select_pages += pages;
        rows.extend(found);
    }
    // The rows of every expression together: ceil(M/100) batch reads, whatever the split.
    let mut out = resolve_rows(client, store, rows).await;
    out.calls.select_pages += select_pages;
    Ok(out)
}

/// Every row of one expression, following `NextToken`; with the pages read.
async fn select_all(
    client: &Client,
    store: Store<'_>,
    expression: &str,
) -> Result<(Vec<String>, usize), AwsError> {
    let op = store.select_op();
    crate::ecr::paginate(op, |token| async move {
        match store {
            Store::Aggregator(name) => {
                let resp = client
                    .select_aggregate_resource_config()
                    .configuration_aggregator_name(name)
                    .expression(expression)
                    .limit(PAGE_LIMIT)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| AwsError::api(op, e))?;
                Ok((
                    resp.results().to_vec(),
                    resp.next_token().map(str::to_owned),
                ))
            }
            Store::Own => {
                let resp = client
                    .select_resource_config()
                    .expression(expression)
                    .limit(PAGE_LIMIT)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| AwsError::api(op, e))?;
                Ok((
                    resp.results().to_vec(),
                    resp.next_token().map(str::to_owned),
                ))
            }
        }
    })
    .await
}

/// A row read as a JSON object with its identity.
struct Row {
    object: Map<String, Value>,
    identity: Identity,
}

/// Decides each row: from the row itself when the query says enough, else from its full
/// configuration item (batch reads).
async fn resolve_rows(client: &Client, store: Store<'_>, rows: Vec<String>) -> Recorded {
    let mut out = Recorded::default();
    let mut pending: Vec<Row> = Vec::new();
    let op = store.select_op();
    for (i, text) in rows.iter().enumerate() {
        let object = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(o)) => o,
            Ok(_) | Err(_) => {
                out.failures.push(malformed_row(op, i, "not a JSON object"));
                continue;
            }
        };
        let identity = match Identity::deserialize(Value::Object(object.clone())) {
            Ok(id) => id,
            Err(e) => {
                out.failures.push(malformed_row(op, i, &e.to_string()));
                continue;
            }
        };
        match decided_by_row(&object, store) {
            Some(repo) => out.repositories.push(repo),
            None => pending.push(Row { object, identity }),
        }
    }
    let (items, failures, calls) = batch_read(client, store, &pending).await;
    out.failures.extend(failures);
    out.calls.batch_reads += calls;
    for row in pending {
        let Some(item) = items.get(&row.identity) else {
            continue; // already a failure
        };
        match from_item(&row, item, store) {
            Ok(repo) => out.repositories.push(repo),
            Err(e) => out
                .failures
                .push(row.identity.failure("InvalidConfigurationItem", e)),
        }
    }
    out
}

fn malformed_row(op: &str, index: usize, problem: &str) -> Failure {
    Failure {
        account_id: None,
        region: None,
        repository: None,
        code: Some("MalformedResult".to_owned()),
        error: format!("{op} returned a row (number {index}) that is not a resource: {problem}"),
    }
}

/// The repository a row describes, when the row alone decides it: a status other than
/// active, or a mode without filters. The exclusion modes, and rows without a readable
/// setting, need the full item.
fn decided_by_row(object: &Map<String, Value>, store: Store<'_>) -> Option<Repository> {
    let bytes = serde_json::to_vec(object).ok()?;
    let mut repo = config::parse(&bytes, None).ok()?.repositories.pop()?;
    let decided = match (&repo.status, &repo.tag_mutability) {
        (ResourceStatus::Active, immutag_core::MutabilitySetting::Set { value }) => {
            !value.takes_filters()
        }
        (ResourceStatus::Active, _) => false,
        _ => true,
    };
    if !decided {
        return None;
    }
    repo.source = Source::new(store.kind());
    Some(repo)
}

/// The repository of a row and its full item: the item's members over the row's (the row
/// keeps what the batch read does not return: the tags).
fn from_item(
    row: &Row,
    item: &BaseConfigurationItem,
    store: Store<'_>,
) -> Result<Repository, String> {
    let status = item
        .configuration_item_status()
        .map(|s| s.as_str().to_owned());
    let active = matches!(
        status.as_deref(),
        None | Some("OK") | Some("ResourceDiscovered")
    );
    let configuration = item.configuration().filter(|c| !c.trim().is_empty());
    if active && configuration.is_none() {
        return Err(format!(
            "{} returned the item without its configuration: the tag mutability is unknown",
            store.batch_op()
        ));
    }
    let mut merged = row.object.clone();
    merged.remove("configuration");
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            merged.insert(k.to_owned(), Value::String(v));
        }
    };
    put("accountId", item.account_id().map(str::to_owned));
    put("awsRegion", item.aws_region().map(str::to_owned));
    put(
        "resourceType",
        item.resource_type().map(|t| t.as_str().to_owned()),
    );
    put("resourceId", item.resource_id().map(str::to_owned));
    put("resourceName", item.resource_name().map(str::to_owned));
    put("arn", item.arn().map(str::to_owned));
    put("configurationItemStatus", status);
    put("configuration", configuration.map(str::to_owned));
    if let Some(t) = item.configuration_item_capture_time() {
        let secs = t.secs() as f64 + f64::from(t.subsec_nanos()) / 1e9;
        if let Some(n) = serde_json::Number::from_f64(secs) {
            merged.insert("configurationItemCaptureTime".into(), Value::Number(n));
        }
    }
    let bytes = serde_json::to_vec(&merged).map_err(|e| e.to_string())?;
    let mut repo = config::parse(&bytes, None)
        .map_err(|e| e.to_string())?
        .repositories
        .pop()
        .ok_or_else(|| "the item describes no resource".to_owned())?;
    repo.source = Source::new(store.kind());
    Ok(repo)
}

type Items = BTreeMap<Identity, BaseConfigurationItem>;

/// The full items of `rows`, [`BATCH_SIZE`] per call, unprocessed identifiers retried;
/// with the failures (still unprocessed, not returned, a call that failed) and the calls.
async fn batch_read(
    client: &Client,
    store: Store<'_>,
    rows: &[Row],
) -> (Items, Vec<Failure>, usize) {
    let mut items = Items::new();
    let mut failures = Vec::new();
    let mut calls = 0usize;
    let mut wanted: Vec<Identity> = rows.iter().map(|r| r.identity.clone()).collect();
    wanted.sort();
    wanted.dedup();
    for chunk in wanted.chunks(BATCH_SIZE) {
        let mut pending: Vec<Identity> = chunk.to_vec();
        for round in 0..UNPROCESSED_ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            if round > 0 {
                tokio::time::sleep(Duration::from_millis(100 << round)).await;
            }
            calls += 1;
            match batch_call(client, store, &pending).await {
                Ok((found, unprocessed)) => {
                    for item in found {
                        if let Some(id) = pending.iter().find(|p| item_is(&item, p)) {
                            items.insert(id.clone(), item);
                        }
                    }
                    let returned: BTreeSet<&Identity> = items.keys().collect();
                    let mut next = Vec::new();
                    for id in &pending {
                        if returned.contains(id) {
                            continue;
                        }
                        if unprocessed.iter().any(|u| u == id) {
                            next.push(id.clone());
                        } else {
                            failures.push(id.failure(
                                "NotReturned",
                                format!(
                                    "{} returned neither the item nor an unprocessed identifier (deleted since the query?)",
                                    store.batch_op()
                                ),
                            ));
                        }
                    }
                    pending = next;
                }
                Err(err) => {
                    for id in &pending {
                        failures.push(id.failure(
                            err.code().unwrap_or("BatchReadFailed"),
                            format!("its configuration item: {err}"),
                        ));
                    }
                    pending.clear();
                }
            }
        }
        for id in pending {
            failures.push(id.failure(
                "UnprocessedResourceIdentifier",
                format!(
                    "{} left it unprocessed {UNPROCESSED_ATTEMPTS} times",
                    store.batch_op()
                ),
            ));
        }
    }
    (items, failures, calls)
}

fn item_is(item: &BaseConfigurationItem, id: &Identity) -> bool {
    item.resource_id() == Some(id.resource_id.as_str())
        && item.resource_type().map(ResourceType::as_str) == Some(id.resource_type.as_str())
        && (id.account_id.is_none() || item.account_id() == id.account_id.as_deref())
        && (id.aws_region.is_none() || item.aws_region() == id.aws_region.as_deref())
}

/// Request members built (a builder fails only when a required member is unset).
fn built<T>(
    op: &'static str,
    items: impl Iterator<Item = Result<T, aws_smithy_types::error::operation::BuildError>>,
) -> Result<Vec<T>, AwsError> {
    items
        .map(|r| {
            r.map_err(|e| AwsError::Api {
                operation: op,
                code: None,
                message: e.to_string(),
            })
        })
        .collect()
}

/// One batch read: the items returned, and the identifiers left unprocessed.
async fn batch_call(
    client: &Client,
    store: Store<'_>,
    ids: &[Identity],
) -> Result<(Vec<BaseConfigurationItem>, Vec<Identity>), AwsError> {
    let op = store.batch_op();
    match store {
        Store::Aggregator(name) => {
            let identifiers = built(
                op,
                ids.iter().map(|id| {
                    AggregateResourceIdentifier::builder()
                        .source_account_id(id.account_id.clone().unwrap_or_default())
                        .source_region(id.aws_region.clone().unwrap_or_default())
                        .resource_id(&id.resource_id)
                        .resource_type(ResourceType::from(id.resource_type.as_str()))
                        .build()
                }),
            )?;
            let resp = client
                .batch_get_aggregate_resource_config()
                .configuration_aggregator_name(name)
                .set_resource_identifiers(Some(identifiers))
                .send()
                .await
                .map_err(|e| AwsError::api(op, e))?;
            let unprocessed = resp
                .unprocessed_resource_identifiers()
                .iter()
                .map(|u| Identity {
                    resource_type: u.resource_type().as_str().to_owned(),
                    resource_id: u.resource_id().to_owned(),
                    account_id: Some(u.source_account_id().to_owned()),
                    aws_region: Some(u.source_region().to_owned()),
                })
                .collect();
            Ok((resp.base_configuration_items().to_vec(), unprocessed))
        }
        Store::Own => {
            let keys = built(
                op,
                ids.iter().map(|id| {
                    ResourceKey::builder()
                        .resource_id(&id.resource_id)
                        .resource_type(ResourceType::from(id.resource_type.as_str()))
                        .build()
                }),
            )?;
            let resp = client
                .batch_get_resource_config()
                .set_resource_keys(Some(keys))
                .send()
                .await
                .map_err(|e| AwsError::api(op, e))?;
            let unprocessed = resp
                .unprocessed_resource_keys()
                .iter()
                .filter_map(|k| {
                    ids.iter()
                        .find(|id| {
                            id.resource_id == k.resource_id()
                                && id.resource_type == k.resource_type().as_str()
                        })
                        .cloned()
                })
                .collect();
            Ok((resp.base_configuration_items().to_vec(), unprocessed))
        }
    }
}

/// An account or region the recorded state has no data for: its repositories are absent
/// from the scan (Config does not record there, or the aggregator does not aggregate it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NoData {
    /// The account (`None`: every account of the region).
    pub account_id: Option<String>,
    /// The region (`None`: every region of the account).
    pub region: Option<String>,
}

impl std::fmt::Display for NoData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.account_id, &self.region) {
            (Some(a), Some(r)) => write!(f, "account {a} region {r}"),
            (Some(a), None) => write!(f, "account {a} (every region)"),
            (None, Some(r)) => write!(f, "region {r} (every account)"),
            (None, None) => write!(f, "everything"),
        }
    }
}

/// What the aggregator says it aggregates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AggregatorScope {
    /// The accounts named by account sources (empty for an organization source).
    pub accounts: Vec<String>,
    /// The regions named by its sources.
    pub regions: Vec<String>,
    /// True when a source takes every region.
    pub all_regions: bool,
}

/// `config:DescribeConfigurationAggregators` for `name`: what it aggregates. An aggregator
/// that does not exist is `NoSuchConfigurationAggregatorException`.
pub async fn describe_aggregator(client: &Client, name: &str) -> Result<AggregatorScope, AwsError> {
    const OP: &str = "config:DescribeConfigurationAggregators";
    let resp = client
        .describe_configuration_aggregators()
        .configuration_aggregator_names(name)
        .send()
        .await
        .map_err(|e| AwsError::api(OP, e))?;
    let Some(agg) = resp
        .configuration_aggregators()
        .iter()
        .find(|a| a.configuration_aggregator_name() == Some(name))
    else {
        return Err(AwsError::Api {
            operation: OP,
            code: Some("NoSuchConfigurationAggregatorException".into()),
            message: format!("no configuration aggregator named {name}"),
        });
    };
    let mut scope = AggregatorScope::default();
    for s in agg.account_aggregation_sources() {
        scope.accounts.extend(s.account_ids().iter().cloned());
        scope.regions.extend(s.aws_regions().iter().cloned());
        scope.all_regions |= s.all_aws_regions();
    }
    if let Some(o) = agg.organization_aggregation_source() {
        scope.regions.extend(o.aws_regions().iter().cloned());
        scope.all_regions |= o.all_aws_regions();
    }
    scope.accounts.sort();
    scope.accounts.dedup();
    scope.regions.sort();
    scope.regions.dedup();
    Ok(scope)
}

/// The groups (account ids or regions) with any recorded resource in the aggregator:
/// `config:GetAggregateDiscoveredResourceCounts` grouped by `key`, pages of 1,000; with the
/// pages read.
pub async fn groups_with_data(
    client: &Client,
    name: &str,
    key: ResourceCountGroupKey,
) -> Result<(BTreeSet<String>, usize), AwsError> {
    const OP: &str = "config:GetAggregateDiscoveredResourceCounts";
    let key = &key;
    let (groups, pages) = crate::ecr::paginate(OP, |token| async move {
        let resp = client
            .get_aggregate_discovered_resource_counts()
            .configuration_aggregator_name(name)
            .group_by_key(key.clone())
            .limit(COUNT_PAGE_LIMIT)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::api(OP, e))?;
        let with_data = resp
            .grouped_resource_counts()
            .iter()
            .filter(|g| g.resource_count() > 0)
            .map(|g| g.group_name().to_owned())
            .collect();
        Ok((with_data, resp.next_token().map(str::to_owned)))
    })
    .await?;
    Ok((groups.into_iter().collect(), pages))
}

/// The accounts and regions the aggregator has no data for, among those expected: the
/// listed ones (`filter`), else those its sources name; for a source that takes every
/// region, `all_regions` (the caller's enabled regions). An account is expected only when
/// listed or named by an account source (an organization's members are not listed here).
/// With the calls made.
pub async fn aggregator_coverage(
    client: &Client,
    name: &str,
    scope: &AggregatorScope,
    filter: &QueryFilter,
    all_regions: Option<&[String]>,
) -> Result<(Vec<NoData>, usize), AwsError> {
    let mut calls = 0;
    let expected_regions: Vec<String> = if !filter.regions.is_empty() {
        filter.regions.clone()
    } else if scope.all_regions {
        all_regions.map(<[String]>::to_vec).unwrap_or_default()
    } else {
        scope.regions.clone()
    };
    let expected_accounts: Vec<String> = if filter.accounts.is_empty() {
        scope.accounts.clone()
    } else {
        filter.accounts.clone()
    };
    let mut out = Vec::new();
    if !expected_regions.is_empty() {
        let (have, pages) =
            groups_with_data(client, name, ResourceCountGroupKey::AwsRegion).await?;
        calls += pages;
        out.extend(
            expected_regions
                .iter()
                .filter(|r| !have.contains(*r))
                .map(|r| NoData {
                    account_id: None,
                    region: Some(r.clone()),
                }),
        );
    }
    if !expected_accounts.is_empty() {
        let (have, pages) =
            groups_with_data(client, name, ResourceCountGroupKey::AccountId).await?;
        calls += pages;
        out.extend(
            expected_accounts
                .iter()
                .filter(|a| !have.contains(*a))
                .map(|a| NoData {
                    account_id: Some(a.clone()),
                    region: None,
                }),
        );
    }
    out.sort();
    Ok((out, calls))
}

/// True when the caller's own Config has recorded anything in the client's region
/// (`config:GetDiscoveredResourceCounts`, one call).
pub async fn own_has_data(client: &Client) -> Result<bool, AwsError> {
    let resp = client
        .get_discovered_resource_counts()
        .send()
        .await
        .map_err(|e| AwsError::api("config:GetDiscoveredResourceCounts", e))?;
    Ok(resp.total_discovered_resources() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_push_the_filters_down_and_split_at_the_limit() {
        let all = select_expressions(&QueryFilter::default()).unwrap();
        assert_eq!(
            all,
            [format!(
                "SELECT {SELECT_FIELDS} WHERE resourceType IN ('AWS::ECR::Repository', 'AWS::ECR::RepositoryCreationTemplate')"
            )]
        );
        let accounts: Vec<String> = (0..500)
            .map(|i| format!("{:012}", 100_000_000_000u64 + i))
            .collect();
        let f = QueryFilter {
            accounts: accounts.clone(),
            regions: vec!["eu-west-1".into(), "us-east-1".into()],
        }
        .checked()
        .unwrap();
        let e = select_expressions(&f).unwrap();
        assert!(e.len() > 1, "{}", e.len());
        let mut seen = Vec::new();
        for x in &e {
            assert!(x.len() <= MAX_EXPRESSION_CHARS, "{}", x.len());
            assert!(
                x.ends_with(" AND awsRegion IN ('eu-west-1', 'us-east-1')"),
                "{x}"
            );
            let list = x
                .split("accountId IN (")
                .nth(1)
                .unwrap()
                .split(')')
                .next()
                .unwrap();
            seen.extend(list.split(", ").map(|a| a.trim_matches('\'').to_owned()));
        }
        assert_eq!(seen, accounts, "every account exactly once, in order");
        // Each expression but the last is full: one more account would pass the limit.
        assert!(e[0].len() + ", '123456789012'".len() > MAX_EXPRESSION_CHARS);
    }

    #[test]
    fn every_value_is_checked_before_it_enters_the_expression() {
        for bad in ["1' OR '1'='1", "12345678901", "1234567890123"] {
            let f = QueryFilter {
                accounts: vec![bad.into()],
                regions: vec![],
            };
            assert!(f.checked().is_err(), "{bad}");
        }
        let f = QueryFilter {
            accounts: vec![],
            regions: vec!["eu-west-1') OR ('a".into()],
        };
        assert!(f.checked().is_err());
        assert_eq!(quoted_list(["a'b"]), "'a''b'");
        assert!(check_aggregator_name("org-aggregator_1").is_ok());
        for bad in ["", "a b", "x'", &"a".repeat(257)] {
            assert!(check_aggregator_name(bad).is_err(), "{bad}");
        }
    }
}
