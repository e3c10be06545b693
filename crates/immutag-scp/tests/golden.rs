//! The golden files in `policies/` are exactly what the presets generate, byte for byte.
//! Refresh them with `cargo run -q -p immutag-cli -- scp generate --out policies/` and
//! review the diff.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::collections::BTreeSet;
use std::path::PathBuf;

use immutag_scp::{PolicyKind, SCP_MAX_BYTES, Style, check_policy, generate, presets};

mod support;

fn policies_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

const REFRESH: &str =
    "run `cargo run -q -p immutag-cli -- scp generate --out policies/` and review the diff";

#[test]
fn every_preset_matches_its_golden_file_byte_for_byte() {
    let mut expected_files = BTreeSet::new();
    for preset in presets::all() {
        let generated = generate(&preset.options)
            .unwrap_or_else(|e| panic!("preset {} refused: {e}", preset.name));
        assert_eq!(
            generated.policies.len(),
            1,
            "preset {} must fit in one SCP",
            preset.name
        );
        for policy in generated.policies {
            let file = format!("{}.json", policy.name);
            let path = policies_dir().join(&file);
            let golden = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e}; {REFRESH}", path.display()));
            let fresh = policy.document.render(Style::Minified).unwrap();
            assert!(
                golden == fresh.as_bytes(),
                "{} differs from what preset {} generates; {REFRESH}\n golden: {}\n fresh:  {fresh}",
                path.display(),
                preset.name,
                String::from_utf8_lossy(&golden)
            );
            assert_eq!(golden.len(), policy.minified_bytes);
            assert!(golden.len() <= SCP_MAX_BYTES);
            // The golden file is also clean under the linter.
            let report = check_policy(&fresh, PolicyKind::Scp).unwrap();
            assert!(report.is_clean(), "{file}: {:?}", report.findings);
            expected_files.insert(file);
        }
    }
    // No stale golden file is left behind.
    let present: BTreeSet<String> = std::fs::read_dir(policies_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    assert_eq!(
        present, expected_files,
        "policies/ holds files no preset generates"
    );
}

#[test]
fn readme_documents_every_golden_file() {
    let readme = std::fs::read_to_string(policies_dir().join("README.md")).unwrap();
    for preset in presets::all() {
        let file = format!("{}.json", preset.options.name);
        let bytes = generate(&preset.options).unwrap().policies[0].minified_bytes;
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{file}`")))
            .unwrap_or_else(|| panic!("policies/README.md has no table row for {file}"));
        assert!(
            row.trim_end().ends_with(&format!("| {bytes} |")),
            "policies/README.md: the size of {file} is {bytes} bytes: {row}"
        );
        assert!(
            readme.contains(&file),
            "policies/README.md does not mention {file}"
        );
        assert!(
            readme.contains(&format!("`{}`", preset.name)),
            "policies/README.md does not name preset {}",
            preset.name
        );
        for principal in preset
            .options
            .exempt_principals
            .iter()
            .chain(&preset.options.creation_principals)
        {
            assert!(
                readme.contains(principal.as_str()),
                "policies/README.md does not list {principal}"
            );
        }
    }
    assert!(readme.contains("aws organizations create-policy"));
    assert!(readme.contains("aws organizations attach-policy"));
}

#[test]
fn docs_size_table_matches_the_presets() {
    let docs = std::fs::read_to_string(policies_dir().join("../docs/scp.md")).unwrap();
    for preset in presets::all() {
        let bytes = generate(&preset.options).unwrap().policies[0].minified_bytes;
        let row = docs
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", preset.name)))
            .unwrap_or_else(|| panic!("docs/scp.md has no preset row for {}", preset.name));
        assert!(
            row.trim_end().ends_with(&format!("| {bytes} |")),
            "docs/scp.md: preset {} is {bytes} bytes: {row}",
            preset.name
        );
    }
}

#[test]
fn readme_yaml_example_generates() {
    let readme = std::fs::read_to_string(policies_dir().join("README.md")).unwrap();
    let start = readme.find("```yaml\n").expect("a yaml example") + "```yaml\n".len();
    let end = start + readme[start..].find("```").expect("closing fence");
    let opts = immutag_scp::ScpOptions::from_yaml(&readme[start..end]).unwrap();
    let out = generate(&opts).unwrap();
    let docs: Vec<_> = out.policies.iter().map(|p| &p.document).collect();
    support::corpus::record("policies/README.md example", &opts, &docs);
    assert_eq!(out.policies.len(), 1);
}
