//! AWS configuration and credentials, built from `aws-config` and the SDK.
//!
//! * [`load`]: the standard credential chain (environment, `AWS_PROFILE` / `--profile`, SSO, web identity,
//!   container and instance roles, `credential_process`); nothing reads credentials by hand.
//! * `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_ECR`, ...) is honoured by
//!   `aws-config`; [`SessionOptions::endpoint_url`] overrides it (tests point it at moto).
//! * The SDK retries with the **adaptive** retry mode (client-side rate limiting on top of the
//!   standard exponential backoff), [`DEFAULT_MAX_ATTEMPTS`] attempts per call.
//! * Other accounts are reached by assuming `arn:PARTITION:iam::ACCOUNT:role/ROLE` through STS
//!   ([`assume_role`]: a provider over the SDK's STS client, its credentials kept by the
//!   clients' identity cache until they expire); the caller's own account is used directly.

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_types::SdkConfig;
use aws_types::region::Region;

use crate::error::{AwsError, check_account_id, check_role_name};

/// The role assumed in member accounts unless `--role-name` says otherwise: the role AWS
/// Organizations creates in every account it creates (accounts invited into an organization
/// need it created by hand, or another role named).
pub const DEFAULT_ROLE_NAME: &str = "OrganizationAccountAccessRole";

/// Attempts per API call (first try included) under the adaptive retry mode.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// The STS session name immutag uses when it assumes a role (visible in CloudTrail).
pub const SESSION_NAME: &str = "immutag";

/// How to build the base configuration. Everything left `None` comes from the standard
/// `aws-config` chain (environment, profile files, instance metadata).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionOptions {
    /// A named profile (`--profile`); `AWS_PROFILE` otherwise.
    pub profile: Option<String>,
    /// A region override; `AWS_REGION` / the profile's region otherwise.
    pub region: Option<String>,
    /// An endpoint override for every service; `AWS_ENDPOINT_URL` otherwise.
    pub endpoint_url: Option<String>,
    /// Attempts per call; [`DEFAULT_MAX_ATTEMPTS`] when `None`.
    pub max_attempts: Option<u32>,
}

/// The retry configuration immutag uses: adaptive mode, `max_attempts` attempts.
pub fn retry_config(max_attempts: u32) -> RetryConfig {
    RetryConfig::adaptive().with_max_attempts(max_attempts.max(1))
}

/// Loads the base configuration from the standard chain, with the overrides in `opts`.
pub async fn load(opts: &SessionOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry_config(
        opts.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS),
    ));
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// The same configuration in another region.
pub fn with_region(config: &SdkConfig, region: &str) -> SdkConfig {
    config
        .clone()
        .into_builder()
        .region(Region::new(region.to_owned()))
        .build()
}

/// Who the base credentials belong to (`sts:GetCallerIdentity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The 12-digit account id.
    pub account_id: String,
    /// The caller's ARN.
    pub arn: String,
    /// The partition (`aws`, `aws-us-gov`, `aws-cn`), taken from the ARN.
    pub partition: String,
}

/// Calls `sts:GetCallerIdentity` with `config`.
pub async fn caller_identity(config: &SdkConfig) -> Result<Identity, AwsError> {
    identity(&aws_sdk_sts::Client::new(config)).await
}

/// Calls `sts:GetCallerIdentity` with `sts`: who its credentials belong to. An answer without
/// `Account`, or whose `Account` is not 12 digits, is an error (nothing is decided on an
/// identity that cannot be read).
pub async fn identity(sts: &aws_sdk_sts::Client) -> Result<Identity, AwsError> {
    let out = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsError::api("sts:GetCallerIdentity", e))?;
    let account_id = out
        .account()
        .ok_or(AwsError::MissingField {
            operation: "sts:GetCallerIdentity",
            field: "Account",
        })?
        .to_owned();
    if check_account_id(&account_id).is_err() {
        return Err(AwsError::Api {
            operation: "sts:GetCallerIdentity",
            code: None,
            message: format!(
                "the answer's Account `{}` is not a 12-digit account id",
                immutag_core::text::printable(&account_id)
            ),
        });
    }
    let arn = out.arn().unwrap_or_default().to_owned();
    let partition = partition_of(&arn).unwrap_or("aws").to_owned();
    Ok(Identity {
        account_id,
        arn,
        partition,
    })
}

