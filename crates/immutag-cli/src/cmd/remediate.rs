//! `immutag remediate`: switch repositories to their target tag mutability, dry run by
//! default, journaled, verified.
//!
//! Input: a plan (`immutag plan --output json`, a file or `-`), or a live scan with the same
//! account / region options as `immutag scan`: with `--mode plan` (the default) the plan is
//! built on the spot as `immutag plan` builds it; with `--mode immutable` only the inventory
//! is read and non-compliant repositories target plain `IMMUTABLE`. The current setting of
//! every repository is read from AWS before anything is decided, so a stale plan can neither
//! overwrite a change made since nor journal a wrong previous setting.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::ValueEnum;
use immutag_aws::journal::{self, Journal};
use immutag_aws::remediate::{
    self, ApplyOptions, ChangeReport, ChangeResult, Clients, ReadState, Scope, Verification,
};
use immutag_core::change::{Change, RepoKey, Setting};
use immutag_core::journal::Operation;
use immutag_core::plan::{PlanDocument, RepositoryPlan};
use immutag_core::remediation::{
    self, Candidate, Decision, Mode, PlanItem, PlanOptions, Recommendation, SkipReason,
};
use immutag_core::{InputKind, Repository};
use serde::Serialize;

use crate::cmd::evaluate::command_line_params;
use crate::cmd::fleet::FleetArgs;
use crate::exit;

/// Arguments of `immutag remediate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A plan from `immutag plan --output json` (a file, or `-` for stdin). Without it,
    /// immutag reads the accounts and regions given by the scan options and, with `--mode
    /// plan`, plans them on the spot as `immutag plan` would (images read); with `--mode
    /// immutable`, targets plain IMMUTABLE for every non-compliant repository.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<String>,

    /// How the target is chosen: `plan` (the plan's recommendation) or `immutable` (plain
    /// IMMUTABLE for every repository in scope; repositories marked REVIEW are still skipped).
    #[arg(long, value_enum, default_value_t = ModeArg::Plan)]
    pub mode: ModeArg,

    /// Only repositories whose name matches one of these patterns (`*` matches any run of
    /// characters; repeatable or comma-separated).
    #[arg(long = "repositories", value_name = "PATTERN", value_delimiter = ',')]
    pub repositories: Vec<String>,

    /// Make the changes. Without it, nothing is changed: the command prints what would be.
    #[arg(long)]
    pub apply: bool,

    /// The journal to append to (JSON lines). Default:
    /// `immutag-journal-YYYYMMDDTHHMMSSZ.jsonl` in the current directory.
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,

    /// A rule parameter, as for `immutag scan` (repeatable): exemptions
    /// (`ExemptRepositoryPatterns`, `ExemptionTagKey`) are honoured, `AllowedExclusionFilters`
    /// decides what a live scan calls compliant.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,

    /// Rule parameters from a JSON file (an object of strings); `--param` overrides.
    #[arg(long, value_name = "FILE")]
    pub params_file: Option<PathBuf>,

    /// Report format on stdout.
    #[arg(long, short = 'o', value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,

    /// Accounts, regions and credentials, as for `immutag scan`. With `--plan`, the plan
    /// names the accounts and regions; `--role-name`, `--profile` and `--endpoint-url` say
    /// how to reach them. `--concurrency` also bounds the changes in flight.
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// The plan's recommendation.
    Plan,
    /// Plain IMMUTABLE.
    Immutable,
}

/// `--report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One line per repository, then a summary.
    Text,
    /// One JSON document.
    Json,
}

/// The JSON report of `immutag remediate` and `immutag rollback`.
#[derive(Debug, Serialize)]
pub struct Report<'a, P: Serialize> {
    /// True when changes were made (`--apply`).
    pub apply: bool,
    /// The journal written, when changes were made.
    pub journal: Option<String>,
    /// One entry per repository: change or skip, with the reason.
    pub plan: &'a [P],
    /// One entry per change attempted.
    pub results: &'a [ChangeReport],
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<u8> {
    args.fleet.validate()?;
    crate::cmd::fleet::runtime()?.block_on(run_async(args))
}

