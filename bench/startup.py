"""Benchmark: spawn → `initialize` reply → exit, Parley against a reference binary.

Clients spawn an app-server per session, so this is time a person waits every time. Runs
alternate (Parley, reference, Parley, …) so both see the same machine state, and each run uses
a fresh empty CODEX_HOME. Prints median and p90 per server and, when a reference binary is
given, the ratio Parley/reference; `--importtime` adds the slowest imports of Parley's start.

    .venv/bin/python bench/startup.py [--runs 7] [--reference /path/to/codex] [--importtime]

Nothing here is a pass/fail test; it reports numbers to compare between commits.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INITIALIZE = (
    json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"clientInfo": {"name": "bench", "version": "0"}},
        }
    )
    + "\n"
).encode()


def parley_argv() -> list[str]:
    return [sys.executable, "-m", "parley", "app-server"]


def one_run(argv: list[str]) -> float:
    """Seconds from spawn to the `initialize` reply, then stdin closes and the process exits."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "CODEX_HOME": home, "HOME": home}
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(INITIALIZE)
        proc.stdin.flush()
        while True:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{argv[0]} exited before answering initialize")
            if b'"id":1' in line.replace(b" ", b""):
                break
        elapsed = time.perf_counter() - start
        proc.stdin.close()
        proc.wait(timeout=30)
        return elapsed


def summarize(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return statistics.median(ordered), p90


def import_times(top: int) -> list[tuple[int, str]]:
    """The slowest cumulative imports when Parley starts and answers initialize."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "CODEX_HOME": home, "HOME": home}
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "parley", "app-server"],
            input=INITIALIZE,
            capture_output=True,
            env=env,
            timeout=60,
        )
    rows: list[tuple[int, str]] = []
    for line in proc.stderr.decode(errors="replace").splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, _, rest = line.partition(":")
        parts = [p.strip() for p in rest.split("|")]
        if len(parts) == 3 and parts[1].isdigit():
            rows.append((int(parts[1]), parts[2].strip()))
    rows.sort(reverse=True)
    return rows[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reference", type=Path, help="a `codex` binary to compare with")
    parser.add_argument("--importtime", action="store_true", help="print the slowest imports")
    args = parser.parse_args()

    servers = {"parley": parley_argv()}
    if args.reference is not None:
        servers["reference"] = [str(args.reference), "app-server"]
    one_run(parley_argv())  # warm the OS file cache so the first sample is not an outlier
    samples: dict[str, list[float]] = {name: [] for name in servers}
    for _ in range(args.runs):
        for name, argv in servers.items():
            samples[name].append(one_run(argv))

    print(f"spawn → initialize reply, {args.runs} alternating runs")
    print(f"{'server':<10} {'median ms':>10} {'p90 ms':>10}")
    medians: dict[str, float] = {}
    for name, values in samples.items():
        median, p90 = summarize(values)
        medians[name] = median
        print(f"{name:<10} {median * 1000:>10.1f} {p90 * 1000:>10.1f}")
    if "reference" in medians:
        print(f"ratio parley/reference (median): {medians['parley'] / medians['reference']:.2f}")
    if args.importtime:
        print("\nslowest cumulative imports (µs):")
        for micros, module in import_times(15):
            print(f"{micros:>10}  {module}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
