//! `immutag scp check`'s policy reader and linter, as an SCP and as an identity policy.
#![no_main]

use immutag_scp::{PolicyKind, check_policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in [PolicyKind::Scp, PolicyKind::Identity] {
        let _ = check_policy(text, kind);
    }
});