/// The partition of an ARN (`arn:PARTITION:...`).
pub fn partition_of(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    match (parts.next(), parts.next()) {
        (Some("arn"), Some(p)) if !p.is_empty() => Some(p),
        _ => None,
    }
}

/// `arn:PARTITION:iam::ACCOUNT:role/ROLE`, after checking the account id and role name.
pub fn role_arn(partition: &str, account_id: &str, role_name: &str) -> Result<String, AwsError> {
    check_account_id(account_id)?;
    check_role_name(role_name)?;
    Ok(format!(
        "arn:{partition}:iam::{account_id}:role/{role_name}"
    ))
}

/// A configuration whose credentials come from assuming `role_arn` with the credentials of
/// `base` (STS AssumeRole, session name [`SESSION_NAME`]). The clients' identity cache keeps
/// the assumed credentials until shortly before they expire, then calls STS again. The
/// credentials are fetched lazily, so a refused AssumeRole surfaces as the error of the first
/// call made with the returned configuration (`... credentials ...: sts:AssumeRole of ARN
/// failed: AccessDenied: ...`).
///
/// A small provider of its own rather than `aws_config::sts::AssumeRoleProvider`: that one
/// links the whole default credential chain (profile files, SSO, web identity, instance
/// metadata) for a case immutag never has (no base configuration), about 0.6 MB of the
/// Config rule Lambda, which reads its credentials from its environment only.
pub async fn assume_role(base: &SdkConfig, role_arn: &str) -> SdkConfig {
    let provider = AssumedRole {
        sts: aws_sdk_sts::Client::new(base),
        role_arn: role_arn.to_owned(),
    };
    base.clone()
        .into_builder()
        .credentials_provider(aws_sdk_ecr::config::SharedCredentialsProvider::new(
            provider,
        ))
        .build()
}

/// The credentials of one role, from STS AssumeRole with the base configuration's.
#[derive(Debug)]
struct AssumedRole {
    sts: aws_sdk_sts::Client,
    role_arn: String,
}

impl AssumedRole {
    async fn assume(&self) -> aws_credential_types::provider::Result {
        use aws_credential_types::provider::error::CredentialsError;
        let failed = |why: String| {
            CredentialsError::provider_error(format!(
                "sts:AssumeRole of {} failed: {why}",
                self.role_arn
            ))
        };
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(SESSION_NAME)
            .send()
            .await
            .map_err(|e| failed(crate::error::sdk_error_message(&e)))?;
        let c = out
            .credentials()
            .ok_or_else(|| failed("the answer holds no Credentials".into()))?;
        let expiry = std::time::SystemTime::try_from(*c.expiration())
            .map_err(|e| failed(format!("the answer's Expiration: {e}")))?;
        Ok(aws_credential_types::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            Some(expiry),
            "immutag-assume-role",
        ))
    }
}

impl aws_credential_types::provider::ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(self.assume())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_role_arns() {
        assert_eq!(
            role_arn("aws", "111122223333", DEFAULT_ROLE_NAME).unwrap(),
            "arn:aws:iam::111122223333:role/OrganizationAccountAccessRole"
        );
        assert!(role_arn("aws", "1111", "r").is_err());
        assert!(role_arn("aws", "111122223333", "bad/name").is_err());
    }

    #[test]
    fn reads_partitions() {
        assert_eq!(
            partition_of("arn:aws-us-gov:sts::111122223333:assumed-role/x/y"),
            Some("aws-us-gov")
        );
        assert_eq!(partition_of("not-an-arn"), None);
    }

    #[test]
    fn retry_is_adaptive() {
        let r = retry_config(4);
        assert_eq!(r.mode(), aws_config::retry::RetryMode::Adaptive);
        assert_eq!(r.max_attempts(), 4);
        assert_eq!(retry_config(0).max_attempts(), 1);
    }
}
