//! The property of `resolve --write` then `check`: after the edits of a resolve plan are
//! written, every ECR reference is PINNED, every other reference is as it was, and the only
//! bytes that changed are the inserted `@sha256:...` (and `:latest` for a reference that had
//! no tag). Files of every kind are generated with random quoting, spacing, comments, line
//! endings and references; the registry is replaced by a function from tag to digest (the
//! moto-backed end-to-end test in the CLI covers the real reads).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use immutag_pins::find::{Candidate, find};
use immutag_pins::resolve::plan;
use immutag_pins::rewrite::apply;
use immutag_pins::{Pin, PinStatus};
use proptest::prelude::*;

const REG: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

/// A reference: ECR or not, with or without a tag.
fn reference() -> impl Strategy<Value = String> {
    (
        prop::bool::weighted(0.75),
        prop::sample::select(vec!["app", "team/api", "base", "a.b_c-d"]),
        prop::option::weighted(0.8, "[a-z0-9][a-z0-9._-]{0,7}"),
    )
        .prop_map(|(ecr, repo, tag)| {
            let host = if ecr { REG } else { "ghcr.io/acme" };
            match tag {
                Some(t) => format!("{host}/{repo}:{t}"),
                None => format!("{host}/{repo}"),
            }
        })
}

fn eol() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["\n", "\r\n"])
}

fn comment() -> impl Strategy<Value = String> {
    prop::option::of("[ a-zA-Zé:#]{0,12}")
        .prop_map(|c| c.map(|c| format!(" # {c}")).unwrap_or_default())
}

fn quoted(r: &str, q: u8) -> String {
    match q {
        0 => r.to_owned(),
        1 => format!("'{r}'"),
        _ => format!("\"{r}\""),
    }
}

fn dockerfile() -> impl Strategy<Value = (String, Candidate)> {
    (
        prop::collection::vec((reference(), comment(), 1usize..4, any::<bool>()), 1..5),
        eol(),
        any::<bool>(),
    )
        .prop_map(|(lines, eol, arg)| {
            let mut s = String::from("# syntax=docker/dockerfile:1");
            s.push_str(eol);
            for (i, (r, c, spaces, continued)) in lines.iter().enumerate() {
                if arg && i == 0 {
                    s.push_str(&format!("ARG BASE=\"{r}\"{eol}FROM ${{BASE}}{eol}"));
                    continue;
                }
                if !c.is_empty() {
                    s.push_str(&format!("#{c}{eol}"));
                }
                let sep = " ".repeat(*spaces);
                if *continued {
                    s.push_str(&format!("FROM{sep}{r} \\{eol}    AS s{i}{eol}"));
                } else {
                    s.push_str(&format!("FROM --platform=$BUILDPLATFORM{sep}{r}{eol}"));
                }
            }
            (s, Candidate::Dockerfile)
        })
}

fn kubernetes() -> impl Strategy<Value = (String, Candidate)> {
    (
        prop::collection::vec((reference(), 0u8..3, comment()), 1..5),
        eol(),
        prop::sample::select(vec![2usize, 4]),
    )
        .prop_map(|(images, eol, ind)| {
            let i = |n: usize| " ".repeat(n * ind);
            let mut s = format!("---{eol}# Source: chart/templates/x.yaml{eol}apiVersion: apps/v1{eol}kind: Deployment{eol}metadata:{eol}{}name: x{eol}spec:{eol}{}template:{eol}{}spec:{eol}{}containers:{eol}", i(1), i(1), i(2), i(3));
            for (n, (r, q, c)) in images.iter().enumerate() {
                s.push_str(&format!("{}- name: c{n}{eol}{}  image: {}{c}{eol}", i(3), i(3), quoted(r, *q)));
            }
            s.push_str(&format!("---{eol}apiVersion: v1{eol}kind: Pod{eol}spec:{eol}  containers: [{{name: p, image: {}}}]{eol}", quoted(&images[0].0, 2)));
            (s, Candidate::Structured)
        })
}

