//! The errors of immutag-aws. Every variant says what was attempted and where.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use thiserror::Error;

/// An error talking to AWS or preparing to.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AwsError {
    /// An API call failed after the SDK's retries.
    #[error("{operation} failed{}: {message}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Api {
        /// The operation, for example `ecr:DescribeRepositories`.
        operation: &'static str,
        /// The service error code (`AccessDeniedException`, `ThrottlingException`, ...), when
        /// the service returned one.
        code: Option<String>,
        /// The error and its causes, as text.
        message: String,
    },
    /// No region was configured and none was given.
    #[error(
        "no AWS region: pass --regions (or --all-regions), set AWS_REGION, or set a region in the profile"
    )]
    NoRegion,
    /// An account id that is not 12 digits.
    #[error("invalid AWS account id `{0}`: expected 12 digits")]
    InvalidAccountId(String),
    /// A region name that cannot be one.
    #[error("invalid AWS region `{0}`: expected a name such as eu-west-1")]
    InvalidRegion(String),
    /// A role name that IAM would refuse.
    #[error(
        "invalid IAM role name `{0}`: expected 1 to 64 characters of letters, digits and +=,.@_-"
    )]
    InvalidRoleName(String),
    /// A configuration aggregator name that Config would refuse.
    #[error(
        "invalid configuration aggregator name `{0}`: expected 1 to 256 letters, digits, _ or -"
    )]
    InvalidAggregatorName(String),
    /// An advanced query that cannot fit in Config's 4,096 characters even when split.
    #[error("the Config query would be {chars} characters, over the limit of 4,096")]
    ExpressionTooLong {
        /// Its length.
        chars: usize,
    },
    /// A combination of options the flow cannot serve.
    #[error("{0}")]
    Unsupported(&'static str),
    /// A response lacked a member immutag needs.
    #[error("{operation} returned no {field}")]
    MissingField {
        /// The operation.
        operation: &'static str,
        /// The member.
        field: &'static str,
    },
    /// A paginated call returned the same token twice, or too many pages.
    #[error(
        "{operation}: pagination did not end after {pages} pages (the service repeats nextToken)"
    )]
    Pagination {
        /// The operation.
        operation: &'static str,
        /// Pages read.
        pages: usize,
    },
}

impl AwsError {
    /// Builds [`AwsError::Api`] from an SDK error, keeping the service error code.
    pub fn api<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let code = match &err {
            SdkError::ServiceError(ctx) => ctx.err().code().map(str::to_owned),
            _ => None,
        };
        let message = match &err {
            SdkError::ServiceError(ctx) => match ctx.err().message() {
                Some(m) => m.to_owned(),
                // No AWS error document (a proxy's or an emulator's HTML page, an empty body):
                // say what came back rather than dumping the parser's state.
                None if code.is_none() => format!(
                    "HTTP {} with no AWS error in the response body",
                    ctx.raw().status().as_u16()
                ),
                None => DisplayErrorContext(&err).to_string(),
            },
            _ => DisplayErrorContext(&err).to_string(),
        };
        Self::Api {
            operation,
            code,
            message,
        }
    }

    /// The service error code, if the error came from the service.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// An error and its causes, as one line: `error: cause: cause`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Checks a 12-digit account id.
pub fn check_account_id(id: &str) -> Result<(), AwsError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(AwsError::InvalidAccountId(id.to_owned()))
    }
}

/// Checks a region name: lowercase letters, digits and dashes, 1 to 32 characters, with a dash.
pub fn check_region(region: &str) -> Result<(), AwsError> {
    let ok = !region.is_empty()
        && region.len() <= 32
        && region.contains('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(AwsError::InvalidRegion(region.to_owned()))
    }
}

/// Checks an IAM role name (the part after `role/`, without a path).
pub fn check_role_name(name: &str) -> Result<(), AwsError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(AwsError::InvalidRoleName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_identifiers() {
        assert!(check_account_id("123456789012").is_ok());
        assert!(check_account_id("12345678901").is_err());
        assert!(check_account_id("12345678901a").is_err());
        assert!(check_region("eu-west-1").is_ok());
        assert!(check_region("us-gov-west-1").is_ok());
        assert!(check_region("EU-WEST-1").is_err());
        assert!(check_region("local").is_err());
        assert!(check_role_name("OrganizationAccountAccessRole").is_ok());
        assert!(check_role_name("a/b").is_err());
        assert!(check_role_name("").is_err());
    }
}
