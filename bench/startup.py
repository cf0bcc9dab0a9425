"""Benchmark: spawn → `initialize` reply → exit, Parley against a reference binary.

Clients spawn an app-server per session, so this is time a person waits every time. Runs
alternate (Parley, reference, Parley, …; at least 7 each) so both see the same machine state,
and each run uses a fresh empty CODEX_HOME. Two times per run: spawn → the `initialize` reply,
and spawn → the process has exited after stdin closed. Prints median and p90 per server and,
when a reference binary is given, the ratio Parley/reference; then (unless `--no-importtime`)
the slowest imports, from `python -X importtime`, of what Parley imports before the reply is
handed to stdout, and of the whole process (the background preload included).

    .venv/bin/python bench/startup.py [--runs 7] [--reference /path/to/codex] [--no-importtime]

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

# Answers initialize as stdio does and exits the moment the reply is handed to the transport,
# so `-X importtime` lists exactly what the reply waited for.
UNTIL_REPLY = r"""
import asyncio, os, sys
import parley.cli.main
from parley.cli.app_server import build_server
from parley.rpc.sender import QueuedSender

async def send(line):
    sys.stderr.flush()
    os._exit(0)

async def serve():
    sender = QueuedSender(send)
    writer = asyncio.create_task(sender.run())
    session = build_server({"config": [], "enable": [], "disable": []}).connect(sender.write)
    await session.receive_line(sys.argv[1].encode())
    await writer

asyncio.run(serve())
"""


def parley_argv() -> list[str]:
    return [sys.executable, "-m", "parley", "app-server"]


def one_run(argv: list[str]) -> tuple[float, float]:
    """Seconds from spawn to the `initialize` reply, and to the exit once stdin closed."""
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
        replied = time.perf_counter() - start
        proc.stdin.close()
        proc.stdout.read()
        proc.wait(timeout=30)
        return replied, time.perf_counter() - start


def summarize(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return statistics.median(ordered), p90


def import_times(argv: list[str], top: int) -> list[tuple[int, str]]:
    """The slowest cumulative imports (µs) of `python -X importtime <argv>` given initialize."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "CODEX_HOME": home, "HOME": home}
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", *argv],
            input=INITIALIZE,
            capture_output=True,
            env=env,
            timeout=60,
        )
    rows: list[tuple[int, str]] = []
    for line in proc.stderr.decode(errors="replace").splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        parts = line.partition(":")[2].split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    rows.sort(reverse=True)
    return rows[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per server (at least 7)")
    parser.add_argument("--reference", type=Path, help="a `codex` binary to compare with")
    parser.add_argument("--no-importtime", action="store_true", help="skip the import listing")
    args = parser.parse_args()
    runs = max(args.runs, 7)

    servers = {"parley": parley_argv()}
    if args.reference is not None:
        servers["reference"] = [str(args.reference), "app-server"]
    for argv in servers.values():  # warm the OS file cache so the first sample is no outlier
        one_run(argv)
    replies: dict[str, list[float]] = {name: [] for name in servers}
    exits: dict[str, list[float]] = {name: [] for name in servers}
    for _ in range(runs):
        for name, argv in servers.items():
            replied, exited = one_run(argv)
            replies[name].append(replied)
            exits[name].append(exited)

    print(f"spawn → initialize reply (→ exit after stdin closes), {runs} alternating runs")
    print(f"{'server':<10}{'reply median':>14}{'reply p90':>12}{'exit median':>14}{'exit p90':>12}")
    medians: dict[str, tuple[float, float]] = {}
    for name in servers:
        reply_median, reply_p90 = summarize(replies[name])
        exit_median, exit_p90 = summarize(exits[name])
        medians[name] = (reply_median, exit_median)
        print(
            f"{name:<10}{reply_median * 1000:>11.1f} ms{reply_p90 * 1000:>9.1f} ms"
            f"{exit_median * 1000:>11.1f} ms{exit_p90 * 1000:>9.1f} ms"
        )
    if "reference" in medians:
        (parley_reply, parley_exit), (ref_reply, ref_exit) = medians["parley"], medians["reference"]
        print(
            f"ratio parley/reference (medians): reply {parley_reply / ref_reply:.2f}x, "
            f"exit {parley_exit / ref_exit:.2f}x"
        )
    if not args.no_importtime:
        listings = {
            "before the initialize reply": ["-c", UNTIL_REPLY, INITIALIZE.decode().strip()],
            "whole process (reply, background preload, exit)": ["-m", "parley", "app-server"],
        }
        for title, argv in listings.items():
            print(f"\nslowest cumulative imports, {title} (µs):")
            for micros, module in import_times(argv, 15):
                print(f"{micros:>10}  {module}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
