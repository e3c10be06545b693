//! Amazon ECR reads: the repository inventory of one account and region, repository tags,
//! the images of one repository, the repository creation templates and the registry's rules
//! (pull-through cache, replication) that make ECR create repositories by itself.
//!
//! The inventory makes the fewest calls the API allows: `DescribeRepositories` with
//! `maxResults=1000`, following `nextToken`, so `ceil(N / 1000)` calls (at least one) per
//! account and region, and nothing per repository; the templates likewise
//! (`DescribeRepositoryCreationTemplates`, `maxResults=1000`).

use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::{
    ImageDetail, ImageTagMutabilityExclusionFilter, Repository as ApiRepository,
    RepositoryCreationTemplate, RepositoryFilterType,
};
use std::collections::BTreeMap;

use aws_sdk_ecr::error::ProvideErrorMetadata;
use futures::stream;
use futures::{StreamExt, TryStreamExt};
use immutag_core::change::{LifecyclePolicy, RepoKey, Setting, State};
use immutag_core::coverage::ReplicationRule;
use immutag_core::plan::ImageRecord;
use immutag_core::{
    AppliedFor, ExclusionFilter, FilterType, InputKind, Repository, ResourceKind, TagMutability,
    TemplatePrefix,
};

use crate::clients::{EcrClients, Scope};
use crate::error::{UnimplementedClassifier, error_chain};

use crate::error::AwsError;

/// `maxResults` of DescribeRepositories and DescribeImages: the API maximum.
pub const PAGE_SIZE: i32 = 1000;

/// Upper bound on pages read from one paginated call (10 million items): a guard against a
/// service that never stops returning `nextToken`.
pub const MAX_PAGES: usize = 10_000;

/// Maps one DescribeRepositories item to the normalized model ([`InputKind::Live`]).
///
/// `account_id` and `region` label the repository; the item's own `registryId` wins over
/// `account_id` when present. A missing `imageTagMutability` is kept as absent (the evaluator
/// then applies the AWS default, MUTABLE).
pub fn repository_from_api(api: &ApiRepository, account_id: &str, region: &str) -> Repository {
    let name = api.repository_name().unwrap_or_default();
    let mut repo = Repository::new(name, InputKind::Live);
    repo.account_id = Some(api.registry_id().unwrap_or(account_id).to_owned());
    repo.region = Some(region.to_owned());
    repo.arn = api.repository_arn().map(str::to_owned);
    if let Some(m) = mutability_of(api) {
        repo = repo.with_mutability(m);
    }
    repo.with_filters(filters_of(api))
}

/// The setting of an API repository: an absent mode is the API default MUTABLE.
pub fn setting_of(api: &ApiRepository) -> Setting {
    Setting::new(
        mutability_of(api).unwrap_or(TagMutability::Mutable),
        filters_of(api),
    )
}

/// `imageTagMutability`, as the API states it (unknown values kept verbatim).
fn mutability_of(api: &ApiRepository) -> Option<TagMutability> {
    api.image_tag_mutability()
        .map(|m| TagMutability::parse(m.as_str()))
}

/// `imageTagMutabilityExclusionFilters`, in API order.
fn filters_of(api: &ApiRepository) -> Vec<ExclusionFilter> {
    api.image_tag_mutability_exclusion_filters()
        .iter()
        .map(|f| ExclusionFilter {
            filter_type: FilterType::parse(f.filter_type().as_str()),
            filter: f.filter().to_owned(),
        })
        .collect()
}

