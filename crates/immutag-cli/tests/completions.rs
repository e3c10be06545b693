//! `immutag completions SHELL` and `immutag man`: the scripts parse in their shells, name
//! every subcommand, and the man pages render and pass mandoc's lint (errors).
//!
//! The shells are the real ones: bash (always there), zsh and fish (Debian packages that
//! scripts/setup.d/50-ship.sh installs; missing, the tests fail). PowerShell has no package
//! on the registries these machines reach, so its script is checked for its registration and
//! balanced braces only (`powershell_script_registers_a_completer`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

/// The subcommands every completion script must offer.
const SUBCOMMANDS: &[&str] = &[
    "evaluate",
    "scan",
    "history",
    "plan",
    "remediate",
    "rollback",
    "pins",
    "scp",
    "schema",
    "completions",
    "man",
];

fn script(shell: &str) -> String {
    let out = common::run(&["completions", shell], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    for sub in SUBCOMMANDS {
        assert!(out.stdout.contains(sub), "{shell}: no {sub} in the script");
    }
    out.stdout
}

/// Runs `PROGRAM ARGS FILE`; a program that is not installed fails the test, saying how to
/// install it.
fn tool(program: &str, args: &[&str], file: &Path) -> std::process::Output {
    Command::new(program)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} not found ({e}): run scripts/setup.sh (scripts/setup.d/50-ship.sh)")
        })
}

/// Runs `SHELL ARGS FILE` on `text` written to a file; asserts it exits 0 with no output.
fn parses(shell: &str, args: &[&str], text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("immutag.completion");
    std::fs::write(&file, text).unwrap();
    let out = tool(shell, args, &file);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{shell} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bash_script_parses_and_completes_subcommands() {
    let text = script("bash");
    parses("bash", &["-n"], &text);
    // Sourced in a bash, it registers the completion function and offers the subcommands.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("immutag.bash");
    std::fs::write(&file, &text).unwrap();
    let probe = format!(
        "source '{}'; complete -p immutag; COMP_WORDS=(immutag ''); COMP_CWORD=1; \
         COMP_LINE='immutag '; COMP_POINT=8; _immutag immutag '' immutag; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-c", &probe])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("-F _immutag immutag"), "{stdout}");
    let offered: Vec<&str> = stdout.lines().collect();
    for sub in SUBCOMMANDS {
        assert!(offered.contains(sub), "bash does not offer {sub}: {stdout}");
    }
}

#[test]
fn zsh_script_parses() {
    parses("zsh", &["-n"], &script("zsh"));
}

#[test]
fn fish_script_parses() {
    parses("fish", &["--no-execute"], &script("fish"));
}

#[test]
fn elvish_script_is_generated() {
    // No elvish on these machines: generated, with every subcommand (script() checks).
    script("elvish");
}

#[test]
fn powershell_script_registers_a_completer() {
    let text = script("powershell");
    assert!(
        text.contains("Register-ArgumentCompleter -Native -CommandName 'immutag'"),
        "{text}"
    );
    // Braces and parentheses balance outside quoted strings (a truncated or mangled script
    // would not).
    let (mut braces, mut parens, mut quote) = (0i64, 0i64, None::<char>);
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '{') => braces += 1,
            (None, '}') => braces -= 1,
            (None, '(') => parens += 1,
            (None, ')') => parens -= 1,
            _ => {}
        }
        assert!(
            braces >= 0 && parens >= 0,
            "a closing bracket before its opening one"
        );
    }
    assert_eq!((braces, parens, quote), (0, 0, None));
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = common::run(&["completions", "tcsh"], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("tcsh"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

/// `mandoc -T lint -W error FILE`: exits 0 with no message when the page has no error (its
/// warnings are clap_mangen's choices: no date in `.TH`, `.br` beside `.sp`), and renders
/// with its NAME and SYNOPSIS.
fn lints_clean(page: &Path) {
    let render = tool("mandoc", &["-T", "utf8"], page);
    // The terminal rendering overstrikes bold (`N\bN`): keep the last character of each.
    let mut text = String::new();
    for c in String::from_utf8_lossy(&render.stdout).chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    assert!(render.status.success(), "{}: {text}", page.display());
    assert!(
        text.contains("\nNAME\n") && text.contains("\nSYNOPSIS\n"),
        "{}: {text}",
        page.display()
    );
    let out = tool("mandoc", &["-T", "lint", "-W", "error"], page);
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "{}: {}{}",
        page.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn man_prints_a_page_that_lists_every_subcommand() {
    let out = common::run(&["man"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &out.stdout[..80]
    );
    assert!(out.stdout.contains(".TH immutag 1"), "{}", out.stdout);
    for sub in SUBCOMMANDS {
        assert!(
            out.stdout.contains(&format!("immutag\\-{sub}(1)")),
            "no {sub}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("immutag.1");
    std::fs::write(&page, &out.stdout).unwrap();
    lints_clean(&page);
}

#[test]
fn man_out_dir_writes_one_clean_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("man1");
    let out = common::run(&["man", "--out-dir", &target.display().to_string()], None);
    assert_eq!(out.code, 0, "{out:?}");
    let mut pages: Vec<String> = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for name in [
        "immutag.1",
        "immutag-evaluate.1",
        "immutag-pins-check.1",
        "immutag-scp-generate.1",
    ] {
        assert!(pages.iter().any(|p| p == name), "no {name} in {pages:?}");
    }
    for page in &pages {
        lints_clean(&target.join(page));
    }
}

#[test]
fn man_out_dir_that_cannot_be_made_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let under = file.join("man1");
    let out = common::run(&["man", "--out-dir", &under.display().to_string()], None);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("a-file/man1: cannot create"),
        "{}",
        out.stderr
    );
}
