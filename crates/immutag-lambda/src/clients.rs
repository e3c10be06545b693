//! The AWS clients of the Lambda, built once per container, and the production
//! [`ClientProvider`](crate::ClientProvider) that assumes `ExecutionRoleName` in the event's
//! account (through `immutag_aws::session`).

use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::SdkConfig;
use immutag_aws::{AwsError, session};
use tokio::sync::OnceCell;

use crate::{ClientProvider, HandlerError};

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
