//! `immutag scp`: generate the Service Control Policies IAM can enforce, list the presets,
//! and check existing policies for the ECR mistakes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use immutag_scp::{
    CheckReport, OptionsFormat, PolicyKind, SCP_MAX_BYTES, ScpOptions, Style, Warning,
    check_policy, generate, presets,
};
use serde::Serialize;

use crate::exit;

/// Arguments of `immutag scp`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: ScpCommand,
}

/// The `immutag scp` subcommands.
#[derive(Debug, Subcommand)]
pub enum ScpCommand {
    /// Print or write the SCPs for a preset, an options file, or (with neither) every preset.
    Generate(GenerateArgs),
    /// Lint policies (SCPs or identity policies, JSON) for the ECR mistakes. Exit 1 on findings.
    ///
    /// Finds: condition keys no ECR request carries (ecr:ImageTagMutability does not exist),
    /// negated operators on them (a Deny that always applies), documents over 5,120 bytes,
    /// Denies on mutability / creation / template actions that exempt no principal.
    /// Also reads the output of `aws organizations describe-policy` and
    /// `aws iam get-policy-version`. Exit 0 clean, 1 findings, 2 unreadable input.
    Check(CheckArgs),
    /// Describe the presets: what each blocks and whom it exempts.
    Presets(PresetsArgs),
    /// Print the JSON Schema of the options file (--config).
    Schema,
}

/// Text for people or JSON for programs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// JSON on stdout.
    Json,
}

