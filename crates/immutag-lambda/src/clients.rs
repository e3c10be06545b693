//! The AWS clients of the Lambda, built once per container, and the production
//! [`ClientProvider`](crate::ClientProvider) that assumes `ExecutionRoleName` in the event's
//! account.

use std::time::SystemTime;

use aws_config::SdkConfig;
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_types::error::display::DisplayErrorContext;
use immutag_core::{
    ExclusionFilter, FilterType, InputKind, MutabilitySetting, Repository, TagMutability,
};

use crate::{ClientProvider, HandlerError};

/// The clients one event is handled with.
#[derive(Debug, Clone)]
pub struct Clients {
    /// ECR: inventory, tags, remediation.
    pub ecr: aws_sdk_ecr::Client,
    /// AWS Config: PutEvaluations, history, compliance details.
    pub config: aws_sdk_config::Client,
}

impl Clients {
    /// Clients from one SDK configuration.
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            ecr: aws_sdk_ecr::Client::new(sdk),
            config: aws_sdk_config::Client::new(sdk),
        }
    }
}

/// The production provider: the function's own clients, or clients with the credentials of
/// `arn:PARTITION:iam::ACCOUNT:role/ExecutionRoleName` (STS AssumeRole) when that parameter
/// is set.
#[derive(Debug, Clone)]
pub struct AwsClientProvider {
    sdk: SdkConfig,
    own: Clients,
    sts: aws_sdk_sts::Client,
}

impl AwsClientProvider {
    /// Builds the clients once (call this outside the per-event path).
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            sdk: sdk.clone(),
            own: Clients::new(sdk),
            sts: aws_sdk_sts::Client::new(sdk),
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
        let role_arn = format!("arn:{partition}:iam::{account_id}:role/{role}");
        let out = self
            .sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("immutag-config-rule")
            .send()
            .await
            .map_err(|e| {
                HandlerError::Clients(format!(
                    "cannot assume {role_arn} (rule parameter ExecutionRoleName): {}",
                    DisplayErrorContext(&e)
                ))
            })?;
        let c = out.credentials().ok_or_else(|| {
            HandlerError::Clients(format!("AssumeRole {role_arn} returned no credentials"))
        })?;
        let expiry = SystemTime::try_from(*c.expiration()).ok();
        let creds = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            expiry,
            "immutag-execution-role",
        );
        let sdk = self
            .sdk
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(creds))
            .build();
        tracing::info!(role = %role_arn, "assumed execution role");
        Ok(Clients::new(&sdk))
    }
}

/// Every repository of the client's account and region (DescribeRepositories,
/// `maxResults` 1000, following `nextToken`).
///
/// NOTE: stop-gap until `immutag_aws::ecr::inventory` lands (branch `scan`).
pub async fn list_repositories(ecr: &aws_sdk_ecr::Client) -> Result<Vec<Repository>, String> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = ecr
            .describe_repositories()
            .max_results(1000)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| format!("DescribeRepositories: {}", DisplayErrorContext(&e)))?;
        for r in page.repositories() {
            let Some(name) = r.repository_name() else {
                continue;
            };
            let mut repo = Repository::new(name.to_owned(), InputKind::Live);
            repo.name = Some(name.to_owned());
            repo.account_id = r.registry_id().map(str::to_owned);
            repo.arn = r.repository_arn().map(str::to_owned);
            repo.region = r
                .repository_arn()
                .and_then(|a| a.split(':').nth(3))
                .map(str::to_owned);
            repo.tag_mutability = match r.image_tag_mutability() {
                Some(m) => MutabilitySetting::set(TagMutability::parse(m.as_str())),
                None => MutabilitySetting::Absent,
            };
            repo.exclusion_filters = immutag_core::FilterSetting::listed(
                r.image_tag_mutability_exclusion_filters()
                    .iter()
                    .map(|f| ExclusionFilter {
                        filter_type: FilterType::parse(f.filter_type().as_str()),
                        filter: f.filter().to_owned(),
                    })
                    .collect(),
            );
            out.push(repo);
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

/// Reads the tags of each repository (ListTagsForResource) when the rule parameter
/// `ExemptionTagKey` is set, since DescribeRepositories does not return tags.
pub async fn fill_tags(
    ecr: &aws_sdk_ecr::Client,
    repos: &mut [Repository],
    _key: &str,
) -> Result<(), String> {
    for repo in repos.iter_mut() {
        if !repo.tags.is_empty() {
            continue;
        }
        let Some(arn) = repo.arn.clone() else {
            continue;
        };
        let out = ecr
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(|e| format!("ListTagsForResource {arn}: {}", DisplayErrorContext(&e)))?;
        for t in out.tags() {
            repo.tags.insert(t.key().to_owned(), t.value().to_owned());
        }
    }
    Ok(())
}
