//! The fixture tree `tests/fixtures/pins/repo`: every file kind, with the tricky cases
//! (`FROM --platform=$BUILDPLATFORM`, `FROM scratch`, `FROM build AS final`, ARG defaults,
//! heredocs, CRLF, Helm-rendered multi-documents, a task definition inside CloudFormation,
//! `uses: docker://`), read through the same walk the CLI uses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use immutag_pins::files::scan;
use immutag_pins::{FileKind, Pin, PinStatus};

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/pins/repo")
}

fn relative(dir: &Path, pins: &[Pin]) -> Vec<Pin> {
    let prefix = format!("{}/", dir.display());
    pins.iter()
        .cloned()
        .map(|mut p| {
            p.file = p.file.trim_start_matches(&prefix).to_owned();
            p
        })
        .collect()
}

fn summary(pins: &[Pin]) -> String {
    let mut s = String::new();
    for p in pins {
        writeln!(
            s,
            "{}:{}:{} [{}] {} | {} | {}{}",
            p.file,
            p.line,
            p.column,
            p.kind.as_str(),
            p.context,
            p.text,
            p.status.as_str(),
            p.detail
                .as_ref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        )
        .unwrap();
    }
    s
}

#[test]
fn every_kind_and_tricky_case() {
    let root = fixture_root();
    let scan = scan(std::slice::from_ref(&root), 2);
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    assert_eq!(scan.skipped.len(), 1, "the chart's templates/ is skipped");
    assert!(scan.skipped[0].path.ends_with("chart/templates"));
    let pins = relative(&root, &scan.pins);

    // Nothing from .immutagignore'd, heredoc or non-image text.
    let text = summary(&pins);
    for absent in [
        "ignored", "vendored", "heredoc", "scratch", "README", ".Values",
    ] {
        assert!(!text.contains(absent), "{absent} found:\n{text}");
    }
    // Every kind is found.
    for kind in [
        FileKind::Dockerfile,
        FileKind::Compose,
        FileKind::Kubernetes,
        FileKind::EcsTaskDefinition,
        FileKind::Cloudformation,
        FileKind::GithubActions,
    ] {
        assert!(pins.iter().any(|p| p.kind == kind), "{kind:?}\n{text}");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn positions_point_at_the_reference_text() {
    let scan = scan(&[fixture_root()], 1);
    for p in &scan.pins {
        let src = std::fs::read_to_string(&p.file).unwrap();
        let line = src.lines().nth(p.line as usize - 1).unwrap();
        let at: String = line.chars().skip(p.column as usize - 1).collect();
        if !p.text.is_empty() {
            assert!(
                at.starts_with(&p.text),
                "{}:{}:{}: {at:?} vs {:?}",
                p.file,
                p.line,
                p.column,
                p.text
            );
        }
        if let Some(t) = &p.target {
            assert_eq!(&src[t.start..t.end], t.text, "{p:?}");
        }
    }
}

#[test]
fn statuses_of_the_tricky_ones() {
    let pins = relative(&fixture_root(), &scan(&[fixture_root()], 1).pins);
    let get = |file: &str, context: &str| {
        pins.iter()
            .find(|p| p.file == file && p.context == context)
            .unwrap_or_else(|| panic!("{file} {context}\n{}", summary(&pins)))
    };
    // --platform=$BUILDPLATFORM skipped, ARG default substituted.
    let build = get("Dockerfile", "FROM (stage build)");
    assert_eq!(build.image.as_ref().unwrap().repository, "builder");
    assert_eq!(build.status, PinStatus::Unpinned);
    // FROM ${BASE}: pinned at the ARG default.
    let runtime = get("Dockerfile", "FROM (stage runtime)");
    assert_eq!(
        runtime.target.as_ref().unwrap().text,
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/base:1.0"
    );
    assert_eq!(
        get("Dockerfile", "FROM (stage unresolved)").status,
        PinStatus::Unresolved
    );
    assert_eq!(
        get("Dockerfile", "FROM (stage pinned)").status,
        PinStatus::Pinned
    );
    // A CloudFormation !Sub with pseudo parameters is unresolved; a literal one is read.
    assert_eq!(
        get("cfn/stack.yaml", "Task ContainerDefinitions/sub").status,
        PinStatus::Unresolved
    );
    assert_eq!(
        get("cfn/stack.yaml", "Task ContainerDefinitions/literal-sub").status,
        PinStatus::Unpinned
    );
    assert_eq!(
        get("cfn/stack.yaml", "Task ContainerDefinitions/param").status,
        PinStatus::Unresolved
    );
    // Compose: defaults used, unset variables unresolved.
    assert_eq!(
        get("docker-compose.yml", "services.worker")
            .image
            .as_ref()
            .unwrap()
            .tag
            .as_deref(),
        Some("2.0")
    );
    assert_eq!(
        get("docker-compose.yml", "services.env").status,
        PinStatus::Unresolved
    );
    assert_eq!(
        get(".github/workflows/ci.yml", "jobs.matrix.container").status,
        PinStatus::Unresolved
    );
}

#[test]
fn stdin_and_named_files_are_read_by_content() {
    let src = std::fs::read_to_string(fixture_root().join("k8s/rendered.yaml")).unwrap();
    let s = immutag_pins::files::scan_text("-", &src);
    assert_eq!(s.pins.len(), 6, "{:?}", s.pins);
    let df = fixture_root().join("services/web/Containerfile");
    let s = scan(&[df], 1);
    assert_eq!(s.pins.len(), 2);
    let s = scan(&[fixture_root().join("nope.yaml")], 1);
    assert_eq!(s.errors.len(), 1);
    assert_eq!(s.errors[0].error, immutag_pins::PinsError::NotFound);
}

#[test]
fn gitignore_is_respected_outside_git() {
    // Written here: git itself would not commit an ignored fixture.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".gitignore"), "ignored/\n").unwrap();
    std::fs::create_dir_all(dir.path().join("ignored")).unwrap();
    std::fs::write(dir.path().join("ignored/Dockerfile"), "FROM app:ignored\n").unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM app:kept\n").unwrap();
    let s = scan(&[dir.path().to_path_buf()], 1);
    assert_eq!(s.pins.len(), 1);
    assert_eq!(s.pins[0].text, "app:kept");
}

#[test]
fn bad_files_are_reported_by_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "image: [unclosed\n").unwrap();
    std::fs::write(dir.path().join("latin1.yaml"), b"image: caf\xe9\n").unwrap();
    std::fs::write(dir.path().join("fine.yaml"), "no: references\n").unwrap();
    let s = scan(&[dir.path().to_path_buf()], 1);
    assert_eq!(s.errors.len(), 2, "{:?}", s.errors);
    assert!(s.errors[0].file.ends_with("bad.yaml"));
    assert!(matches!(
        s.errors[0].error,
        immutag_pins::PinsError::Syntax { .. }
    ));
    assert_eq!(s.errors[1].error, immutag_pins::PinsError::NotUtf8);
    assert_eq!(s.files_read, 3);
}
