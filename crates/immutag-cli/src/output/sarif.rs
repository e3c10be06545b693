//! SARIF 2.1.0 output for GitHub code scanning (and any SARIF viewer).
//!
//! - One run; `tool.driver` names immutag, its version and home page, and lists one rule per
//!   decision-table row that is a finding (ids = [`Reason::id`], see [`FINDING_REASONS`]),
//!   always all of them, in a fixed order, so rule indexes are stable.
//! - One result per NON_COMPLIANT evaluation, `level: error`. COMPLIANT and NOT_APPLICABLE
//!   evaluations are omitted (code scanning would show them as alerts or ignore them; use
//!   `--output json` for every verdict).
//! - Locations: a physical location when the resource came from a file (the path as given,
//!   made relative to the working directory when absolute; `region.startLine` is the
//!   resource's line, or 1 when the parser does not know it) and always a logical location
//!   naming the resource. Input read from stdin has no physical location; GitHub code
//!   scanning needs one, so evaluate files when uploading.
//! - `partialFingerprints["immutagResource/v1"]` identifies resource and rule (type,
//!   account, region, id, file, logical id, reason) so an alert follows the repository,
//!   not the line it sits on.
//!
//! The structs below are the subset of the SARIF object model immutag writes (the
//! `serde-sarif` crate was considered: its 0.8 release fails to build unless another crate
//! enables serde's `derive` feature, and it generates code from the schema at build time).

use std::collections::BTreeMap;
use std::io::{self, Write};

use immutag_core::{Compliance, Evaluation, Reason};
use serde::Serialize;

use super::mutability_label;

/// The `$schema` URI written in the log.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The SARIF version written.
pub const VERSION: &str = "2.1.0";
/// The fingerprint key in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "immutagResource/v1";

/// The decision-table rows that are findings (NON_COMPLIANT), in rule-index order.
pub const FINDING_REASONS: [Reason; 6] = [
    Reason::Mutable,
    Reason::DefaultMutable,
    Reason::MutableWithExclusion,
    Reason::ImmutableWithDisallowedExclusions,
    Reason::UnknownMutability,
    Reason::Unresolved,
];

/// A SARIF log (`sarifLog`), its results' properties of type `P`.
#[derive(Debug, Serialize)]
pub struct Log<P = ResultProperties> {
    /// `$schema`.
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    /// `2.1.0`.
    pub version: &'static str,
    /// One run.
    pub runs: Vec<Run<P>>,
}

/// A run.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run<P = ResultProperties> {
    /// The tool.
    pub tool: Tool,
    /// How columns are counted, when results have columns (`unicodeCodePoints`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column_kind: Option<&'static str>,
    /// The results.
    pub results: Vec<SarifResult<P>>,
}

/// `tool`.
#[derive(Debug, Serialize)]
pub struct Tool {
    /// `driver`.
    pub driver: Driver,
}

/// `tool.driver`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    /// `immutag`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
    /// The same, as semver.
    pub semantic_version: &'static str,
    /// The project home page.
    pub information_uri: &'static str,
    /// One rule per finding reason.
    pub rules: Vec<Rule>,
}

/// A `reportingDescriptor` (rule).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// [`Reason::id`].
    pub id: &'static str,
    /// A PascalCase name.
    pub name: &'static str,
    /// One line.
    pub short_description: Text,
    /// A paragraph.
    pub full_description: Text,
    /// What to do, as text and Markdown.
    pub help: Help,
    /// The evaluation guide.
    pub help_uri: String,
    /// `level: error`.
    pub default_configuration: Configuration,
    /// Tags and GitHub's `security-severity`.
    pub properties: RuleProperties,
}

/// A `message` / `multiformatMessageString` with text only.
#[derive(Debug, Serialize)]
pub struct Text {
    /// The text.
    pub text: String,
}

/// `help`: text and Markdown.
#[derive(Debug, Serialize)]
pub struct Help {
    /// Plain text.
    pub text: String,
    /// Markdown.
    pub markdown: String,
}

