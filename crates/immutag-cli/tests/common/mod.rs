//! Helpers shared by the CLI integration tests: run the real `immutag` binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root; commands run there so that paths (and SARIF URIs) are repo-relative.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A fixture path relative to the workspace root.
pub const FIXTURES: &str = "crates/immutag-cli/tests/fixtures";

/// `FIXTURES/name`.
pub fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

/// What a run produced.
#[derive(Debug)]
pub struct Output {
    /// The exit code.
    pub code: i32,
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
}

/// Runs `immutag ARGS` in the workspace root with `stdin` (empty when `None`), no
/// `NO_COLOR` unless `env` sets it.
pub fn run_env(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_immutag"));
    cmd.args(args)
        .current_dir(root())
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    {
        let mut pipe = child.stdin.take().unwrap();
        if let Some(bytes) = stdin {
            // The command may exit (usage error) before reading stdin.
            if let Err(e) = pipe.write_all(bytes) {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
            }
        }
    }
    let out = child.wait_with_output().unwrap();
    Output {
        code: out.status.code().expect("exited by signal"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// [`run_env`] with no extra environment.
pub fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    run_env(args, stdin, &[])
}

/// Parses `--output json` stdout.
pub fn json(out: &Output) -> Vec<serde_json::Value> {
    serde_json::from_str::<Vec<serde_json::Value>>(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not a JSON array ({e}): {}", out.stdout))
}

/// The evaluation for `resource_id` in `evals`.
pub fn find<'a>(evals: &'a [serde_json::Value], resource_id: &str) -> &'a serde_json::Value {
    evals
        .iter()
        .find(|e| e["resource_id"] == resource_id)
        .unwrap_or_else(|| panic!("no evaluation for {resource_id}"))
}
