//! `ScpOptions`: which controls to generate, whom and what they exempt. Loadable from
//! JSON, YAML or TOML text (the caller reads the file; this crate does no I/O).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ScpError;
use crate::policy::Condition;

/// The default number of policies the statements may be split across.
pub const DEFAULT_MAX_POLICIES: u8 = 4;

/// The controls to generate and their exemptions.
///
/// Field names are snake_case in every format; unknown fields are refused (a typo must not
/// silently drop an exemption).
///
/// ```
/// use immutag_scp::ScpOptions;
/// let opts = ScpOptions::from_yaml("
/// name: my-ecr-guard
/// lock_mutability: true
/// exempt_principals: ['arn:aws:iam::*:role/ImmutagPlatform']
/// ").unwrap();
/// assert!(opts.lock_mutability);
/// assert!(ScpOptions::from_json(r#"{"lock_mutabilty": true}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScpOptions {
    /// Base name of the policies: the file name (`NAME.json`, `NAME-2.json` when split). The
    /// CDK SCP stack names the Organizations policy `immutag-NAME`. Letters, digits, `-`, `_`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Deny `ecr:PutImageTagMutability` to all but `exempt_principals`, so that no one can
    /// turn a repository back to MUTABLE.
    #[serde(default)]
    pub lock_mutability: bool,
    /// Deny `ecr:CreateRepository` to all but `exempt_principals` and
    /// `creation_principals` (the pipelines / IaC roles whose templates are checked).
    #[serde(default)]
    pub restrict_creation: bool,
    /// Deny `ecr:CreateRepositoryCreationTemplate`, `ecr:UpdateRepositoryCreationTemplate`
    /// and `ecr:DeleteRepositoryCreationTemplate` to all but `exempt_principals`.
    #[serde(default)]
    pub lock_creation_templates: bool,
    /// Deny `ecr:BatchDeleteImage` and `ecr:DeleteRepository` to all but
    /// `exempt_principals`. IMMUTABLE refuses a push only while the tag exists: whoever may
    /// delete `:v1.2.3` can push other bytes under the same name. Lifecycle-policy expiry is
    /// done by ECR itself, not by a principal, and keeps working.
    #[serde(default)]
    pub protect_tags: bool,
    /// The Config rule's `ExemptionTagKey` (a repository carrying that tag key is not
    /// evaluated): deny adding or removing that tag key (`aws:TagKeys` on `ecr:TagResource`,
    /// `ecr:UntagResource` and `ecr:CreateRepository`) to all but `exempt_principals`, so that
    /// no one else can exempt a repository. Give the same key to the rule and here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_exemption_tag_key: Option<String>,
    /// Deny `ecr:CreateRepository` when one of these request tags is missing (or, when
    /// values are given, has another value). Proves only that a tag is present.
    #[serde(default)]
    pub require_creation_tags: Vec<RequiredTag>,
    /// ARN patterns (`ArnNotLike` on `aws:PrincipalArn`) exempt from every control: the
    /// platform role that runs remediation and a break-glass role. For a role session
    /// `aws:PrincipalArn` is the role ARN (`arn:aws:iam::ACCOUNT:role/PATH/NAME`).
    #[serde(default)]
    pub exempt_principals: Vec<String>,
    /// Additional ARN patterns exempt from `restrict_creation` only: pipeline / IaC roles.
    #[serde(default)]
    pub creation_principals: Vec<String>,
    /// The IAM role name that runs remediation (PutImageTagMutability). When given, the
    /// generator refuses a mutability lock that would deny it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_role_name: Option<String>,
    /// Repositories exempt from the repository-level controls (mutability lock, creation
    /// restriction, required tags): ARN patterns (`arn:aws:ecr:*:*:repository/sandbox-*`) or
    /// name patterns (`sandbox-*`, expanded with `partition`). Rendered as `NotResource`.
    #[serde(default)]
    pub exempt_repositories: Vec<String>,
    /// Repositories carrying this tag (key and value) are exempt from the mutability lock and
    /// from `protect_tags`. The generator then also denies adding or removing that tag key to
    /// non-exempt principals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exempt_repository_tag: Option<ExemptTag>,
    /// When non-empty, the controls apply only to requests in these regions
    /// (`aws:RequestedRegion`).
    #[serde(default)]
    pub regions: Vec<String>,
    /// Extra conditions ANDed into every statement (for example
    /// `{"StringEquals": {"aws:PrincipalOrgID": "o-..."}}`). Each key must be one the
    /// Service Authorization Reference lists for every action of every statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_conditions: Option<Condition>,
    /// AWS partition used to expand repository name patterns (`aws`, `aws-cn`, `aws-us-gov`).
    #[serde(default = "default_partition")]
    pub partition: String,
    /// The most policies the statements may be split across when they do not fit in one
    /// SCP of 5,120 bytes (1 to 5; each counts toward the 5 SCPs per target).
    #[serde(default = "default_max_policies")]
    pub max_policies: u8,
}

