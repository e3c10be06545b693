//! Single-repository remediation: switch one repository to `IMMUTABLE` with
//! PutImageTagMutability (idempotent; see `aws-facts.md` §3).
//!
//! The Config rule Lambda uses it for its optional auto-remediation.

use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::ImageTagMutability;
use aws_smithy_types::error::display::DisplayErrorContext;
use thiserror::Error;

/// PutImageTagMutability failed for one repository.
#[derive(Debug, Error)]
#[error("PutImageTagMutability IMMUTABLE on repository `{repository}`{} failed: {message}", registry_id.as_ref().map(|r| format!(" (registry {r})")).unwrap_or_default())]
pub struct RemediationError {
    /// The repository name.
    pub repository: String,
    /// The registry (account) id, when one was given.
    pub registry_id: Option<String>,
    /// The SDK error, with its context.
    pub message: String,
}

/// Sets `imageTagMutability` of `repository` to `IMMUTABLE` (no exclusion filters).
/// `registry_id` is the 12-digit account id; `None` means the caller's account.
pub async fn set_immutable(
    client: &Client,
    registry_id: Option<&str>,
    repository: &str,
) -> Result<(), RemediationError> {
    client
        .put_image_tag_mutability()
        .set_registry_id(registry_id.map(str::to_owned))
        .repository_name(repository)
        .image_tag_mutability(ImageTagMutability::Immutable)
        .send()
        .await
        .map(|_| ())
        .map_err(|err| RemediationError {
            repository: repository.to_owned(),
            registry_id: registry_id.map(str::to_owned),
            message: DisplayErrorContext(&err).to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecr::operation::put_image_tag_mutability::{
        PutImageTagMutabilityError, PutImageTagMutabilityOutput,
    };
    use aws_sdk_ecr::types::error::RepositoryNotFoundException;
    use aws_smithy_mocks::{mock, mock_client};

    #[tokio::test]
    async fn sends_immutable_for_the_named_repository() {
        let rule = mock!(Client::put_image_tag_mutability)
            .match_requests(|r| {
                r.repository_name() == Some("app")
                    && r.registry_id() == Some("123456789012")
                    && r.image_tag_mutability() == Some(&ImageTagMutability::Immutable)
            })
            .then_output(|| PutImageTagMutabilityOutput::builder().build());
        let client = mock_client!(aws_sdk_ecr, [&rule]);
        set_immutable(&client, Some("123456789012"), "app")
            .await
            .unwrap();
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn failure_names_the_repository() {
        let rule = mock!(Client::put_image_tag_mutability).then_error(|| {
            PutImageTagMutabilityError::RepositoryNotFoundException(
                RepositoryNotFoundException::builder()
                    .message("nope")
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_ecr, [&rule]);
        let err = set_immutable(&client, None, "gone").await.unwrap_err();
        assert!(err.to_string().contains("`gone`"), "{err}");
        assert!(err.message.contains("RepositoryNotFound"), "{err}");
    }
}
