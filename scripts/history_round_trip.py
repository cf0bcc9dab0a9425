#!/usr/bin/env python3
"""Check by hand that thread history is shared with the Codex CLI in both directions.

An on-demand developer tool (never run by CI), a sibling of `compare_with_reference.py`. For
each direction (Parley → reference, reference → Parley) it uses one fresh CODEX_HOME and a local
mock Responses server from `tests/support/`:

1. the *writer* app-server starts a thread and runs a turn ("remember the word heron");
2. the *reader* app-server, started afterwards on the same CODEX_HOME, must list the thread,
   read it with its turn (user message and agent message), resume it, and run a second turn
   whose Responses request carries the first turn's messages.

Each check prints PASS or FAIL. Without a reference binary only Parley → Parley runs.

    .venv/bin/python scripts/history_round_trip.py [--codex PATH_TO_CODEX]

Install the reference with `npm install --prefix ~/.cache/parley-reference @openai/codex@0.120.0`.
The exit status is 0 when every check passed.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

from support.app_server import AppServerProcess, default_command  # noqa: E402
from support.mock_responses import MockResponsesServer  # noqa: E402
from support.sse import create_final_assistant_message_sse_response  # noqa: E402
from support.thread_harness import create_config_toml, run_turn  # noqa: E402

FIRST = "Remember the word heron."
ANSWER = "Noted: heron."
SECOND = "Which word did I ask you to remember?"


def reference_command(path: str | None) -> list[str] | None:
    candidates = [path] if path else []
    candidates += [
        shutil.which("codex"),
        str(Path.home() / ".cache/parley-reference/node_modules/.bin/codex"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return [candidate, "app-server"]
    return None


async def start(command: list[str], home: Path) -> AppServerProcess:
    server = await AppServerProcess.spawn(home, command=command, validate_schema=False)
    await server.initialize()
    return server


def _exists(path: str) -> bool:
    return Path(path).exists()


def check(results: list[tuple[str, bool]], name: str, ok: bool) -> None:
    results.append((name, ok))
    print(f"  {'PASS' if ok else 'FAIL'}  {name}")


async def direction(writer: list[str], reader: list[str], label: str) -> list[tuple[str, bool]]:
    print(label)
    results: list[tuple[str, bool]] = []
    with tempfile.TemporaryDirectory(dir=Path.home() / ".cache") as tmp:
        home = Path(tmp)
        async with MockResponsesServer(
            [
                create_final_assistant_message_sse_response(ANSWER),
                create_final_assistant_message_sse_response("heron"),
            ]
        ) as api:
            create_config_toml(home, api.uri)
            first = await start(writer, home)
            thread: dict[str, Any] = (await first.request("thread/start", {}))["thread"]
            await run_turn(first, thread["id"], FIRST)
            await first.close(check=False)
            check(results, "writer left a rollout file", _exists(str(thread["path"])))

            second = await start(reader, home)
            listed = await second.request("thread/list", {"modelProviders": []})
            check(results, "reader lists it", thread["id"] in [t["id"] for t in listed["data"]])
            read = await second.request(
                "thread/read", {"threadId": thread["id"], "includeTurns": True}
            )
            items = [i for t in read["thread"]["turns"] for i in t["items"]]
            kinds = [i["type"] for i in items]
            check(results, "reader rebuilds the turn", kinds == ["userMessage", "agentMessage"])
            await second.request("thread/resume", {"threadId": thread["id"]})
            await run_turn(second, thread["id"], SECOND)
            body = api.responses_requests()[-1]
            texts = " ".join(
                str(part.get("text", ""))
                for item in body.get("input", [])
                if isinstance(item, dict)
                for part in item.get("content") or []
                if isinstance(part, dict)
            )
            check(
                results, "resumed request carries the history", FIRST in texts and ANSWER in texts
            )
            await second.close(check=False)
    return results


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codex", help="path to the reference `codex` binary")
    args = parser.parse_args()
    parley = default_command()
    reference = reference_command(args.codex)
    (Path.home() / ".cache").mkdir(exist_ok=True)
    results = await direction(parley, parley, "Parley -> Parley")
    if reference is None:
        print("reference `codex` not found: the two-way checks were not run")
    else:
        results += await direction(parley, reference, "Parley -> reference")
        results += await direction(reference, parley, "reference -> Parley")
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
