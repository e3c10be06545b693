//! `immutag pins --live` and `immutag pins resolve` (feature `fleet`): the ECR reads behind
//! the pins of [`immutag_pins`].
//!
//! Calls, whatever the number of references: per (account, region) that the references name,
//! one `ecr:DescribeRepositories` walk (`maxResults=1000`; `check` only, for the mutability the
//! evaluator judges) and, per repository, one `ecr:BatchGetImage` with every tag and digest
//! its references name (in chunks of 100, the API's limit), asking for every manifest media
//! type so that a manifest list or OCI index is returned as stored (its own digest, not one
//! platform's). `sts:GetCallerIdentity` once; `sts:AssumeRole` for accounts other than the
//! caller's (`--role-name`); `ecr:ListTagsForResource` per referenced repository only when
//! `ExemptionTagKey` is set.
//!
//! A target or repository that cannot be read is a [`Failure`]; the pins it holds keep their
//! static status with a detail saying they were not read, and the command exits 3.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ecr::Client;
use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::types::ImageIdentifier;
use aws_types::SdkConfig;
use futures::StreamExt;
use immutag_core::{Compliance, RuleParameters, evaluate};
use immutag_pins::live::{self, RepoId, RepositoryFacts, RepositoryState, Wanted};
use immutag_pins::{Pin, resolve};

use crate::error::AwsError;
use crate::session;
use crate::targets::{Failure, Progress, Target, run_targets, target_failure};

/// The manifest media types asked for in `BatchGetImage`: every one ECR stores, so that no
/// manifest is converted (a conversion would change its digest).
pub const ACCEPTED_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
];

/// Image ids per `BatchGetImage` call (the API's maximum).
pub const BATCH_SIZE: usize = 100;

/// Which registries to read and how.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveOptions {
    /// The role assumed in accounts other than the caller's.
    pub role_name: String,
    /// Targets read at once.
    pub concurrency: usize,
    /// Only these accounts (empty: every account the references name).
    pub accounts: Vec<String>,
    /// Only these regions (empty: every region the references name).
    pub regions: Vec<String>,
    /// The rule parameters the evaluator judges repositories with (`check`).
    pub params: RuleParameters,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            role_name: session::DEFAULT_ROLE_NAME.to_owned(),
            concurrency: crate::targets::DEFAULT_CONCURRENCY,
            accounts: Vec::new(),
            regions: Vec::new(),
            params: RuleParameters::default(),
        }
    }
}

/// What the registries said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registries {
    /// The (account, region) pairs read, sorted.
    pub targets: Vec<Target>,
    /// The answer for each repository that was read.
    pub facts: BTreeMap<RepoId, RepositoryFacts>,
    /// What could not be read, sorted.
    pub failures: Vec<Failure>,
    /// Pairs named by references but left out by `--accounts` / `--regions`.
    pub not_selected: Vec<Target>,
}

impl Registries {
    /// Why the pins of `repo` have no answer, when they have none.
    fn unread(&self, repo: &RepoId) -> String {
        let target = Target {
            account_id: repo.account_id.clone(),
            region: repo.region.clone(),
        };
        if self.not_selected.contains(&target) {
            return format!(
                "not read live: {}/{} is not selected",
                repo.account_id, repo.region
            );
        }
        let failure = self.failures.iter().find(|f| {
            f.account_id.as_deref() == Some(repo.account_id.as_str())
                && f.region.as_deref().is_none_or(|r| r == repo.region)
                && f.repository.as_deref().is_none_or(|r| r == repo.repository)
        });
        match failure {
            Some(f) => format!("not read live: {}", f.error),
            None => "not read live".to_owned(),
        }
    }
}

/// `immutag pins check --live`: judges every ECR pin of `pins` against its registry
/// ([`live::judge`]).
pub async fn check(
    base: &SdkConfig,
    pins: &mut [Pin],
    opts: &LiveOptions,
    progress: &dyn Progress,
) -> Result<Registries, AwsError> {
    let wanted = live::lookups(pins);
    let registries = read(base, &wanted, opts, true, progress).await?;
    for pin in pins.iter_mut() {
        let Some(repo) = live::repo_of(pin) else {
            continue;
        };
        match registries.facts.get(&repo) {
            Some(facts) => live::judge(pin, &repo, facts),
            None => {
                let why = registries.unread(&repo);
                pin.detail = Some(match pin.detail.take() {
                    Some(d) => format!("{d}; {why}"),
                    None => why,
                });
            }
        }
    }
    Ok(registries)
}

