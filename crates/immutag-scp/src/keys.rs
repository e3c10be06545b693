//! The condition keys IAM can see on ECR requests: the Service Authorization Reference
//! table for every ECR action, and the global condition keys.
//!
//! This table is the generator's guard (it never emits a key the reference does not list
//! for the action) and the linter's ground truth. Re-check it against [`SOURCE`] when AWS
//! adds ECR actions; an action missing here is reported as unknown by `check`, never
//! assumed to carry a key.

/// Where the ECR table comes from.
pub const SOURCE: &str = "AWS Service Authorization Reference, Amazon Elastic Container Registry \
(docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html), \
as mirrored in parliament 1.6.4's iam_definition.json; global keys from the IAM User Guide \
(reference_policies_condition-keys.html)";

/// When the table was last checked against [`SOURCE`].
pub const CHECKED: &str = "November 2026";

/// Every condition key the reference lists for the ECR service.
pub const ECR_SERVICE_KEYS: &[&str] = &[
    "aws:RequestTag/${TagKey}",
    "aws:ResourceTag/${TagKey}",
    "aws:TagKeys",
    "ecr:AccountSetting",
    "ecr:ResourceTag/${TagKey}",
];

/// Keys every action on the `repository` resource type carries (when the resource has
/// the tag in question).
pub const REPOSITORY_RESOURCE_KEYS: &[&str] =
    &["aws:ResourceTag/${TagKey}", "ecr:ResourceTag/${TagKey}"];

/// One ECR action and the condition keys the reference lists for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcrAction {
    /// Action name without the `ecr:` prefix.
    pub name: &'static str,
    /// True when the action is authorized against a repository ARN (so it carries
    /// [`REPOSITORY_RESOURCE_KEYS`]); false for registry-level actions (`Resource: "*"`).
    pub repository: bool,
    /// Action-specific condition keys.
    pub keys: &'static [&'static str],
}

impl EcrAction {
    /// Every key the reference lists for this action (action keys and resource keys).
    pub fn all_keys(&self) -> impl Iterator<Item = &'static str> {
        let resource: &'static [&'static str] = if self.repository {
            REPOSITORY_RESOURCE_KEYS
        } else {
            &[]
        };
        self.keys.iter().chain(resource.iter()).copied()
    }

    /// True when the reference lists `key` (case-insensitive, `${TagKey}` templates
    /// matching any tag key) for this action.
    ///
    /// ```
    /// use immutag_scp::keys::ecr_action;
    /// let create = ecr_action("CreateRepository").unwrap();
    /// assert!(create.lists_key("aws:RequestTag/team"));
    /// assert!(!create.lists_key("ecr:ImageTagMutability"));
    /// ```
    pub fn lists_key(&self, key: &str) -> bool {
        self.all_keys().any(|k| key_matches(k, key))
    }
}

