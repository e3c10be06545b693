//! The live judgement of pins (pure): what to ask the registry, and the status each pin gets
//! from the answer. `immutag-aws` (feature `fleet`) makes the calls: one
//! `DescribeRepositories` per account and region, one `BatchGetImage` per repository with all
//! the tags and digests its pins name.

use std::collections::{BTreeMap, BTreeSet};

use crate::pin::{Pin, PinStatus};

/// One ECR repository.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoId {
    /// The registry (account) id.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// The repository name.
    pub repository: String,
}

impl std::fmt::Display for RepoId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.account_id, self.region, self.repository)
    }
}

/// The tags and digests to look up in one repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Tags (the implicit `latest` included).
    pub tags: BTreeSet<String>,
    /// Digests.
    pub digests: BTreeSet<String>,
}

/// What the registry said of one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepositoryState {
    /// The repository does not exist.
    Missing,
    /// It exists; `compliant` is the evaluator's verdict on its tag mutability, `summary`
    /// says why (the mutability and the evaluation's annotation).
    Found {
        /// COMPLIANT under the rule parameters in use.
        compliant: bool,
        /// The mutability and the annotation.
        summary: String,
    },
}

/// The answer for one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryFacts {
    /// Exists, and how it is judged.
    pub state: RepositoryState,
    /// The digest each tag that was asked for names now (absent: no such tag).
    pub tags: BTreeMap<String, String>,
    /// The digests asked for that the repository holds.
    pub digests: BTreeSet<String>,
}

/// The ECR repository of a pin whose status can be judged live (PINNED or UNPINNED, an ECR
/// registry).
pub fn repo_of(pin: &Pin) -> Option<RepoId> {
    if !matches!(pin.status, PinStatus::Pinned | PinStatus::Unpinned) {
        return None;
    }
    let image = pin.image.as_ref()?;
    let ecr = image.ecr.as_ref()?;
    Some(RepoId {
        account_id: ecr.account_id.clone(),
        region: ecr.region.clone(),
        repository: image.repository.clone(),
    })
}

/// What to ask of each repository for `pins`: every tag and digest they name.
pub fn lookups(pins: &[Pin]) -> BTreeMap<RepoId, Wanted> {
    let mut out: BTreeMap<RepoId, Wanted> = BTreeMap::new();
    for pin in pins {
        let (Some(repo), Some(image)) = (repo_of(pin), pin.image.as_ref()) else {
            continue;
        };
        let wanted = out.entry(repo).or_default();
        if let Some(t) = image.effective_tag() {
            wanted.tags.insert(t.to_owned());
        }
        if let Some(d) = &image.digest {
            wanted.digests.insert(d.clone());
        }
    }
    out
}

/// Sets the live status of `pin` from `facts` (the answer for [`repo_of`]`(pin)`).
pub fn judge(pin: &mut Pin, repo: &RepoId, facts: &RepositoryFacts) {
    let Some(image) = pin.image.clone() else {
        return;
    };
    let tag = image.effective_tag();
    let (status, detail) = match (&image.digest, &facts.state) {
        (Some(_), RepositoryState::Missing) => (
            PinStatus::DigestMissing,
            format!(
                "repository {} not found in {}/{}",
                repo.repository, repo.account_id, repo.region
            ),
        ),
        (Some(d), RepositoryState::Found { .. }) if !facts.digests.contains(d) => (
            PinStatus::DigestMissing,
            format!("digest {d} is not in repository {}", repo.repository),
        ),
        (Some(d), RepositoryState::Found { .. }) => match tag.map(|t| (t, facts.tags.get(t))) {
            Some((t, Some(now))) if now != d => {
                (PinStatus::TagMoved, format!("tag {t} now names {now}"))
            }
            Some((t, None)) => (
                PinStatus::Pinned,
                format!("tag {t} no longer exists; the digest is still in the repository"),
            ),
            _ => (PinStatus::Pinned, "digest present".to_owned()),
        },
        (None, RepositoryState::Missing) => (
            PinStatus::Unpinned,
            format!(
                "repository {} not found in {}/{}",
                repo.repository, repo.account_id, repo.region
            ),
        ),
        (None, RepositoryState::Found { compliant, summary }) => {
            let t = tag.unwrap_or(crate::reference::IMPLICIT_TAG);
            let names = match facts.tags.get(t) {
                Some(d) => format!("tag {t} names {d}"),
                None => format!("tag {t} not found"),
            };
            if *compliant {
                (
                    PinStatus::Unpinned,
                    format!("{names}; the repository is compliant ({summary})"),
                )
            } else {
                (
                    PinStatus::MutableRepository,
                    format!("{names}; the tag can be re-pointed: {summary}"),
                )
            }
        }
    };
    pin.status = status;
    pin.detail = Some(match pin.detail.take() {
        Some(d) => format!("{d}; {detail}"),
        None => detail,
    });
}