/// Maps one DescribeRepositoryCreationTemplates item to the normalized model
/// ([`InputKind::Live`]): a creation template whose resource id is its prefix, labelled with
/// `account_id` and `region`.
pub fn template_from_api(
    api: &RepositoryCreationTemplate,
    account_id: &str,
    region: &str,
) -> Repository {
    let prefix = TemplatePrefix::parse(api.prefix().unwrap_or_default());
    let applied_for = api
        .applied_for()
        .iter()
        .map(|a| AppliedFor::parse(a.as_str()))
        .collect();
    let mut t = Repository::creation_template(prefix, applied_for, InputKind::Live);
    t.account_id = Some(account_id.to_owned());
    t.region = Some(region.to_owned());
    if let Some(m) = api.image_tag_mutability() {
        t = t.with_mutability(TagMutability::parse(m.as_str()));
    }
    t.with_filters(api_filters(api.image_tag_mutability_exclusion_filters()))
}

/// The setting of an API creation template: an absent mode is the API default MUTABLE.
pub fn template_setting_of(api: &RepositoryCreationTemplate) -> Setting {
    Setting::new(
        api.image_tag_mutability()
            .map(|m| TagMutability::parse(m.as_str()))
            .unwrap_or(TagMutability::Mutable),
        api_filters(api.image_tag_mutability_exclusion_filters()),
    )
}

fn api_filters(filters: &[ImageTagMutabilityExclusionFilter]) -> Vec<ExclusionFilter> {
    filters
        .iter()
        .map(|f| ExclusionFilter {
            filter_type: FilterType::parse(f.filter_type().as_str()),
            filter: f.filter().to_owned(),
        })
        .collect()
}

/// The SDK configuration of the calls an endpoint may not implement (the template and
/// registry reads): moto's answer to them is not retried (see
/// [`UnimplementedClassifier`]).
fn probing() -> aws_sdk_ecr::config::Builder {
    aws_sdk_ecr::config::Builder::default().retry_classifier(UnimplementedClassifier)
}

/// Every repository creation template of the account and region `client` is configured for
/// (`ecr:DescribeRepositoryCreationTemplates`, `maxResults=1000`, following `nextToken`).
/// An endpoint that does not implement the operation gives [`AwsError::Unsupported`].
pub async fn creation_templates(
    client: &Client,
    account_id: &str,
    region: &str,
) -> Result<Vec<Repository>, AwsError> {
    const OP: &str = "ecr:DescribeRepositoryCreationTemplates";
    let (out, _) = paginate(OP, |token| async move {
        let resp = client
            .describe_repository_creation_templates()
            .max_results(PAGE_SIZE)
            .set_next_token(token)
            .customize()
            .config_override(probing())
            .send()
            .await
            .map_err(|e| AwsError::api_probe(OP, e))?;
        let templates = resp
            .repository_creation_templates()
            .iter()
            .map(|t| template_from_api(t, account_id, region))
            .collect();
        Ok((templates, resp.next_token().map(str::to_owned)))
    })
    .await?;
    Ok(out)
}

/// The rules of a registry that make ECR create repositories by itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryRules {
    /// The `ecrRepositoryPrefix` of each pull-through cache rule.
    pub pull_through_cache: Vec<String>,
    /// The replication rules.
    pub replication: Vec<ReplicationRule>,
}

