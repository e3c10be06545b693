//! Athena: one query over the trail's CloudTrail table (the table the CloudTrail console or
//! the partition-projection DDL of `docs/cli.md` creates). The event source, event name,
//! window, accounts and regions go into the `WHERE` clause, on the partition columns too when
//! the table has them (`GetTableMetadata` says which), so Athena scans only the days,
//! accounts and regions asked for. `StartQueryExecution`, `GetQueryExecution` until it ends,
//! `GetQueryResults` 1,000 rows a page; immutag reads only the PutImage rows.

use std::borrow::Cow;
use std::time::Duration;

use aws_sdk_athena::Client;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};
use immutag_core::evidence::record::{
    ECR_EVENT_SOURCE, ImageId, PUT_IMAGE, Record, RequestParameters, ResponseElements,
    ResponseImage, SessionContext, SessionIssuer, UserIdentity,
};
use immutag_core::evidence::{EvidenceBuilder, Selection};
use immutag_core::time::{self, Timestamp};

use super::{EvidenceOptions, EvidenceReport, ReadProgress, builder, window_end};
use crate::error::{AwsError, check_account_id, check_region};

/// The Glue Data Catalog.
const CATALOG: &str = "AwsDataCatalog";
/// Rows per `GetQueryResults` page (the API maximum).
const ROWS_PER_PAGE: i32 = 1000;
/// How long to wait for a query before giving up.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// A CloudTrail table in Athena, and where its query results go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AthenaTable {
    /// The database (Glue).
    pub database: String,
    /// The table.
    pub table: String,
    /// The workgroup (default: `primary`).
    pub workgroup: Option<String>,
    /// Where Athena writes the results (`s3://...`), when the workgroup sets none.
    pub output_location: Option<String>,
}

fn check_name(what: &str, name: &str) -> Result<(), AwsError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(AwsError::Evidence(format!(
            "Athena {what} `{}`: expected letters, digits, `_` and `-`",
            immutag_core::text::printable(name)
        )))
    }
}

impl AthenaTable {
    /// `DATABASE.TABLE`.
    ///
    /// ```
    /// use immutag_aws::evidence::AthenaTable;
    /// let t = AthenaTable::parse("security.cloudtrail_logs").unwrap();
    /// assert_eq!((t.database.as_str(), t.table.as_str()), ("security", "cloudtrail_logs"));
    /// assert!(AthenaTable::parse("no_dot").is_err());
    /// assert!(AthenaTable::parse("db.t; DROP TABLE x").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, AwsError> {
        let Some((database, table)) = text.split_once('.') else {
            return Err(AwsError::Evidence(format!(
                "--athena `{}`: expected DATABASE.TABLE",
                immutag_core::text::printable(text)
            )));
        };
        check_name("database", database)?;
        check_name("table", table)?;
        Ok(Self {
            database: database.to_owned(),
            table: table.to_owned(),
            workgroup: None,
            output_location: None,
        })
    }
}

/// The partition columns of the table that the query can prune on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Partitions {
    /// The date partition and its format (`timestamp`, `yyyy/MM/dd` in the AWS DDL).
    pub date: Option<(String, String)>,
    /// The account partition (`account`).
    pub account: Option<String>,
    /// The region partition (`region`).
    pub region: Option<String>,
}

impl Partitions {
    /// Recognises the partition keys of a CloudTrail table (`projection.COLUMN.format` in
    /// `parameters` gives the date format, `yyyy/MM/dd` otherwise). Unknown keys are left
    /// alone: the data columns still select the rows.
    pub fn from_table<'a>(
        keys: impl IntoIterator<Item = &'a str>,
        parameter: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let mut p = Self::default();
        for key in keys {
            let lower = key.to_ascii_lowercase();
            match lower.as_str() {
                "timestamp" | "date" | "dt" | "day" | "eventdate" => {
                    let format = parameter(&format!("projection.{key}.format"))
                        .unwrap_or_else(|| "yyyy/MM/dd".to_owned());
                    if day_format(&format).is_some() {
                        p.date = Some((key.to_owned(), format));
                    }
                }
                "account" | "accountid" | "account_id" => p.account = Some(key.to_owned()),
                "region" | "aws_region" => p.region = Some(key.to_owned()),
                _ => {}
            }
        }
        p
    }
}

