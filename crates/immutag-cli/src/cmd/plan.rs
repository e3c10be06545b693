//! `immutag plan`: for every non-compliant repository of the selected accounts and regions,
//! read its images and recommend the setting to apply, with the evidence.
//!
//! `--output json` prints a [`PlanDocument`] (schema: `immutag schema plan`), the input of
//! `immutag remediate`.

use std::io::{self, Write};

use clap::ValueEnum;
use comfy_table::{ContentArrangement, Table, presets};

use immutag_core::plan::{PlanDocument, Recommendation, RepositoryPlan};

use crate::cmd::fleet::{self, Bar, FleetArgs};
use crate::exit;
use crate::params::command_line_params;

/// Output formats of `immutag plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum PlanFormat {
    /// A table for people, then the untagged-image lifecycle policy when one is suggested.
    #[default]
    Table,
    /// The plan document (the input of `immutag remediate`).
    Json,
    /// CSV with a header row, one row per repository.
    Csv,
}

/// Arguments of `immutag plan`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 nothing to change, 1 some repository to change or review, \
2 usage error, or an account/region/repository that could not be read (the rest is still printed).\n\n\
Examples:\n  immutag plan --regions eu-west-1 --output json > plan.json\n  \
immutag plan --org --all-regions --param AllowedExclusionFilters=latest"
)]
pub struct Args {
    /// Accounts, regions, credentials.
    #[command(flatten)]
    pub fleet: FleetArgs,

    /// A rule parameter, `KEY=VALUE` (repeatable). Overrides the same key from --params-file.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,

    /// A JSON object of string values, as in Config's `ruleParameters`.
    #[arg(long, value_name = "FILE")]
    pub params_file: Option<std::path::PathBuf>,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let params =
        command_line_params(&args.params, args.params_file.as_deref())?.unwrap_or_default();
    args.fleet.validate()?;
    let opts = args.fleet.fan_out_options();
    let session_opts = args.fleet.session_options();

    let runtime = fleet::runtime()?;
    let bar = Bar::new(args.fleet.no_progress, "planning");
    let result = runtime.block_on(async {
        let base = immutag_aws::session::load(&session_opts).await;
        immutag_aws::plan::plan(&base, &opts, &params, &bar).await
    });
    bar.clear();
    let doc = result.map_err(fleet::setup_error)?;