/// The digest `resolve` pins an UNPINNED ECR reference to: the one its tag names now. The
/// error says why it cannot be pinned.
pub fn resolution(pin: &Pin, repo: &RepoId, facts: &RepositoryFacts) -> Result<String, String> {
    let image = pin.image.as_ref().ok_or("not a parsed reference")?;
    let tag = image.effective_tag().ok_or("already pinned")?;
    if facts.state == RepositoryState::Missing {
        return Err(format!(
            "repository {} not found in {}/{}",
            repo.repository, repo.account_id, repo.region
        ));
    }
    facts
        .tags
        .get(tag)
        .cloned()
        .ok_or_else(|| format!("tag {tag} not found in repository {}", repo.repository))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::find::{Candidate, find};

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const REG: &str = "111122223333.dkr.ecr.eu-west-1.amazonaws.com";

    fn pin(text: &str) -> Pin {
        find(
            "Dockerfile",
            &format!("FROM {text}\n"),
            Some(Candidate::Dockerfile),
        )
        .unwrap()
        .remove(0)
    }

    fn facts(compliant: Option<bool>, tags: &[(&str, &str)], digests: &[&str]) -> RepositoryFacts {
        RepositoryFacts {
            state: match compliant {
                None => RepositoryState::Missing,
                Some(c) => RepositoryState::Found {
                    compliant: c,
                    summary: "MUTABLE".into(),
                },
            },
            tags: tags
                .iter()
                .map(|(t, d)| ((*t).to_owned(), (*d).to_owned()))
                .collect(),
            digests: digests.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    fn judged(text: &str, f: &RepositoryFacts) -> PinStatus {
        let mut p = pin(text);
        let repo = repo_of(&p).unwrap();
        judge(&mut p, &repo, f);
        p.status
    }

    #[test]
    fn statuses() {
        let both = facts(Some(true), &[("v1", A)], &[A]);
        assert_eq!(
            judged(&format!("{REG}/app:v1@{A}"), &both),
            PinStatus::Pinned
        );
        assert_eq!(
            judged(
                &format!("{REG}/app:v1@{A}"),
                &facts(Some(true), &[("v1", B)], &[A])
            ),
            PinStatus::TagMoved
        );
        assert_eq!(
            judged(&format!("{REG}/app:v1@{A}"), &facts(Some(true), &[], &[A])),
            PinStatus::Pinned
        );
        assert_eq!(
            judged(&format!("{REG}/app@{B}"), &both),
            PinStatus::DigestMissing
        );
        assert_eq!(
            judged(&format!("{REG}/app@{A}"), &facts(None, &[], &[])),
            PinStatus::DigestMissing
        );
        assert_eq!(
            judged(
                &format!("{REG}/app:v1"),
                &facts(Some(false), &[("v1", A)], &[])
            ),
            PinStatus::MutableRepository
        );
        assert_eq!(
            judged(
                &format!("{REG}/app"),
                &facts(Some(true), &[("latest", A)], &[])
            ),
            PinStatus::Unpinned
        );
        assert_eq!(
            judged(&format!("{REG}/app"), &facts(None, &[], &[])),
            PinStatus::Unpinned
        );
    }

    #[test]
    fn lookups_group_by_repository() {
        let pins = vec![
            pin(&format!("{REG}/app:v1")),
            pin(&format!("{REG}/app:v2@{A}")),
            pin(&format!("{REG}/app")),
            pin("nginx:1"),
            pin(&format!("{REG}/other@{B}")),
        ];
        let l = lookups(&pins);
        assert_eq!(l.len(), 2);
        let app = &l[&repo_of(&pins[0]).unwrap()];
        assert_eq!(
            app.tags.iter().map(String::as_str).collect::<Vec<_>>(),
            ["latest", "v1", "v2"]
        );
        assert_eq!(app.digests.len(), 1);
        let other = &l[&repo_of(&pins[4]).unwrap()];
        assert!(other.tags.is_empty());
    }

    #[test]
    fn resolutions() {
        let p = pin(&format!("{REG}/app:v1"));
        let repo = repo_of(&p).unwrap();
        assert_eq!(
            resolution(&p, &repo, &facts(Some(false), &[("v1", A)], &[])).unwrap(),
            A
        );
        assert!(
            resolution(&p, &repo, &facts(Some(false), &[], &[]))
                .unwrap_err()
                .contains("tag v1 not found")
        );
        assert!(resolution(&p, &repo, &facts(None, &[], &[])).is_err());
    }
}
