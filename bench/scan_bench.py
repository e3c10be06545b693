#!/usr/bin/env python3
"""Times `immutag scan`, the AWS CLI recipe and Cloud Custodian on one moto server.

Run through bench/scan.sh (it installs the tools and builds immutag). For each tool: wall
time, peak resident memory (GNU time, else getrusage) and the API calls the server saw (moto's
request recorder), by service and action. Prints Markdown.
"""

import argparse
import base64
import collections
import concurrent.futures
import glob
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import boto3

ACCOUNT_A = "123456789012"  # moto's default account
ACCOUNT_B = "210987654321"
ROLE = "immutag-bench"
REGIONS = ["us-east-1", "eu-west-1"]
MODES = ["MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"]
CREDS = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "bench-secret"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    def __init__(self, binary, workdir):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.recording = os.path.join(workdir, "recording.jsonl")
        env = dict(os.environ, MOTO_RECORDER_FILEPATH=self.recording)
        self.log = open(os.path.join(workdir, "moto.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "-H", "127.0.0.1", "-p", str(self.port)],
            env=env, stdout=self.log, stderr=self.log,
        )
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=2).read()
                break
            except Exception:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise SystemExit("moto server did not start; see " + self.log.name)
                time.sleep(0.2)

    def api(self, path):
        req = urllib.request.Request(self.url + path, data=b"", method="POST")
        urllib.request.urlopen(req, timeout=30).read()

    def record(self):
        self.api("/moto-api/recorder/reset-recording")
        self.api("/moto-api/recorder/start-recording")

    def calls(self):
        self.api("/moto-api/recorder/stop-recording")
        counts = collections.Counter()
        with open(self.recording) as f:
            for line in f:
                if line.strip():
                    counts[action_of(json.loads(line))] += 1
        return counts

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


def action_of(entry):
    """`service:Action` of one recorded request."""
    headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
    auth = headers.get("authorization", "")
    service = "?"
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            service = scope[3]
    target = headers.get("x-amz-target")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    query = urllib.parse.parse_qs(body) or urllib.parse.parse_qs(urllib.parse.urlparse(entry["url"]).query)
    if "Action" in query:
        return f"{service}:{query['Action'][0]}"
    return f"{service}:{entry.get('method')} {urllib.parse.urlparse(entry['url']).path}"


def session(moto, account, region):
    base = boto3.session.Session(
        aws_access_key_id=CREDS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDS["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )
    if account == ACCOUNT_A:
        return base
    sts = base.client("sts", endpoint_url=moto.url)
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"], region_name=region,
    )


def seed(moto, account, region, n):
    ecr = session(moto, account, region).client("ecr", endpoint_url=moto.url)

    def create(i):
        mode = MODES[i % 4]
        kwargs = {"repositoryName": f"svc-{i:05d}", "imageTagMutability": mode}
        if "EXCLUSION" in mode:
            kwargs["imageTagMutabilityExclusionFilters"] = [{"filterType": "WILDCARD", "filter": "latest"}]
        ecr.create_repository(**kwargs)

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(create, range(n)))