/// A tag that `ecr:CreateRepository` requests must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequiredTag {
    /// The tag key.
    pub key: String,
    /// Allowed values; empty means any value (only presence is checked).
    #[serde(default)]
    pub values: Vec<String>,
}

/// A resource tag that exempts a repository from the mutability lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExemptTag {
    /// The tag key (for example `immutag:exempt`).
    pub key: String,
    /// The value that exempts (for example `true`).
    pub value: String,
}

fn default_name() -> String {
    "immutag".to_owned()
}

fn default_partition() -> String {
    "aws".to_owned()
}

fn default_max_policies() -> u8 {
    DEFAULT_MAX_POLICIES
}

impl Default for ScpOptions {
    fn default() -> Self {
        ScpOptions {
            name: default_name(),
            lock_mutability: false,
            restrict_creation: false,
            lock_creation_templates: false,
            protect_tags: false,
            rule_exemption_tag_key: None,
            require_creation_tags: Vec::new(),
            exempt_principals: Vec::new(),
            creation_principals: Vec::new(),
            platform_role_name: None,
            exempt_repositories: Vec::new(),
            exempt_repository_tag: None,
            regions: Vec::new(),
            extra_conditions: None,
            partition: default_partition(),
            max_policies: DEFAULT_MAX_POLICIES,
        }
    }
}

/// The formats options can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionsFormat {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
    /// TOML.
    Toml,
}

impl OptionsFormat {
    /// The format a file name's extension says (`.json`, `.yaml`/`.yml`, `.toml`).
    ///
    /// ```
    /// use immutag_scp::options::OptionsFormat;
    /// assert_eq!(OptionsFormat::from_file_name("scp.yml").unwrap(), OptionsFormat::Yaml);
    /// assert!(OptionsFormat::from_file_name("scp.txt").is_err());
    /// ```
    pub fn from_file_name(name: &str) -> Result<Self, ScpError> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Ok(OptionsFormat::Json)
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Ok(OptionsFormat::Yaml)
        } else if lower.ends_with(".toml") {
            Ok(OptionsFormat::Toml)
        } else {
            Err(ScpError::UnknownOptionsFormat {
                name: name.to_owned(),
            })
        }
    }
}

impl ScpOptions {
    /// These options with the Config rule's exemption tag key protected
    /// (`rule_exemption_tag_key`), as `immutag scp generate --exemption-tag-key` gives it;
    /// refused when the options already protect another key.
    ///
    /// ```
    /// use immutag_scp::presets;
    /// let strict = presets::get("strict").unwrap().options;
    /// let mine = strict.with_rule_exemption_tag_key("team:exempt").unwrap();
    /// assert_eq!(mine.rule_exemption_tag_key.as_deref(), Some("team:exempt"));
    /// assert!(mine.with_rule_exemption_tag_key("other").is_err());
    /// ```
    pub fn with_rule_exemption_tag_key(mut self, key: &str) -> Result<Self, ScpError> {
        match &self.rule_exemption_tag_key {
            Some(own) if own != key => Err(ScpError::ConflictingExemptionTagKey {
                given: key.to_owned(),
                options: own.clone(),
            }),
            _ => {
                self.rule_exemption_tag_key = Some(key.to_owned());
                Ok(self)
            }
        }
    }

