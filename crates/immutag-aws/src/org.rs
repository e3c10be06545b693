//! Which accounts and regions to read: AWS Organizations accounts, EC2 enabled regions.

use aws_sdk_organizations::types::{Account as ApiAccount, AccountState, AccountStatus};

use crate::error::AwsError;

/// A member account of the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The 12-digit id.
    pub id: String,
    /// The display name, when known.
    pub name: Option<String>,
}

/// True when Organizations reports the account as active. The newer `State` member wins
/// over the deprecated `Status`; an account with neither is not treated as active.
pub fn is_active(account: &ApiAccount) -> bool {
    match (account.state(), account.status()) {
        (Some(state), _) => *state == AccountState::Active,
        (None, Some(status)) => *status == AccountStatus::Active,
        (None, None) => false,
    }
}

/// Every ACTIVE account of the organization (`organizations:ListAccounts`, following
/// `NextToken`). Call it with the management account's or a delegated administrator's
/// credentials.
pub async fn active_accounts(
    client: &aws_sdk_organizations::Client,
) -> Result<Vec<Account>, AwsError> {
    const OP: &str = "organizations:ListAccounts";
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0usize;
    loop {
        let resp = client
            .list_accounts()
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::api(OP, e))?;
        pages += 1;
        for a in resp.accounts() {
            if !is_active(a) {
                tracing::info!(account = a.id(), "skipping account that is not ACTIVE");
                continue;
            }
            let Some(id) = a.id() else { continue };
            out.push(Account {
                id: id.to_owned(),
                name: a.name().map(str::to_owned),
            });
        }
        match resp.next_token() {
            None | Some("") => break,
            Some(t) if Some(t) == token.as_deref() || pages >= crate::ecr::MAX_PAGES => {
                return Err(AwsError::Pagination {
                    operation: OP,
                    pages,
                });
            }
            Some(t) => token = Some(t.to_owned()),
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    Ok(out)
}

/// The regions of an account, split by whether they can be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Regions {
    /// Enabled: `opt-in-not-required` or `opted-in`.
    pub enabled: Vec<String>,
    /// Not enabled (`not-opted-in`, or a status immutag does not know), with the status.
    pub disabled: Vec<(String, String)>,
}

/// Splits `(region, opt-in status)` pairs into enabled and disabled regions, sorted.
pub fn split_regions(regions: impl IntoIterator<Item = (String, Option<String>)>) -> Regions {
    let mut out = Regions::default();
    for (name, status) in regions {
        match status.as_deref() {
            Some("opt-in-not-required") | Some("opted-in") => out.enabled.push(name),
            other => out
                .disabled
                .push((name, other.unwrap_or("unknown").to_owned())),
        }
    }
    out.enabled.sort();
    out.disabled.sort();
    out
}

/// The regions of the account `client` is configured for (`ec2:DescribeRegions` with
/// `AllRegions=true`, so that regions that are not opted in are listed too and can be reported).
///
/// An answer that lists no region, or a region without a name, is an error: the EC2 XML
/// reader accepts a truncated document, and nothing is skipped on such an answer.
pub async fn regions(client: &aws_sdk_ec2::Client) -> Result<Regions, AwsError> {
    const OP: &str = "ec2:DescribeRegions";
    let resp = client
        .describe_regions()
        .all_regions(true)
        .send()
        .await
        .map_err(|e| AwsError::api(OP, e))?;
    if resp.regions().is_empty() {
        return Err(AwsError::MissingField {
            operation: OP,
            field: "Regions",
        });
    }
    let mut named = Vec::with_capacity(resp.regions().len());
    for r in resp.regions() {
        match r.region_name().filter(|n| !n.is_empty()) {
            Some(n) => named.push((n.to_owned(), r.opt_in_status().map(str::to_owned))),
            None => {
                return Err(AwsError::MissingField {
                    operation: OP,
                    field: "RegionName",
                });
            }
        }
    }
    Ok(split_regions(named))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_prefers_state() {
        let a = ApiAccount::builder()
            .id("111122223333")
            .state(AccountState::Suspended)
            .status(AccountStatus::Active)
            .build();
        assert!(!is_active(&a));
        let b = ApiAccount::builder()
            .id("111122223333")
            .status(AccountStatus::Active)
            .build();
        assert!(is_active(&b));
        let c = ApiAccount::builder().id("111122223333").build();
        assert!(!is_active(&c));
    }

    #[test]
    fn splits_regions_by_opt_in() {
        let r = split_regions([
            (
                "us-east-1".to_owned(),
                Some("opt-in-not-required".to_owned()),
            ),
            ("af-south-1".to_owned(), Some("not-opted-in".to_owned())),
            ("ap-east-1".to_owned(), Some("opted-in".to_owned())),
            ("xx-new-1".to_owned(), None),
        ]);
        assert_eq!(r.enabled, vec!["ap-east-1", "us-east-1"]);
        assert_eq!(
            r.disabled,
            vec![
                ("af-south-1".to_owned(), "not-opted-in".to_owned()),
                ("xx-new-1".to_owned(), "unknown".to_owned())
            ]
        );
    }
}