    fleet::with_stdout(|out| match args.output {
        PlanFormat::Table => write_table(&doc, out),
        PlanFormat::Json => write_json(&doc, out),
        PlanFormat::Csv => write_csv(&doc, out),
    })?;
    let failed = fleet::report_failures(&doc.failures, &[]);
    Ok(if failed {
        exit::USAGE
    } else if doc.repositories.is_empty() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

fn filters_text(plan: &RepositoryPlan, target: bool) -> String {
    let list = if target {
        &plan.target_filters
    } else {
        &plan.current_filters
    };
    list.iter()
        .map(|f| f.filter.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

fn floating_text(plan: &RepositoryPlan) -> String {
    plan.evidence
        .floating_tags
        .iter()
        .map(|t| t.tag.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

/// The table, a summary line, and the suggested lifecycle policy.
pub fn write_table(doc: &PlanDocument, out: &mut dyn Write) -> io::Result<()> {
    if doc.repositories.is_empty() {
        writeln!(out, "Nothing to change: no non-compliant repository.")?;
    } else {
        let mut table = Table::new();
        table.load_style(presets::UTF8_FULL_CONDENSED);
        table.force_no_tty();
        if let Some(w) = crate::output::table::terminal_width() {
            table
                .set_width(w)
                .set_content_arrangement(ContentArrangement::Dynamic);
        }
        table.set_header([
            "ACCOUNT",
            "REGION",
            "REPOSITORY",
            "CURRENT",
            "RECOMMENDATION",
            "FILTERS",
            "IMAGES",
            "UNTAGGED",
            "RE-USED TAGS",
            "NOTES",
        ]);
        for p in &doc.repositories {
            let current = if p.current_filters.is_empty() {
                p.current_mutability.as_str().to_owned()
            } else {
                format!("{} ({})", p.current_mutability, filters_text(p, false))
            };
            table.add_row([
                p.account_id.clone().unwrap_or_default(),
                p.region.clone().unwrap_or_default(),
                p.name.clone(),
                current,
                p.recommendation.as_str().to_owned(),
                filters_text(p, true),
                p.evidence.images.to_string(),
                p.evidence.untagged_images.to_string(),
                floating_text(p),
                p.evidence.notes.join(" "),
            ]);
        }
        writeln!(out, "{table}")?;
        let count = |r: Recommendation| {
            doc.repositories
                .iter()
                .filter(|p| p.recommendation == r)
                .count()
        };
        writeln!(
            out,
            "{} non-compliant: {} IMMUTABLE, {} IMMUTABLE_WITH_EXCLUSION, {} REVIEW.",
            doc.repositories.len(),
            count(Recommendation::Immutable),
            count(Recommendation::ImmutableWithExclusion),
            count(Recommendation::Review)
        )?;
        let with_untagged = doc
            .repositories
            .iter()
            .filter(|p| p.lifecycle_policy.is_some())
            .count();
        if let Some(policy) = doc
            .repositories
            .iter()
            .find_map(|p| p.lifecycle_policy.as_ref())
        {
            writeln!(
                out,
                "\n{with_untagged} repositories hold untagged images. Suggested lifecycle policy \
                 (aws ecr put-lifecycle-policy --lifecycle-policy-text file://policy.json):"
            )?;
            serde_json::to_writer_pretty(&mut *out, policy).map_err(io::Error::other)?;
            writeln!(out)?;
        }
    }
    if !doc.failures.is_empty() {
        writeln!(out, "\nCould not read:")?;
        for f in &doc.failures {
            writeln!(out, "  {}: {}", fleet::failure_label(f), f.error)?;
        }
    }
    Ok(())
}

/// The plan document, pretty-printed.
pub fn write_json(doc: &PlanDocument, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc).map_err(io::Error::other)?;
    writeln!(out)
}

/// One row per repository; lists are `;`-separated.
pub fn write_csv(doc: &PlanDocument, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "account_id",
        "region",
        "name",
        "arn",
        "current_mutability",
        "current_filters",
        "compliance",
        "reason",
        "recommendation",
        "target_mutability",
        "target_filters",
        "images",
        "untagged_images",
        "floating_tags",
        "lifecycle_policy",
        "notes",
    ])
    .map_err(io::Error::other)?;
    for p in &doc.repositories {
        w.write_record([
            p.account_id.clone().unwrap_or_default(),
            p.region.clone().unwrap_or_default(),
            p.name.clone(),
            p.arn.clone().unwrap_or_default(),
            p.current_mutability.as_str().to_owned(),
            filters_text(p, false),
            p.compliance.as_str().to_owned(),
            p.reason.id().to_owned(),
            p.recommendation.as_str().to_owned(),
            p.target_mutability
                .as_ref()
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default(),
            filters_text(p, true),
            p.evidence.images.to_string(),
            p.evidence.untagged_images.to_string(),
            floating_text(p),
            p.lifecycle_policy
                .as_ref()
                .map(|v| v.to_string())
                .unwrap_or_default(),
            p.evidence.notes.join(" "),
        ])
        .map_err(io::Error::other)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use immutag_core::plan::{ImageRecord, PLAN_SCHEMA_VERSION, ReadFailure, recommend};
    use immutag_core::{InputKind, Repository, RuleParameters, TagMutability};

    fn doc() -> PlanDocument {
        let mut repo =
            Repository::new("web", InputKind::Live).with_mutability(TagMutability::Mutable);
        repo.account_id = Some("111122223333".into());
        repo.region = Some("eu-west-1".into());
        let images = vec![
            ImageRecord::new("sha256:1", ["latest", "v1"]),
            ImageRecord::new("sha256:2", Vec::<String>::new()),
        ];
        PlanDocument {
            schema_version: PLAN_SCHEMA_VERSION,
            repositories: vec![recommend(&repo, &images, &RuleParameters::default())],
            failures: vec![ReadFailure {
                account_id: Some("444455556666".into()),
                region: Some("eu-west-1".into()),
                repository: None,
                code: Some("AccessDeniedException".into()),
                error: "ecr:DescribeRepositories failed".into(),
            }],
        }
    }

    #[test]
    fn table_lists_recommendation_policy_and_failures() {
        let mut out = Vec::new();
        write_table(&doc(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("IMMUTABLE_WITH_EXCLUSION"), "{text}");
        assert!(text.contains("latest"), "{text}");
        assert!(text.contains("\"tagStatus\": \"untagged\""), "{text}");
        assert!(text.contains("444455556666/eu-west-1"), "{text}");
    }

    #[test]
    fn csv_has_one_row_per_repository() {
        let mut out = Vec::new();
        write_csv(&doc(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut rows = csv::Reader::from_reader(text.as_bytes());
        let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 1);
        assert_eq!(&records[0][0], "111122223333");
        assert_eq!(&records[0][8], "IMMUTABLE_WITH_EXCLUSION");
        assert_eq!(&records[0][10], "latest");
        assert_eq!(&records[0][12], "1");
    }

    #[test]
    fn json_is_the_plan_document() {
        let mut out = Vec::new();
        write_json(&doc(), &mut out).unwrap();
        let back: PlanDocument = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, doc());
    }
}
