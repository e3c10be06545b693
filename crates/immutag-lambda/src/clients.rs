//! The AWS clients of the Lambda, built once per container, and the production
//! [`ClientProvider`](crate::ClientProvider) that assumes `ExecutionRoleName` in the event's
//! account (through `immutag_aws::session`).

use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::SdkConfig;
use immutag_aws::session;

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

/// The production provider: the function's own clients, or clients whose credentials come
/// from assuming `arn:PARTITION:iam::ACCOUNT:role/ExecutionRoleName` (STS AssumeRole, a
/// caching provider) when that parameter is set. Assumed-role clients are kept per role ARN
/// for the life of the container.
#[derive(Debug)]
pub struct AwsClientProvider {
    sdk: SdkConfig,
    own: Clients,
    assumed: Mutex<HashMap<String, Clients>>,
}

impl AwsClientProvider {
    /// Builds the clients once (call this outside the per-event path).
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            sdk: sdk.clone(),
            own: Clients::new(sdk),
            assumed: Mutex::new(HashMap::new()),
        }
    }
}

impl ClientProvider for AwsClientProvider {
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
