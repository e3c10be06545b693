//! Test support (feature `test-util`): a moto server on 127.0.0.1 for the tests of this and
//! other crates.
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! let moto = immutag_aws::testing::MotoServer::start()?;
//! let config = moto.sdk_config("eu-west-1").await;
//! let ecr = aws_sdk_ecr::Client::new(&config);
//! # let _ = ecr; Ok(()) }
//! ```
//!
//! The server binary is `$IMMUTAG_MOTO_SERVER`, else `.venv/bin/moto_server` at the workspace
//! root (installed by `scripts/setup.sh`). When neither exists, [`MotoServer::start`] fails with
//! a message saying so: tests must fail, never skip silently.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_ecr::types::{
    ImageTagMutabilityExclusionFilter, ImageTagMutabilityExclusionFilterType,
};
use aws_types::SdkConfig;

/// An HTTP response for an aws-smithy-mocks rule (`then_http_response`): `body` as the service
/// sends it, so the SDK's own deserializer reads fixtures in the wire shape of the API
/// reference.
#[allow(clippy::expect_used)] // a status code literal of a test
pub fn http_response(
    status: u16,
    body: impl Into<String>,
) -> aws_smithy_runtime_api::http::Response<aws_smithy_types::body::SdkBody> {
    aws_smithy_runtime_api::http::Response::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(status)
            .expect("an HTTP status code between 100 and 999"),
        aws_smithy_types::body::SdkBody::from(body.into()),
    )
}

/// The text of a response fixture of this crate's tests (`crates/immutag-aws/tests/fixtures/`,
/// for example `config/select-page-1.json`); panics, naming the file, when it cannot be read.
#[allow(clippy::panic)]
pub fn fixture(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The retry configuration of [`mocked_client!`](crate::mocked_client): immutag's, with a 1 ms
/// backoff.
pub fn fast_retry() -> aws_smithy_types::retry::RetryConfig {
    crate::session::retry_config(crate::session::DEFAULT_MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(1))
}

/// An aws-smithy-mocks client of SDK crate `$sdk` for `$rules` (any order), with immutag's
/// retry settings, a 1 ms backoff and the system clock (under the mock's frozen default clock,
/// the adaptive retry's rate limiter never refills and a retried call waits forever).
#[macro_export]
macro_rules! mocked_client {
    ($sdk:ident, $rules:expr) => {
        ::aws_smithy_mocks::mock_client!(
            $sdk,
            ::aws_smithy_mocks::RuleMode::MatchAny,
            $rules,
            |c| c
                .retry_config($crate::testing::fast_retry())
                .time_source(::aws_types::sdk_config::SharedTimeSource::default())
        )
    };
}

/// The account moto uses for requests signed with plain test credentials.
pub const MOTO_DEFAULT_ACCOUNT: &str = "123456789012";

/// A `WILDCARD` exclusion filter, as ECR's CreateRepository and PutImageTagMutability take it.
pub fn wildcard_filter(text: &str) -> ImageTagMutabilityExclusionFilter {
    #[allow(clippy::expect_used)] // both required members are set just above
    ImageTagMutabilityExclusionFilter::builder()
        .filter_type(ImageTagMutabilityExclusionFilterType::Wildcard)
        .filter(text)
        .build()
        .expect("filter type and filter are set")
}

/// A Docker image manifest (schema 2) whose config digest is `n`: distinct `n`, distinct
/// images, for `PutImage` on moto.
pub fn image_manifest(n: u32) -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:{n:064x}"}},"layers":[]}}"#
    )
}

/// The media type of a Docker image manifest (schema 2).
pub const IMAGE_MEDIA_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// The media type of an OCI image index (a multi-platform image).
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// What [`push_image`] pushes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestManifest {
    /// [`image_manifest`]`(n)`: a single-platform image.
    Image(u32),
    /// An OCI image index of the image manifests with these digests (`linux/amd64`,
    /// `linux/arm64`, ... in order): a multi-platform image.
    Index(Vec<String>),
}

impl From<u32> for TestManifest {
    fn from(n: u32) -> Self {
        Self::Image(n)
    }
}