/// `defaultConfiguration`.
#[derive(Debug, Serialize)]
pub struct Configuration {
    /// `error`.
    pub level: &'static str,
}

/// Rule `properties`.
#[derive(Debug, Serialize)]
pub struct RuleProperties {
    /// Tags shown by viewers.
    pub tags: Vec<&'static str>,
    /// GitHub code scanning severity score (Security Hub ECR.2 is Medium).
    #[serde(rename = "security-severity")]
    pub security_severity: &'static str,
    /// `very-high`/`high`/...: how sure the finding is.
    pub precision: &'static str,
}

/// A `result`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult<P = ResultProperties> {
    /// The rule id.
    pub rule_id: &'static str,
    /// The rule's index in `tool.driver.rules`.
    pub rule_index: usize,
    /// `error`.
    pub level: &'static str,
    /// `fail`.
    pub kind: &'static str,
    /// The resource and the annotation.
    pub message: Text,
    /// Where.
    pub locations: Vec<Location>,
    /// Stable identity of resource and rule.
    pub partial_fingerprints: BTreeMap<&'static str, String>,
    /// The finding's fields (an evaluation's, a pin's).
    pub properties: P,
}

/// A `location`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// The file and line, when the resource came from a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_location: Option<PhysicalLocation>,
    /// The resource.
    pub logical_locations: Vec<LogicalLocation>,
}

/// A `physicalLocation`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    /// The file.
    pub artifact_location: ArtifactLocation,
    /// The line.
    pub region: Region,
}

/// An `artifactLocation`.
#[derive(Debug, Serialize)]
pub struct ArtifactLocation {
    /// A relative URI reference (percent-encoded path).
    pub uri: String,
}

/// A `region`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// 1-based.
    pub start_line: u32,
    /// 1-based, in [`Run::column_kind`] units, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u32>,
}

/// A `logicalLocation`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogicalLocation {
    /// The resource id (or the template logical id).
    pub name: String,
    /// The ARN, else `account/region/id` with the parts known.
    pub fully_qualified_name: String,
    /// `resource`.
    pub kind: &'static str,
}

/// Result `properties`: the evaluation in brief.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultProperties {
    /// `NON_COMPLIANT`.
    pub compliance: &'static str,
    /// The resource type.
    pub resource_type: String,
    /// The resource id.
    pub resource_id: String,
    /// The account, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The region, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The ARN, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The template logical id / Terraform address, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logical_id: Option<String>,
    /// The mutability label.
    pub tag_mutability: String,
    /// Where the resource was described: the input kind (`cloudformation`, `live`,
    /// `config-aggregator`, ...).
    pub source: &'static str,
    /// When Config captured the item (recorded sources), RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
}

/// Builds the SARIF log for `evals`.
pub fn log(evals: &[Evaluation]) -> Log {
    let rules: Vec<Rule> = FINDING_REASONS.iter().map(|&r| rule(r)).collect();
    let cwd = std::env::current_dir().ok();
    let results = evals
        .iter()
        .filter(|e| e.compliance == Compliance::NonCompliant)
        .map(|e| result(e, cwd.as_deref()))
        .collect();
    log_of(rules, results, None)
}

/// A log of one run of immutag with `rules` and `results`.
pub fn log_of<P>(
    rules: Vec<Rule>,
    results: Vec<SarifResult<P>>,
    column_kind: Option<&'static str>,
) -> Log<P> {
    Log {
        schema: SCHEMA_URI,
        version: VERSION,
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "immutag",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules,
                },
            },
            column_kind,
            results,
        }],
    }
}

/// Writes the SARIF log (pretty JSON) and a newline.
pub fn write(evals: &[Evaluation], out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &log(evals)).map_err(io::Error::other)?;
    writeln!(out)
}