async fn run_async(args: Args) -> anyhow::Result<u8> {
    let params =
        command_line_params(&args.params, args.params_file.as_deref())?.unwrap_or_default();
    let concurrency = args.fleet.concurrency.max(1);
    let base = immutag_aws::session::load(&args.fleet.session_options()).await;
    let opts = PlanOptions {
        mode: match args.mode {
            ModeArg::Plan => Mode::Plan,
            ModeArg::Immutable => Mode::Immutable,
        },
        repositories: args.repositories.clone(),
    };
    if args.plan.is_some()
        && (args.fleet.org
            || !args.fleet.accounts.is_empty()
            || !args.fleet.regions.is_empty()
            || args.fleet.all_regions)
    {
        bail!(
            "--plan names the accounts and regions: --org, --accounts, --regions and --all-regions apply to a live scan only"
        );
    }

    // The plan: a file, or (live scan, `--mode plan`) built now exactly as `immutag plan`
    // builds it, so that a repository whose pipelines re-push `latest` is fenced with an
    // exclusion instead of being switched to a plain IMMUTABLE that breaks them.
    let doc = match (&args.plan, args.mode) {
        (Some(file), _) => Some(read_plan(file)?),
        (None, ModeArg::Plan) => Some(
            immutag_aws::plan::plan(
                &base,
                &args.fleet.fan_out_options(),
                &params,
                &immutag_aws::fanout::NoProgress,
            )
            .await
            .map_err(crate::cmd::fleet::setup_error)?,
        ),
        (None, ModeArg::Immutable) => None,
    };

    let (clients, candidates, mut items) = match doc {
        Some(doc) => {
            // What the plan could not read is reported and counted, never dropped.
            let mut skipped = unreadable(&doc.failures);
            let wanted: Vec<RepositoryPlan> = doc.repositories;
            let scopes: Vec<Scope> = wanted
                .iter()
                .map(|p| Scope {
                    account: p.account_id.clone(),
                    region: p.region.clone(),
                })
                .collect();
            let clients =
                remediate::clients_for_scopes(&base, scopes, &args.fleet.role_name).await?;
            let (mut candidates, mut gone) = refresh(&clients, &wanted, concurrency).await;
            skipped.append(&mut gone);
            if params.exemption_tag_key.is_some() {
                candidates = fill_tags(&clients, candidates, concurrency).await?;
            }
            (clients, candidates, skipped)
        }
        None => {
            let inv = immutag_aws::fanout::inventory(
                &base,
                &args.fleet.fan_out_options(),
                params.exemption_tag_key.is_some(),
                &immutag_aws::fanout::NoProgress,
            )
            .await?;
            crate::cmd::fleet::report_dropped(&inv.dropped);
            let skipped = unreadable(&inv.failures);
            let scopes = inv.targets.iter().map(|t| Scope {
                account: Some(t.account_id.clone()),
                region: Some(t.region.clone()),
            });
            let clients =
                remediate::clients_for_scopes(&base, scopes, &args.fleet.role_name).await?;
            let candidates = inv
                .items
                .into_iter()
                .map(|r| Candidate::from_evaluation(r, &params))
                .collect();
            (clients, candidates, skipped)
        }
    };
    let mut planned = remediation::plan(&candidates, &opts, &params);
    planned.append(&mut items);
    let items = planned;

    let changes: Vec<Change> = items
        .iter()
        .filter_map(|i| {
            i.change().map(|(key, from, to)| Change {
                key: key.clone(),
                from: from.clone(),
                to: to.clone(),
            })
        })
        .collect();
    let unreadable = items
        .iter()
        .filter(|i| {
            matches!(
                i.decision,
                Decision::Skip {
                    reason: SkipReason::Unreadable { .. }
                }
            )
        })
        .count();

    if !args.apply {
        emit(&args.output, false, None, &items, &[], |out| {
            print_plan(out, &items)?;
            writeln!(
                out,
                "dry run: nothing changed. {} to change; re-run with --apply to make the changes.",
                changes.len()
            )
        })?;
        return Ok(if unreadable > 0 {
            exit::FINDINGS
        } else {
            exit::OK
        });
    }

    let path = args
        .journal
        .clone()
        .unwrap_or_else(|| journal::default_path("immutag-journal"));
    let reports = if changes.is_empty() {
        Vec::new()
    } else {
        let j = Journal::open(&path, format!("remediate-{}", journal::compact_timestamp()))?;
        let r = remediate::apply(
            &clients,
            changes,
            &j,
            ApplyOptions {
                concurrency,
                operation: Operation::Remediate,
                verify: true,
            },
        )
        .await;
        j.close();
        r?
    };
    let journal_shown = (!reports.is_empty()).then(|| path.display().to_string());
    emit(
        &args.output,
        true,
        journal_shown.clone(),
        &items,
        &reports,
        |out| {
            print_skips(out, &items)?;
            print_results(out, &reports)?;
            if let Some(p) = &journal_shown {
                writeln!(out, "journal: {p}")?;
            }
            Ok(())
        },
    )?;
    let bad = reports.iter().filter(|r| !r.succeeded()).count();
    Ok(if bad > 0 || unreadable > 0 {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

/// Each read failure, printed on stderr and turned into an `unreadable` skip (counted in the
/// exit status).
fn unreadable(failures: &[immutag_aws::fanout::Failure]) -> Vec<PlanItem> {
    failures
        .iter()
        .map(|f| {
            eprintln!("immutag: error: {}", failure_text(f));
            PlanItem {
                key: RepoKey::new(
                    f.account_id.as_deref(),
                    f.region.as_deref(),
                    f.repository.as_deref().unwrap_or("*"),
                ),
                decision: Decision::Skip {
                    reason: SkipReason::Unreadable {
                        detail: f.error.clone(),
                    },
                },
            }
        })
        .collect()
}

fn failure_text(f: &immutag_aws::fanout::Failure) -> String {
    let mut where_ = Vec::new();
    for p in [&f.account_id, &f.region, &f.repository]
        .into_iter()
        .flatten()
    {
        where_.push(p.as_str());
    }
    format!("{}: {}", where_.join("/"), f.error)
}

/// Reads each candidate's tags (for `ExemptionTagKey`), one ListTagsForResource each. A
/// repository deleted since it was read is left out, with a note on stderr.
async fn fill_tags(
    clients: &Clients,
    candidates: Vec<Candidate>,
    concurrency: usize,
) -> anyhow::Result<Vec<Candidate>> {
    use futures::StreamExt;
    let results: Vec<anyhow::Result<Option<Candidate>>> =
        futures::stream::iter(candidates.into_iter().map(|mut c| async move {
            let scope = Scope {
                account: c.repository.account_id.clone(),
                region: c.repository.region.clone(),
            };
            if let Some(client) = clients.get(&scope) {
                let presence = immutag_aws::ecr::fill_tags(client, &mut c.repository)
                    .await
                    .with_context(|| format!("tags of {}", c.repository.label()))?;
                if presence == immutag_aws::ecr::Presence::Deleted {
                    eprintln!(
                        "immutag: note: {}: deleted since it was read, left out",
                        c.repository.label()
                    );
                    return Ok(None);
                }
            }
            Ok(Some(c))
        }))
        .buffered(concurrency)
        .collect()
        .await;
    results.into_iter().filter_map(Result::transpose).collect()
}

/// Reads and checks a plan document.
fn read_plan(file: &str) -> anyhow::Result<PlanDocument> {
    let text = if file == "-" {
        let mut s = String::new();
        io::Read::read_to_string(&mut io::stdin(), &mut s)
            .context("cannot read the plan from stdin")?;
        s
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read the plan {file}"))?
    };
    immutag_core::plan::parse_plan(&text).with_context(|| file.to_owned())
}

/// The recommendation of a plan entry.
pub fn recommendation_of(p: &RepositoryPlan) -> Recommendation {
    use immutag_core::plan::Recommendation as R;
    match p.recommendation {
        R::Immutable => Recommendation::Immutable,
        R::ImmutableWithExclusion => Recommendation::ImmutableWithExclusion {
            filters: p.target_filters.clone(),
        },
        R::Review => Recommendation::Review {
            reason: if p.evidence.notes.is_empty() {
                "the plan marks it REVIEW".to_owned()
            } else {
                p.evidence.notes.join(" ")
            },
        },
    }
}

/// Reads the current setting of every plan entry from AWS: entries found become candidates
/// with that state; the others become skips (gone, or unreadable).
async fn refresh(
    clients: &Clients,
    wanted: &[RepositoryPlan],
    concurrency: usize,
) -> (Vec<Candidate>, Vec<PlanItem>) {
    let keys: Vec<RepoKey> = wanted
        .iter()
        .map(|p| RepoKey::new(p.account_id.as_deref(), p.region.as_deref(), &p.name))
        .collect();
    let read: BTreeMap<RepoKey, ReadState> =
        remediate::read_settings(clients, &keys, concurrency).await;
    let mut candidates = Vec::new();
    let mut skipped = Vec::new();
    for (p, key) in wanted.iter().zip(keys) {
        match read.get(&key) {
            Some(ReadState::Found(setting)) => {
                let mut repo = Repository::new(&p.name, InputKind::Live)
                    .with_mutability(setting.mode.clone())
                    .with_filters(setting.filters.clone());
                repo.account_id = p.account_id.clone();
                repo.region = p.region.clone();
                repo.arn = p.arn.clone();
                candidates.push(Candidate::new(repo, recommendation_of(p)));
            }
            Some(ReadState::Missing) => skipped.push(PlanItem {
                key,
                decision: Decision::Skip {
                    reason: SkipReason::NotApplicable {
                        detail: "the repository no longer exists".into(),
                    },
                },
            }),
            Some(ReadState::Error(e)) => skipped.push(PlanItem {
                key,
                decision: Decision::Skip {
                    reason: SkipReason::Unreadable { detail: e.clone() },
                },
            }),
            None => skipped.push(PlanItem {
                key,
                decision: Decision::Skip {
                    reason: SkipReason::Unreadable {
                        detail: "not read".into(),
                    },
                },
            }),
        }
    }
    (candidates, skipped)
}

/// Writes the report: JSON, or the text `body`. A closed pipe is not an error.
pub fn emit<P: Serialize>(
    format: &ReportFormat,
    apply: bool,
    journal: Option<String>,
    plan: &[P],
    results: &[ChangeReport],
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let r = match format {
        ReportFormat::Json => {
            let report = Report {
                apply,
                journal,
                plan,
                results,
            };
            serde_json::to_writer_pretty(&mut out, &report)
                .map_err(io::Error::other)
                .and_then(|()| writeln!(out))
        }
        ReportFormat::Text => body(&mut out),
    };
    match r.and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write the report"),
    }
}

fn print_plan(out: &mut dyn Write, items: &[PlanItem]) -> io::Result<()> {
    for item in items {
        if let Decision::Change { from, to } = &item.decision {
            writeln!(out, "CHANGE  {}  {from} -> {to}", item.key)?;
        }
    }
    print_skips(out, items)?;
    let counts = remediation::count(items);
    let skipped: Vec<String> = counts
        .skipped
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    writeln!(
        out,
        "{} to change, {} skipped{}",
        counts.changes,
        counts.skipped.values().sum::<usize>(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(" ({})", skipped.join(", "))
        }
    )
}

fn print_skips(out: &mut dyn Write, items: &[PlanItem]) -> io::Result<()> {
    for item in items {
        if let Decision::Skip { reason } = &item.decision {
            writeln!(out, "SKIP    {}  {reason}", item.key)?;
        }
    }
    Ok(())
}

/// Prints one line per change result, then a summary.
pub fn print_results(out: &mut dyn Write, reports: &[ChangeReport]) -> io::Result<()> {
    let (mut ok, mut failed, mut unknown, mut mismatch) = (0, 0, 0, 0);
    for r in reports {
        let c = &r.change;
        let head = format!("{}  {} -> {}", c.key, c.from, c.to);
        match (&r.result, &r.verification) {
            (ChangeResult::Applied, Some(Verification::Verified) | None) => {
                ok += 1;
                writeln!(out, "CHANGED {head}  verified")?;
            }
            (ChangeResult::Applied, Some(v)) => {
                mismatch += 1;
                writeln!(out, "MISMATCH {head}  {}", describe(v))?;
            }
            (
                ChangeResult::Failed {
                    code,
                    message,
                    outcome_known: true,
                },
                _,
            ) => {
                failed += 1;
                writeln!(out, "FAILED  {head}  {code}: {message}")?;
            }
            (
                ChangeResult::Failed {
                    code,
                    message,
                    outcome_known: false,
                },
                v,
            ) => {
                unknown += 1;
                writeln!(
                    out,
                    "UNKNOWN {head}  {code}: {message}; {}",
                    v.as_ref()
                        .map(describe)
                        .unwrap_or_else(|| "not read back".into())
                )?;
            }
        }
    }
    writeln!(
        out,
        "{ok} changed and verified, {failed} failed, {mismatch} not at the target when read back, {unknown} unknown"
    )
}

fn describe(v: &Verification) -> String {
    match v {
        Verification::Verified => "read back as the target".into(),
        Verification::Mismatch { observed } => format!("read back as {observed}"),
        Verification::Missing => "not found when read back".into(),
        Verification::Unreadable { error } => format!("could not be read back: {error}"),
    }
}

/// The current setting (as [`Setting`]) of repositories read back, for tests and rollback.
pub fn settings_of(read: &BTreeMap<RepoKey, ReadState>) -> BTreeMap<RepoKey, Setting> {
    read.iter()
        .filter_map(|(k, v)| match v {
            ReadState::Found(s) => Some((k.clone(), s.clone())),
            _ => None,
        })
        .collect()
}