/// Arguments of `immutag scp generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// A preset (see `immutag scp presets`).
    #[arg(long, conflicts_with = "config")]
    pub preset: Option<String>,
    /// An options file: *.json, *.yaml, *.yml or *.toml (see `immutag scp schema`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Pretty-print for review (upload the minified form: whitespace counts toward the limit).
    #[arg(long)]
    pub pretty: bool,
    /// Write NAME.json per policy into this directory instead of printing the documents.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Report format (the documents themselves are always JSON).
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Arguments of `immutag scp check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Policy documents (JSON); `-` reads standard input.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Check as SCPs (5,120-byte limit, whitespace counts, lockout) or identity policies.
    #[arg(long, value_enum, default_value_t = Kind::Scp)]
    pub kind: Kind,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// `--kind` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Service Control Policy.
    Scp,
    /// Identity (IAM user, group or role) policy.
    Identity,
}

/// Arguments of `immutag scp presets`.
#[derive(Debug, clap::Args)]
pub struct PresetsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Runs `immutag scp`.
pub fn run(args: Args) -> anyhow::Result<u8> {
    match args.command {
        ScpCommand::Generate(a) => run_generate(a),
        ScpCommand::Check(a) => run_check(a),
        ScpCommand::Presets(a) => run_presets(a),
        ScpCommand::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&schemars::schema_for!(ScpOptions))?
            );
            Ok(exit::OK)
        }
    }
}

#[derive(Serialize)]
struct GeneratedReport<'a> {
    source: String,
    policies: &'a [immutag_scp::ServiceControlPolicy],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    written: Vec<String>,
    warnings: &'a [Warning],
}

fn run_generate(args: GenerateArgs) -> anyhow::Result<u8> {
    let sets: Vec<(String, ScpOptions)> = if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read options file {}", path.display()))?;
        let format = OptionsFormat::from_file_name(&path.to_string_lossy())?;
        let opts = ScpOptions::parse(&text, format)
            .with_context(|| format!("in options file {}", path.display()))?;
        vec![(path.display().to_string(), opts)]
    } else if let Some(name) = &args.preset {
        let preset = presets::get(name)?;
        vec![(format!("preset {}", preset.name), preset.options)]
    } else {
        presets::all()
            .into_iter()
            .map(|p| (format!("preset {}", p.name), p.options))
            .collect()
    };

    let style = if args.pretty {
        Style::Pretty
    } else {
        Style::Minified
    };
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    let mut seen_warnings: Vec<Warning> = Vec::new();
    let mut reports = Vec::new();
    for (source, opts) in &sets {
        let generated = generate(opts).with_context(|| format!("{source}: refused"))?;
        let mut written = Vec::new();
        for policy in &generated.policies {
            let text = policy.document.render(style)?;
            if let Some(dir) = &args.out {
                let path = dir.join(format!("{}.json", policy.name));
                std::fs::write(&path, &text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                written.push(path.display().to_string());
                if args.output == OutputFormat::Text {
                    println!(
                        "wrote {} ({} bytes minified, limit {SCP_MAX_BYTES})",
                        path.display(),
                        policy.minified_bytes
                    );
                }
            } else if args.output == OutputFormat::Text {
                if style == Style::Minified {
                    println!("{text}");
                } else {
                    print!("{text}");
                }
                eprintln!(
                    "immutag: {} ({source}): {} bytes minified, limit {SCP_MAX_BYTES}",
                    policy.name, policy.minified_bytes
                );
            }
        }
        for w in &generated.warnings {
            if !seen_warnings.contains(w) {
                seen_warnings.push(w.clone());
            }
        }
        reports.push((source.clone(), generated, written));
    }
    if args.output == OutputFormat::Text {
        for w in &seen_warnings {
            eprintln!("immutag: warning [{}]: {}", w.code, w.message);
        }
    }
    if args.output == OutputFormat::Json {
        let out: Vec<GeneratedReport<'_>> = reports
            .iter()
            .map(|(source, g, written)| GeneratedReport {
                source: source.clone(),
                policies: &g.policies,
                written: written.clone(),
                warnings: &g.warnings,
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(exit::OK)
}

#[derive(Serialize)]
struct FileResult {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<CheckReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn check_file(path: &Path, kind: PolicyKind) -> Result<CheckReport, String> {
    let text = crate::read::read_text(&path.to_string_lossy(), crate::read::MAX_POLICY_BYTES)
        .map_err(|e| e.to_string())?;
    // The message quotes the document (an unknown Effect, a key): escape it.
    check_policy(&text, kind)
        .map_err(|e| immutag_core::text::printable(&e.to_string()).into_owned())
}

fn run_check(args: CheckArgs) -> anyhow::Result<u8> {
    let kind = match args.kind {
        Kind::Scp => PolicyKind::Scp,
        Kind::Identity => PolicyKind::Identity,
    };
    let mut results = Vec::new();
    for path in &args.files {
        let file = path.display().to_string();
        match check_file(path, kind) {
            Ok(report) => results.push(FileResult {
                file,
                report: Some(report),
                error: None,
            }),
            Err(error) => results.push(FileResult {
                file,
                report: None,
                error: Some(error),
            }),
        }
    }
    let unreadable = results.iter().any(|r| r.error.is_some());
    let findings = results
        .iter()
        .any(|r| r.report.as_ref().is_some_and(|rep| !rep.is_clean()));

    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&results)?),
        OutputFormat::Text => {
            let mut notes = BTreeSet::new();
            for r in &results {
                if let Some(error) = &r.error {
                    eprintln!("immutag: error: {}: {error}", r.file);
                    continue;
                }
                let Some(rep) = &r.report else { continue };
                let size = format!(
                    "{} bytes minified, limit {}",
                    rep.minified_bytes, rep.limit_bytes
                );
                if rep.is_clean() {
                    println!("{}: clean ({size})", r.file);
                } else {
                    println!("{}: {} finding(s) ({size})", r.file, rep.findings.len());
                    for f in &rep.findings {
                        let severity = match f.severity {
                            immutag_scp::Severity::Error => "error",
                            immutag_scp::Severity::Warning => "warning",
                        };
                        let code = serde_json::to_value(f.code)?;
                        let code = code.as_str().unwrap_or("finding");
                        match &f.statement {
                            Some(s) => println!("  {severity}[{code}] {s}: {}", f.message),
                            None => println!("  {severity}[{code}]: {}", f.message),
                        }
                        println!("    fix: {}", f.fix);
                    }
                }
                notes.extend(rep.notes.iter().cloned());
            }
            for n in notes {
                println!("note: {n}");
            }
        }
    }
    Ok(if unreadable {
        exit::USAGE
    } else if findings {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

fn run_presets(args: PresetsArgs) -> anyhow::Result<u8> {
    let all = presets::all();
    if args.output == OutputFormat::Json {
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(exit::OK);
    }
    for p in &all {
        println!("{}", p.name);
        println!("  {}", p.summary);
        println!("  blocks:  {}", p.blocks.join(", "));
        println!("  exempts: {}", p.options.exempt_principals.join(", "));
        if !p.options.creation_principals.is_empty() {
            println!(
                "  may also create repositories: {}",
                p.options.creation_principals.join(", ")
            );
        }
        println!("  golden file: policies/{}.json", p.options.name);
        println!();
    }
    println!(
        "The role names are placeholders. Create roles with those names in every member account, or copy a preset into an options file (`immutag scp presets --output json` shows each preset's options; `immutag scp schema` the fields), change exempt_principals / creation_principals, and run `immutag scp generate --config FILE`."
    );
    println!(
        "A control without any exempt principal is refused: no one, not even the platform role that runs remediation, could undo it from a member account."
    );
    Ok(exit::OK)
}