/// A Java date format of days only (`yyyy/MM/dd`, `yyyy-MM-dd`, ...) as a strftime format.
fn day_format(java: &str) -> Option<String> {
    let f = java
        .replace("yyyy", "%Y")
        .replace("MM", "%m")
        .replace("dd", "%d");
    let ok = f.contains("%Y")
        && f.contains("%m")
        && f.contains("%d")
        && f.replace("%Y", "")
            .replace("%m", "")
            .replace("%d", "")
            .chars()
            .all(|c| "/-_".contains(c));
    ok.then_some(f)
}

fn quoted_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The query of `selection` over `table` between `since` and `until`. Account ids and
/// regions are checked first, so that nothing but them reaches the SQL.
pub fn query(
    table: &AthenaTable,
    partitions: &Partitions,
    selection: &Selection,
    since: Timestamp,
    until: Timestamp,
) -> Result<String, AwsError> {
    check_name("database", &table.database)?;
    check_name("table", &table.table)?;
    for a in &selection.accounts {
        check_account_id(a)?;
    }
    for r in &selection.regions {
        check_region(r)?;
    }
    let mut sql = format!(
        "SELECT eventid, eventtime, recipientaccountid, awsregion, useragent, errorcode,\n  \
         useridentity.type, useridentity.arn, useridentity.principalid, useridentity.accountid,\n  \
         useridentity.invokedby, useridentity.sessioncontext.sessionissuer.arn,\n  \
         json_extract_scalar(requestparameters, '$.repositoryName'),\n  \
         json_extract_scalar(requestparameters, '$.imageTag'),\n  \
         json_extract_scalar(requestparameters, '$.imageDigest'),\n  \
         json_extract_scalar(requestparameters, '$.registryId'),\n  \
         json_extract_scalar(responseelements, '$.image.imageId.imageDigest')\n\
         FROM \"{}\".\"{}\"\n\
         WHERE eventsource = '{ECR_EVENT_SOURCE}' AND eventname = '{PUT_IMAGE}'\n  \
         AND eventtime >= '{}' AND eventtime <= '{}'",
        table.database,
        table.table,
        time::format(since),
        time::format(until)
    );
    if let Some((column, java)) = &partitions.date
        && let Some(f) = day_format(java)
    {
        // Late deliveries are filed under the next day.
        let last = until
            .checked_add(jiff::SignedDuration::from_hours(24))
            .unwrap_or(until);
        sql.push_str(&format!(
            "\n  AND \"{column}\" >= '{}' AND \"{column}\" <= '{}'",
            since.strftime(&f),
            last.strftime(&f)
        ));
    }
    if !selection.accounts.is_empty() {
        let list = quoted_list(&selection.accounts);
        sql.push_str(&format!("\n  AND recipientaccountid IN ({list})"));
        if let Some(c) = &partitions.account {
            sql.push_str(&format!(" AND \"{c}\" IN ({list})"));
        }
    }
    if !selection.regions.is_empty() {
        let list = quoted_list(&selection.regions);
        sql.push_str(&format!("\n  AND awsregion IN ({list})"));
        if let Some(c) = &partitions.region {
            sql.push_str(&format!(" AND \"{c}\" IN ({list})"));
        }
    }
    Ok(sql)
}

/// The columns of [`query`], in order.
const COLUMNS: usize = 17;

/// Feeds one result row (the columns of [`query`]) to the builder as the record it came from.
fn row_to_builder(row: &[Option<&str>], b: &mut EvidenceBuilder) {
    let c = |i: usize| row.get(i).copied().flatten().map(Cow::Borrowed);
    if row.len() != COLUMNS {
        b.put_image_problem(
            row.first().copied().flatten(),
            format!("Athena row of {} columns, expected {COLUMNS}", row.len()),
        );
        return;
    }
    let record = Record {
        event_id: c(0),
        event_time: c(1),
        event_source: Some(Cow::Borrowed(ECR_EVENT_SOURCE)),
        event_name: Some(Cow::Borrowed(PUT_IMAGE)),
        recipient_account_id: c(2),
        aws_region: c(3),
        user_agent: c(4),
        error_code: c(5),
        user_identity: Some(UserIdentity {
            kind: c(6),
            arn: c(7),
            principal_id: c(8),
            account_id: c(9),
            invoked_by: c(10),
            session_context: Some(SessionContext {
                session_issuer: Some(SessionIssuer { arn: c(11) }),
            }),
        }),
        request_parameters: Some(RequestParameters {
            repository_name: c(12),
            image_tag: c(13),
            image_digest: c(14),
            registry_id: c(15),
        }),
        response_elements: Some(ResponseElements {
            image: Some(ResponseImage {
                registry_id: None,
                image_id: Some(ImageId {
                    image_digest: c(16),
                    image_tag: None,
                }),
            }),
        }),
    };
    b.record(&record);
}