impl TestManifest {
    /// The manifest's bytes.
    pub fn body(&self) -> String {
        match self {
            Self::Image(n) => image_manifest(*n),
            Self::Index(digests) => {
                const ARCHES: [&str; 4] = ["amd64", "arm64", "s390x", "ppc64le"];
                let manifests: Vec<String> = digests
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        format!(
                            r#"{{"mediaType":"{IMAGE_MEDIA_TYPE}","size":1,"digest":"{d}","platform":{{"architecture":"{}","os":"linux"}}}}"#,
                            ARCHES[i % ARCHES.len()]
                        )
                    })
                    .collect();
                format!(
                    r#"{{"schemaVersion":2,"mediaType":"{INDEX_MEDIA_TYPE}","manifests":[{}]}}"#,
                    manifests.join(",")
                )
            }
        }
    }

    /// The manifest's media type.
    pub fn media_type(&self) -> &'static str {
        match self {
            Self::Image(_) => IMAGE_MEDIA_TYPE,
            Self::Index(_) => INDEX_MEDIA_TYPE,
        }
    }

    /// Its digest, as a registry computes it: `sha256:` and the SHA-256 of the bytes.
    pub fn digest(&self) -> String {
        use sha2::Digest;
        let hash = sha2::Sha256::digest(self.body().as_bytes());
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }
}

/// `PutImage` of `manifest` ([`image_manifest`]`(n)` for a number, or an image index) into
/// `repo`, with `tag` or, given `None`, by digest alone (untagged). The digest is sent with
/// the manifest (moto otherwise makes one up), and returned. On failure, the service error
/// code (`ImageAlreadyExistsException`, ...).
pub async fn push_image<'a>(
    client: &aws_sdk_ecr::Client,
    repo: &str,
    manifest: impl Into<TestManifest>,
    tag: impl Into<Option<&'a str>>,
) -> Result<String, String> {
    use aws_sdk_ecr::error::ProvideErrorMetadata;
    let manifest = manifest.into();
    let digest = manifest.digest();
    client
        .put_image()
        .repository_name(repo)
        .image_manifest(manifest.body())
        .image_manifest_media_type(manifest.media_type())
        .image_digest(&digest)
        .set_image_tag(tag.into().map(str::to_owned))
        .send()
        .await
        .map(|_| digest)
        .map_err(|e| e.code().unwrap_or("no code").to_owned())
}

/// How long to wait for the server to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto server, killed when dropped.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

/// Where the moto server binary is expected.
pub fn moto_binary() -> PathBuf {
    match std::env::var_os("IMMUTAG_MOTO_SERVER") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root().join(".venv/bin/moto_server"),
    }
}

/// The workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or(manifest)
}

/// Distinguishes the logs of the servers one test process starts.
static NEXT_LOG: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The port in werkzeug's "Running on http://127.0.0.1:PORT" line.
fn bound_port(log: &str) -> Option<u16> {
    let rest =
        &log[log.find("Running on http://127.0.0.1:")? + "Running on http://127.0.0.1:".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|p| *p != 0)
}

impl MotoServer {
    /// Starts `moto_server -H 127.0.0.1 -p PORT` on a free port and waits until it answers.
    pub fn start() -> Result<Self, String> {
        let bin = moto_binary();
        if !bin.exists() {
            return Err(format!(
                "moto server not found at {}: run `bash scripts/setup.sh` (it installs moto[server] into .venv), or set IMMUTAG_MOTO_SERVER to a moto_server binary",
                bin.display()
            ));
        }
        let mut last_err = String::new();
        for _ in 0..3 {
            match Self::try_start(&bin) {
                Ok(server) => return Ok(server),
                Err(e) => last_err = e,
            }
        }
        Err(last_err)
    }

    /// Starts moto on port 0 (the OS picks a free one) and reads the port it bound from its
    /// log, so that two tests starting servers at once can never end up sharing one (picking a
    /// free port first and passing it leaves a window in which another test picks it too, and
    /// the second server's failed bind goes unnoticed while the first one answers).
    fn try_start(bin: &Path) -> Result<Self, String> {
        let log = std::env::temp_dir().join(format!(
            "immutag-moto-{}-{}.log",
            std::process::id(),
            NEXT_LOG.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let log_file = std::fs::File::create(&log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| format!("cannot clone log handle: {e}"))?;
        let mut child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let deadline = Instant::now() + READY_TIMEOUT;
        let port = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(port) = bound_port(&text) {
                break port;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "moto server exited ({status}) before binding a port; its log:\n{text}"
                ));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(format!(
                    "moto server did not report its port within {READY_TIMEOUT:?}; its log:\n{text}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut server = Self { child, port, log };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "moto server exited ({status}) before answering; its log:\n{}",
                    self.log_text()
                ));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
                && self.http_get("/moto-api/").is_some()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "moto server did not answer on {addr} within {READY_TIMEOUT:?}; its log:\n{}",
                    self.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn http_get(&self, path: &str) -> Option<String> {
        use std::io::Write;
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        )
        .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        out.starts_with("HTTP/1").then_some(out)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's request log so far (one line per request, werkzeug format).
    pub fn request_log(&self) -> String {
        self.log_text()
    }

    /// A configuration that talks to this server in `region` with static test credentials
    /// (moto account [`MOTO_DEFAULT_ACCOUNT`]) and immutag's retry settings.
    pub async fn sdk_config(&self, region: &str) -> SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_types::region::Region::new(region.to_owned()))
            .endpoint_url(self.endpoint_url())
            .credentials_provider(aws_sdk_ecr::config::Credentials::new(
                "AKIAIOSFODNN7EXAMPLE",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                None,
                None,
                "immutag-test",
            ))
            .retry_config(crate::session::retry_config(
                crate::session::DEFAULT_MAX_ATTEMPTS,
            ))
            .load()
            .await
    }