def measure(moto, name, cmd, env, workdir):
    """Runs `cmd` (a shell command line), returns wall seconds, peak RSS MiB, call counts, stdout."""
    moto.record()
    maxrss_file = os.path.join(workdir, "maxrss")
    full_env = dict(os.environ, **env)
    if os.path.exists("/usr/bin/time"):
        argv = ["/usr/bin/time", "-f", "%M", "-o", maxrss_file, "sh", "-c", cmd]
    else:
        argv = ["sh", "-c", cmd]
    start = time.perf_counter()
    p = subprocess.run(argv, env=full_env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if os.path.exists("/usr/bin/time"):
        with open(maxrss_file) as f:
            peak_kb = int(f.read().strip().splitlines()[-1])
    else:
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    calls = moto.calls()
    if p.returncode not in (0, 1):
        sys.stderr.write(f"{name} failed ({p.returncode}):\n{p.stderr[-3000:]}\n")
        raise SystemExit(1)
    return {"name": name, "wall": wall, "peak_mb": peak_kb / 1024, "calls": calls, "stdout": p.stdout}


def run_scenario(args, moto, workdir, title, accounts, regions, per_target):
    env = dict(CREDS, AWS_ENDPOINT_URL=moto.url, AWS_REGION=regions[0], AWS_DEFAULT_REGION=regions[0],
               AWS_EC2_METADATA_DISABLED="true", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    config = os.path.join(workdir, "aws-config")
    with open(config, "w") as f:
        f.write(f"[profile bench-b]\nrole_arn = arn:aws:iam::{ACCOUNT_B}:role/{ROLE}\ncredential_source = Environment\n")
    env["AWS_CONFIG_FILE"] = config
    expected_mutable = per_target // 4 * len(accounts) * len(regions)
    results = []

    # immutag: one command for every account and region.
    cmd = (f"{args.immutag} scan --accounts {','.join(accounts)} --regions {','.join(regions)} "
           f"--role-name {ROLE} --output json --no-progress")
    r = measure(moto, "immutag scan", cmd, env, workdir)
    found = sum(1 for e in json.loads(r["stdout"]) if e["tag_mutability"].get("value") == "MUTABLE")
    r["found"] = found
    r["command"] = cmd
    results.append(r)

    # AWS CLI v1: the common recipe, once per account and region.
    query = "repositories[?imageTagMutability=='MUTABLE'].repositoryName"
    parts = []
    for a in accounts:
        profile = "" if a == ACCOUNT_A else "--profile bench-b "
        for reg in regions:
            parts.append(f"{args.aws} {profile}ecr describe-repositories --region {reg} "
                         f"--query \"{query}\" --output json")
    cmd = " && ".join(parts)
    r = measure(moto, "AWS CLI v1", cmd, env, workdir)
    r["found"] = sum(len(json.loads(chunk)) for chunk in split_json_arrays(r["stdout"]))
    r["command"] = parts[0]
    results.append(r)

    # Cloud Custodian: read-only policy, no cache; one run per account.
    policy = os.path.join(workdir, "policy.yml")
    with open(policy, "w") as f:
        f.write("policies:\n  - name: ecr-mutable\n    resource: aws.ecr\n    filters:\n"
                "      - imageTagMutability: MUTABLE\n")
    out = os.path.join(workdir, "c7n-out")
    shutil.rmtree(out, ignore_errors=True)
    region_flags = " ".join(f"-r {reg}" for reg in regions)
    parts = []
    for a in accounts:
        assume = "" if a == ACCOUNT_A else f"--assume arn:aws:iam::{a}:role/{ROLE} "
        parts.append(f"{args.custodian} run --cache-period 0 {assume}-s {out}/{a} {region_flags} {policy}")
    cmd = " && ".join(parts)
    r = measure(moto, "Cloud Custodian", cmd, env, workdir)
    found = 0
    for path in glob.glob(f"{out}/**/resources.json", recursive=True):
        with open(path) as f:
            found += len(json.load(f))
    r["found"] = found
    r["command"] = parts[0]
    results.append(r)

    for r in results:
        if r["found"] != expected_mutable:
            sys.stderr.write(f"{r['name']} found {r['found']} MUTABLE repositories, expected {expected_mutable}\n")
    return {"title": title, "results": results, "expected": expected_mutable}


def split_json_arrays(text):
    dec = json.JSONDecoder()
    i, out = 0, []
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        obj, end = dec.raw_decode(text, i)
        out.append(json.dumps(obj))
        i = end
    return out


def markdown(scenario):
    rows = scenario["results"]
    base = rows[0]
    lines = [f"### {scenario['title']}", "",
             "| tool | wall time | peak memory | API calls | MUTABLE found | time vs immutag | calls vs immutag |",
             "|---|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        total = sum(r["calls"].values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(r["calls"].items()))
        lines.append(
            f"| {r['name']} | {r['wall']:.2f} s | {r['peak_mb']:.0f} MiB | {total} ({detail}) | {r['found']} | "
            f"{r['wall'] / base['wall']:.1f}x | {total / max(1, sum(base['calls'].values())):.1f}x |")
    lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--immutag", required=True)
    ap.add_argument("--aws", required=True)
    ap.add_argument("--custodian", required=True)
    ap.add_argument("--moto", required=True)
    ap.add_argument("--repositories", type=int, default=2500)
    args = ap.parse_args()
    n = args.repositories
    workdir = tempfile.mkdtemp(prefix="immutag-bench-")
    moto = Moto(args.moto, workdir)
    try:
        t = time.perf_counter()
        seed(moto, ACCOUNT_A, REGIONS[0], n)
        sys.stderr.write(f"seeded {n} repositories in {time.perf_counter() - t:.1f} s\n")
        one = run_scenario(args, moto, workdir, f"{n} repositories, 1 account x 1 region",
                           [ACCOUNT_A], [REGIONS[0]], n)
        t = time.perf_counter()
        for account, region in [(ACCOUNT_A, REGIONS[1]), (ACCOUNT_B, REGIONS[0]), (ACCOUNT_B, REGIONS[1])]:
            seed(moto, account, region, n)
        sys.stderr.write(f"seeded {3 * n} more repositories in {time.perf_counter() - t:.1f} s\n")
        many = run_scenario(args, moto, workdir, f"{4 * n} repositories, 2 accounts x 2 regions ({n} each)",
                            [ACCOUNT_A, ACCOUNT_B], REGIONS, n)
    finally:
        moto.stop()
    for s in (one, many):
        print(markdown(s))
    print("Commands (first account and region):\n")
    for r in one["results"]:
        print(f"- {r['name']}: `{r['command']}`")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