/// The replication rules (`ecr:DescribeRegistry`) and pull-through cache rules
/// (`ecr:DescribePullThroughCacheRules`, `maxResults=1000`, following `nextToken`) of the
/// registry `client` is configured for. A repository filter of a type other than
/// `PREFIX_MATCH` is read as selecting every repository (fail closed).
pub async fn registry_rules(client: &Client) -> Result<RegistryRules, AwsError> {
    const REGISTRY: &str = "ecr:DescribeRegistry";
    const CACHE: &str = "ecr:DescribePullThroughCacheRules";
    let registry = client
        .describe_registry()
        .customize()
        .config_override(probing())
        .send()
        .await
        .map_err(|e| AwsError::api_probe(REGISTRY, e))?;
    let replication = registry
        .replication_configuration()
        .map(|c| c.rules())
        .unwrap_or_default()
        .iter()
        .map(|rule| {
            let filters = rule.repository_filters();
            let exact = filters
                .iter()
                .all(|f| *f.filter_type() == RepositoryFilterType::PrefixMatch);
            ReplicationRule {
                destinations: rule
                    .destinations()
                    .iter()
                    .map(|d| (d.registry_id().to_owned(), d.region().to_owned()))
                    .collect(),
                prefixes: if exact {
                    filters.iter().map(|f| f.filter().to_owned()).collect()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let (pull_through_cache, _) = paginate(CACHE, |token| async move {
        let resp = client
            .describe_pull_through_cache_rules()
            .max_results(PAGE_SIZE)
            .set_next_token(token)
            .customize()
            .config_override(probing())
            .send()
            .await
            .map_err(|e| AwsError::api_probe(CACHE, e))?;
        let prefixes = resp
            .pull_through_cache_rules()
            .iter()
            .filter_map(|r| r.ecr_repository_prefix().map(str::to_owned))
            .collect();
        Ok((prefixes, resp.next_token().map(str::to_owned)))
    })
    .await?;
    Ok(RegistryRules {
        pull_through_cache,
        replication,
    })
}

/// Every repository of the account and region `client` is configured for.
///
/// `account_id` and `region` label the results (see [`repository_from_api`]).
pub async fn inventory(
    client: &Client,
    account_id: &str,
    region: &str,
) -> Result<Vec<Repository>, AwsError> {
    const OP: &str = "ecr:DescribeRepositories";
    let (out, pages) = paginate(OP, |token| async move {
        let resp = client
            .describe_repositories()
            .max_results(PAGE_SIZE)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::api(OP, e))?;
        let repositories = resp
            .repositories()
            .iter()
            .map(|r| repository_from_api(r, account_id, region))
            .collect();
        Ok((repositories, resp.next_token().map(str::to_owned)))
    })
    .await?;
    tracing::debug!(
        account_id,
        region,
        repositories = out.len(),
        pages,
        "inventory read"
    );
    Ok(out)
}

/// Decides whether to read another page: `None` when done, an error when the service repeats
/// the token or the page count passes [`MAX_PAGES`].
pub(crate) fn next_token(
    operation: &'static str,
    previous: Option<&str>,
    next: Option<&str>,
    pages: usize,
) -> Result<Option<String>, AwsError> {
    match next {
        None | Some("") => Ok(None),
        Some(t) if Some(t) == previous || pages >= MAX_PAGES => {
            Err(AwsError::Pagination { operation, pages })
        }
        Some(t) => Ok(Some(t.to_owned())),
    }
}

/// Whether a repository still existed when it was read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// It exists (and was read).
    Present,
    /// ECR answered RepositoryNotFoundException: deleted since it was listed.
    Deleted,
}

/// Reads every page of a paginated call: `page(token)` sends one request and returns its
/// items and next token; pages are followed until the token is empty, guarded as
/// [`next_token`] guards them. Returns the items and the pages read.
pub(crate) async fn paginate<T, F, Fut>(
    operation: &'static str,
    mut page: F,
) -> Result<(Vec<T>, usize), AwsError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0usize;
    loop {
        // Boxed: an SDK call's future is large (a Security Hub one overflowed a test thread's
        // stack when nested in this loop).
        let (items, next) = Box::pin(page(token.clone())).await?;
        pages += 1;
        out.extend(items);
        token = next_token(operation, token.as_deref(), next.as_deref(), pages)?;
        if token.is_none() {
            return Ok((out, pages));
        }
    }
}

/// Fills `repo.tags` with `ecr:ListTagsForResource` (needed only when rule parameters name an
/// `ExemptionTagKey`: one call per repository). Repositories without an ARN are left alone.
///
/// A repository deleted since it was listed (RepositoryNotFoundException) is
/// [`Presence::Deleted`], not an error; any other failure is an error naming the repository.
pub async fn fill_tags(client: &Client, repo: &mut Repository) -> Result<Presence, AwsError> {
    const OP: &str = "ecr:ListTagsForResource";
    let Some(arn) = repo.arn.clone() else {
        return Ok(Presence::Present);
    };
    let resp = match client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
    {
        Ok(resp) => resp,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_repository_not_found_exception()) =>
        {
            tracing::info!(repository = %repo.resource_id, "deleted since it was listed; left out");
            return Ok(Presence::Deleted);
        }
        Err(e) => return Err(naming(AwsError::api(OP, e), &repo.resource_id)),
    };
    for tag in resp.tags() {
        repo.tags
            .insert(tag.key().to_owned(), tag.value().to_owned());
    }
    Ok(Presence::Present)
}