    /// A configuration for `account_id` in `region`: the default one with credentials from
    /// assuming `role/ROLE_NAME` in that account (moto keeps each account's state apart and
    /// attributes assumed-role credentials to the role's account).
    pub async fn sdk_config_for_account(
        &self,
        account_id: &str,
        region: &str,
        role_name: &str,
    ) -> Result<SdkConfig, String> {
        let base = self.sdk_config(region).await;
        if account_id == MOTO_DEFAULT_ACCOUNT {
            return Ok(base);
        }
        let arn =
            crate::session::role_arn("aws", account_id, role_name).map_err(|e| e.to_string())?;
        Ok(crate::session::assume_role(&base, &arn).await)
    }

    /// Environment variables that point an `immutag` process (or the AWS CLI) at this server.
    pub fn env(&self, region: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint_url()),
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE".to_owned()),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
            ),
            ("AWS_REGION", region.to_owned()),
            ("AWS_DEFAULT_REGION", region.to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("AWS_CONFIG_FILE", "/dev/null".to_owned()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()),
        ]
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The CloudTrail fixture logs (`tests/fixtures/cloudtrail/AWSLogs/...`), as paths relative
/// to that folder, sorted.
#[cfg(feature = "fleet")]
pub fn cloudtrail_fixtures() -> Result<Vec<PathBuf>, String> {
    let root = workspace_root().join("tests/fixtures/cloudtrail");
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(root.join("AWSLogs")).sort_by_file_name() {
        let e = e.map_err(|e| e.to_string())?;
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(&root).map_err(|e| e.to_string())?;
            out.push(rel.to_path_buf());
        }
    }
    Ok(out)
}

/// The fixture logs as a trail delivers them: gzip-compressed `.json.gz` (or left as `.json`
/// when `gzip` is false), one `(key, bytes)` each, keys under `AWSLogs/`.
#[cfg(feature = "fleet")]
pub fn cloudtrail_objects(gzip: bool) -> Result<Vec<(String, Vec<u8>)>, String> {
    use std::io::Write;
    let root = workspace_root().join("tests/fixtures/cloudtrail");
    let mut out = Vec::new();
    for rel in cloudtrail_fixtures()? {
        let bytes = std::fs::read(root.join(&rel)).map_err(|e| e.to_string())?;
        let key = rel.to_string_lossy().replace('\\', "/");
        if gzip {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(&bytes).map_err(|e| e.to_string())?;
            out.push((
                format!("{key}.gz"),
                enc.finish().map_err(|e| e.to_string())?,
            ));
        } else {
            out.push((key, bytes));
        }
    }
    Ok(out)
}

/// Writes [`cloudtrail_objects`] under `dest` (a directory tree like the trail's bucket).
#[cfg(feature = "fleet")]
pub fn write_cloudtrail_tree(dest: &Path, gzip: bool) -> Result<(), String> {
    for (key, bytes) in cloudtrail_objects(gzip)? {
        let path = dest.join(&key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Creates `bucket` and uploads [`cloudtrail_objects`] (gzip) under `prefix`.
#[cfg(feature = "fleet")]
pub async fn upload_cloudtrail(
    config: &SdkConfig,
    bucket: &str,
    prefix: &str,
) -> Result<(), String> {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    );
    let mut create = s3.create_bucket().bucket(bucket);
    if let Some(region) = config.region().filter(|r| r.as_ref() != "us-east-1") {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    region.as_ref(),
                ))
                .build(),
        );
    }
    create
        .send()
        .await
        .map_err(|e| format!("CreateBucket: {e:?}"))?;
    for (key, bytes) in cloudtrail_objects(true)? {
        s3.put_object()
            .bucket(bucket)
            .key(format!("{prefix}{key}"))
            .body(bytes.into())
            .send()
            .await
            .map_err(|e| format!("PutObject {key}: {e:?}"))?;
    }
    Ok(())
}
