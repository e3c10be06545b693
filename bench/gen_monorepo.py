#!/usr/bin/env python3
"""Generates the monorepo of the `immutag pins check` benchmark: FILES files in total, REFS
image references among them (Dockerfiles, Kubernetes multi-documents, Compose files, ECS task
definitions, GitHub Actions workflows), the rest source files, docs and JSON/YAML without
references, in nested service directories. Deterministic (seeded)."""
import argparse
import json
import os
import random

REG = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def ref(rng):
    repo = rng.choice(["api", "web", "worker", "base", "tools", "team/payments"])
    if rng.random() < 0.2:
        return f"{REG}/{repo}:v{rng.randint(1, 9)}@sha256:{rng.getrandbits(256):064x}"
    if rng.random() < 0.15:
        return rng.choice(["nginx:1.27", "redis:7", "postgres:16", "alpine:3.20"])
    return f"{REG}/{repo}:{rng.randint(1, 9)}.{rng.randint(0, 20)}"


def dockerfile(rng, n):
    lines = ["# syntax=docker/dockerfile:1", f"ARG BASE={ref(rng)}"]
    lines.append(f"FROM --platform=$BUILDPLATFORM {ref(rng)} AS build")
    lines += ["WORKDIR /src", "COPY . .", "RUN make build && make test"]
    for i in range(n - 2):
        lines.append(f"COPY --from={ref(rng)} /bin/tool{i} /usr/local/bin/")
    lines += ["FROM ${BASE}", "COPY --from=build /out /app", 'ENTRYPOINT ["/app/run"]']
    return "\n".join(lines) + "\n"


def kubernetes(rng, n):
    docs = ["---\n# Source: svc/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  ports: [{port: 80}]\n"]
    containers = "".join(
        f"        - name: c{i}\n          image: \"{ref(rng)}\"\n          resources: {{limits: {{cpu: 500m}}}}\n" for i in range(n)
    )
    docs.append(
        "---\n# Source: svc/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc\n  labels: {app: svc}\n"
        f"spec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n{containers}"
    )
    return "".join(docs)


def compose(rng, n):
    return "services:\n" + "".join(f"  s{i}:\n    image: {ref(rng)}\n    ports: [\"80{i}:80\"]\n" for i in range(n))


def taskdef(rng, n):
    return json.dumps(
        {"family": "svc", "containerDefinitions": [{"name": f"c{i}", "image": ref(rng), "essential": True, "memory": 512} for i in range(n)]},
        indent=2,
    ) + "\n"


def workflow(rng, n):
    steps = "".join(f"      - uses: docker://{ref(rng)}\n" for _ in range(n - 1))
    return f"on: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    container: {ref(rng)}\n    steps:\n      - uses: actions/checkout@v4\n{steps}"


FILLER = {
    "main.go": lambda rng: "package main\n\nimport \"fmt\"\n\n" + "".join(f"func f{i}() {{ fmt.Println({i}) }}\n" for i in range(rng.randint(20, 120))),
    "app.py": lambda rng: "".join(f"def f{i}(x):\n    return x * {i}\n\n" for i in range(rng.randint(20, 120))),
    "README.md": lambda rng: "# Service\n\n" + "Lorem ipsum dolor sit amet. " * rng.randint(20, 200) + "\n",
    "package.json": lambda rng: json.dumps({"name": "svc", "version": "1.0.0", "dependencies": {f"dep{i}": f"^{i}.0.0" for i in range(rng.randint(5, 40))}}, indent=2) + "\n",
    "config.yaml": lambda rng: "".join(f"key{i}: value{i}\n" for i in range(rng.randint(10, 80))),
    "index.ts": lambda rng: "".join(f"export const v{i} = {i};\n" for i in range(rng.randint(20, 150))),
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--files", type=int, default=20000)
    p.add_argument("--refs", type=int, default=5000)
    a = p.parse_args()
    rng = random.Random(42)
    kinds = [("Dockerfile", dockerfile, 3), ("k8s.yaml", kubernetes, 3), ("docker-compose.yml", compose, 2), ("taskdef.json", taskdef, 2), (".github/workflows/ci.yml", workflow, 2)]
    written = refs = 0
    svc = 0
    while refs < a.refs:
        name, make, n = kinds[svc % len(kinds)]
        n = min(n, a.refs - refs)
        if name == "Dockerfile" and n < 3:
            name, make = "docker-compose.yml", compose
        path = os.path.join(a.dir, f"team{svc % 40}", f"svc{svc}", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(make(rng, n))
        refs += n
        written += 1
        svc += 1
    names = list(FILLER)
    i = 0
    while written < a.files:
        name = names[i % len(names)]
        path = os.path.join(a.dir, f"team{i % 40}", f"svc{i % max(svc, 1)}", "src" if i % 3 else "docs", f"{i}-{name}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(FILLER[name](rng))
        written += 1
        i += 1
    print(f"{written} files, {refs} references in {a.dir}")


if __name__ == "__main__":
    main()