/// The error of a call about one repository, with the repository named in its message.
fn naming(err: AwsError, repository: &str) -> AwsError {
    match err {
        AwsError::Api {
            operation,
            code,
            message,
        } => AwsError::Api {
            operation,
            code,
            message: format!("repository {repository}: {message}"),
        },
        other => other,
    }
}

/// What [`fill_tags_all`] read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tagged {
    /// The repositories that still exist, with their tags, in input order.
    pub repositories: Vec<Repository>,
    /// The names of the repositories deleted between the listing and the tag read, left out
    /// (and counted by the caller).
    pub dropped: Vec<String>,
}

/// [`fill_tags`] for many repositories, `concurrency` at a time. A repository deleted since
/// it was listed is dropped and named in [`Tagged::dropped`]; it never fails the others.
pub async fn fill_tags_all(
    client: &Client,
    repos: Vec<Repository>,
    concurrency: usize,
) -> Result<Tagged, AwsError> {
    let read: Vec<(Presence, Repository)> =
        futures::stream::iter(repos.into_iter().map(|mut repo| async move {
            let presence = fill_tags(client, &mut repo).await?;
            Ok::<_, AwsError>((presence, repo))
        }))
        .buffered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut out = Tagged::default();
    for (presence, repo) in read {
        match presence {
            Presence::Present => out.repositories.push(repo),
            Presence::Deleted => out.dropped.push(repo.resource_id),
        }
    }
    Ok(out)
}

/// Maps one DescribeImages item.
pub fn image_from_api(detail: &ImageDetail) -> ImageRecord {
    ImageRecord {
        digest: detail.image_digest().unwrap_or_default().to_owned(),
        tags: detail.image_tags().to_vec(),
        pushed_at: detail.image_pushed_at().map(|t| t.secs()),
        last_pulled_at: detail.last_recorded_pull_time().map(|t| t.secs()),
        media_type: detail
            .image_manifest_media_type()
            .or(detail.artifact_media_type())
            .map(str::to_owned),
        subject_digest: detail.subject_manifest_digest().map(str::to_owned),
        artifact_type: detail.artifact_media_type().map(str::to_owned),
        size_bytes: detail
            .image_size_in_bytes()
            .and_then(|b| u64::try_from(b).ok()),
    }
}

/// Every image of a repository (`ecr:DescribeImages`, `maxResults=1000`, following
/// `nextToken`): tags, push time, last recorded pull, size, artifact type. One read serves the
/// re-used tags and the untagged images (the ones with no tag: the same set as
/// `filter.tagStatus=UNTAGGED`), so the plan lists each repository's images once.
pub async fn images(
    client: &Client,
    registry_id: Option<&str>,
    repository_name: &str,
) -> Result<Vec<ImageRecord>, AwsError> {
    const OP: &str = "ecr:DescribeImages";
    let (out, _) = paginate(OP, |token| async move {
        let resp = client
            .describe_images()
            .set_registry_id(registry_id.map(str::to_owned))
            .repository_name(repository_name)
            .max_results(PAGE_SIZE)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::api(OP, e))?;
        let images = resp.image_details().iter().map(image_from_api).collect();
        Ok((images, resp.next_token().map(str::to_owned)))
    })
    .await?;
    Ok(out)
}

/// The most repository names DescribeRepositories accepts in one call.
pub const DESCRIBE_BATCH: usize = 100;

