//! Image references: `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`, parsed by the grammar of the
//! OCI distribution reference (the one `docker pull` accepts), and Amazon ECR registry hosts.
//!
//! ```
//! use immutag_pins::reference::ImageRef;
//!
//! let r = ImageRef::parse("111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.4").unwrap();
//! assert_eq!(r.repository, "team/api");
//! assert_eq!(r.tag.as_deref(), Some("1.4"));
//! assert!(r.digest.is_none());
//! let ecr = r.ecr.unwrap();
//! assert_eq!((ecr.account_id.as_str(), ecr.region.as_str()), ("111122223333", "eu-west-1"));
//!
//! let hub = ImageRef::parse("nginx").unwrap();
//! assert_eq!(hub.registry, "docker.io"); // implied
//! assert_eq!(hub.tag, None); // implicit latest
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The registry a reference without a registry host names (Docker Hub).
pub const DEFAULT_REGISTRY: &str = "docker.io";

/// The tag a reference without tag and digest pulls.
pub const IMPLICIT_TAG: &str = "latest";

/// Longest reference accepted (the distribution grammar limits names to 255 characters; tags
/// add 128 and digests about 135).
pub const MAX_REFERENCE_LEN: usize = 1024;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImageRef {
    /// The registry host (with its port), or `docker.io` when the reference names none.
    pub registry: String,
    /// The repository path inside the registry, as written (`library/` is not added).
    pub repository: String,
    /// The tag, when written; `None` means `latest` unless a digest is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The digest (`sha256:...`), when written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The ECR registry, when the host is a private Amazon ECR registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecr: Option<EcrRegistry>,
}

/// A private Amazon ECR registry: `ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct EcrRegistry {
    /// The 12-digit account id (the registry id).
    pub account_id: String,
    /// The region.
    pub region: String,
}

/// Why a text is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Empty text.
    #[error("empty image reference")]
    Empty,
    /// Longer than [`MAX_REFERENCE_LEN`].
    #[error("image reference longer than {MAX_REFERENCE_LEN} characters")]
    TooLong,
    /// A character the grammar does not allow (whitespace, a quote, an unexpanded variable).
    #[error("character {0:?} is not allowed in an image reference")]
    Character(char),
    /// A repository path component that is not lowercase letters and digits joined by
    /// `.`, `_`, `__` or dashes.
    #[error(
        "repository component `{0}` is not valid (lowercase letters and digits, joined by `.`, `_`, `__` or `-`)"
    )]
    Component(String),
    /// A tag that is not `[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}`.
    #[error(
        "tag `{0}` is not valid (up to 128 letters, digits, `_`, `.`, `-`; not starting with `.` or `-`)"
    )]
    Tag(String),
    /// A digest that is not `ALGORITHM:HEX` (`sha256` with 64 lowercase hex digits).
    #[error("digest `{0}` is not valid (expected sha256: and 64 lowercase hex digits)")]
    Digest(String),
    /// A registry host that cannot be one.
    #[error("registry `{0}` is not a valid host[:port]")]
    Registry(String),
}

impl ImageRef {
    /// Parses `text` (no surrounding whitespace, variables already expanded).
    pub fn parse(text: &str) -> Result<Self, ReferenceError> {
        if text.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if text.len() > MAX_REFERENCE_LEN {
            return Err(ReferenceError::TooLong);
        }
        if let Some(c) = text.chars().find(|c| {
            !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@'))
        }) {
            return Err(ReferenceError::Character(c));
        }
        let (name_tag, digest) = match text.split_once('@') {
            Some((n, d)) => {
                check_digest(d)?;
                (n, Some(d.to_owned()))
            }
            None => (text, None),
        };
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => {
                let (n, t) = name_tag.split_at(last_slash + i);
                let t = &t[1..];
                check_tag(t)?;
                (n, Some(t.to_owned()))
            }
            None => (name_tag, None),
        };
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.chars().any(|c| c.is_ascii_uppercase()) =>
            {
                check_registry(first)?;
                (first.to_owned(), rest)
            }
            _ => (DEFAULT_REGISTRY.to_owned(), name),
        };
        if path.is_empty() {
            return Err(ReferenceError::Component(String::new()));
        }
        for component in path.split('/') {
            check_component(component)?;
        }
        let ecr = EcrRegistry::from_host(&registry);
        Ok(Self {
            registry,
            repository: path.to_owned(),
            tag,
            digest,
            ecr,
        })
    }

    /// The tag this reference pulls: its own, or `latest` when it names neither tag nor
    /// digest. `None` for a digest-only reference.
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some(IMPLICIT_TAG),
            (None, Some(_)) => None,
        }
    }

    /// True when the reference names a digest.
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some()
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl EcrRegistry {
    /// The ECR registry named by `host` (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`, the `.cn`
    /// partition and the `ecr-fips` endpoints), or `None` for any other host. Case-insensitive,
    /// as DNS is; a port is not allowed.
    pub fn from_host(host: &str) -> Option<Self> {
        let host = host.to_ascii_lowercase();
        let rest = host
            .strip_suffix(".amazonaws.com")
            .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
        let (account, rest) = rest.split_once('.')?;
        let region = rest
            .strip_prefix("dkr.ecr.")
            .or_else(|| rest.strip_prefix("dkr.ecr-fips."))?;
        let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
        let region_ok = region.contains('-')
            && region.len() <= 32
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        (account_ok && region_ok).then(|| Self {
            account_id: account.to_owned(),
            region: region.to_owned(),
        })
    }
}

