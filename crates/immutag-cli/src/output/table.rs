//! The human table: one row per evaluation, in input order, then a one-line summary.
//!
//! Columns: ACCOUNT and REGION (only when some evaluation knows them), RESOURCE,
//! COMPLIANCE, MUTABILITY, ANNOTATION, SOURCE (only when some evaluation came from a file).
//! Colour (red NON_COMPLIANT, green COMPLIANT, grey NOT_APPLICABLE) only when
//! [`RenderOptions::color`] says so; the text is the same either way.

use std::io::{self, Write};

use comfy_table::{
    Attribute, Cell, Color, ColumnConstraint, ContentArrangement, Table, Width, presets,
};
use immutag_core::{Compliance, Evaluation};

use super::{Counts, RenderOptions, location_label, mutability_label};

/// The width of the terminal on stdout, or `None` when stdout is not a terminal.
pub fn terminal_width() -> Option<u16> {
    Table::new().width()
}

/// Writes the table and the summary line.
pub fn write(evals: &[Evaluation], opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    if evals.is_empty() {
        return writeln!(out, "No resources evaluated.");
    }
    let with_account = evals.iter().any(|e| e.account_id.is_some());
    let with_region = evals.iter().any(|e| e.region.is_some());
    let with_source = evals.iter().any(|e| e.source.file.is_some());

    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    // Decide styling and width here, not from the environment, so output is reproducible.
    table.force_no_tty();
    if opts.color {
        table.enforce_styling();
    }
    if let Some(width) = opts.width {
        table
            .set_width(width)
            .set_content_arrangement(ContentArrangement::Dynamic);
    }

    let mut header = Vec::new();
    if with_account {
        header.push("ACCOUNT");
    }
    if with_region {
        header.push("REGION");
    }
    header.extend(["RESOURCE", "COMPLIANCE", "MUTABILITY", "ANNOTATION"]);
    if with_source {
        header.push("SOURCE");
    }
    // On a narrow terminal, wrap the prose, not the short fixed-width codes.
    let constraints: Vec<ColumnConstraint> = header
        .iter()
        .map(|h| match *h {
            "ACCOUNT" | "REGION" | "COMPLIANCE" | "MUTABILITY" => ColumnConstraint::ContentWidth,
            "ANNOTATION" => ColumnConstraint::LowerBoundary(Width::Percentage(30)),
            "RESOURCE" => ColumnConstraint::LowerBoundary(Width::Fixed(24)),
            _ => ColumnConstraint::LowerBoundary(Width::Fixed(12)),
        })
        .collect();
    table.set_header(header);
    if opts.width.is_some() {
        table.set_constraints(constraints);
    }

    for e in evals {
        let mut row = Vec::new();
        if with_account {
            row.push(text_cell(e.account_id.as_deref().unwrap_or("")));
        }
        if with_region {
            row.push(text_cell(e.region.as_deref().unwrap_or("")));
        }
        row.push(text_cell(&resource_label(e)));
        row.push(compliance_cell(e.compliance, opts.color));
        row.push(text_cell(&mutability_label(&e.tag_mutability)));
        row.push(text_cell(&e.annotation));
        if with_source {
            row.push(text_cell(&if e.source.file.is_some() {
                location_label(&e.source)
            } else {
                String::new()
            }));
        }
        table.add_row(row);
    }
    writeln!(out, "{table}")?;
    writeln!(out, "{}", summary(&Counts::of(evals)))
}

/// `12 resources: 7 NON_COMPLIANT, 3 COMPLIANT, 2 NOT_APPLICABLE`.
pub fn summary(c: &Counts) -> String {
    let noun = if c.total() == 1 {
        "resource"
    } else {
        "resources"
    };
    format!(
        "{} {noun}: {} NON_COMPLIANT, {} COMPLIANT, {} NOT_APPLICABLE",
        c.total(),
        c.non_compliant,
        c.compliant,
        c.not_applicable
    )
}

