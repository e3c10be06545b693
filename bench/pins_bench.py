#!/usr/bin/env python3
"""Runs the `immutag pins check` benchmark side by side in one run: each command ROUNDS times,
interleaved, on the same generated tree; wall time and peak memory (max RSS of the child, from
wait4) per run; prints the median of each and the ratios as a Markdown table.

Commands: the floor (a bare parallel walk reading every file, `pins_walk floor`), the pins
check (`pins_walk check`, the library body of `immutag pins check --output json`), the CLI
itself when --immutag is given, and grep, the common quick audit (it finds lines, it does
not parse or judge them)."""
import argparse
import os
import statistics
import subprocess
import tempfile
import time


def run(cmd):
    """Wall time (perf_counter around the run) and peak RSS (GNU time's %M of the command
    itself: wait4 on a child forked from Python would count the Python image too)."""
    with tempfile.NamedTemporaryFile("r") as t:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", t.name] + cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        rss_kib = int(t.read().strip().splitlines()[-1])
    return wall, rss_kib / 1024.0, p.returncode, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--walk", required=True, help="the pins_walk example binary")
    ap.add_argument("--immutag", help="a release immutag binary (optional)")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--files", type=int, required=True)
    ap.add_argument("--rounds", type=int, default=7)
    a = ap.parse_args()
    cmds = {
        "floor: walk + read every file": [a.walk, "floor", a.dir],
        "pins check (library: scan + JSON)": [a.walk, "check", a.dir],
        "grep -rEn (common quick audit)": ["grep", "-rEn", r"^\s*FROM |image:|docker://", a.dir],
    }
    if a.immutag:
        cmds["immutag pins check --output json"] = [a.immutag, "pins", "check", a.dir, "--output", "json"]
    results = {k: [] for k in cmds}
    for name, cmd in cmds.items():  # warm the page cache once
        run(cmd)
    for _ in range(a.rounds):
        for name, cmd in cmds.items():
            wall, rss, code, out = run(cmd)
            results[name].append((wall, rss))
    floor = statistics.median(w for w, _ in results["floor: walk + read every file"])
    check = statistics.median(w for w, _ in results["pins check (library: scan + JSON)"])
    print(f"| command | median wall (s) | files/s | peak RSS (MiB) | vs floor | vs pins check |")
    print("|---|---|---|---|---|---|")
    for name, runs in results.items():
        w = statistics.median(x for x, _ in runs)
        m = max(r for _, r in runs)
        print(f"| {name} | {w:.3f} | {a.files / w:,.0f} | {m:.1f} | {w / floor:.2f}x | {w / check:.2f}x |")
    print()
    print(f"{a.rounds} rounds, interleaved; files/s = {a.files} files / median wall time.")


if __name__ == "__main__":
    main()