fn result(e: &Evaluation, cwd: Option<&std::path::Path>) -> SarifResult {
    // A NON_COMPLIANT reason outside FINDING_REASONS would be a bug in this table; point it
    // at the generic rule rather than fail the whole report.
    let rule_index = FINDING_REASONS
        .iter()
        .position(|&r| r == e.reason)
        .unwrap_or(0);
    let rule_id = FINDING_REASONS[rule_index].id();
    let physical_location =
        e.source
            .file
            .as_deref()
            .filter(|f| *f != "-")
            .map(|file| PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: file_uri(file, cwd),
                },
                region: Region {
                    start_line: e.source.line.filter(|&l| l >= 1).unwrap_or(1),
                    start_column: None,
                },
            });
    let fq_name = e.arn.clone().unwrap_or_else(|| {
        [e.account_id.as_deref(), e.region.as_deref()]
            .into_iter()
            .flatten()
            .chain([e.resource_id.as_str()])
            .collect::<Vec<_>>()
            .join("/")
    });
    let name = e
        .source
        .logical_id
        .clone()
        .unwrap_or_else(|| e.resource_id.clone());
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(FINGERPRINT_KEY, fingerprint(e));
    SarifResult {
        rule_id,
        rule_index,
        level: "error",
        kind: "fail",
        message: Text {
            text: format!("{}: {}", e.resource_id, e.annotation),
        },
        locations: vec![Location {
            physical_location,
            logical_locations: vec![LogicalLocation {
                name,
                fully_qualified_name: fq_name,
                kind: "resource",
            }],
        }],
        partial_fingerprints: fingerprints,
        properties: ResultProperties {
            compliance: e.compliance.as_str(),
            resource_type: e.resource_type.to_string(),
            resource_id: e.resource_id.clone(),
            account_id: e.account_id.clone(),
            region: e.region.clone(),
            arn: e.arn.clone(),
            logical_id: e.source.logical_id.clone(),
            tag_mutability: mutability_label(&e.tag_mutability),
            source: e.source.kind.as_str(),
            captured_at: e.captured_at.clone(),
        },
    }
}

/// A relative, percent-encoded URI reference for `file`: absolute paths under `cwd` are
/// made relative to it, a leading `./` is dropped, `\` becomes `/` on Windows. An absolute
/// path outside `cwd` becomes a `file://` URI.
pub fn file_uri(file: &str, cwd: Option<&std::path::Path>) -> String {
    let path = std::path::Path::new(file);
    let mut absolute = false;
    let rel: String = if path.is_absolute() {
        match cwd.and_then(|c| path.strip_prefix(c).ok()) {
            Some(r) => r.to_string_lossy().into_owned(),
            None => {
                absolute = true;
                file.to_owned()
            }
        }
    } else {
        file.to_owned()
    };
    let rel = if cfg!(windows) {
        rel.replace('\\', "/")
    } else {
        rel
    };
    let mut rel = rel.as_str();
    while let Some(r) = rel.strip_prefix("./") {
        rel = r;
    }
    let encoded = percent_encode_path(rel);
    if absolute {
        if encoded.starts_with('/') {
            format!("file://{encoded}")
        } else {
            format!("file:///{encoded}")
        }
    } else {
        encoded
    }
}

fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// FNV-1a 64 over the resource identity (type, account, region, id, and the file and
/// logical id it was described at) and the rule, as 16 hex digits.
fn fingerprint(e: &Evaluation) -> String {
    fingerprint_of(&[
        e.resource_type.as_str(),
        e.account_id.as_deref().unwrap_or(""),
        e.region.as_deref().unwrap_or(""),
        e.resource_id.as_str(),
        e.reason.id(),
        e.source.file.as_deref().unwrap_or(""),
        e.source.logical_id.as_deref().unwrap_or(""),
    ])
}

