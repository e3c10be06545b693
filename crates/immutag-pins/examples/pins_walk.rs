//! The two sides of the `immutag pins check` benchmark (bench/pins.sh), in one binary:
//!
//! * `pins_walk floor DIR`: the floor, a bare walk with the same walker and settings
//!   (`ignore`, parallel, `.gitignore` respected, hidden directories read) that reads every
//!   file to the end and does nothing else;
//! * `pins_walk check DIR`: what `immutag pins check DIR --output json` does without `--live`:
//!   [`immutag_pins::files::scan`] and the JSON of every pin.
//!
//! Each prints one line: files, bytes or references, so the runs can be checked against
//! each other.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let dir = PathBuf::from(args.next().expect("usage: pins_walk floor|check DIR"));
    match mode.as_str() {
        "floor" => {
            let files = AtomicU64::new(0);
            let bytes = AtomicU64::new(0);
            ignore::WalkBuilder::new(&dir)
                .hidden(false)
                .require_git(false)
                .add_custom_ignore_filename(immutag_pins::files::IGNORE_FILE)
                .filter_entry(|e| e.file_name() != ".git")
                .build_parallel()
                .run(|| {
                    Box::new(|entry| {
                        if let Ok(e) = entry
                            && e.file_type().is_some_and(|t| t.is_file())
                            && let Ok(b) = std::fs::read(e.path())
                        {
                            files.fetch_add(1, Ordering::Relaxed);
                            bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
                        }
                        ignore::WalkState::Continue
                    })
                });
            println!(
                "floor: {} files, {} bytes",
                files.into_inner(),
                bytes.into_inner()
            );
        }
        "check" => {
            let scan = immutag_pins::files::scan(&[dir], 0);
            let json = serde_json::to_vec_pretty(&scan.pins).unwrap();
            std::io::sink().write_all(&json).unwrap();
            println!(
                "check: {} files read, {} references, {} errors",
                scan.files_read,
                scan.pins.len(),
                scan.errors.len()
            );
        }
        other => panic!("unknown mode {other:?}: floor or check"),
    }
}
