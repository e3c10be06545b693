//! The bad-input corpus (`tests/fixtures/bad/`, plus the large cases generated here): every
//! command that reads files (`evaluate`, `scp check`, `remediate --plan`, `rollback JOURNAL`)
//! ends each case in exit 2 with a message that names the file and what was wrong, without a
//! panic and without a raw control character, within bounds this harness enforces on the
//! child process: at most 20 s (then it is killed), a 4 GiB address-space limit (`prlimit`), and
//! a peak resident size of at most 512 MB (GNU `time`).
//!
//! `tests/fixtures/bad/cases.tsv` names, for each corpus file, a word the message must hold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(20);
const MAX_RSS_KB: u64 = 512 * 1024;
const ADDRESS_SPACE: &str = "4294967296";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The command line of a command reading `file`.
fn command(cmd: &str, file: &str) -> Vec<String> {
    let args: Vec<&str> = match cmd {
        "evaluate" => vec!["evaluate", file],
        "scp" => vec!["scp", "check", file],
        "plan" => vec!["remediate", "--plan", file],
        "journal" => vec!["rollback", file],
        other => panic!("unknown command {other}"),
    };
    args.into_iter().map(str::to_owned).collect()
}

struct Run {
    code: Option<i32>,
    stderr: String,
    stdout: String,
    max_rss_kb: u64,
    elapsed: Duration,
}

/// Runs `immutag ARGS` under the limits, stdin from `stdin` (or nothing).
fn run(args: &[String], stdin: Option<&Path>) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let rss = dir.path().join("rss");
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={ADDRESS_SPACE}"))
        .arg("--")
        .arg("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss)
        .arg(env!("CARGO_BIN_EXE_immutag"))
        .args(args)
        .current_dir(root())
        // remediate and rollback load an AWS session: nothing here may reach AWS (port 9 on
        // the loopback refuses), and no input may get that far.
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .env_remove("AWS_PROFILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match stdin {
        Some(p) => cmd.stdin(std::fs::File::open(p).unwrap()),
        None => cmd.stdin(Stdio::null()),
    };
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .expect("prlimit and /usr/bin/time (util-linux, GNU time) must be installed");
    // Drain the pipes on threads so that a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut s).unwrap();
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut s).unwrap();
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`immutag {}` ran over {TIMEOUT:?}: killed", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap()).into_owned();
    let rss_text = std::fs::read_to_string(&rss).unwrap_or_default();
    // GNU time writes "Command exited with non-zero status N" before the figure.
    let max_rss_kb = rss_text
        .lines()
        .rev()
        .find_map(|l| l.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no RSS figure from /usr/bin/time: {rss_text:?}"));
    Run {
        code: status.code(),
        stderr,
        stdout,
        max_rss_kb,
        elapsed,
    }
}

/// Checks one case: exit 2, the file and `needle` in the message, no panic, no raw control
/// character on either stream, within the memory bound. Returns what failed.
fn verify(case: &Case) -> Vec<String> {
    let (cmd, file, shown, needle, stdin) = case;
    let args = command(cmd, file);
    let r = run(&args, stdin.as_deref());
    let what = format!(
        "`immutag {}`: exit {:?}, {} kB, {:?}\n--- stderr\n{}\n--- stdout\n{}",
        args.join(" "),
        r.code,
        r.max_rss_kb,
        r.elapsed,
        r.stderr,
        r.stdout.chars().take(2000).collect::<String>()
    );
    let mut failed = Vec::new();
    let mut expect = |ok: bool, why: &str| {
        if !ok {
            failed.push(format!("{why}: {what}"));
        }
    };
    expect(r.code == Some(2), "exit 2");
    expect(!r.stderr.contains("panicked"), "no panic");
    expect(
        r.stderr.contains(shown.as_str()),
        "the message names the file",
    );
    expect(
        r.stderr.to_lowercase().contains(&needle.to_lowercase()),
        &format!("the message says `{needle}`"),
    );
    for (name, text) in [("stderr", &r.stderr), ("stdout", &r.stdout)] {
        expect(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            &format!("no raw control character on {name}"),
        );
    }
    expect(r.max_rss_kb <= MAX_RSS_KB, "at most 512 MB");
    failed
}