/// FNV-1a 64 over `parts` (each ended by a NUL), as 16 hex digits: a stable
/// `partialFingerprints` value.
pub fn fingerprint_of(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

struct RuleText {
    name: &'static str,
    short: &'static str,
    full: &'static str,
    fix: &'static str,
}

const FIX_IMMUTABLE: &str = "Set the repository's tag mutability to IMMUTABLE: `aws ecr put-image-tag-mutability --repository-name NAME --image-tag-mutability IMMUTABLE`, `ImageTagMutability: IMMUTABLE` in CloudFormation, `image_tag_mutability = \"IMMUTABLE\"` in Terraform, or `immutag remediate`.";

fn rule_text(reason: Reason) -> RuleText {
    match reason {
        Reason::Mutable => RuleText {
            name: "TagMutabilityMutable",
            short: "ECR repository tags are mutable",
            full: "The repository's imageTagMutability is MUTABLE: anyone allowed ecr:PutImage can point an existing tag at different image bytes (Security Hub control ECR.2).",
            fix: FIX_IMMUTABLE,
        },
        Reason::DefaultMutable => RuleText {
            name: "TagMutabilityNotSet",
            short: "ECR repository does not set tag mutability (AWS default: MUTABLE)",
            full: "The repository description states no imageTagMutability; AWS then applies its default, MUTABLE, so tags can be overwritten (Security Hub control ECR.2).",
            fix: FIX_IMMUTABLE,
        },
        Reason::MutableWithExclusion => RuleText {
            name: "TagMutabilityMutableWithExclusion",
            short: "ECR repository is MUTABLE_WITH_EXCLUSION: only the listed tags are protected",
            full: "MUTABLE_WITH_EXCLUSION protects only the tags matching its exclusion filters; every other tag can be overwritten.",
            fix: "Use IMMUTABLE, or IMMUTABLE_WITH_EXCLUSION with filters listed in the rule parameter AllowedExclusionFilters.",
        },
        Reason::ImmutableWithDisallowedExclusions => RuleText {
            name: "TagMutabilityDisallowedExclusions",
            short: "IMMUTABLE_WITH_EXCLUSION with exclusion filters that are not allowed",
            full: "The repository is IMMUTABLE_WITH_EXCLUSION, but at least one exclusion filter is not listed in AllowedExclusionFilters, is a catch-all (*), or cannot be checked; tags matching it can be overwritten.",
            fix: "Remove the filters that are not allowed, or add them to the rule parameter AllowedExclusionFilters (never `*`).",
        },
        Reason::UnknownMutability => RuleText {
            name: "TagMutabilityUnknownValue",
            short: "ECR repository has a tag mutability value immutag does not know",
            full: "The imageTagMutability value is none of MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION; immutag fails closed and reports it NON_COMPLIANT.",
            fix: FIX_IMMUTABLE,
        },
        Reason::Unresolved => RuleText {
            name: "TagMutabilityUnresolved",
            short: "Tag mutability cannot be resolved from the template",
            full: "The template sets the tag mutability (or its exclusion filters) with an expression that cannot be resolved without deploying; immutag fails closed and reports it NON_COMPLIANT.",
            fix: "Write ImageTagMutability as the literal IMMUTABLE, or a Ref to a parameter whose Default is IMMUTABLE.",
        },
        Reason::UncoveredCreation => RuleText {
            name: "CreationNotCovered",
            short: "ECR creates repositories for this registry with no creation template: MUTABLE",
            full: "The registry has pull-through cache or replication rules, and no repository creation template applied for them covers the repositories ECR creates for them; ECR then creates those repositories with the defaults, MUTABLE.",
            fix: "Create a repository creation template (prefix ROOT, or the rule's prefix) with imageTagMutability IMMUTABLE and appliedFor PULL_THROUGH_CACHE / REPLICATION (in each replication destination).",
        },
        // Not findings: never a SARIF rule. Listed so a new Reason must be placed here.
        Reason::NotARepository
        | Reason::Deleted
        | Reason::NotRecorded
        | Reason::LeftScope
        | Reason::ExemptByName
        | Reason::ExemptByTag
        | Reason::Immutable
        | Reason::ImmutableWithAllowedExclusions => RuleText {
            name: "NotAFinding",
            short: "Not a finding",
            full: "Not a finding.",
            fix: "Nothing to do.",
        },
    }
}

fn rule(reason: Reason) -> Rule {
    let t = rule_text(reason);
    Rule {
        id: reason.id(),
        name: t.name,
        short_description: Text {
            text: t.short.to_owned(),
        },
        full_description: Text {
            text: t.full.to_owned(),
        },
        help: Help {
            text: t.fix.to_owned(),
            markdown: format!(
                "{}\n\n{}\n\nSee [the evaluation rules]({}).",
                t.full,
                t.fix,
                help_uri()
            ),
        },
        help_uri: help_uri(),
        default_configuration: Configuration { level: "error" },
        properties: RuleProperties {
            tags: vec!["security", "aws", "ecr", "ECR.2"],
            security_severity: "5.5",
            precision: "very-high",
        },
    }
}

fn help_uri() -> String {
    format!(
        "{}/blob/main/docs/evaluation.md",
        env!("CARGO_PKG_REPOSITORY")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use immutag_core::{InputKind, Repository, RuleParameters, TagMutability, evaluate};
    use std::path::Path;

    #[test]
    fn uris() {
        let cwd = Path::new("/repo");
        assert_eq!(
            file_uri("docs/examples/a b.yaml", Some(cwd)),
            "docs/examples/a%20b.yaml"
        );
        assert_eq!(file_uri("./x.json", Some(cwd)), "x.json");
        assert_eq!(file_uri("/repo/infra/t.json", Some(cwd)), "infra/t.json");
        assert_eq!(
            file_uri("/elsewhere/t.json", Some(cwd)),
            "file:///elsewhere/t.json"
        );
        assert_eq!(file_uri("caf\u{e9}#1.json", None), "caf%C3%A9%231.json");
    }

    #[test]
    fn only_non_compliant_results_with_rule_indexes() {
        let p = RuleParameters::default();
        let mut from_file = Repository::new("api", InputKind::Cloudformation)
            .with_mutability(TagMutability::Mutable);
        from_file.source.file = Some("t.yaml".into());
        from_file.source.line = Some(7);
        from_file.source.logical_id = Some("ApiRepo".into());
        let mut from_stdin = Repository::new("web", InputKind::Ecr);
        from_stdin.source.file = Some("-".into());
        let evals = vec![
            evaluate(&from_file, &p),
            evaluate(
                &Repository::new("ok", InputKind::Ecr).with_mutability(TagMutability::Immutable),
                &p,
            ),
            evaluate(&from_stdin, &p),
        ];
        let v = serde_json::to_value(log(&evals)).unwrap();
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), FINDING_REASONS.len());
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 2, "the COMPLIANT one is omitted");
        for r in results {
            let idx = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[idx]["id"], r["ruleId"]);
            assert_eq!(r["level"], "error");
        }
        assert_eq!(results[0]["ruleId"], "mutable");
        let loc = &results[0]["locations"][0];
        assert_eq!(loc["physicalLocation"]["artifactLocation"]["uri"], "t.yaml");
        assert_eq!(loc["physicalLocation"]["region"]["startLine"], 7);
        assert_eq!(loc["logicalLocations"][0]["name"], "ApiRepo");
        assert_eq!(results[1]["ruleId"], "default-mutable");
        assert!(results[1]["locations"][0].get("physicalLocation").is_none());
        // Fingerprints differ per resource and are stable.
        assert_ne!(
            results[0]["partialFingerprints"][FINGERPRINT_KEY],
            results[1]["partialFingerprints"][FINGERPRINT_KEY]
        );
        assert_eq!(fingerprint(&evals[0]), fingerprint(&evals[0].clone()));
    }

    #[test]
    fn finding_reasons_are_the_non_compliant_rows() {
        for r in FINDING_REASONS {
            assert_ne!(rule_text(r).name, "NotAFinding", "{r:?}");
        }
    }
}
