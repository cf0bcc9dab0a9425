"""Benchmark: `thread/list` over 10,000 rollouts, through a real `parley app-server` over stdio.

Writes N rollouts in the Codex format (as the upstream test harness writes them, spread over
many days) into a fresh CODEX_HOME, then measures, each in a fresh server process:

* first page with no index yet (the SQLite listing index is built from the files),
* first page with the index in place (the usual case: the index lives in CODEX_HOME),
* first page after 100 rollouts changed (only those are re-read),
* paging through every thread (pages of 100, the maximum).

    .venv/bin/python bench/thread_list.py [--threads 10000] [--page 25]

Prints a table of wall times; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

INDEX_FILE = "parley_thread_index.sqlite"
# The listing never reaches the model; the provider only names what the rollouts were made with.
CONFIG = """
model = "mock-model"
model_provider = "mock_provider"

[model_providers.mock_provider]
name = "Mock provider"
base_url = "http://127.0.0.1:9/v1"
wire_api = "responses"
"""


def write_rollouts(home: Path, count: int) -> list[Path]:
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    paths = []
    for i in range(count):
        when = start + dt.timedelta(minutes=37 * i)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        thread_id = str(uuid.uuid4())
        day = home / "sessions" / when.strftime("%Y/%m/%d")
        day.mkdir(parents=True, exist_ok=True)
        path = day / f"rollout-{when.strftime('%Y-%m-%dT%H-%M-%S')}-{thread_id}.jsonl"
        meta = {
            "id": thread_id,
            "timestamp": stamp,
            "cwd": "/work",
            "originator": "codex",
            "cli_version": "0.120.0",
            "source": "cli",
            "model_provider": "mock_provider",
            "base_instructions": None,
        }
        text = f"request number {i}"
        lines = [
            {"timestamp": stamp, "type": "session_meta", "payload": meta},
            {
                "timestamp": stamp,
                "type": "response_item",
                "payload": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": text}],
                },
            },
            {
                "timestamp": stamp,
                "type": "event_msg",
                "payload": {"type": "user_message", "message": text, "kind": "plain"},
            },
        ]
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        os.utime(path, (when.timestamp(), when.timestamp()))
        paths.append(path)
    return paths


class Server:
    """One `parley app-server` over stdio, spoken to line by line."""

    def __init__(self, home: Path) -> None:
        env = dict(os.environ, CODEX_HOME=str(home))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "parley", "app-server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._id = 0
        self.request("initialize", {"clientInfo": {"name": "bench", "version": "0"}})
        assert self.proc.stdin is not None
        self.proc.stdin.write(b'{"method":"initialized"}\n')
        self.proc.stdin.flush()

    def request(self, method: str, params: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._id += 1
        line = json.dumps({"id": self._id, "method": method, "params": params}) + "\n"
        self.proc.stdin.write(line.encode())
        self.proc.stdin.flush()
        while True:
            message = json.loads(self.proc.stdout.readline())
            if message.get("id") == self._id and "method" not in message:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message["result"]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def timed(server: Server, params: dict[str, Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = server.request("thread/list", params)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--page", type=int, default=25)
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "config.toml").write_text(CONFIG)
        started = time.perf_counter()
        paths = write_rollouts(home, args.threads)
        rows.append((f"write {args.threads} rollouts", f"{time.perf_counter() - started:.2f} s"))
        first = {"limit": args.page, "modelProviders": ["mock_provider"]}

        server = Server(home)
        seconds, page = timed(server, first)
        assert len(page["data"]) == args.page
        rows.append(("first page, no index yet (builds it)", f"{seconds * 1000:.0f} ms"))
        server.close()

        server = Server(home)
        seconds, _ = timed(server, first)
        rows.append(("first page, index in place (new server)", f"{seconds * 1000:.0f} ms"))
        seconds, _ = timed(server, first)
        rows.append(("first page again (same server)", f"{seconds * 1000:.0f} ms"))

        for path in paths[:100]:
            with path.open("a") as file:
                file.write("\n")
        seconds, _ = timed(server, first)
        rows.append(("first page after 100 rollouts changed", f"{seconds * 1000:.0f} ms"))

        cursor = None
        listed = 0
        pages = 0
        started = time.perf_counter()
        while True:
            params: dict[str, Any] = {"limit": 100, "modelProviders": ["mock_provider"]}
            if cursor:
                params["cursor"] = cursor
            result = server.request("thread/list", params)
            listed += len(result["data"])
            pages += 1
            cursor = result["nextCursor"]
            if cursor is None:
                break
        total = time.perf_counter() - started
        assert listed == args.threads, listed
        rows.append(
            (
                f"page through all ({pages} pages of 100)",
                f"{total:.2f} s ({total / pages * 1000:.0f} ms/page)",
            )
        )
        server.close()
        size = (home / INDEX_FILE).stat().st_size
        rows.append(("index file size", f"{size / 1024:.0f} KiB"))

    width = max(len(name) for name, _ in rows)
    print(f"thread/list over {args.threads} rollouts (page size {args.page})")
    print(f"{'measure'.ljust(width)}  time")
    print(f"{'-' * width}  {'-' * 24}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