fn check_digest(d: &str) -> Result<(), ReferenceError> {
    let bad = || ReferenceError::Digest(d.to_owned());
    let (algorithm, hex) = d.split_once(':').ok_or_else(bad)?;
    let lower_hex = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let ok = match algorithm {
        "sha256" => hex.len() == 64 && lower_hex(hex),
        "sha512" => hex.len() == 128 && lower_hex(hex),
        _ => false,
    };
    if ok { Ok(()) } else { Err(bad()) }
}

fn check_tag(t: &str) -> Result<(), ReferenceError> {
    let ok = !t.is_empty()
        && t.len() <= 128
        && t.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::Tag(t.to_owned()))
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn check_component(c: &str) -> Result<(), ReferenceError> {
    let bad = || ReferenceError::Component(c.to_owned());
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return Err(bad());
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: `.`, `_`, `__` or one or more `-`.
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|x| x == b'-');
        if !ok {
            return Err(bad());
        }
    }
    Ok(())
}

fn check_registry(host: &str) -> Result<(), ReferenceError> {
    let bad = || ReferenceError::Registry(host.to_owned());
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    if let Some(p) = port
        && (p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let labels_ok = !name.is_empty()
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if labels_ok { Ok(()) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_the_forms() {
        let r = ImageRef::parse("nginx:1.25").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("docker.io", "nginx")
        );
        assert_eq!(r.tag.as_deref(), Some("1.25"));
        let r = ImageRef::parse("localhost:5000/a/b").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "a/b");
        assert_eq!(r.effective_tag(), Some("latest"));
        let r = ImageRef::parse(&format!("ghcr.io/o/r:v1@{D}")).unwrap();
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.digest.as_deref(), Some(D));
        assert!(r.is_pinned());
        let r = ImageRef::parse(&format!("busybox@{D}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.effective_tag(), None);
        let r = ImageRef::parse("registry:5000/x").unwrap();
        assert_eq!(r.registry, "registry:5000");
        let r = ImageRef::parse("library/ubuntu:22.04").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("docker.io", "library/ubuntu")
        );
        assert_eq!(r.to_string(), "docker.io/library/ubuntu:22.04");
    }

    #[test]
    fn detects_ecr_hosts() {
        for (host, want) in [
            (
                "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
                Some(("111122223333", "eu-west-1")),
            ),
            (
                "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn",
                Some(("111122223333", "cn-north-1")),
            ),
            (
                "111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
                Some(("111122223333", "us-gov-west-1")),
            ),
            (
                "111122223333.DKR.ECR.EU-WEST-1.AMAZONAWS.COM",
                Some(("111122223333", "eu-west-1")),
            ),
            ("public.ecr.aws", None),
            ("11112222333.dkr.ecr.eu-west-1.amazonaws.com", None),
            ("111122223333.dkr.ecr.eu-west-1.amazonaws.com.evil.io", None),
            ("111122223333.dkr.ecr.eu-west-1.amazonaws.com:443", None),
            ("111122223333.ecr.eu-west-1.amazonaws.com", None),
        ] {
            let got = EcrRegistry::from_host(host);
            assert_eq!(
                got.as_ref()
                    .map(|e| (e.account_id.as_str(), e.region.as_str())),
                want,
                "{host}"
            );
        }
        let r = ImageRef::parse("111122223333.dkr.ecr.eu-west-1.amazonaws.com/app").unwrap();
        assert!(r.ecr.is_some());
    }

    #[test]
    fn refuses_what_docker_refuses() {
        for bad in [
            "",
            "Ubuntu",
            "a b",
            "nginx:",
            "nginx:.x",
            "nginx@sha256:abc",
            &format!("nginx@md5:{}", "0".repeat(32)),
            &format!("nginx@sha256:{}", "A".repeat(64)),
            "a//b",
            "a/-b",
            "a..b",
            "${BASE}",
            "host:port/x",
            "nginx:1@",
            &"a".repeat(2000),
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(
            ImageRef::parse("a b"),
            Err(ReferenceError::Character(' '))
        ));
        assert!(ImageRef::parse("a__b/c---d/e_f.g").is_ok());
    }
}
