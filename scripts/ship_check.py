#!/usr/bin/env python3
"""Checks of the distribution pieces that no linter makes (scripts/test.d/55-ship.sh).

  dockerfile PATH        what the Dockerfile promises (docs/install.md, "Container image"):
                         several stages; the final stage FROM distroless or scratch (no shell);
                         a numeric, non-root USER in it; an exec-form ENTRYPOINT; no RUN after
                         the last FROM (a RUN would need a shell). Prints one line per promise.
  plan PLAN_JSON        `dist plan --output-format=json` lists the release's files: the four
                         archives and the two Lambda zips, each with its .sha256.
  snippets DOC OUTDIR    writes each fenced yaml block of DOC whose first line is a comment
                         naming a file (`# .github/workflows/x.yml`, `# .pre-commit-config.yaml`)
                         into OUTDIR under that name (later blocks of one name get a suffix),
                         so the linters check the examples the docs show. Prints the paths.
"""
import re
import sys
from pathlib import Path


def instructions(text):
    """(keyword, arguments) of each instruction, continuation lines joined, comments dropped."""
    out, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def dockerfile(path):
    text = Path(path).read_text()
    ins = instructions(text)
    args = {}
    stages = []  # (base, [instructions after FROM])
    for word, rest in ins:
        if word == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
        elif word == "FROM":
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), rest.split()[0])
            stages.append((base, []))
        elif stages:
            stages[-1][1].append((word, rest))
    failures = []

    def promise(ok, what):
        print(("ok    " if ok else "WRONG ") + what)
        if not ok:
            failures.append(what)

    promise(len(stages) >= 2, f"multi-stage: {len(stages)} stages")
    base, final = stages[-1] if stages else ("", [])
    promise(
        base == "scratch" or base.startswith("gcr.io/distroless/"),
        f"the final stage is on distroless or scratch: {base}",
    )
    promise(":debug" not in base, f"the final base is not a distroless :debug image (busybox shell): {base}")
    users = [rest for word, rest in final if word == "USER"]
    user = users[-1] if users else ""
    uid = user.split(":")[0]
    promise(uid.isdigit() and int(uid) != 0, f"the final stage runs as a numeric non-root USER: {user or '(none)'}")
    entry = [rest for word, rest in final if word == "ENTRYPOINT"]
    promise(bool(entry) and entry[-1].startswith("["), f"exec-form ENTRYPOINT (no shell to run a string): {entry[-1] if entry else '(none)'}")
    runs = [rest for word, rest in final if word == "RUN"]
    promise(not runs, f"no RUN in the final stage (it has no shell): {runs}")
    copies = [rest for word, rest in final if word == "COPY" and "--from=" in rest]
    promise(bool(copies), f"the final stage copies the binary from a build stage: {copies}")
    return 1 if failures else 0


TARGETS = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
]


def plan(path):
    import json

    names = set(json.loads(Path(path).read_text())["artifacts"])
    want = {f"immutag-cli-{t}.tar.gz" for t in TARGETS}
    want |= {f"immutag-lambda-bootstrap-{arch}.zip" for arch in ["x86_64", "arm64"]}
    want |= {name + ".sha256" for name in want}
    missing = sorted(want - names)
    print(f"missing: {missing}" if missing else f"{len(names)} files, all {len(want)} expected")
    return 1 if missing else 0


def snippets(doc, outdir):
    text = Path(doc).read_text()
    seen = {}
    for block in re.findall(r"^```ya?ml\n(.*?)^```", text, re.S | re.M):
        first = block.splitlines()[0] if block else ""
        m = re.match(r"#\s*(\S+\.ya?ml)\b", first)
        if not m:
            continue
        name = m.group(1)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            stem, dot, ext = name.rpartition(".")
            name = f"{stem}-{seen[name]}.{ext}"
        dest = Path(outdir) / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(block)
        print(dest)
    if not seen:
        print(f"no yaml block of {doc} names its file", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "dockerfile":
        sys.exit(dockerfile(sys.argv[2]))
    if len(sys.argv) == 3 and sys.argv[1] == "plan":
        sys.exit(plan(sys.argv[2]))
    if len(sys.argv) == 4 and sys.argv[1] == "snippets":
        sys.exit(snippets(sys.argv[2], sys.argv[3]))
    sys.exit(__doc__)
