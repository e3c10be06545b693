//! `immutag scp`: generate the Service Control Policies IAM can enforce, list the presets,
//! and check existing policies for the ECR mistakes.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use immutag_scp::{OptionsFormat, PolicyKind, ScpOptions, Style, check_policy, generate, presets};

use crate::exit;
use crate::output::scp::{CheckedFile, GeneratedReport, check_text, generated_text, presets_text};

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
    /// locks that lock no one or everyone: a Deny on mutability / creation / template /
    /// delete actions that exempts no principal, names its principals positively (ArnLike),
    /// or exempts every role.
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
    /// The Config rule's ExemptionTagKey: add the statement that lets only the exempt
    /// principals add or remove that tag key (option rule_exemption_tag_key).
    #[arg(long, value_name = "KEY")]
    pub exemption_tag_key: Option<String>,
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

/// The option sets to generate: the file, the preset, or every preset; with the rule's
/// exemption tag key from the command line (it replaces a preset's placeholder key).
fn option_sets(args: &GenerateArgs) -> anyhow::Result<Vec<(String, ScpOptions)>> {
    let key = args.exemption_tag_key.as_deref();
    let sets = if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read options file {}", path.display()))?;
        let format = OptionsFormat::from_file_name(&path.to_string_lossy())?;
        let mut opts = ScpOptions::parse(&text, format)
            .with_context(|| format!("in options file {}", path.display()))?;
        if let Some(key) = key {
            // The file says what it protects: a different key is refused, not replaced.
            opts = opts
                .with_rule_exemption_tag_key(key)
                .with_context(|| format!("in options file {}", path.display()))?;
        }
        vec![(path.display().to_string(), opts)]
    } else {
        let presets = match &args.preset {
            Some(name) => vec![presets::get(name)?],
            None => presets::all(),
        };
        presets
            .into_iter()
            .map(|mut p| {
                // A preset's key is a placeholder: the rule's own key replaces it.
                if let Some(key) = key {
                    p.options.rule_exemption_tag_key = Some(key.to_owned());
                }
                (format!("preset {}", p.name), p.options)
            })
            .collect()
    };
    Ok(sets)
}

fn run_generate(args: GenerateArgs) -> anyhow::Result<u8> {
    let style = if args.pretty {
        Style::Pretty
    } else {
        Style::Minified
    };
    // Every set is generated before anything is printed or written: a refusal prints nothing.
    let mut reports = Vec::new();
    for (source, opts) in option_sets(&args)? {
        let generated = generate(&opts).with_context(|| format!("{source}: refused"))?;
        reports.push(GeneratedReport::new(source, generated));
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
        for report in &mut reports {
            for policy in &report.policies {
                let path = dir.join(format!("{}.json", policy.name));
                std::fs::write(&path, policy.document.render(style)?)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                report.written.push(path.display().to_string());
            }
        }
    }
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&reports)?),
        OutputFormat::Text => generated_text(
            &reports,
            style,
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        )?,
    }
    Ok(exit::OK)
}

fn check_file(path: &Path, kind: PolicyKind) -> CheckedFile {
    let text = crate::read::read_text(&path.to_string_lossy(), crate::read::MAX_POLICY_BYTES)
        .map_err(|e| e.to_string());
    // The message quotes the document (an unknown Effect, a key): escape it.
    let (report, error) = match text.and_then(|t| {
        check_policy(&t, kind)
            .map_err(|e| immutag_core::text::printable(&e.to_string()).into_owned())
    }) {
        Ok(report) => (Some(report), None),
        Err(error) => (None, Some(error)),
    };
    CheckedFile {
        file: path.display().to_string(),
        report,
        error,
    }
}

fn run_check(args: CheckArgs) -> anyhow::Result<u8> {
    let kind = match args.kind {
        Kind::Scp => PolicyKind::Scp,
        Kind::Identity => PolicyKind::Identity,
    };
    let results: Vec<CheckedFile> = args.files.iter().map(|p| check_file(p, kind)).collect();
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&results)?),
        OutputFormat::Text => check_text(
            &results,
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        )?,
    }
    Ok(if results.iter().any(|r| r.error.is_some()) {
        exit::USAGE
    } else if results
        .iter()
        .any(|r| r.report.as_ref().is_some_and(|rep| !rep.is_clean()))
    {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

fn run_presets(args: PresetsArgs) -> anyhow::Result<u8> {
    let all = presets::all();
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&all)?),
        OutputFormat::Text => presets_text(&all, &mut std::io::stdout().lock())?,
    }
    Ok(exit::OK)
}
