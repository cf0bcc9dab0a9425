"""Benchmark: fuzzy file search on a generated tree of 100,000 files, through the app-server.

Generates a source-like tree (nested packages, mixed extensions, a `.gitignore` that hides a
`build/` directory inside a git repository) once under a temporary directory, starts
`parley app-server` over stdio and measures, for a few queries typed into one
`fuzzyFileSearch/session*`:

  first results  request sent → first `sessionUpdated` with files
  complete       request sent → `sessionCompleted`

then one-shot `fuzzyFileSearch` requests (walk + match + answer). Run on demand:

    .venv/bin/python bench/fuzzy_search.py [--files 100000] [--queries src/util,mdl,tst]

Nothing here is a pass/fail test; it reports numbers to compare between commits.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from parley.client import AppServerClient

WORDS = (
    "core util model view handler service client server config parser token cache index "
    "render layout widget event stream buffer socket schema query route store"
).split()
EXTENSIONS = (".py", ".ts", ".rs", ".md", ".json", ".txt")


def generate(root: Path, files: int) -> None:
    """`files` files spread over directories three levels deep, plus an ignored build dir."""
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("build/\n")
    per_directory = 40
    made = 0
    n = 0
    while made < files:
        k = len(WORDS)
        a, b, c = WORDS[n % k], WORDS[(n // k) % k], WORDS[(n // (k * k)) % k]
        directory = root / "src" / a / f"{b}_{n // (k * k)}" / c
        directory.mkdir(parents=True, exist_ok=True)
        for i in range(min(per_directory, files - made)):
            word = WORDS[(n + i) % len(WORDS)]
            ext = EXTENSIONS[(n + i) % len(EXTENSIONS)]
            (directory / f"{word}_{i}{ext}").touch()
        made += per_directory
        n += 1
    build = root / "build"
    build.mkdir()
    for i in range(1000):
        (build / f"artifact_{i}.o").touch()


async def next_notification(
    client: AppServerClient, method: str, session_id: str, query: str | None
) -> dict[str, Any]:
    while True:
        message = await asyncio.wait_for(client.notifications.get(), 600)
        params = message.get("params") or {}
        if message.get("method") != method or params.get("sessionId") != session_id:
            continue
        if query is not None and params.get("query") != query:
            continue
        if method.endswith("sessionUpdated") and not params.get("files"):
            continue
        return params


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--queries", default="src/util,mdl,tst,handler_12.py")
    args = parser.parse_args()
    queries = args.queries.split(",")

    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "tree"
        root.mkdir()
        started = time.perf_counter()
        generate(root, args.files)
        print(f"generated {args.files} files in {time.perf_counter() - started:.1f}s")
        home = Path(temp) / "home"
        home.mkdir()
        client = AppServerClient()
        await client.spawn(home)
        try:
            await client.initialize("bench-fuzzy-search")
            print(f"\nsession over {root} (walked once, queries re-ranked):")
            print(f"{'query':<18}{'first results':>15}{'complete':>12}{'top match':>40}")
            await client.request(
                "fuzzyFileSearch/sessionStart", {"sessionId": "bench", "roots": [str(root)]}
            )
            for query in queries:
                sent = time.perf_counter()
                await client.request(
                    "fuzzyFileSearch/sessionUpdate", {"sessionId": "bench", "query": query}
                )
                first = await next_notification(
                    client, "fuzzyFileSearch/sessionUpdated", "bench", query
                )
                first_s = time.perf_counter() - sent
                await next_notification(client, "fuzzyFileSearch/sessionCompleted", "bench", None)
                complete_s = time.perf_counter() - sent
                top = first["files"][0]["path"] if first["files"] else "-"
                print(f"{query:<18}{first_s:>14.3f}s{complete_s:>11.3f}s{top[-38:]:>40}")
            await client.request("fuzzyFileSearch/sessionStop", {"sessionId": "bench"})

            print("\none-shot fuzzyFileSearch (walk + match each time):")
            for query in queries:
                sent = time.perf_counter()
                result = await client.request(
                    "fuzzyFileSearch", {"query": query, "roots": [str(root)]}, timeout=600
                )
                elapsed = time.perf_counter() - sent
                print(f"{query:<18}{elapsed:>14.3f}s  {len(result['files'])} files")
        finally:
            await client.close()


if __name__ == "__main__":
    asyncio.run(main())