/// The ECR actions of the reference, with their condition keys.
pub const ECR_ACTIONS: &[EcrAction] = &[
    EcrAction {
        name: "BatchCheckLayerAvailability",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "BatchDeleteImage",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "BatchGetImage",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "BatchGetRepositoryScanningConfiguration",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "BatchImportUpstreamImage",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "CompleteLayerUpload",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "CreatePullThroughCacheRule",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "CreateRepository",
        repository: true,
        keys: &["aws:RequestTag/${TagKey}", "aws:TagKeys"],
    },
    EcrAction {
        name: "CreateRepositoryCreationTemplate",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "DeleteLifecyclePolicy",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "DeletePullThroughCacheRule",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "DeleteRegistryPolicy",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "DeleteRepository",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "DeleteRepositoryCreationTemplate",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "DeleteRepositoryPolicy",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "DescribeImageReplicationStatus",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "DescribeImageScanFindings",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "DescribeImages",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "DescribePullThroughCacheRules",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "DescribeRegistry",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "DescribeRepositories",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "DescribeRepositoryCreationTemplates",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "GetAccountSetting",
        repository: false,
        keys: &["ecr:AccountSetting"],
    },
    EcrAction {
        name: "GetAuthorizationToken",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "GetDownloadUrlForLayer",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "GetLifecyclePolicy",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "GetLifecyclePolicyPreview",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "GetRegistryPolicy",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "GetRegistryScanningConfiguration",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "GetRepositoryPolicy",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "InitiateLayerUpload",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "ListImages",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "ListTagsForResource",
        repository: true,
        keys: &["aws:RequestTag/${TagKey}", "aws:TagKeys"],
    },
    EcrAction {
        name: "PutAccountSetting",
        repository: false,
        keys: &["ecr:AccountSetting"],
    },
    EcrAction {
        name: "PutImage",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "PutImageScanningConfiguration",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "PutImageTagMutability",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "PutLifecyclePolicy",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "PutRegistryPolicy",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "PutRegistryScanningConfiguration",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "PutReplicationConfiguration",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "ReplicateImage",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "SetRepositoryPolicy",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "StartImageScan",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "StartLifecyclePolicyPreview",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "TagResource",
        repository: true,
        keys: &["aws:RequestTag/${TagKey}", "aws:TagKeys"],
    },
    EcrAction {
        name: "UntagResource",
        repository: true,
        keys: &["aws:TagKeys"],
    },
    EcrAction {
        name: "UpdatePullThroughCacheRule",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "UpdateRepositoryCreationTemplate",
        repository: false,
        keys: &[],
    },
    EcrAction {
        name: "UploadLayerPart",
        repository: true,
        keys: &[],
    },
    EcrAction {
        name: "ValidatePullThroughCacheRule",
        repository: false,
        keys: &[],
    },
];

/// The actions the generated SCPs deny, each listed in [`ECR_ACTIONS`].
pub const GUARDED_ACTIONS: &[&str] = &[
    "ecr:PutImageTagMutability",
    "ecr:CreateRepository",
    "ecr:CreateRepositoryCreationTemplate",
    "ecr:UpdateRepositoryCreationTemplate",
    "ecr:DeleteRepositoryCreationTemplate",
    "ecr:TagResource",
    "ecr:UntagResource",
    "ecr:BatchDeleteImage",
    "ecr:DeleteRepository",
];

/// Global condition keys that any request may carry (some only in some contexts, such as
/// `aws:SourceVpce` through a VPC endpoint). The tag keys (`aws:RequestTag/...`,
/// `aws:ResourceTag/...`, `aws:TagKeys`) are not here: only the actions that list them
/// carry them.
pub const GLOBAL_KEYS: &[&str] = &[
    "aws:AssumedRoot",
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:ChatbotSourceArn",
    "aws:CurrentTime",
    "aws:Ec2InstanceSourcePrivateIPv4",
    "aws:Ec2InstanceSourceVpc",
    "aws:EpochTime",
    "aws:FederatedProvider",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalTag/${TagKey}",
    "aws:PrincipalType",
    "aws:referer",
    "aws:RequestedRegion",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceIdentity",
    "aws:SourceIp",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceVpc",
    "aws:SourceVpcArn",
    "aws:SourceVpce",
    "aws:TokenIssueTime",
    "aws:UserAgent",
    "aws:userid",
    "aws:username",
    "aws:ViaAWSService",
    "aws:VpcSourceIp",
    // Role-session keys that other services add to the credentials they vend.
    "codebuild:BuildArn",
    "codebuild:ProjectArn",
    "ec2:RoleDelivery",
    "ec2:SourceInstanceArn",
    "glue:CredentialIssuingService",
    "glue:RoleAssumedBy",
    "identitystore:UserId",
    "lambda:SourceFunctionArn",
    "ssm:SourceInstanceArn",
];