/// A case: the command, the file, how the message names it, what it must say, stdin.
type Case = (&'static str, String, String, String, Option<PathBuf>);

fn case(cmd: &'static str, file: &str, needle: &str) -> Case {
    (
        cmd,
        file.to_owned(),
        file.to_owned(),
        needle.to_owned(),
        None,
    )
}

/// Runs every case, then fails with all that failed; returns how many ran.
fn check_all(cases: &[Case]) -> usize {
    let failed: Vec<String> = cases.iter().flat_map(verify).collect();
    assert!(
        failed.is_empty(),
        "{} failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
    cases.len()
}

#[test]
fn corpus_files_end_in_exit_2_naming_file_and_problem() {
    let manifest = std::fs::read_to_string(root().join("tests/fixtures/bad/cases.tsv")).unwrap();
    let mut listed = std::collections::BTreeSet::new();
    let mut cases = Vec::new();
    for line in manifest
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let mut cols = line.split('\t');
        let (Some(file), Some(needle)) = (cols.next(), cols.next()) else {
            panic!("cases.tsv: `{line}` is not FILE<TAB>NEEDLE");
        };
        let cmd = ["evaluate", "scp", "plan", "journal"]
            .into_iter()
            .find(|c| file.starts_with(&format!("{c}/")))
            .unwrap_or_else(|| panic!("cases.tsv: {file} is in no command's folder"));
        let path = format!("tests/fixtures/bad/{file}");
        assert!(
            root().join(&path).is_file(),
            "cases.tsv names {path}, which is missing"
        );
        cases.push(case(cmd, &path, needle));
        listed.insert(file.to_owned());
    }
    let n = check_all(&cases);
    // Every corpus file has its case.
    for cmd in ["evaluate", "scp", "plan", "journal"] {
        for entry in std::fs::read_dir(root().join("tests/fixtures/bad").join(cmd)).unwrap() {
            let name = format!("{cmd}/{}", entry.unwrap().file_name().to_string_lossy());
            assert!(listed.contains(&name), "{name} has no line in cases.tsv");
        }
    }
    assert!(n > 80, "{n} cases");
}

/// The cases too large to keep in the repository, made for each command.
#[test]
fn generated_cases_stay_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |name: &str, bytes: Vec<u8>| {
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let deep_list = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let huge = "a".repeat(16 * 1024 * 1024);
    // 50,000 resources with the same logical id.
    let mut dup = String::from("{\"Resources\":{");
    for i in 0..50_000 {
        if i > 0 {
            dup.push(',');
        }
        dup.push_str("\"Repo\":{\"Type\":\"AWS::ECR::Repository\",\"Properties\":{\"ImageTagMutability\":\"IMMUTABLE\"}}");
    }
    dup.push_str("}}");
    let mut dup_yaml = String::from("Resources:\n");
    for _ in 0..50_000 {
        dup_yaml.push_str("  Repo:\n    Type: AWS::ECR::Repository\n");
    }
    let cases: Vec<(&str, String, &str)> = vec![
        ("evaluate", write("deep.json", deep_list(100_000).into_bytes()), "recursion limit"),
        (
            "evaluate",
            write("deep-objects.json", format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000)).into_bytes()),
            "cannot tell what this input is",
        ),
        ("evaluate", write("deep.yaml", format!("Resources: {}\n", deep_list(100_000)).into_bytes()), "recursion limit"),
        ("evaluate", write("same-id.json", dup.into_bytes()), "duplicate resource logical id `Repo`"),
        ("evaluate", write("same-id.yaml", dup_yaml.into_bytes()), "duplicate key `Repo`"),
        (
            "evaluate",
            write("huge-string.json", format!("{{\"repositories\":[{{\"repositoryName\":\"{huge}\",\"imageTagMutability\":5}}]}}").into_bytes()),
            "invalid type",
        ),
        (
            "evaluate",
            write("huge-unterminated.yaml", format!("Resources:\n  Repo:\n    Type: \"{huge}").into_bytes()),
            "YAML syntax error",
        ),
        ("scp", write("scp-deep.json", format!("{{\"Version\":\"2012-10-17\",\"Statement\":{}}}", deep_list(100_000)).into_bytes()), "recursion limit"),
        (
            "scp",
            write("scp-huge-string.json", format!("{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Sid\":\"{}\"}}]}}", "a".repeat(2 * 1024 * 1024)).into_bytes()),
            "over the limit",
        ),
        ("plan", write("plan-deep.json", format!("{{\"schema_version\":1,\"repositories\":{}}}", deep_list(100_000)).into_bytes()), "invalid type: sequence"),
        (
            "plan",
            write("plan-huge-string.json", format!("{{\"schema_version\":1,\"repositories\":[{{\"name\":\"{huge}\"}}]}}").into_bytes()),
            "missing field",
        ),
        ("journal", write("deep.jsonl", format!("{}\n{}\n", deep_list(100_000), deep_list(3)).into_bytes()), "invalid type: sequence"),
        (
            "journal",
            write("huge-string.jsonl", format!("{{\"run\":\"{huge}\"}}\n{{}}\n").into_bytes()),
            "missing field",
        ),
    ];
    let mut all: Vec<Case> = cases
        .iter()
        .map(|(cmd, file, needle)| case(cmd, file, needle))
        .collect();
    // A directory, for every command.
    let sub = d.join("a-directory");
    std::fs::create_dir(&sub).unwrap();
    let sub = sub.to_str().unwrap();
    for cmd in ["evaluate", "scp", "plan", "journal"] {
        all.push(case(cmd, sub, "directory"));
    }
    check_all(&all);
}

/// `/dev/zero` on stdin (`-`) for the commands that read stdin, and as the file for the one
/// that does not: read stops at the first chunk.
#[test]
fn dev_zero_is_refused_at_once() {
    let zero = PathBuf::from("/dev/zero");
    // `scp check` names stdin `-`, the others `(stdin)`.
    let mut cases: Vec<Case> = [("evaluate", "(stdin)"), ("scp", "-:"), ("plan", "(stdin)")]
        .into_iter()
        .map(|(cmd, shown)| {
            let needle = "NUL byte at offset 0".to_owned();
            (
                cmd,
                "-".to_owned(),
                shown.to_owned(),
                needle,
                Some(zero.clone()),
            )
        })
        .collect();
    cases.push(case("journal", "/dev/zero", "NUL byte at offset 0"));
    check_all(&cases);
}
