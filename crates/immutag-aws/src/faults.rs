//! Fault injection for the tests of the fault matrix (`docs/reliability.md`, feature
//! `test-util`): the HTTP answer of each [`Fault`] in each wire [`Protocol`], an HTTP client
//! that never answers (a timeout once the attempt timeout passes), and the two macros the
//! tests build mocked clients with ([`fault_rule!`](crate::fault_rule) and
//! [`fault_client!`](crate::fault_client); the calling crate needs `aws-smithy-mocks`).
//!
//! ```ignore
//! let rule = immutag_aws::fault_rule!(aws_sdk_ecr::Client::describe_repositories, fault, Protocol::Json,
//!     || DescribeRepositoriesOutput::builder().build());
//! let hung = NeverAnswers::default();
//! let client = immutag_aws::fault_client!(aws_sdk_ecr, fault, &hung, [&rule]);
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::sdk_config::SharedTimeSource;

/// One fault of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 400 with the protocol's throttling error, once; then the call succeeds.
    Throttling,
    /// HTTP 500 with the service's server error, on every attempt.
    ServerError,
    /// No answer on any attempt: each attempt times out after [`ATTEMPT_TIMEOUT`].
    Timeout,
    /// HTTP 400 with `AccessDenied`, on every attempt (the SDK does not retry it).
    AccessDenied,
    /// HTTP 200 with a body the deserializer rejects (truncated), on every attempt.
    Malformed,
}

impl Fault {
    /// The five faults, in the matrix's column order.
    pub const ALL: [Fault; 5] = [
        Fault::Throttling,
        Fault::ServerError,
        Fault::Timeout,
        Fault::AccessDenied,
        Fault::Malformed,
    ];
}

/// The wire protocol of a service, which shapes its error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `awsJson1_1`: ECR, AWS Config, Organizations.
    Json,
    /// `awsQuery` (XML): STS.
    Query,
    /// `ec2Query` (XML): EC2.
    Ec2,
}

/// Attempts per call of the clients [`fault_client!`](crate::fault_client) builds (the SDK's
/// standard retry, first try included).
pub const MAX_ATTEMPTS: u32 = 3;

/// The attempt timeout of those clients.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(100);

/// The retry configuration of the fault clients: standard mode, [`MAX_ATTEMPTS`] attempts,
/// 1 ms initial backoff (fast tests, same decisions as production).
pub fn retry() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(1))
}

/// The timeout configuration of the fault clients: [`ATTEMPT_TIMEOUT`] per attempt.
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build()
}

/// The system clock (the mock clients' test default is frozen in 2009).
pub fn system_clock() -> SharedTimeSource {
    SharedTimeSource::default()
}

/// The HTTP answer of `fault` in `protocol`. [`Fault::Timeout`] has none: use
/// [`NeverAnswers`]; this returns a 200 with an empty object for it.
pub fn response(protocol: Protocol, fault: Fault) -> HttpResponse {
    let (status, body): (u16, &str) = match (protocol, fault) {
        (_, Fault::Timeout) => (200, "{}"),
        (Protocol::Json, Fault::Throttling) => (
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        ),
        (Protocol::Json, Fault::ServerError) => (
            500,
            r#"{"__type":"ServerException","message":"internal error"}"#,
        ),
        (Protocol::Json, Fault::AccessDenied) => (
            400,
            r#"{"__type":"AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/immutag/s is not authorized to perform this action"}"#,
        ),
        (Protocol::Json, Fault::Malformed) => (200, r#"{"repositories":[{"repositoryName":"#),
        (Protocol::Query, Fault::Throttling) => (
            400,
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r1</RequestId></ErrorResponse>",
        ),
        (Protocol::Query, Fault::ServerError) => (
            500,
            "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>internal error</Message></Error><RequestId>r2</RequestId></ErrorResponse>",
        ),
        (Protocol::Query, Fault::AccessDenied) => (
            403,
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole</Message></Error><RequestId>r3</RequestId></ErrorResponse>",
        ),
        (Protocol::Query, Fault::Malformed) => (
            200,
            "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>1234",
        ),
        (Protocol::Ec2, Fault::Throttling) => (
            503,
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r4</RequestID></Response>",
        ),
        (Protocol::Ec2, Fault::ServerError) => (
            500,
            "<Response><Errors><Error><Code>InternalError</Code><Message>internal error</Message></Error></Errors><RequestID>r5</RequestID></Response>",
        ),
        (Protocol::Ec2, Fault::AccessDenied) => (
            403,
            "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>r6</RequestID></Response>",
        ),
        (Protocol::Ec2, Fault::Malformed) => (
            200,
            "<DescribeRegionsResponse><regionInfo><item><regionName>",
        ),
    };
    #[allow(clippy::expect_used)] // the statuses above are valid
    HttpResponse::new(
        StatusCode::try_from(status).expect("a valid HTTP status"),
        SdkBody::from(body),
    )
}

/// Which requests never get an answer (every attempt of them times out), and how many
/// attempts did not. All requests, or those whose body contains a text.
#[derive(Debug, Clone, Default)]
pub struct NeverAnswers {
    attempts: Arc<AtomicUsize>,
    only: Option<String>,
}

impl NeverAnswers {
    /// Every request hangs.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only requests whose body contains `text` hang (for example one batch, one repository).
    pub fn when_body_contains(text: &str) -> Self {
        Self {
            attempts: Arc::default(),
            only: Some(text.to_owned()),
        }
    }

    /// Attempts left without an answer so far.
    pub fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }

    fn hangs(&self, request: &HttpRequest) -> bool {
        match &self.only {
            None => true,
            Some(text) => request
                .body()
                .bytes()
                .is_some_and(|b| String::from_utf8_lossy(b).contains(text.as_str())),
        }
    }
}