/// Global keys that identify the calling principal: a condition on one of them can exempt
/// principals from a Deny.
pub const PRINCIPAL_KEYS: &[&str] = &[
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalTag/${TagKey}",
    "aws:PrincipalType",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalServiceName",
    "aws:userid",
    "aws:username",
    "aws:SourceIdentity",
];

/// True when the concrete `key` matches the reference entry `listed` (case-insensitive;
/// a `${TagKey}` suffix matches any non-empty tag key).
///
/// ```
/// use immutag_scp::keys::key_matches;
/// assert!(key_matches("aws:ResourceTag/${TagKey}", "aws:resourcetag/Team"));
/// assert!(!key_matches("aws:ResourceTag/${TagKey}", "aws:ResourceTag/"));
/// assert!(key_matches("aws:PrincipalArn", "AWS:PRINCIPALARN"));
/// ```
pub fn key_matches(listed: &str, key: &str) -> bool {
    match listed.strip_suffix("${TagKey}") {
        Some(prefix) => {
            key.len() > prefix.len()
                && key.is_char_boundary(prefix.len())
                && key[..prefix.len()].eq_ignore_ascii_case(prefix)
        }
        None => listed.eq_ignore_ascii_case(key),
    }
}

/// Looks up an ECR action by name, with or without the `ecr:` prefix (case-insensitive).
pub fn ecr_action(name: &str) -> Option<&'static EcrAction> {
    let bare = strip_ecr_prefix(name).unwrap_or(name);
    ECR_ACTIONS
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(bare))
}

/// The part after `ecr:` (case-insensitive prefix), if `name` is an ECR action or key.
pub fn strip_ecr_prefix(name: &str) -> Option<&str> {
    if name.len() >= 4 && name.is_char_boundary(4) && name[..4].eq_ignore_ascii_case("ecr:") {
        Some(&name[4..])
    } else {
        None
    }
}

/// What IAM knows about a condition key on a given ECR action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// The reference lists the key for the action, or it is a global key.
    Listed,
    /// The key exists (for other ECR actions, or as a tag key) but this action never
    /// carries it.
    NotForAction,
    /// An `ecr:` key the reference does not list for any ECR action (such as
    /// `ecr:ImageTagMutability`): no request ever carries it.
    UnknownEcrKey,
    /// An `aws:` key that is not a global condition key immutag knows.
    UnknownGlobalKey,
    /// A key of another service: ECR requests never carry it.
    OtherService,
}

impl KeyStatus {
    /// True when a request for the action can carry the key.
    pub fn can_be_present(self) -> bool {
        self == KeyStatus::Listed
    }
}

/// Classifies `key` for `action`.
///
/// ```
/// use immutag_scp::keys::{ecr_action, key_status, KeyStatus};
/// let create = ecr_action("ecr:CreateRepository").unwrap();
/// assert_eq!(key_status(create, "ecr:ImageTagMutability"), KeyStatus::UnknownEcrKey);
/// assert_eq!(key_status(create, "aws:PrincipalArn"), KeyStatus::Listed);
/// let mutability = ecr_action("ecr:PutImageTagMutability").unwrap();
/// assert_eq!(key_status(mutability, "aws:RequestTag/team"), KeyStatus::NotForAction);
/// assert_eq!(key_status(mutability, "aws:ResourceTag/team"), KeyStatus::Listed);
/// ```
pub fn key_status(action: &EcrAction, key: &str) -> KeyStatus {
    if action.lists_key(key) || GLOBAL_KEYS.iter().any(|g| key_matches(g, key)) {
        return KeyStatus::Listed;
    }
    if ECR_SERVICE_KEYS.iter().any(|k| key_matches(k, key)) {
        return KeyStatus::NotForAction;
    }
    if strip_ecr_prefix(key).is_some() {
        return KeyStatus::UnknownEcrKey;
    }
    let lower = key.to_ascii_lowercase();
    if lower.starts_with("aws:") {
        return KeyStatus::UnknownGlobalKey;
    }
    KeyStatus::OtherService
}