/// `immutag pins resolve`: the digest every UNPINNED ECR pin's tag names now, as a plan of
/// edits ([`resolve::plan`]).
pub async fn resolve(
    base: &SdkConfig,
    pins: &[Pin],
    opts: &LiveOptions,
    progress: &dyn Progress,
) -> Result<(resolve::Plan, Registries), AwsError> {
    let unpinned: Vec<Pin> = pins
        .iter()
        .filter(|p| p.status == immutag_pins::PinStatus::Unpinned)
        .cloned()
        .collect();
    let wanted = live::lookups(&unpinned);
    let registries = read(base, &wanted, opts, false, progress).await?;
    let plan = resolve::plan(pins, |repo, pin| match registries.facts.get(repo) {
        Some(facts) => live::resolution(pin, repo, facts),
        None => Err(registries.unread(repo)),
    });
    Ok((plan, registries))
}

/// Reads what `wanted` asks of every repository: with `describe`, the repositories of each
/// (account, region) (and the evaluator's verdict on each); always, the tags and digests.
pub async fn read(
    base: &SdkConfig,
    wanted: &BTreeMap<RepoId, Wanted>,
    opts: &LiveOptions,
    describe: bool,
    progress: &dyn Progress,
) -> Result<Registries, AwsError> {
    let mut by_target: BTreeMap<Target, BTreeMap<String, Wanted>> = BTreeMap::new();
    for (repo, w) in wanted {
        let target = Target {
            account_id: repo.account_id.clone(),
            region: repo.region.clone(),
        };
        by_target
            .entry(target)
            .or_default()
            .insert(repo.repository.clone(), w.clone());
    }
    let mut out = Registries::default();
    let (selected, not_selected): (Vec<_>, Vec<_>) = by_target.into_iter().partition(|(t, _)| {
        (opts.accounts.is_empty() || opts.accounts.contains(&t.account_id))
            && (opts.regions.is_empty() || opts.regions.contains(&t.region))
    });
    out.not_selected = not_selected.into_iter().map(|(t, _)| t).collect();
    if selected.is_empty() {
        return Ok(out);
    }
    let control = match base.region() {
        Some(_) => base.clone(),
        None => session::with_region(base, &selected[0].0.region),
    };
    let identity = session::caller_identity(&control).await?;

    let mut targets = Vec::with_capacity(selected.len());
    for (target, repos) in selected {
        let config = if target.account_id == identity.account_id {
            base.clone()
        } else {
            let arn = session::role_arn(&identity.partition, &target.account_id, &opts.role_name)?;
            session::assume_role(base, &arn).await
        };
        let client = Client::new(&session::with_region(&config, &target.region));
        out.targets.push(target.clone());
        targets.push(((client, repos), target));
    }
    let params = &opts.params;
    let concurrency = opts.concurrency;
    let (results, failures) = run_targets(
        targets,
        opts.concurrency,
        progress,
        |(client, repos), target| async move {
            read_target(
                &client,
                &target,
                &repos,
                describe.then_some(params),
                concurrency,
            )
            .await
            .map(|r| vec![r])
        },
    )
    .await;
    out.failures = failures;
    for (facts, failures) in results {
        out.facts.extend(facts);
        out.failures.extend(failures);
    }
    out.failures.sort();
    Ok(out)
}

/// The facts of the repositories `repos` of one (account, region), read with `client`. With
/// `params`, the repositories are described and judged by the evaluator first. A repository
/// that cannot be read is a failure in the second list; a failed DescribeRepositories fails
/// the whole target.
pub async fn read_target(
    client: &Client,
    target: &Target,
    repos: &BTreeMap<String, Wanted>,
    params: Option<&RuleParameters>,
    concurrency: usize,
) -> Result<(BTreeMap<RepoId, RepositoryFacts>, Vec<Failure>), AwsError> {
    // With `params`: the verdict on each referenced repository; `None` in the map = missing.
    let mut judged: Option<BTreeMap<String, RepositoryState>> = None;
    let mut failures = Vec::new();
    if let Some(params) = params {
        let mut found: BTreeMap<String, immutag_core::Repository> =
            crate::ecr::inventory(client, &target.account_id, &target.region)
                .await?
                .into_iter()
                .filter(|r| r.name.as_deref().is_some_and(|n| repos.contains_key(n)))
                .map(|r| (r.name.clone().unwrap_or_default(), r))
                .collect();
        if params.exemption_tag_key.is_some() {
            for repo in found.values_mut() {
                if let Err(e) = crate::ecr::fill_tags(client, repo).await {
                    failures.push(repo_failure(target, repo.name.as_deref().unwrap_or(""), &e));
                }
            }
        }
        let mut states = BTreeMap::new();
        for name in repos.keys() {
            let state = match found.get(name) {
                None => RepositoryState::Missing,
                Some(repo) => {
                    let e = evaluate(repo, params);
                    RepositoryState::Found {
                        compliant: e.compliance != Compliance::NonCompliant,
                        summary: format!("{} ({})", mutability_text(repo), e.annotation),
                    }
                }
            };
            states.insert(name.clone(), state);
        }
        judged = Some(states);
    }
    let failed_tags: BTreeSet<String> = failures
        .iter()
        .filter_map(|f| f.repository.clone())
        .collect();
    let reads =
        futures::stream::iter(repos.iter().filter(|(n, _)| !failed_tags.contains(*n)).map(
            |(name, wanted)| async move {
                (name, images(client, &target.account_id, name, wanted).await)
            },
        ))
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    let mut out = BTreeMap::new();
    for (name, result) in reads {
        let repo = RepoId {
            account_id: target.account_id.clone(),
            region: target.region.clone(),
            repository: name.clone(),
        };
        match result {
            Err(e) => failures.push(repo_failure(target, name, &e)),
            Ok(None) => {
                out.insert(
                    repo,
                    RepositoryFacts {
                        state: RepositoryState::Missing,
                        tags: BTreeMap::new(),
                        digests: BTreeSet::new(),
                    },
                );
            }
            Ok(Some((tags, digests))) => {
                let state = match judged.as_ref().and_then(|j| j.get(name)) {
                    Some(s) => s.clone(),
                    // Not described (resolve), or created between the two calls.
                    None => RepositoryState::Found {
                        compliant: true,
                        summary: "not described".to_owned(),
                    },
                };
                out.insert(
                    repo,
                    RepositoryFacts {
                        state,
                        tags,
                        digests,
                    },
                );
            }
        }
    }
    failures.sort();
    Ok((out, failures))
}

