//! The ECR clients of the changes and live reads: one per account and region ([`Scope`]),
//! built from the base configuration (the caller's own account directly, any other account
//! through STS AssumeRole), each with the adaptive retry of [`retry_config`].

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_ecr::Client;
use immutag_core::change::RepoKey;

/// The attempts the remediation client makes per call (first try included).
pub const MAX_ATTEMPTS: u32 = 8;

/// Builds the ECR client used to remediate from an SDK configuration (credentials, region,
/// endpoint), with adaptive retry: exponential backoff with jitter on throttling and
/// transient errors, a client-side rate limiter that slows down when ECR throttles, and
/// [`MAX_ATTEMPTS`] attempts per call.
pub fn remediation_client(sdk: &aws_config::SdkConfig) -> Client {
    let conf = aws_sdk_ecr::config::Builder::from(sdk)
        .retry_config(retry_config())
        .build();
    Client::from_conf(conf)
}

/// The retry configuration of [`remediation_client`]: adaptive, [`MAX_ATTEMPTS`] attempts,
/// backoff from 100 ms up to 20 s.
pub fn retry_config() -> aws_sdk_ecr::config::retry::RetryConfig {
    aws_sdk_ecr::config::retry::RetryConfig::adaptive()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(20))
}

/// Account and region: which client serves a repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    /// The account; `None`: the credentials' own.
    pub account: Option<String>,
    /// The region; `None`: the configured one.
    pub region: Option<String>,
}

impl Scope {
    /// The scope of a repository key.
    pub fn of(key: &RepoKey) -> Self {
        Self {
            account: key.account.clone(),
            region: key.region.clone(),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}",
            self.account.as_deref().unwrap_or("(default account)"),
            self.region.as_deref().unwrap_or("(default region)")
        )
    }
}

/// ECR clients per account and region (the [`Scope`] of each repository).
#[derive(Debug, Clone, Default)]
pub struct EcrClients {
    map: HashMap<Scope, Client>,
}

impl EcrClients {
    /// No clients.
    pub fn new() -> Self {
        Self::default()
    }

    /// One client for every scope (tests, single-account use with a fixed region).
    pub fn single(scope: Scope, client: Client) -> Self {
        let mut c = Self::new();
        c.insert(scope, client);
        c
    }

    /// Adds the client for a scope.
    pub fn insert(&mut self, scope: Scope, client: Client) {
        self.map.insert(scope, client);
    }

    /// The client for a scope.
    pub fn get(&self, scope: &Scope) -> Option<&Client> {
        self.map.get(scope)
    }
}

/// Clients for the scopes named by a plan or a journal, from the base configuration:
/// the caller's own account directly, any other account through `role_name` (STS
/// AssumeRole, see [`crate::session::assume_role`]), each region by name. A scope without an
/// account is the caller's; one without a region is the base configuration's region.
/// Credentials are fetched lazily: a refused AssumeRole shows up as the per-repository error
/// of the calls made with that client.
pub async fn clients_for_scopes(
    base: &aws_config::SdkConfig,
    scopes: impl IntoIterator<Item = Scope>,
    role_name: &str,
) -> Result<EcrClients, crate::AwsError> {
    let mut scopes: Vec<Scope> = scopes.into_iter().collect();
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Ok(EcrClients::new());
    }
    let control = match (base.region(), scopes.iter().find_map(|s| s.region.clone())) {
        (Some(_), _) => base.clone(),
        (None, Some(r)) => crate::session::with_region(base, &r),
        (None, None) => return Err(crate::AwsError::NoRegion),
    };
    let needs_identity = scopes.iter().any(|s| s.account.is_some());
    let identity = if needs_identity {
        Some(crate::session::caller_identity(&control).await?)
    } else {
        None
    };
    let mut per_account: BTreeMap<Option<String>, aws_config::SdkConfig> = BTreeMap::new();
    let mut clients = EcrClients::new();
    for scope in scopes {
        let config = match per_account.get(&scope.account) {
            Some(c) => c.clone(),
            None => {
                let c = match (&scope.account, &identity) {
                    (Some(account), Some(id)) if *account != id.account_id => {
                        let arn = crate::session::role_arn(&id.partition, account, role_name)?;
                        crate::session::assume_role(&control, &arn).await
                    }
                    _ => control.clone(),
                };
                per_account.insert(scope.account.clone(), c.clone());
                c
            }
        };
        let config = match &scope.region {
            Some(r) => {
                crate::error::check_region(r)?;
                crate::session::with_region(&config, r)
            }
            None if base.region().is_none() => return Err(crate::AwsError::NoRegion),
            None => config,
        };
        clients.insert(scope, remediation_client(&config));
    }
    Ok(clients)
}