/// The principal keys that name particular principals (rather than an account or an
/// organization): a positive operator on one of them makes a Deny apply only to those.
pub const IDENTITY_KEYS: &[&str] = &[
    "aws:PrincipalArn",
    "aws:PrincipalTag/${TagKey}",
    "aws:userid",
    "aws:username",
    "aws:SourceIdentity",
];

/// True when `key` is one of [`IDENTITY_KEYS`].
///
/// ```
/// use immutag_scp::keys::is_identity_key;
/// assert!(is_identity_key("aws:principalarn"));
/// assert!(!is_identity_key("aws:PrincipalOrgID"));
/// ```
pub fn is_identity_key(key: &str) -> bool {
    IDENTITY_KEYS.iter().any(|k| key_matches(k, key))
}

/// True when `key` is a principal-identifying global key (see [`PRINCIPAL_KEYS`]).
pub fn is_principal_key(key: &str) -> bool {
    PRINCIPAL_KEYS.iter().any(|k| key_matches(k, key))
}

/// True when `key` is, in any casing, the `ecr:ImageTagMutability` key that guides
/// suggest and that does not exist (or a close variant naming mutability).
pub fn is_mutability_key(key: &str) -> bool {
    strip_ecr_prefix(key).is_some_and(|rest| rest.to_ascii_lowercase().contains("mutability"))
}

/// The explanation given whenever a policy or an option names a mutability key.
pub const NO_MUTABILITY_KEY_EXPLANATION: &str = "no IAM condition key exposes a repository's tag mutability: the Service Authorization Reference lists only aws:RequestTag/${TagKey}, aws:TagKeys, aws:ResourceTag/${TagKey}, ecr:ResourceTag/${TagKey} and ecr:AccountSetting for ECR, so a request never carries this key; a negated operator (StringNotEquals, ...) on it is always true and the Deny blocks every call, a positive one is never true and the statement never applies";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guarded_action_is_in_the_table() {
        for a in GUARDED_ACTIONS {
            assert!(ecr_action(a).is_some(), "{a}");
        }
    }

    #[test]
    fn table_matches_the_reference_facts() {
        // aws-facts.md §1: PutImageTagMutability and PutImage have no action-specific keys.
        for a in ["PutImageTagMutability", "PutImage"] {
            let action = ecr_action(a).unwrap();
            assert!(action.keys.is_empty(), "{a}");
            assert!(action.repository, "{a}");
        }
        let create = ecr_action("CreateRepository").unwrap();
        assert!(create.lists_key("aws:TagKeys"));
        assert!(
            ecr_action("GetAccountSetting")
                .unwrap()
                .lists_key("ecr:AccountSetting")
        );
        for a in [
            "CreateRepositoryCreationTemplate",
            "UpdateRepositoryCreationTemplate",
            "DeleteRepositoryCreationTemplate",
        ] {
            let action = ecr_action(a).unwrap();
            assert!(!action.repository && action.keys.is_empty(), "{a}");
        }
        // No key of the table names mutability.
        for a in ECR_ACTIONS {
            assert!(a.all_keys().all(|k| !is_mutability_key(k)), "{}", a.name);
        }
    }

    #[test]
    fn classification() {
        let tpl = ecr_action("CreateRepositoryCreationTemplate").unwrap();
        assert_eq!(
            key_status(tpl, "aws:ResourceTag/x"),
            KeyStatus::NotForAction
        );
        assert_eq!(key_status(tpl, "s3:prefix"), KeyStatus::OtherService);
        assert_eq!(
            key_status(tpl, "aws:NoSuchKey"),
            KeyStatus::UnknownGlobalKey
        );
        assert_eq!(key_status(tpl, "ec2:SourceInstanceArn"), KeyStatus::Listed);
        assert!(is_mutability_key("ECR:imagetagmutability"));
        assert!(!is_mutability_key("aws:PrincipalArn"));
    }
}
