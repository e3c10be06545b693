//! Test support (not part of the library): records what the generator made during the
//! tests, so that `scripts/test.d/45-scp-simulate.sh` can prove every generated SCP with an
//! independent IAM engine. Writes only when `IMMUTAG_SCP_CORPUS` names a directory
//! (`scripts/test.d/20-rust-test.sh` sets it); one JSON file per distinct output:
//! `{"source", "options", "policies": [document, ...]}`.
//!
//! Included by path from the crate's unit tests, its integration tests and the CLI's tests.
#![allow(dead_code)] // each including test binary uses part of it

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

/// Records `policies` (policy documents), generated from `options` (`ScpOptions`), under a
/// name derived from the content. Generic over serde so that the crate's own unit tests can
/// include this file too.
pub fn record<O: serde::Serialize, P: serde::Serialize>(source: &str, options: &O, policies: &[P]) {
    let Some(dir) = std::env::var_os("IMMUTAG_SCP_CORPUS").map(PathBuf::from) else {
        return;
    };
    let entry = serde_json::json!({
        "source": source,
        "options": options,
        "policies": policies,
    });
    let text = serde_json::to_string_pretty(&entry).expect("a corpus entry renders");
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    let name = format!("{:016x}.json", hasher.finish());
    std::fs::create_dir_all(&dir).expect("create the corpus directory");
    // Written aside and renamed: parallel tests may record the same output at once.
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text).expect("write a corpus entry");
    std::fs::rename(&tmp, dir.join(name)).expect("move a corpus entry in place");
}
