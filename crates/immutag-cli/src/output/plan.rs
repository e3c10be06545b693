//! The renderings of a plan (`immutag plan`): a table for people (with the suggested
//! lifecycle policy), the plan document as JSON (the input of `immutag remediate`), CSV.

use std::io::{self, Write};

use comfy_table::{ContentArrangement, Table, presets};
use immutag_core::plan::{BYTES_PER_GB, Grounds, Plan, Recommendation};
use immutag_core::text::printable;

/// `1.50 GB` (GB of 2^30 bytes, as storage is billed).
fn gb(bytes: u64) -> String {
    format!("{:.2} GB", bytes as f64 / BYTES_PER_GB as f64)
}

/// `3 (1.50 GB, $0.15/month)`; `0` when none.
fn untagged_text(rec: &Recommendation) -> String {
    if rec.basis.untagged_images == 0 {
        return "0".to_owned();
    }
    format!(
        "{} ({}, ${:.2}/month)",
        rec.basis.untagged_images,
        gb(rec.basis.untagged_bytes),
        rec.basis.untagged_monthly_usd
    )
}

fn filters_text(rec: &Recommendation, target: bool) -> String {
    let list = if target {
        rec.proposal.filters()
    } else {
        &rec.current_filters
    };
    list.iter()
        .map(|f| f.filter.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

/// The re-used tags; on evidence each with its moves (`latest (12 moves)`), production-like
/// ones marked.
fn floating_text(rec: &Recommendation) -> String {
    rec.basis
        .floating_tags
        .iter()
        .map(|t| {
            let mut text = t.tag.clone();
            if let Some(m) = &t.moved {
                text.push_str(&format!(" ({} moves)", m.moves));
            }
            if t.production {
                text.push_str(" [production]");
            }
            text
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// The table, a summary line, and the suggested lifecycle policy.
pub fn write_table(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    if plan.repositories.is_empty() {
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
            "BASIS",
            "FILTERS",
            "IMAGES",
            "UNTAGGED",
            "RE-USED TAGS",
            "NOTES",
        ]);
        for p in &plan.repositories {
            let current = if p.current_filters.is_empty() {
                p.current_mutability.as_str().to_owned()
            } else {
                format!("{} ({})", p.current_mutability, filters_text(p, false))
            };
            table.add_row(
                [
                    p.account_id.clone().unwrap_or_default(),
                    p.region.clone().unwrap_or_default(),
                    p.name.clone(),
                    current,
                    p.proposal.as_str().to_owned(),
                    p.basis.grounds.as_str().to_owned(),
                    filters_text(p, true),
                    p.basis.images.to_string(),
                    untagged_text(p),
                    floating_text(p),
                    p.basis.notes.join(" "),
                ]
                .map(|cell| printable(&cell).into_owned()),
            );
        }
        writeln!(out, "{table}")?;
        let count = |kind: &str| {
            plan.repositories
                .iter()
                .filter(|p| p.proposal.as_str() == kind)
                .count()
        };
        writeln!(
            out,
            "{} non-compliant: {} IMMUTABLE, {} IMMUTABLE_WITH_EXCLUSION, {} REVIEW.",
            plan.repositories.len(),
            count("IMMUTABLE"),
            count("IMMUTABLE_WITH_EXCLUSION"),
            count("REVIEW")
        )?;
        let (images, bytes, usd) = plan.untagged_total();
        writeln!(
            out,
            "Untagged images: {images}, {} (an upper bound: layers shared with other images are counted in full), about ${usd:.2}/month at ${} per GB-month; untagged referrers (signatures, SBOMs) not counted.",
            gb(bytes),
            plan.storage_price_usd_per_gb_month
        )?;
        let grounds = |g: Grounds| {
            plan.repositories
                .iter()
                .filter(|p| p.basis.grounds == g)
                .count()
        };
        let (guess, not_covered) = (grounds(Grounds::Guess), grounds(Grounds::NotCovered));
        if guess > 0 {
            writeln!(
                out,
                "{guess} recommendation(s) are a guess from tag names: plan on evidence with --evidence or --athena (CloudTrail) before applying."
            )?;
        }
        if not_covered > 0 {
            writeln!(
                out,
                "{not_covered} repositor(ies) in accounts or regions the evidence does not cover: marked REVIEW, not called safe."
            )?;
        }
        let with_untagged = plan
            .repositories
            .iter()
            .filter(|p| p.lifecycle_policy.is_some())
            .count();
        if let Some(policy) = plan
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
    if !plan.failures.is_empty() {
        writeln!(out, "\nCould not read:")?;
        for f in &plan.failures {
            writeln!(
                out,
                "  {}: {}",
                crate::output::progress::failure_label(f),
                printable(&f.error)
            )?;
        }
    }
    Ok(())
}

/// The plan document, pretty-printed.
pub fn write_json(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, plan).map_err(io::Error::other)?;
    writeln!(out)
}

/// One row per repository; lists are `;`-separated.
pub fn write_csv(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
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
        "grounds",
        "untagged_bytes",
        "untagged_monthly_usd",
    ])
    .map_err(io::Error::other)?;
    for p in &plan.repositories {
        w.write_record([
            p.account_id.clone().unwrap_or_default(),
            p.region.clone().unwrap_or_default(),
            p.name.clone(),
            p.arn.clone().unwrap_or_default(),
            p.current_mutability.as_str().to_owned(),
            filters_text(p, false),
            p.compliance.as_str().to_owned(),
            p.reason.id().to_owned(),
            p.proposal.as_str().to_owned(),
            p.proposal
                .target()
                .map(|s| s.mode.as_str().to_owned())
                .unwrap_or_default(),
            filters_text(p, true),
            p.basis.images.to_string(),
            p.basis.untagged_images.to_string(),
            floating_text(p),
            p.lifecycle_policy
                .as_ref()
                .map(|v| v.to_string())
                .unwrap_or_default(),
            p.basis.notes.join(" "),
            p.basis.grounds.as_str().to_owned(),
            p.basis.untagged_bytes.to_string(),
            format!("{:.4}", p.basis.untagged_monthly_usd),
        ])
        .map_err(io::Error::other)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use immutag_core::plan::{ImageRecord, ReadFailure, recommend};
    use immutag_core::{InputKind, Repository, RuleParameters, TagMutability};

    fn doc() -> Plan {
        let mut repo =
            Repository::new("web", InputKind::Live).with_mutability(TagMutability::Mutable);
        repo.account_id = Some("111122223333".into());
        repo.region = Some("eu-west-1".into());
        let mut left = ImageRecord::new("sha256:2", Vec::<String>::new());
        left.size_bytes = Some(3 << 29);
        let images = vec![ImageRecord::new("sha256:1", ["latest", "v1"]), left];
        Plan::new(
            vec![recommend(&repo, &images, &RuleParameters::default())],
            vec![ReadFailure {
                account_id: Some("444455556666".into()),
                region: Some("eu-west-1".into()),
                repository: None,
                code: Some("AccessDeniedException".into()),
                error: "ecr:DescribeRepositories failed".into(),
            }],
            0.10,
        )
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
        // The basis is labelled, the untagged images sized and priced, the total summed.
        assert!(text.contains("guess"), "{text}");
        assert!(text.contains("1 (1.50 GB, $0.15/month)"), "{text}");
        assert!(
            text.contains("Untagged images: 1, 1.50 GB (an upper bound"),
            "{text}"
        );
        assert!(
            text.contains("about $0.15/month at $0.1 per GB-month"),
            "{text}"
        );
        assert!(text.contains("1 recommendation(s) are a guess"), "{text}");
    }

    #[test]
    fn table_escapes_control_characters_from_input() {
        let mut plan = doc();
        plan.repositories[0].name = "web\u{1b}[2J".into();
        plan.failures[0].error = "denied \u{1b}[31m".into();
        let mut out = Vec::new();
        write_table(&plan, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(text.contains("web\\u{1b}[2J"), "{text}");
        assert!(text.contains("denied \\u{1b}[31m"), "{text}");
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
        assert_eq!(&records[0][16], "guess");
        assert_eq!(&records[0][17], (3u64 << 29).to_string());
        assert_eq!(&records[0][18], "0.1500");
    }

    #[test]
    fn json_is_the_plan_document() {
        let mut out = Vec::new();
        write_json(&doc(), &mut out).unwrap();
        let back: Plan = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, doc());
    }
}