/// The resource id, with the type when it is not an ECR repository.
fn resource_label(e: &Evaluation) -> String {
    match &e.resource_type {
        immutag_core::ResourceType::Repository => e.resource_id.clone(),
        immutag_core::ResourceType::CreationTemplate(_) => {
            format!("{} (creation template)", e.resource_id)
        }
        immutag_core::ResourceType::Registry => format!("{} (registry)", e.resource_id),
        other => format!("{} ({other})", e.resource_id),
    }
}

/// A cell for input-derived text: control characters (an escape sequence in a resource name
/// would otherwise drive the reader's terminal) are shown escaped
/// ([`immutag_core::text::printable`]).
pub(crate) fn text_cell(text: &str) -> Cell {
    Cell::new(immutag_core::text::printable(text))
}

fn compliance_cell(c: Compliance, color: bool) -> Cell {
    let cell = Cell::new(c.as_str());
    if !color {
        return cell;
    }
    match c {
        Compliance::NonCompliant => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Compliance::Compliant => cell.fg(Color::Green),
        Compliance::NotApplicable => cell.fg(Color::DarkGrey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use immutag_core::{InputKind, Repository, RuleParameters, TagMutability, evaluate};

    fn evals() -> Vec<Evaluation> {
        let p = RuleParameters::default();
        vec![
            evaluate(
                &Repository::new("api", InputKind::Ecr).with_mutability(TagMutability::Mutable),
                &p,
            ),
            evaluate(
                &Repository::new("web", InputKind::Ecr).with_mutability(TagMutability::Immutable),
                &p,
            ),
        ]
    }

    /// The header cells (second line, between the vertical bars).
    fn header(table: &str) -> Vec<String> {
        let line = table.lines().nth(1).unwrap();
        line.split(['│', '┆'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn render(opts: &RenderOptions) -> String {
        let mut out = Vec::new();
        write(&evals(), opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_has_no_escapes_and_colour_has() {
        let plain = render(&RenderOptions::default());
        assert!(!plain.contains('\u{1b}'), "{plain}");
        assert!(plain.contains("NON_COMPLIANT") && plain.contains("COMPLIANT"));
        assert!(plain.ends_with("2 resources: 1 NON_COMPLIANT, 1 COMPLIANT, 0 NOT_APPLICABLE\n"));
        // No account, region or file known: those columns are left out.
        assert_eq!(
            header(&plain),
            ["RESOURCE", "COMPLIANCE", "MUTABILITY", "ANNOTATION"]
        );

        let coloured = render(&RenderOptions {
            color: true,
            width: None,
        });
        assert!(coloured.contains('\u{1b}'), "{coloured}");
    }

    #[test]
    fn account_and_region_columns_when_known() {
        let mut e = evals();
        e[0].account_id = Some("111122223333".into());
        e[0].region = Some("eu-west-1".into());
        let mut out = Vec::new();
        write(&e, &RenderOptions::default(), &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(header(&s)[..3], ["ACCOUNT", "REGION", "RESOURCE"]);
        assert!(s.contains("111122223333") && s.contains("eu-west-1"));
    }

    #[test]
    fn width_wraps_lines() {
        let narrow = render(&RenderOptions {
            color: false,
            width: Some(90),
        });
        for line in narrow.lines() {
            assert!(line.chars().count() <= 90, "too wide: {line}");
        }
    }

    #[test]
    fn control_characters_in_input_do_not_reach_the_terminal() {
        let mut e = evals();
        e[0].resource_id = "evil\u{1b}[2J\nname".into();
        e[0].tag_mutability =
            immutag_core::MutabilitySetting::set(TagMutability::parse("X\u{1b}]0;title\u{7}"));
        let mut out = Vec::new();
        write(&e, &RenderOptions::default(), &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(!s.contains('\u{1b}') && !s.contains('\u{7}'), "{s:?}");
        assert!(s.contains(r"evil\u{1b}[2J\u{a}name"), "{s}");
    }

    #[test]
    fn empty() {
        let mut out = Vec::new();
        write(&[], &RenderOptions::default(), &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "No resources evaluated.\n");
    }
}