/// An HTTP client that leaves the requests chosen by a [`NeverAnswers`] unanswered and
/// hands the others to `inner` (the mock's HTTP client).
pub fn hanging(never: NeverAnswers, inner: SharedHttpClient) -> SharedHttpClient {
    SharedHttpClient::new(Hanging { never, inner })
}

#[derive(Debug, Clone)]
struct Hanging {
    never: NeverAnswers,
    inner: SharedHttpClient,
}

#[derive(Debug)]
struct HangingConnector {
    never: NeverAnswers,
    inner: SharedHttpConnector,
}

impl HttpConnector for HangingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if self.never.hangs(&request) {
            self.never.attempts.fetch_add(1, Ordering::SeqCst);
            return HttpConnectorFuture::new(futures::future::pending());
        }
        self.inner.call(request)
    }
}

impl HttpClient for Hanging {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(HangingConnector {
            never: self.never.clone(),
            inner: self.inner.http_connector(settings, components),
        })
    }
}

/// An HTTP client answering each request with `answer(request)`: for tests that route by
/// service, or leave one request hanging (`HttpConnectorFuture::new(pending())`).
pub fn client_fn<F>(answer: F) -> SharedHttpClient
where
    F: Fn(HttpRequest) -> HttpConnectorFuture + Send + Sync + 'static,
{
    SharedHttpClient::new(FnClient(Arc::new(answer)))
}

type Answer = dyn Fn(HttpRequest) -> HttpConnectorFuture + Send + Sync;

#[derive(Clone)]
struct FnClient(Arc<Answer>);

impl std::fmt::Debug for FnClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnClient")
    }
}

impl HttpConnector for FnClient {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        (self.0)(request)
    }
}

impl HttpClient for FnClient {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// A rule for `$op` that answers with `$fault` in `$protocol`: once then `$ok` for
/// [`Fault::Throttling`]; nothing for [`Fault::Timeout`] (the client of
/// [`fault_client!`](crate::fault_client) never answers); the fault on every attempt
/// otherwise. With
/// `match = $matcher`, only the requests it accepts.
#[macro_export]
macro_rules! fault_rule {
    ($op:path, $fault:expr, $protocol:expr, $ok:expr) => {
        $crate::fault_rule!($op, $fault, $protocol, $ok, match = |_| true)
    };
    ($op:path, $fault:expr, $protocol:expr, $ok:expr, match = $matcher:expr) => {{
        let fault: $crate::faults::Fault = $fault;
        let protocol: $crate::faults::Protocol = $protocol;
        let rule = ::aws_smithy_mocks::mock!($op).match_requests($matcher);
        match fault {
            $crate::faults::Fault::Throttling => rule
                .sequence()
                .http_response(move || $crate::faults::response(protocol, fault))
                .output($ok)
                .build(),
            // An HTTP answer the hanging client never delivers (a modeled output would be
            // put in place of the timeout error by the mock).
            $crate::faults::Fault::Timeout => {
                rule.then_http_response(move || $crate::faults::response(protocol, fault))
            }
            _ => rule
                .sequence()
                .http_response(move || $crate::faults::response(protocol, fault))
                .repeatedly()
                .build(),
        }
    }};
}

/// A mocked client of service crate `$krate` with `$rules` (any order), the fault clients'
/// retry ([`retry`]) on the system clock; for [`Fault::Timeout`], the requests `$never` (a
/// [`NeverAnswers`]) chooses get no answer and each attempt times out after
/// [`ATTEMPT_TIMEOUT`].
#[macro_export]
macro_rules! fault_client {
    ($krate:ident, $fault:expr, $never:expr, $rules:expr) => {{
        let timeout = $fault == $crate::faults::Fault::Timeout;
        let never: $crate::faults::NeverAnswers = ::std::clone::Clone::clone($never);
        ::aws_smithy_mocks::mock_client!(
            $krate,
            ::aws_smithy_mocks::RuleMode::MatchAny,
            $rules,
            move |c| {
                let c = c
                    .retry_config($crate::faults::retry())
                    .time_source($crate::faults::system_clock());
                if timeout {
                    c.http_client($crate::faults::hanging(
                        never.clone(),
                        ::aws_smithy_mocks::create_mock_http_client(),
                    ))
                    .timeout_config($crate::faults::timeouts())
                } else {
                    c
                }
            }
        )
    }};
}

/// One `#[tokio::test]` per `test_name => Fault` pair, each running `$row(Fault::X)`: the
/// cells of one row of the matrix, each under the name `docs/reliability.md` cites.
#[macro_export]
macro_rules! fault_cells {
    ($row:ident: $($test:ident => $fault:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                $row($crate::faults::Fault::$fault).await
            }
        )+
    };
}