    /// Parses options in the given format.
    pub fn parse(text: &str, format: OptionsFormat) -> Result<Self, ScpError> {
        match format {
            OptionsFormat::Json => Self::from_json(text),
            OptionsFormat::Yaml => Self::from_yaml(text),
            OptionsFormat::Toml => Self::from_toml(text),
        }
    }

    /// Parses JSON options.
    pub fn from_json(text: &str) -> Result<Self, ScpError> {
        serde_json::from_str(text).map_err(|e| ScpError::OptionsParse {
            format: "JSON",
            message: e.to_string(),
        })
    }

    /// Parses YAML options.
    pub fn from_yaml(text: &str) -> Result<Self, ScpError> {
        serde_saphyr::from_str(text).map_err(|e| ScpError::OptionsParse {
            format: "YAML",
            message: e.to_string(),
        })
    }

    /// Parses TOML options.
    ///
    /// ```
    /// use immutag_scp::ScpOptions;
    /// let opts = ScpOptions::from_toml(r#"
    /// lock_creation_templates = true
    /// exempt_principals = ["arn:aws:iam::*:role/ImmutagPlatform"]
    /// "#).unwrap();
    /// assert!(opts.lock_creation_templates);
    /// ```
    pub fn from_toml(text: &str) -> Result<Self, ScpError> {
        toml::from_str(text).map_err(|e| ScpError::OptionsParse {
            format: "TOML",
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"
name: org-ecr
lock_mutability: true
restrict_creation: true
require_creation_tags:
  - key: team
  - key: env
    values: [prod, dev]
exempt_principals:
  - arn:aws:iam::*:role/ImmutagPlatform
creation_principals: ["arn:aws:iam::*:role/Pipeline"]
exempt_repository_tag: {key: "immutag:exempt", value: "true"}
regions: [eu-west-1]
extra_conditions:
  StringEquals:
    aws:PrincipalOrgID: o-abc123
max_policies: 2
"#;

    const TOML: &str = r#"
name = "org-ecr"
lock_mutability = true
restrict_creation = true
exempt_principals = ["arn:aws:iam::*:role/ImmutagPlatform"]
creation_principals = ["arn:aws:iam::*:role/Pipeline"]
regions = ["eu-west-1"]
max_policies = 2
exempt_repository_tag = { key = "immutag:exempt", value = "true" }

[[require_creation_tags]]
key = "team"

[[require_creation_tags]]
key = "env"
values = ["prod", "dev"]

[extra_conditions.StringEquals]
"aws:PrincipalOrgID" = "o-abc123"
"#;

    #[test]
    fn the_three_formats_agree() {
        let yaml = ScpOptions::from_yaml(YAML).unwrap();
        let toml = ScpOptions::from_toml(TOML).unwrap();
        let json = ScpOptions::from_json(&serde_json::to_string(&yaml).unwrap()).unwrap();
        assert_eq!(yaml, toml);
        assert_eq!(yaml, json);
        assert_eq!(yaml.require_creation_tags[1].values, vec!["prod", "dev"]);
        assert_eq!(yaml.max_policies, 2);
    }

    #[test]
    fn unknown_fields_and_operators_are_named() {
        let err = ScpOptions::from_yaml("lock_mutabilty: true\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("lock_mutabilty"), "{err}");
        assert!(err.contains("YAML"), "{err}");
        let err = ScpOptions::from_toml(
            "[extra_conditions.StringEqual]\n\"aws:PrincipalOrgID\" = \"o-1\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("StringEqual"), "{err}");
    }

    #[test]
    fn defaults() {
        let o = ScpOptions::from_json("{}").unwrap();
        assert_eq!(o, ScpOptions::default());
        assert_eq!(o.name, "immutag");
        assert_eq!(o.max_policies, DEFAULT_MAX_POLICIES);
    }
}