pub(super) async fn read(
    base: &aws_types::SdkConfig,
    table: &AthenaTable,
    opts: &EvidenceOptions,
    progress: &dyn ReadProgress,
) -> Result<EvidenceReport, AwsError> {
    let client = Client::new(base);
    run(&client, table, opts, progress).await
}

/// The whole Athena read with `client`.
async fn run(
    client: &Client,
    table: &AthenaTable,
    opts: &EvidenceOptions,
    progress: &dyn ReadProgress,
) -> Result<EvidenceReport, AwsError> {
    let since = opts.selection.window.since.ok_or_else(|| {
        AwsError::Evidence(
            "an Athena source needs the start of the window (--since): it bounds the partitions scanned".into(),
        )
    })?;
    let until = window_end(opts);

    let meta = client
        .get_table_metadata()
        .catalog_name(CATALOG)
        .database_name(&table.database)
        .table_name(&table.table)
        .send()
        .await
        .map_err(|e| AwsError::api("athena:GetTableMetadata", e))?;
    let partitions = match meta.table_metadata() {
        Some(m) => Partitions::from_table(m.partition_keys().iter().map(|c| c.name()), |k| {
            m.parameters().and_then(|p| p.get(k)).cloned()
        }),
        None => Partitions::default(),
    };
    if partitions.date.is_none() {
        progress.note(&format!(
            "{}.{} has no date partition immutag knows: Athena scans the whole table (see the partition-projection DDL in docs/cli.md)",
            table.database, table.table
        ));
    }
    let sql = query(table, &partitions, &opts.selection, since, until)?;
    tracing::debug!(%sql, "athena query");

    let mut start = client
        .start_query_execution()
        .query_string(&sql)
        .query_execution_context(
            QueryExecutionContext::builder()
                .catalog(CATALOG)
                .database(&table.database)
                .build(),
        )
        .work_group(table.workgroup.as_deref().unwrap_or("primary"));
    if let Some(loc) = &table.output_location {
        start =
            start.result_configuration(ResultConfiguration::builder().output_location(loc).build());
    }
    let id = start
        .send()
        .await
        .map_err(|e| AwsError::api("athena:StartQueryExecution", e))?
        .query_execution_id()
        .ok_or(AwsError::MissingField {
            operation: "athena:StartQueryExecution",
            field: "QueryExecutionId",
        })?
        .to_owned();
    progress.note(&format!("Athena query {id} started"));

    wait(client, &id, progress).await?;

    let mut b = builder(opts);
    b.set_source(&format!("Athena query {id}"));
    let mut token: Option<String> = None;
    let mut pages: u64 = 0;
    loop {
        const OP: &str = "athena:GetQueryResults";
        let resp = client
            .get_query_results()
            .query_execution_id(&id)
            .max_results(ROWS_PER_PAGE)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::api(OP, e))?;
        pages += 1;
        let rows = resp.result_set().map(|r| r.rows()).unwrap_or_default();
        for (i, row) in rows.iter().enumerate() {
            let data: Vec<Option<&str>> = row.data().iter().map(|d| d.var_char_value()).collect();
            // The first row of the first page repeats the column names.
            if pages == 1 && i == 0 && data.first() == Some(&Some("eventid")) {
                continue;
            }
            row_to_builder(&data, &mut b);
        }
        progress.advanced(0);
        token = crate::ecr::next_token(OP, token.as_deref(), resp.next_token(), pages as usize)?;
        if token.is_none() {
            break;
        }
    }
    let sel = &opts.selection;
    for a in &sel.accounts {
        for r in &sel.regions {
            b.cover(a, r, since, until);
        }
    }
    Ok(EvidenceReport {
        evidence: b.finish(),
        failures: Vec::new(),
        units: pages,
        bytes: 0,
    })
}