fn compose() -> impl Strategy<Value = (String, Candidate)> {
    (
        prop::collection::vec((reference(), 0u8..3, comment()), 1..5),
        eol(),
    )
        .prop_map(|(images, eol)| {
            let mut s = format!("services:{eol}");
            for (n, (r, q, c)) in images.iter().enumerate() {
                s.push_str(&format!(
                    "  s{n}:{c}{eol}    image: {}{c}{eol}",
                    quoted(r, *q)
                ));
            }
            (s, Candidate::Structured)
        })
}

fn task_definition() -> impl Strategy<Value = (String, Candidate)> {
    (prop::collection::vec((reference(), 0usize..3), 1..5), eol()).prop_map(|(images, eol)| {
        let defs: Vec<String> = images
            .iter()
            .enumerate()
            .map(|(n, (r, sp))| format!("{{\"name\":\"c{n}\",{}\"image\":{}\"{r}\"}}", " ".repeat(*sp), " ".repeat(*sp)))
            .collect();
        (format!("{{{eol}  \"family\": \"f\",{eol}  \"containerDefinitions\": [{eol}    {}{eol}  ]{eol}}}{eol}", defs.join(&format!(",{eol}    "))), Candidate::Structured)
    })
}

fn workflow() -> impl Strategy<Value = (String, Candidate)> {
    (reference(), reference(), reference(), 0u8..3, eol()).prop_map(|(a, b, c, q, eol)| {
        (
            format!("on: push{eol}jobs:{eol}  t:{eol}    runs-on: ubuntu-latest{eol}    container: {}{eol}    services:{eol}      db:{eol}        image: {b}{eol}    steps:{eol}      - uses: {}{eol}", quoted(&a, q), quoted(&format!("docker://{c}"), q)),
            Candidate::Structured,
        )
    })
}

fn any_file() -> impl Strategy<Value = (String, Candidate)> {
    prop_oneof![
        dockerfile(),
        kubernetes(),
        compose(),
        task_definition(),
        workflow()
    ]
}

/// A digest for `repo:tag`, the same every time.
fn digest_for(repo: &str, tag: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in repo.bytes().chain([0]).chain(tag.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("sha256:{}", format!("{h:016x}").repeat(4))
}

fn ecr_ones(pins: &[Pin]) -> Vec<&Pin> {
    pins.iter().filter(|p| p.is_ecr()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn resolve_then_check_pins_every_ecr_reference((src, candidate) in any_file()) {
        let before = find("f", &src, Some(candidate)).unwrap();
        prop_assert!(!before.is_empty(), "{src}");
        let p = plan(&before, |_, pin| {
            let image = pin.image.as_ref().unwrap();
            Ok(digest_for(&image.repository, image.effective_tag().unwrap()))
        });
        prop_assert_eq!(p.failed().count(), 0);
        let edits = p.files.first().map(|f| f.edits.clone()).unwrap_or_default();
        let after_text = apply(&src, &edits).unwrap();
        let after = find("f", &after_text, Some(candidate)).unwrap();

        // Same references, same order; every ECR one pinned to its tag's digest.
        prop_assert_eq!(after.len(), before.len());
        for (b, a) in before.iter().zip(&after) {
            if b.is_ecr() {
                prop_assert_eq!(a.status, PinStatus::Pinned, "{}\n{}", a.text, after_text);
                let (bi, ai) = (b.image.as_ref().unwrap(), a.image.as_ref().unwrap());
                prop_assert_eq!(&ai.repository, &bi.repository);
                prop_assert_eq!(ai.tag.as_deref(), Some(bi.effective_tag().unwrap()));
                prop_assert_eq!(ai.digest.clone(), Some(digest_for(&bi.repository, bi.effective_tag().unwrap())));
            } else {
                prop_assert_eq!(a.status, b.status);
                prop_assert_eq!(&a.text, &b.text);
            }
        }
        prop_assert!(ecr_ones(&after).iter().all(|p| p.status == PinStatus::Pinned));

        // Only the inserted text differs.
        let mut restored = after_text.clone();
        for e in &edits {
            prop_assert!(e.replacement.starts_with(&e.expected));
            restored = restored.replacen(&e.replacement, &e.expected, 1);
        }
        prop_assert_eq!(restored, src);

        // A second resolve changes nothing.
        let again = plan(&after, |_, _| Err("must not be asked".to_owned()));
        prop_assert!(again.files.is_empty());
    }
}