/// What reading a repository found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadState {
    /// The repository as DescribeRepositories returned it (labelled with the account and
    /// region it was read in).
    Found(Box<Repository>),
    /// It does not exist.
    Missing,
    /// It could not be read.
    Error(String),
}

impl ReadState {
    /// The setting found (`None` when missing or unreadable).
    pub fn setting(&self) -> Option<Result<Setting, String>> {
        match self {
            Self::Found(repo) => Some(Setting::of(repo)),
            Self::Missing | Self::Error(_) => None,
        }
    }
}

/// Reads the current setting of each repository with DescribeRepositories, naming at most
/// [`DESCRIBE_BATCH`] repositories per call, `concurrency` calls at once. When a batch names
/// a repository that does not exist, ECR fails the whole batch with
/// RepositoryNotFoundException; the batch is then split in halves until the missing
/// repositories are isolated.
pub async fn read_settings(
    clients: &EcrClients,
    keys: &[RepoKey],
    concurrency: usize,
) -> BTreeMap<RepoKey, ReadState> {
    let mut by_scope: BTreeMap<(Scope, ResourceKind), Vec<String>> = BTreeMap::new();
    for k in keys {
        by_scope
            .entry((Scope::of(k), k.kind))
            .or_default()
            .push(k.repository.clone());
    }
    let mut batches: Vec<(Scope, ResourceKind, Vec<String>)> = Vec::new();
    for ((scope, kind), mut names) in by_scope {
        names.sort();
        names.dedup();
        let size = match kind {
            ResourceKind::Repository => DESCRIBE_BATCH,
            ResourceKind::CreationTemplate => TEMPLATE_BATCH,
        };
        for chunk in names.chunks(size) {
            batches.push((scope.clone(), kind, chunk.to_vec()));
        }
    }
    let results: Vec<Vec<(RepoKey, ReadState)>> = stream::iter(batches)
        .map(|(scope, kind, names)| async move {
            match kind {
                ResourceKind::Repository => read_batch(clients, scope, names).await,
                ResourceKind::CreationTemplate => read_template_batch(clients, scope, names).await,
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    results.into_iter().flatten().collect()
}

/// Prefixes named per DescribeRepositoryCreationTemplates call when reading templates back
/// (the API documents no limit; a registry holds few templates).
pub const TEMPLATE_BATCH: usize = 25;

/// Reads named templates (DescribeRepositoryCreationTemplates with `prefixes`): a prefix the
/// answer does not list does not exist.
async fn read_template_batch(
    clients: &EcrClients,
    scope: Scope,
    prefixes: Vec<String>,
) -> Vec<(RepoKey, ReadState)> {
    let key = |p: &str| {
        RepoKey::template(
            scope.account.as_deref(),
            scope.region.as_deref(),
            &TemplatePrefix::parse(p),
        )
    };
    let found = match clients.get(&scope) {
        None => Err(format!("no credentials for {scope}")),
        Some(client) => describe_templates(client, &prefixes).await,
    };
    match found {
        Ok(templates) => prefixes
            .iter()
            .map(|p| {
                let state = match templates.iter().find(|t| t.prefix() == Some(p.as_str())) {
                    Some(t) => ReadState::Found(Box::new(template_from_api(
                        t,
                        scope.account.as_deref().unwrap_or_default(),
                        scope.region.as_deref().unwrap_or_default(),
                    ))),
                    None => ReadState::Missing,
                };
                (key(p), state)
            })
            .collect(),
        Err(msg) => prefixes
            .iter()
            .map(|p| (key(p), ReadState::Error(msg.clone())))
            .collect(),
    }
}

/// The templates of `prefixes` as the API returns them (every page), or the error as text.
pub async fn describe_templates(
    client: &Client,
    prefixes: &[String],
) -> Result<Vec<RepositoryCreationTemplate>, String> {
    const OP: &str = "ecr:DescribeRepositoryCreationTemplates";
    let (out, _) = paginate(OP, |token| async move {
        let resp = client
            .describe_repository_creation_templates()
            .set_prefixes(Some(prefixes.to_vec()))
            .set_next_token(token)
            .customize()
            .config_override(probing())
            .send()
            .await
            .map_err(|e| AwsError::api_probe(OP, e))?;
        Ok((
            resp.repository_creation_templates().to_vec(),
            resp.next_token().map(str::to_owned),
        ))
    })
    .await
    .map_err(|e| e.to_string())?;
    Ok(out)
}

async fn read_batch(
    clients: &EcrClients,
    scope: Scope,
    names: Vec<String>,
) -> Vec<(RepoKey, ReadState)> {
    let key = |n: &str| RepoKey::new(scope.account.as_deref(), scope.region.as_deref(), n);
    let Some(client) = clients.get(&scope) else {
        return names
            .iter()
            .map(|n| {
                (
                    key(n),
                    ReadState::Error(format!("no credentials for {scope}")),
                )
            })
            .collect();
    };
    let mut out = Vec::with_capacity(names.len());
    let mut pending: Vec<Vec<String>> = vec![names];
    while let Some(batch) = pending.pop() {
        let resp = client
            .describe_repositories()
            .set_registry_id(scope.account.clone())
            .set_repository_names(Some(batch.clone()))
            .send()
            .await;
        match resp {
            Ok(o) => {
                let mut seen = std::collections::BTreeSet::new();
                for r in o.repositories() {
                    if let Some(name) = r.repository_name()
                        && batch.iter().any(|b| b == name)
                    {
                        seen.insert(name.to_owned());
                        out.push((
                            key(name),
                            ReadState::Found(Box::new(repository_from_api(
                                r,
                                scope.account.as_deref().unwrap_or_default(),
                                scope.region.as_deref().unwrap_or_default(),
                            ))),
                        ));
                    }
                }
                for n in batch.iter().filter(|n| !seen.contains(*n)) {
                    out.push((key(n), ReadState::Missing));
                }
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_repository_not_found_exception())
                    || e.code() == Some("RepositoryNotFoundException") =>
            {
                if batch.len() == 1 {
                    out.push((key(&batch[0]), ReadState::Missing));
                } else {
                    let mid = batch.len() / 2;
                    pending.push(batch[mid..].to_vec());
                    pending.push(batch[..mid].to_vec());
                }
            }
            Err(e) => {
                let msg = format!(
                    "{}: {}",
                    e.code().unwrap_or("error"),
                    e.message()
                        .map(str::to_owned)
                        .unwrap_or_else(|| error_chain(&e))
                );
                for n in &batch {
                    out.push((key(n), ReadState::Error(msg.clone())));
                }
            }
        }
    }
    out
}

/// What reading a repository's lifecycle policy found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyRead {
    /// Its policy, or none (`LifecyclePolicyNotFoundException`).
    Found(LifecyclePolicy),
    /// The repository does not exist.
    Missing,
    /// It could not be read.
    Error(String),
}

impl PolicyRead {
    /// The state found (`None` when missing or unreadable).
    pub fn state(&self) -> Option<State> {
        match self {
            Self::Found(p) => Some(State::Lifecycle(p.clone())),
            Self::Missing | Self::Error(_) => None,
        }
    }
}

/// Reads the lifecycle policy of one repository (`ecr:GetLifecyclePolicy`):
/// `LifecyclePolicyNotFoundException` means it has none.
pub async fn lifecycle_policy(
    client: &Client,
    registry_id: Option<&str>,
    repository_name: &str,
) -> PolicyRead {
    let resp = client
        .get_lifecycle_policy()
        .set_registry_id(registry_id.map(str::to_owned))
        .repository_name(repository_name)
        .send()
        .await;
    match resp {
        Ok(o) => PolicyRead::Found(match o.lifecycle_policy_text() {
            Some(text) => LifecyclePolicy::text(text),
            None => LifecyclePolicy::none(),
        }),
        Err(e) => match e.code() {
            Some("LifecyclePolicyNotFoundException") => PolicyRead::Found(LifecyclePolicy::none()),
            Some("RepositoryNotFoundException") => PolicyRead::Missing,
            code => PolicyRead::Error(format!(
                "ecr:GetLifecyclePolicy: {}: {}",
                code.unwrap_or("error"),
                e.message()
                    .map(str::to_owned)
                    .unwrap_or_else(|| error_chain(&e))
            )),
        },
    }
}

/// Reads the lifecycle policy of each repository, `concurrency` calls at once (one
/// GetLifecyclePolicy each: the API reads one repository a call).
pub async fn read_lifecycle_policies(
    clients: &EcrClients,
    keys: &[RepoKey],
    concurrency: usize,
) -> BTreeMap<RepoKey, PolicyRead> {
    let mut keys = keys.to_vec();
    keys.sort();
    keys.dedup();
    stream::iter(keys)
        .map(|key| async move {
            let scope = Scope::of(&key);
            let read = match clients.get(&scope) {
                Some(client) => {
                    lifecycle_policy(client, key.account.as_deref(), &key.repository).await
                }
                None => PolicyRead::Error(format!("no credentials for {scope}")),
            };
            (key, read)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecr::types::{
        ImageTagMutability, ImageTagMutabilityExclusionFilter,
        ImageTagMutabilityExclusionFilterType,
    };
    use immutag_core::MutabilitySetting;

    #[test]
    fn maps_repository_items() {
        let api = ApiRepository::builder()
            .repository_name("web")
            .registry_id("111122223333")
            .repository_arn("arn:aws:ecr:eu-west-1:111122223333:repository/web")
            .image_tag_mutability(ImageTagMutability::ImmutableWithExclusion)
            .image_tag_mutability_exclusion_filters(
                ImageTagMutabilityExclusionFilter::builder()
                    .filter_type(ImageTagMutabilityExclusionFilterType::Wildcard)
                    .filter("latest")
                    .build()
                    .unwrap(),
            )
            .build();
        let repo = repository_from_api(&api, "999999999999", "eu-west-1");
        assert_eq!(repo.name.as_deref(), Some("web"));
        assert_eq!(repo.account_id.as_deref(), Some("111122223333"));
        assert_eq!(repo.region.as_deref(), Some("eu-west-1"));
        assert_eq!(repo.source.kind, InputKind::Live);
        assert_eq!(
            repo.tag_mutability,
            MutabilitySetting::set(TagMutability::ImmutableWithExclusion)
        );
        assert_eq!(
            repo.exclusion_filters.filters(),
            &[ExclusionFilter::wildcard("latest")]
        );
    }

    #[test]
    fn missing_fields_fall_back() {
        let api = ApiRepository::builder().repository_name("x").build();
        let repo = repository_from_api(&api, "999999999999", "us-east-1");
        assert_eq!(repo.account_id.as_deref(), Some("999999999999"));
        assert_eq!(repo.tag_mutability, MutabilitySetting::Absent);
        let api = ApiRepository::builder()
            .repository_name("y")
            .image_tag_mutability(ImageTagMutability::from("SOMETIMES"))
            .build();
        let repo = repository_from_api(&api, "999999999999", "us-east-1");
        assert_eq!(
            repo.tag_mutability,
            MutabilitySetting::set(TagMutability::Unknown("SOMETIMES".into()))
        );
    }

    #[test]
    fn pagination_guard() {
        const OP: &str = "x";
        assert_eq!(next_token(OP, None, None, 1).unwrap(), None);
        assert_eq!(next_token(OP, None, Some(""), 1).unwrap(), None);
        assert_eq!(
            next_token(OP, None, Some("a"), 1).unwrap().as_deref(),
            Some("a")
        );
        assert!(next_token(OP, Some("a"), Some("a"), 2).is_err());
        assert!(next_token(OP, Some("a"), Some("b"), MAX_PAGES).is_err());
    }
}