fn mutability_text(repo: &immutag_core::Repository) -> String {
    match &repo.tag_mutability {
        immutag_core::MutabilitySetting::Set { value } => value.as_str().to_owned(),
        immutag_core::MutabilitySetting::Absent => "MUTABLE (not set)".to_owned(),
        immutag_core::MutabilitySetting::Unresolved { .. } => "unresolved".to_owned(),
    }
}

fn repo_failure(target: &Target, repository: &str, err: &AwsError) -> Failure {
    let mut f = target_failure(target, err);
    f.repository = Some(repository.to_owned());
    f
}

type Images = (BTreeMap<String, String>, BTreeSet<String>);

/// `ecr:BatchGetImage` for the tags and digests of `wanted`: the digest each tag names and
/// the digests present, or `None` when the repository does not exist.
pub async fn images(
    client: &Client,
    registry_id: &str,
    repository: &str,
    wanted: &Wanted,
) -> Result<Option<Images>, AwsError> {
    const OP: &str = "ecr:BatchGetImage";
    let ids: Vec<ImageIdentifier> = wanted
        .tags
        .iter()
        .map(|t| ImageIdentifier::builder().image_tag(t).build())
        .chain(
            wanted
                .digests
                .iter()
                .map(|d| ImageIdentifier::builder().image_digest(d).build()),
        )
        .collect();
    let mut tags = BTreeMap::new();
    let mut digests = BTreeSet::new();
    for chunk in ids.chunks(BATCH_SIZE) {
        let resp = client
            .batch_get_image()
            .registry_id(registry_id)
            .repository_name(repository)
            .set_image_ids(Some(chunk.to_vec()))
            .set_accepted_media_types(Some(
                ACCEPTED_MEDIA_TYPES
                    .iter()
                    .map(|m| (*m).to_owned())
                    .collect(),
            ))
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(e)
                if e.as_service_error().and_then(|s| s.code())
                    == Some("RepositoryNotFoundException") =>
            {
                return Ok(None);
            }
            Err(e) => return Err(AwsError::api(OP, e)),
        };
        for image in resp.images() {
            let Some(id) = image.image_id() else { continue };
            let Some(digest) = id.image_digest() else {
                continue;
            };
            if let Some(tag) = id.image_tag()
                && wanted.tags.contains(tag)
            {
                tags.insert(tag.to_owned(), digest.to_owned());
            }
            if wanted.digests.contains(digest) {
                digests.insert(digest.to_owned());
            }
        }
        // ImageNotFound is an answer (the tag or digest is not there); anything else
        // (KmsError, an upstream registry of a pull-through cache that failed) is not.
        if let Some(f) = resp.failures().iter().find(|f| {
            f.failure_code()
                .is_some_and(|c| c.as_str() != "ImageNotFound")
        }) {
            return Err(AwsError::Api {
                operation: OP,
                code: f.failure_code().map(|c| c.as_str().to_owned()),
                message: f
                    .failure_reason()
                    .unwrap_or("image lookup failed")
                    .to_owned(),
            });
        }
    }
    Ok(Some((tags, digests)))
}
