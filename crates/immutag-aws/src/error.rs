//! The errors of immutag-aws. Every variant says what was attempted and where.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
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
    UnsupportedOptions(&'static str),
    /// A response lacked a member immutag needs.
    #[error("{operation} returned no {field}")]
    MissingField {
        /// The operation.
        operation: &'static str,
        /// The member.
        field: &'static str,
    },
    /// A CloudTrail evidence source that cannot be read as given (an `s3://` address, an
    /// Athena table name, a window the source cannot serve, a query Athena refused).
    #[error("{0}")]
    Evidence(String),
    /// The endpoint does not implement the operation (an emulator, or an endpoint that
    /// predates it): see [`unimplemented_evidence`] for how that is recognised.
    #[error("{operation} is not implemented by this endpoint ({evidence})")]
    Unsupported {
        /// The operation.
        operation: &'static str,
        /// What the answer was.
        evidence: String,
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
                None => no_aws_message(ctx.raw()),
            },
            _ => error_chain(&err),
        };
        Self::Api {
            operation,
            code,
            message,
        }
    }

    /// [`AwsError::api`] for a call the endpoint may not implement (the creation template and
    /// registry reads): an answer that says so ([`unimplemented_evidence`]) is
    /// [`AwsError::Unsupported`]. Only these calls read moto's generic error page that way:
    /// moto answers the same page to every call in a region it does not know, so a caller
    /// counts the answer only where the repositories of the same account and region were read.
    pub fn api_probe<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if let SdkError::ServiceError(ctx) = &err
            && let Some(evidence) = unimplemented_evidence(ctx.raw(), ctx.err().code())
        {
            return Self::Unsupported {
                operation,
                evidence,
            };
        }
        Self::api(operation, err)
    }

    /// The service error code, if the error came from the service.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// The AWS error code a JSON-protocol service answers for an operation it does not know.
pub const UNKNOWN_OPERATION: &str = "UnknownOperationException";

/// Why an answer says that the endpoint does not implement the operation, or `None` when it
/// does not say so. Three answers do, and nothing else (an unknown error stays an error):
///
/// * the AWS error code `UnknownOperationException` (what an AWS JSON endpoint answers for an
///   operation it does not know);
/// * HTTP 501 Not Implemented (LocalStack and other emulators);
/// * HTTP 500 from a Werkzeug server with no AWS error code: moto's answer. Moto raises
///   `NotImplementedError("The <action> action has not been implemented")`, which Flask turns
///   into its generic HTML "500 Internal Server Error" page (`Server: Werkzeug/...`,
///   `Content-Type: text/html`). ECR's own server errors carry a code (`ServerException`) and
///   no Werkzeug header, so they stay errors.
pub fn unimplemented_evidence(response: &HttpResponse, code: Option<&str>) -> Option<String> {
    let status = response.status().as_u16();
    if code == Some(UNKNOWN_OPERATION) {
        return Some(format!("{UNKNOWN_OPERATION}, HTTP {status}"));
    }
    if status == 501 {
        return Some("HTTP 501 Not Implemented".to_owned());
    }
    if status == 500 && code.is_none() && is_werkzeug(response) {
        return Some(
            "HTTP 500 from a Werkzeug server with no AWS error code: moto's answer to an operation it does not implement".to_owned(),
        );
    }
    None
}

fn is_werkzeug(response: &HttpResponse) -> bool {
    let header = |name: &str| response.headers().get(name).unwrap_or_default();
    header("server").starts_with("Werkzeug/")
        && header("x-amzn-errortype").is_empty()
        && header("content-type").starts_with("text/html")
}

/// A retry classifier that forbids retrying moto's answer to an operation it does not
/// implement (see [`unimplemented_evidence`]): the SDK would otherwise retry an HTTP 500 with
/// backoff, seconds per call, for an answer that cannot change. Runs after the SDK's own
/// classifiers and overrides them only for that answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnimplementedClassifier;

impl aws_smithy_runtime_api::client::retries::classifiers::ClassifyRetry
    for UnimplementedClassifier
{
    fn classify_retry(
        &self,
        ctx: &aws_smithy_runtime_api::client::interceptors::context::InterceptorContext,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryAction {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryAction;
        match ctx.response() {
            Some(r) if r.status().as_u16() == 500 && is_werkzeug(r) => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "immutag: operation not implemented by the endpoint"
    }

    fn priority(
        &self,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority;
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// One line for an SDK error: for an error answer from AWS, its code and message (or the
/// HTTP status when the body carries no AWS error: a proxy's or an emulator's page, an empty
/// body); otherwise the error and its causes (`dispatch failure: io error: ...`). Never the
/// SDK's `Debug` of the error, which dumps the raw response (its body included) into logs and
/// annotations, and would link a `Debug` of every operation's error into the Lambda.
pub fn sdk_error_message<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(ctx) => match (ctx.err().code(), ctx.err().message()) {
            (Some(code), Some(m)) => format!("{code}: {m}"),
            (None, Some(m)) => m.to_owned(),
            (Some(code), None) => format!("{code} (HTTP {})", ctx.raw().status().as_u16()),
            (None, None) => no_aws_message(ctx.raw()),
        },
        _ => error_chain(err),
    }
}

/// What to say of an error answer without an AWS error message.
fn no_aws_message(raw: &HttpResponse) -> String {
    format!(
        "HTTP {} with no AWS error in the response body",
        raw.status().as_u16()
    )
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
