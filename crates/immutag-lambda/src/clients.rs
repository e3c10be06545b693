//! The AWS clients of the Lambda, built once per container, and the production
//! [`ClientProvider`](crate::ClientProvider) that assumes `ExecutionRoleName` in the event's
//! account (through `immutag_aws::session`).

use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_types::region::Region;
use aws_types::sdk_config::{SharedCredentialsProvider, SharedTimeSource};
use immutag_aws::{AwsError, session};
use tokio::sync::OnceCell;

use crate::{ClientProvider, HandlerError};

/// The SDK configuration of the function, from the environment Lambda gives it and nothing
/// else: the region from `AWS_REGION` (`AWS_DEFAULT_REGION` as a fallback), an endpoint from
/// `AWS_ENDPOINT_URL` when set (tests point it at moto), the execution role's credentials
/// from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` (read at each
/// refresh), or from the container credentials endpoint when
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` is set and the keys are not. Adaptive retries as
/// everywhere in immutag ([`immutag_aws::session::retry_config`]).
///
/// The CLI's standard chain ([`immutag_aws::session::load`]: profile files, SSO, web
/// identity, instance metadata) is not used here, so none of it is linked into `bootstrap`
/// (about 0.6 MB together with [`immutag_aws::session::assume_role`]'s own provider; see
/// docs/performance.md). `env` reads one variable (`std::env::var` in `main`); an empty
/// value counts as unset.
///
/// ```
/// let env = |name: &str| match name {
///     "AWS_REGION" => Some("eu-west-1".to_owned()),
///     "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:5000".to_owned()),
///     _ => None,
/// };
/// let sdk = immutag_lambda::clients::sdk_config_from_env(env);
/// assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
/// assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:5000"));
/// assert!(sdk.credentials_provider().is_some());
/// ```
pub fn sdk_config_from_env(env: impl Fn(&str) -> Option<String>) -> SdkConfig {
    let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
    if region.is_none() {
        tracing::error!("neither AWS_REGION nor AWS_DEFAULT_REGION is set: every AWS call fails");
    }
    let credentials = if var("AWS_ACCESS_KEY_ID").is_none()
        && var("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
    {
        SharedCredentialsProvider::new(aws_config::ecs::EcsCredentialsProvider::builder().build())
    } else {
        SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new())
    };
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .retry_config(immutag_aws::session::retry_config(
            immutag_aws::session::DEFAULT_MAX_ATTEMPTS,
        ))
        .time_source(SharedTimeSource::default())
        .credentials_provider(credentials)
        .region(region.map(Region::new));
    if let Some(url) = var("AWS_ENDPOINT_URL") {
        builder = builder.endpoint_url(url);
    }
    builder.build()
}

/// The clients one event is handled with.
#[derive(Debug, Clone)]
pub struct Clients {
    /// ECR: inventory, tags, remediation.
    pub ecr: aws_sdk_ecr::Client,
    /// AWS Config: PutEvaluations, history, compliance details.
    pub config: aws_sdk_config::Client,
    /// The region the clients talk to (labels the inventory).
    pub region: String,
}

impl Clients {
    /// Clients from one SDK configuration.
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            ecr: aws_sdk_ecr::Client::new(sdk),
            config: aws_sdk_config::Client::new(sdk),
            region: sdk.region().map(ToString::to_string).unwrap_or_default(),
        }
    }
}

/// The account of the function's own credentials: `sts:GetCallerIdentity`, called once per
/// container and cached. A failed call is not cached (the next invocation asks again).
#[derive(Debug)]
pub struct OwnAccount {
    sts: aws_sdk_sts::Client,
    account: OnceCell<String>,
}

impl OwnAccount {
    /// Reads the identity with `sts` when first asked.
    pub fn new(sts: aws_sdk_sts::Client) -> Self {
        Self {
            sts,
            account: OnceCell::new(),
        }
    }

    /// The 12-digit account id of the credentials.
    pub async fn get(&self) -> Result<String, AwsError> {
        self.account
            .get_or_try_init(|| async {
                let id = session::identity(&self.sts).await?;
                tracing::info!(account = %id.account_id, "the function's own account");
                Ok::<_, AwsError>(id.account_id)
            })
            .await
            .cloned()
    }
}

/// The production provider: the function's own clients, or clients whose credentials come
/// from assuming `arn:PARTITION:iam::ACCOUNT:role/ExecutionRoleName` (STS AssumeRole, a
/// caching provider) when that parameter is set. Assumed-role clients are kept per role ARN
/// for the life of the container.
#[derive(Debug)]
pub struct AwsClientProvider {
    sdk: SdkConfig,
    own: Clients,
    own_account: OwnAccount,
    assumed: Mutex<HashMap<String, Clients>>,
}

impl AwsClientProvider {
    /// Builds the clients once (call this outside the per-event path).
    pub fn new(sdk: &SdkConfig) -> Self {
        Self::with_clients(
            sdk,
            Clients::new(sdk),
            OwnAccount::new(aws_sdk_sts::Client::new(sdk)),
        )
    }

    /// A provider from clients built elsewhere (tests: mocked clients); `sdk` is the base of
    /// the assumed roles.
    pub fn with_clients(sdk: &SdkConfig, own: Clients, own_account: OwnAccount) -> Self {
        Self {
            sdk: sdk.clone(),
            own,
            own_account,
            assumed: Mutex::new(HashMap::new()),
        }
    }
}

impl ClientProvider for AwsClientProvider {
    async fn own_account(&self) -> Result<String, AwsError> {
        self.own_account.get().await
    }

    async fn clients_for(
        &self,
        account_id: &str,
        partition: &str,
        role_name: Option<&str>,
    ) -> Result<Clients, HandlerError> {
        let Some(role) = role_name else {
            return Ok(self.own.clone());
        };
        let arn = session::role_arn(partition, account_id, role)
            .map_err(|e| HandlerError::Clients(format!("rule parameter ExecutionRoleName: {e}")))?;
        if let Some(c) = self.assumed.lock().ok().and_then(|m| m.get(&arn).cloned()) {
            return Ok(c);
        }
        let sdk = session::assume_role(&self.sdk, &arn).await;
        let clients = Clients::new(&sdk);
        if let Ok(mut m) = self.assumed.lock() {
            m.insert(arn.clone(), clients.clone());
        }
        tracing::info!(role = %arn, "using execution role");
        Ok(clients)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_region_falls_back_to_aws_default_region_and_empty_values_are_unset() {
        let sdk = sdk_config_from_env(env_of(&[
            ("AWS_REGION", " "),
            ("AWS_DEFAULT_REGION", "ap-south-1"),
            ("AWS_ENDPOINT_URL", ""),
        ]));
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("ap-south-1"));
        assert_eq!(sdk.endpoint_url(), None);
        assert!(
            sdk.time_source().is_some(),
            "AssumeRole needs a time source"
        );
        assert!(sdk.credentials_provider().is_some());
    }

    #[test]
    fn no_region_is_left_unset_rather_than_guessed() {
        let sdk = sdk_config_from_env(env_of(&[]));
        assert_eq!(sdk.region(), None);
    }
}