/// Polls `GetQueryExecution` until the query ends: an error naming Athena's reason when it
/// failed or was cancelled.
async fn wait(client: &Client, id: &str, progress: &dyn ReadProgress) -> Result<(), AwsError> {
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(250);
    let mut last_note = started;
    loop {
        let resp = client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| AwsError::api("athena:GetQueryExecution", e))?;
        let exec = resp.query_execution();
        let status = exec.and_then(|e| e.status());
        match status.and_then(|s| s.state()) {
            Some(QueryExecutionState::Succeeded) => {
                if let Some(scanned) = exec
                    .and_then(|e| e.statistics())
                    .and_then(|s| s.data_scanned_in_bytes())
                {
                    progress.note(&format!(
                        "Athena query {id} succeeded: {:.1} MB scanned",
                        scanned as f64 / 1e6
                    ));
                }
                return Ok(());
            }
            Some(state @ (QueryExecutionState::Failed | QueryExecutionState::Cancelled)) => {
                let reason = status
                    .and_then(|s| s.athena_error().and_then(|e| e.error_message()))
                    .or_else(|| status.and_then(|s| s.state_change_reason()))
                    .unwrap_or("no reason given");
                return Err(AwsError::Evidence(format!(
                    "Athena query {id} {}: {}",
                    state.as_str().to_ascii_lowercase(),
                    immutag_core::text::printable(reason)
                )));
            }
            _ => {}
        }
        if started.elapsed() > MAX_WAIT {
            return Err(AwsError::Evidence(format!(
                "Athena query {id} still running after {} min: stopped waiting (it may still finish: see the Athena console)",
                MAX_WAIT.as_secs() / 60
            )));
        }
        if last_note.elapsed() > Duration::from_secs(30) {
            progress.note(&format!(
                "Athena query {id}: {} for {} s",
                status
                    .and_then(|s| s.state())
                    .map(|s| s.as_str().to_ascii_lowercase())
                    .unwrap_or_else(|| "waiting".into()),
                started.elapsed().as_secs()
            ));
            last_note = tokio::time::Instant::now();
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use aws_sdk_athena::operation::get_query_execution::GetQueryExecutionOutput;
    use aws_sdk_athena::operation::get_query_results::GetQueryResultsOutput;
    use aws_sdk_athena::operation::get_table_metadata::GetTableMetadataOutput;
    use aws_sdk_athena::operation::start_query_execution::StartQueryExecutionOutput;
    use aws_sdk_athena::types::{
        AthenaError, Column, Datum, QueryExecution, QueryExecutionStatistics, QueryExecutionStatus,
        ResultSet, Row, TableMetadata,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    const EXPECTED: &str = "SELECT eventid, eventtime, recipientaccountid, awsregion, useragent, errorcode,
  useridentity.type, useridentity.arn, useridentity.principalid, useridentity.accountid,
  useridentity.invokedby, useridentity.sessioncontext.sessionissuer.arn,
  json_extract_scalar(requestparameters, '$.repositoryName'),
  json_extract_scalar(requestparameters, '$.imageTag'),
  json_extract_scalar(requestparameters, '$.imageDigest'),
  json_extract_scalar(requestparameters, '$.registryId'),
  json_extract_scalar(responseelements, '$.image.imageId.imageDigest')
FROM \"security\".\"cloudtrail_org\"
WHERE eventsource = 'ecr.amazonaws.com' AND eventname = 'PutImage'
  AND eventtime >= '2026-10-27T12:00:00Z' AND eventtime <= '2026-11-26T12:00:00Z'
  AND \"timestamp\" >= '2026/10/27' AND \"timestamp\" <= '2026/11/27'
  AND recipientaccountid IN ('111122223333', '444455556666') AND \"account\" IN ('111122223333', '444455556666')
  AND awsregion IN ('eu-west-1') AND \"region\" IN ('eu-west-1')";

    fn opts() -> EvidenceOptions {
        EvidenceOptions {
            selection: Selection {
                window: immutag_core::evidence::Window {
                    since: Some("2026-10-27T12:00:00Z".parse().unwrap()),
                    until: None,
                },
                accounts: vec!["111122223333".into(), "444455556666".into()],
                regions: vec!["eu-west-1".into()],
                ..Selection::default()
            },
            now: "2026-11-26T12:00:00Z".parse().unwrap(),
            targets: crate::targets::TargetOptions::default(),
            concurrency: 4,
        }
    }

    fn table() -> AthenaTable {
        AthenaTable {
            output_location: Some("s3://athena-results/immutag/".into()),
            ..AthenaTable::parse("security.cloudtrail_org").unwrap()
        }
    }

    fn metadata() -> GetTableMetadataOutput {
        let col = |n: &str| Column::builder().name(n).r#type("string").build().unwrap();
        GetTableMetadataOutput::builder()
            .table_metadata(
                TableMetadata::builder()
                    .name("cloudtrail_org")
                    .partition_keys(col("account"))
                    .partition_keys(col("region"))
                    .partition_keys(col("timestamp"))
                    .parameters("projection.timestamp.format", "yyyy/MM/dd")
                    .build()
                    .unwrap(),
            )
            .build()
    }

    fn execution(state: QueryExecutionState, error: Option<&str>) -> GetQueryExecutionOutput {
        let mut status = QueryExecutionStatus::builder().state(state);
        if let Some(m) = error {
            status = status.athena_error(AthenaError::builder().error_message(m).build());
        }
        GetQueryExecutionOutput::builder()
            .query_execution(
                QueryExecution::builder()
                    .query_execution_id("q-1")
                    .status(status.build())
                    .statistics(
                        QueryExecutionStatistics::builder()
                            .data_scanned_in_bytes(5_000_000)
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    fn row(cells: &[Option<&str>]) -> Row {
        Row::builder()
            .set_data(Some(
                cells
                    .iter()
                    .map(|c| {
                        Datum::builder()
                            .set_var_char_value(c.map(str::to_owned))
                            .build()
                    })
                    .collect(),
            ))
            .build()
    }

    fn push(id: &str, t: &str, tag: &str, digest: Option<&str>, error: Option<&str>) -> Row {
        row(&[
            Some(id),
            Some(t),
            Some("111122223333"),
            Some("eu-west-1"),
            Some("docker/27.3.1"),
            error,
            Some("AssumedRole"),
            Some("arn:aws:sts::111122223333:assumed-role/ci-deploy/build-7"),
            Some("AROAEXAMPLE:build-7"),
            Some("111122223333"),
            None,
            Some("arn:aws:iam::111122223333:role/ci-deploy"),
            Some("web"),
            Some(tag),
            None,
            Some("111122223333"),
            digest,
        ])
    }

    fn header() -> Row {
        let names = [
            "eventid",
            "eventtime",
            "recipientaccountid",
            "awsregion",
            "useragent",
            "errorcode",
            "type",
            "arn",
            "principalid",
            "accountid",
            "invokedby",
            "arn",
            "_col12",
            "_col13",
            "_col14",
            "_col15",
            "_col16",
        ];
        row(&names.map(Some))
    }

    #[tokio::test]
    async fn the_query_pushes_the_selection_down_and_the_pages_are_read() {
        let meta = mock!(Client::get_table_metadata)
            .match_requests(|r| {
                r.catalog_name() == Some("AwsDataCatalog")
                    && r.database_name() == Some("security")
                    && r.table_name() == Some("cloudtrail_org")
            })
            .then_output(metadata);
        let start = mock!(Client::start_query_execution)
            .match_requests(|r| {
                assert_eq!(r.query_string().unwrap(), EXPECTED);
                r.work_group() == Some("primary")
                    && r.result_configuration().and_then(|c| c.output_location())
                        == Some("s3://athena-results/immutag/")
                    && r.query_execution_context().and_then(|c| c.database()) == Some("security")
            })
            .then_output(|| {
                StartQueryExecutionOutput::builder()
                    .query_execution_id("q-1")
                    .build()
            });
        let poll = mock!(Client::get_query_execution)
            .sequence()
            .output(|| execution(QueryExecutionState::Queued, None))
            .output(|| execution(QueryExecutionState::Running, None))
            .output(|| execution(QueryExecutionState::Succeeded, None))
            .build();
        let page1 = mock!(Client::get_query_results)
            .match_requests(|r| r.next_token().is_none() && r.max_results() == Some(1000))
            .then_output(|| {
                GetQueryResultsOutput::builder()
                    .result_set(
                        ResultSet::builder()
                            .rows(header())
                            .rows(push(
                                "e1",
                                "2026-11-20T10:00:00Z",
                                "latest",
                                Some("sha256:a"),
                                None,
                            ))
                            .rows(push(
                                "e2",
                                "2026-11-21T10:00:00Z",
                                "latest",
                                Some("sha256:b"),
                                None,
                            ))
                            .build(),
                    )
                    .next_token("p2")
                    .build()
            });
        let page2 = mock!(Client::get_query_results)
            .match_requests(|r| r.next_token() == Some("p2"))
            .then_output(|| {
                GetQueryResultsOutput::builder()
                    .result_set(
                        ResultSet::builder()
                            .rows(push(
                                "e3",
                                "2026-11-22T10:00:00Z",
                                "v1",
                                None,
                                Some("ImageTagAlreadyExistsException"),
                            ))
                            .rows(row(&[Some("e4"), Some("2026-11-22T11:00:00Z")]))
                            .build(),
                    )
                    .build()
            });
        let client = mock_client!(
            aws_sdk_athena,
            RuleMode::MatchAny,
            &[&meta, &start, &poll, &page1, &page2]
        );
        let report = run(&client, &table(), &opts(), &super::super::Quiet)
            .await
            .unwrap();
        assert_eq!(report.units, 2);
        let e = report.evidence;
        assert_eq!(e.stats().put_image, 4);
        let web = e.repository(Some("111122223333"), Some("eu-west-1"), "web");
        let latest = web.moved_tags().next().unwrap();
        assert_eq!((latest.tag.as_str(), latest.moves), ("latest", 1));
        assert_eq!(
            latest.principals[0].principal_arn,
            "arn:aws:iam::111122223333:role/ci-deploy"
        );
        let v1 = web.tags.iter().find(|t| t.tag == "v1").unwrap();
        assert_eq!(v1.refused_moves, 1);
        // The short row is named, not dropped.
        assert_eq!(e.problems().len(), 1);
        assert!(
            e.problems()[0].problem.contains("2 columns"),
            "{:?}",
            e.problems()
        );
        // Every account and region asked for is covered, pushes or not.
        assert!(e.covers("444455556666", "eu-west-1").is_some());
    }

    #[tokio::test]
    async fn a_failed_query_is_surfaced_with_athenas_reason() {
        let meta = mock!(Client::get_table_metadata).then_output(metadata);
        let start = mock!(Client::start_query_execution).then_output(|| {
            StartQueryExecutionOutput::builder()
                .query_execution_id("q-1")
                .build()
        });
        let poll = mock!(Client::get_query_execution).then_output(|| {
            execution(
                QueryExecutionState::Failed,
                Some("TABLE_NOT_FOUND: line 8:6: Table 'awsdatacatalog.security.cloudtrail_org' does not exist"),
            )
        });
        let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, &[&meta, &start, &poll]);
        let err = run(&client, &table(), &opts(), &super::super::Quiet)
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("Athena query q-1 failed") && text.contains("TABLE_NOT_FOUND"),
            "{text}"
        );

        // No start of the window: refused before any call.
        let mut open = opts();
        open.selection.window.since = None;
        let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, &[&meta]);
        let err = run(&client, &table(), &open, &super::super::Quiet)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("--since"), "{err}");
    }

    #[test]
    fn partitions_and_query_guards() {
        let p = Partitions::from_table(["dt", "Region"], |_| Some("yyyy-MM-dd".into()));
        assert_eq!(p.date, Some(("dt".into(), "yyyy-MM-dd".into())));
        assert_eq!(p.region.as_deref(), Some("Region"));
        assert_eq!(
            Partitions::from_table(["timestamp"], |_| Some("yyyy/MM/dd/HH".into())).date,
            None
        );
        let since: Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
        let sql = query(&table(), &p, &Selection::default(), since, since).unwrap();
        assert!(
            sql.contains("\"dt\" >= '2026-11-01' AND \"dt\" <= '2026-11-02'"),
            "{sql}"
        );
        assert!(!sql.contains("recipientaccountid IN"));
        let bad = Selection {
            accounts: vec!["1' OR '1'='1".into()],
            ..Selection::default()
        };
        assert!(query(&table(), &p, &bad, since, since).is_err());
    }
}
