//! The documented presets. Each is a plain [`ScpOptions`]; `policies/` holds what each
//! generates (golden files checked by tests).

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::ScpError;
use crate::options::ScpOptions;

/// The platform role that runs remediation. A placeholder: create a role with this name in
/// every member account, or replace the pattern with `--config`.
pub const PLATFORM_ROLE_PATTERN: &str = "arn:aws:iam::*:role/ImmutagPlatform";
/// The break-glass role. A placeholder like [`PLATFORM_ROLE_PATTERN`].
pub const BREAK_GLASS_ROLE_PATTERN: &str = "arn:aws:iam::*:role/ImmutagBreakGlass";
/// The pipeline / IaC role allowed to create repositories. A placeholder.
pub const PIPELINE_ROLE_PATTERN: &str = "arn:aws:iam::*:role/ImmutagPipeline";
/// The Config rule's exemption tag key the `protect-exemption-tag` preset protects. A
/// placeholder: give the rule's `ExemptionTagKey` with `--exemption-tag-key`.
pub const EXEMPTION_TAG_KEY: &str = "immutag:exempt";

/// A named, documented set of options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Preset {
    /// The preset name (`--preset NAME`).
    pub name: &'static str,
    /// One line: what it is for.
    pub summary: &'static str,
    /// The actions it denies.
    pub blocks: Vec<&'static str>,
    /// The options it stands for (exempt principals included).
    pub options: ScpOptions,
}

const BASELINE_BLOCKS: &[&str] = &[
    "ecr:PutImageTagMutability",
    "ecr:CreateRepository",
    "ecr:CreateRepositoryCreationTemplate",
    "ecr:UpdateRepositoryCreationTemplate",
    "ecr:DeleteRepositoryCreationTemplate",
];
const PROTECT_TAGS_BLOCKS: &[&str] = &["ecr:BatchDeleteImage", "ecr:DeleteRepository"];

fn exempt() -> Vec<String> {
    vec![
        PLATFORM_ROLE_PATTERN.to_owned(),
        BREAK_GLASS_ROLE_PATTERN.to_owned(),
    ]
}

/// Every preset, in documentation order.
///
/// ```
/// let names: Vec<_> = immutag_scp::presets::all().iter().map(|p| p.name).collect();
/// assert_eq!(names, ["lock-mutability", "restrict-creation", "lock-creation-templates", "baseline",
///                    "protect-tags", "protect-exemption-tag", "strict"]);
/// ```
pub fn all() -> Vec<Preset> {
    let base = |name: &str| ScpOptions {
        name: name.to_owned(),
        exempt_principals: exempt(),
        ..ScpOptions::default()
    };
    vec![
        Preset {
            name: "lock-mutability",
            summary: "No one but the platform and break-glass roles can change a repository's tag mutability (so no one can turn it back to MUTABLE).",
            blocks: vec!["ecr:PutImageTagMutability"],
            options: ScpOptions {
                lock_mutability: true,
                ..base("lock-mutability")
            },
        },
        Preset {
            name: "restrict-creation",
            summary: "Only the pipeline role (whose templates are checked before deploy) and the platform and break-glass roles can create repositories.",
            blocks: vec!["ecr:CreateRepository"],
            options: ScpOptions {
                restrict_creation: true,
                creation_principals: vec![PIPELINE_ROLE_PATTERN.to_owned()],
                ..base("restrict-creation")
            },
        },
        Preset {
            name: "lock-creation-templates",
            summary: "No one but the platform and break-glass roles can create, change or delete the repository creation templates that set the mutability of repositories ECR creates itself.",
            blocks: vec![
                "ecr:CreateRepositoryCreationTemplate",
                "ecr:UpdateRepositoryCreationTemplate",
                "ecr:DeleteRepositoryCreationTemplate",
            ],
            options: ScpOptions {
                lock_creation_templates: true,
                ..base("lock-creation-templates")
            },
        },
        Preset {
            name: "baseline",
            summary: "The three controls above in one SCP: the recommended starting point.",
            blocks: BASELINE_BLOCKS.to_vec(),
            options: ScpOptions {
                lock_mutability: true,
                restrict_creation: true,
                lock_creation_templates: true,
                creation_principals: vec![PIPELINE_ROLE_PATTERN.to_owned()],
                ..base("baseline")
            },
        },
        Preset {
            name: "protect-tags",
            summary: "No one but the platform and break-glass roles can delete images or repositories, so no one can delete a tag and push other bytes under the same name (lifecycle-policy expiry, done by ECR itself, keeps working).",
            blocks: PROTECT_TAGS_BLOCKS.to_vec(),
            options: ScpOptions {
                protect_tags: true,
                ..base("protect-tags")
            },
        },
        Preset {
            name: "protect-exemption-tag",
            summary: "No one but the platform and break-glass roles can add or remove the Config rule's exemption tag key (immutag:exempt here: give yours with --exemption-tag-key), so no one can exempt their own repository.",
            blocks: vec![
                "ecr:CreateRepository",
                "ecr:TagResource",
                "ecr:UntagResource",
            ],
            options: ScpOptions {
                rule_exemption_tag_key: Some(EXEMPTION_TAG_KEY.to_owned()),
                ..base("protect-exemption-tag")
            },
        },
        Preset {
            name: "strict",
            summary: "baseline plus protect-tags: the flag, creation, the templates and the delete-and-re-push bypass, in one SCP.",
            blocks: [BASELINE_BLOCKS, PROTECT_TAGS_BLOCKS].concat(),
            options: ScpOptions {
                lock_mutability: true,
                restrict_creation: true,
                lock_creation_templates: true,
                protect_tags: true,
                creation_principals: vec![PIPELINE_ROLE_PATTERN.to_owned()],
                ..base("strict")
            },
        },
    ]
}

/// The preset of this name.
///
/// ```
/// assert!(immutag_scp::presets::get("baseline").unwrap().options.lock_mutability);
/// assert!(immutag_scp::presets::get("strictest").is_err());
/// ```
pub fn get(name: &str) -> Result<Preset, ScpError> {
    let presets = all();
    let known = presets
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ");
    presets
        .into_iter()
        .find(|p| p.name == name)
        .ok_or(ScpError::UnknownPreset {
            name: name.to_owned(),
            known,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::generate;

    #[test]
    fn documented_blocks_are_what_each_preset_denies() {
        for p in all() {
            let out = generate(&p.options).unwrap();
            let mut denied: Vec<String> = out
                .policies
                .iter()
                .flat_map(|pol| pol.document.statements())
                .flat_map(|s| s.action.iter().flat_map(|a| a.iter().cloned()))
                .collect();
            denied.sort();
            denied.dedup();
            let mut documented: Vec<String> = p.blocks.iter().map(|b| (*b).to_owned()).collect();
            documented.sort();
            assert_eq!(denied, documented, "preset {}", p.name);
            assert_eq!(
                p.options.name, p.name,
                "golden file name follows the preset name"
            );
            // Every preset exempts the platform role.
            assert!(
                p.options
                    .exempt_principals
                    .iter()
                    .any(|e| e == PLATFORM_ROLE_PATTERN)
            );
        }
    }

    #[test]
    fn unknown_preset_lists_the_known_ones() {
        let msg = get("strictest").unwrap_err().to_string();
        assert!(
            msg.contains("lock-mutability, restrict-creation, lock-creation-templates, baseline, protect-tags, protect-exemption-tag, strict"),
            "{msg}"
        );
    }
}
