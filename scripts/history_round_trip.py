#!/usr/bin/env python3
"""Check by hand that thread history is shared with the Codex CLI in both directions.

An on-demand developer tool (never run by CI), a sibling of `compare_with_reference.py`. Each
scenario (a plain turn, a shell command, extended history, an interrupted turn, a named thread,
an archived one, a rollback, a fork, a compaction) is played by a *writer* app-server on a fresh
CODEX_HOME against a local mock Responses server. Its history is then copied into two homes:

1. the writer, restarted, lists and reads every thread (`thread/list`, archived too, and
   `thread/read` with turns): that is what the reader must answer;
2. the *reader* does the same on its copy and must answer the same (home path aside);
3. both resume the thread and run one more turn: the reader's Responses request must carry the
   same conversation as the writer's (context messages, which each server words its own way,
   aside);
4. the writer, restarted on the reader's copy, reads the thread the reader continued.

Every step prints PASS or FAIL (with the differences). With both directions run, a last table
(not counted) lists per scenario the kinds of rollout line, and their fields, that one writer's
files have and the other's lack. The directions run are
Parley -> reference and reference -> Parley (and Parley -> Parley without a reference).

    .venv/bin/python scripts/history_round_trip.py --codex PATH_TO_CODEX [--only NAME ...]
    .venv/bin/python scripts/history_round_trip.py --codex PATH \
        --record tests/data/rollouts-recorded

`--record DIR` stores, per scenario, the reference-written history and the reference's own
answers (`expected.json`), its prompt wording redacted, for
`tests/threads/test_recorded_rollouts.py`. The reference 0.120.0
is `npm install --prefix ~/.cache/parley-reference @openai/codex@0.120.0`. Exit status 0 when
every step passed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

from support.app_server import AppServerProcess, default_command  # noqa: E402
from support.history import (  # noqa: E402
    HOME_MARK,
    conversation,
    copy_history,
    differences,
    normalize,
    read_everything,
    redact,
)
from support.mock_responses import MockResponsesServer  # noqa: E402
from support.sse import (  # noqa: E402
    create_final_assistant_message_sse_response,
    create_shell_command_sse_response,
)
from support.thread_harness import create_config_toml, run_turn, text_input  # noqa: E402

# Every scenario runs its threads in this directory: it exists on any machine that later
# replays the recorded files.
WORKDIR = "/tmp"
FOLLOW_UP = "What do you remember?"
FOLLOW_UP_ANSWER = "Everything so far."

Driver = Callable[[AppServerProcess, MockResponsesServer], Awaitable[list[str]]]


@dataclass(frozen=True)
class Scenario:
    name: str
    about: str
    drive: Driver
    resumable: bool = True  # archived threads are read, not resumed


def answer(text: str) -> str:
    return create_final_assistant_message_sse_response(text)


async def new_thread(server: AppServerProcess, **params: Any) -> str:
    result = await server.request("thread/start", {"cwd": WORKDIR, **params})
    thread_id: str = result["thread"]["id"]
    return thread_id


async def plain(server: AppServerProcess, api: MockResponsesServer) -> list[str]:
    api.push(answer("Noted: heron."))
    thread = await new_thread(server)
    await run_turn(server, thread, "Remember the word heron.")
    return [thread]


async def _shell_turn(server: AppServerProcess, api: MockResponsesServer, thread: str) -> None:
    api.push(
        create_shell_command_sse_response(["echo", "heron"], WORKDIR, 10_000, "call-echo"),
        answer("The command printed heron."),
    )
    await run_turn(server, thread, "Run echo heron.")


async def shell(server: AppServerProcess, api: MockResponsesServer) -> list[str]:
    thread = await new_thread(server, sandbox="danger-full-access", approvalPolicy="never")
    await _shell_turn(server, api, thread)
    return [thread]


async def extended(server: AppServerProcess, api: MockResponsesServer) -> list[str]:
    thread = await new_thread(
        server, sandbox="danger-full-access", approvalPolicy="never", persistExtendedHistory=True
    )
    await _shell_turn(server, api, thread)
    return [thread]


async def interrupted(server: AppServerProcess, api: MockResponsesServer) -> list[str]:
    """A turn interrupted while its shell command runs, then a completed turn."""
    api.push(create_shell_command_sse_response(["sleep", "30"], WORKDIR, 60_000, "call-sleep"))
    thread = await new_thread(server, sandbox="danger-full-access", approvalPolicy="never")
    started = await server.request(
        "turn/start", {"threadId": thread, "input": text_input("Wait half a minute.")}
    )
    await server.read_stream_until_matching_notification(
        "the command's item/started",
        lambda m: (
            m.get("method") == "item/started"
            and m["params"]["item"].get("type") == "commandExecution"
        ),
    )
    await server.request("turn/interrupt", {"threadId": thread, "turnId": started["turn"]["id"]})
    await server.read_notification("turn/completed")
    api.push(answer("Stopped; what next?"))
    await run_turn(server, thread, "Never mind.")
    return [thread]


async def named(server: AppServerProcess, api: MockResponsesServer) -> list[str]:
    [thread] = await plain(server, api)
    await server.request("thread/name/set", {"threadId": thread, "name": "Heron notes"})
    return [thread]


async def archived(server: AppServerProcess, api: MockResponsesServer) -> list[str]:
    [thread] = await plain(server, api)
    await server.request("thread/archive", {"threadId": thread})
    return [thread]


async def rollback(server: AppServerProcess, api: MockResponsesServer) -> list[str]:
    [thread] = await plain(server, api)
    api.push(answer("Noted: egret."))
    await run_turn(server, thread, "Also remember egret.")
    await server.request("thread/rollback", {"threadId": thread, "numTurns": 1})
    return [thread]


async def fork(server: AppServerProcess, api: MockResponsesServer) -> list[str]:
    [thread] = await plain(server, api)
    forked = await server.request("thread/fork", {"threadId": thread})
    child: str = forked["thread"]["id"]
    api.push(answer("Forked: still heron."))
    await run_turn(server, child, "Which bird, on this branch?")
    return [thread, child]


async def compacted(server: AppServerProcess, api: MockResponsesServer) -> list[str]:
    [thread] = await plain(server, api)
    api.push(answer("Summary: the user asked to remember heron."))
    await server.request("thread/compact/start", {"threadId": thread})
    await server.read_notification("turn/completed")
    return [thread]


SCENARIOS = [
    Scenario("plain", "one turn: a user message and the answer", plain),
    Scenario("shell", "a turn whose model runs a shell command", shell),
    Scenario("extended", "the same with persistExtendedHistory", extended),
    Scenario("interrupted", "an interrupted turn, then a completed one", interrupted),
    Scenario("named", "a thread given a name", named),
    Scenario("archived", "an archived thread", archived, resumable=False),
    Scenario("rollback", "two turns, the last rolled back", rollback),
    Scenario("fork", "a thread and a fork of it that ran a turn", fork),
    Scenario("compacted", "a turn, then a manual compaction", compacted),
]


# ---- running ------------------------------------------------------------------------------------


class Report:
    def __init__(self) -> None:
        self.results: list[bool] = []

    def check(self, name: str, problems: list[str]) -> bool:
        ok = not problems
        self.results.append(ok)
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
        for problem in problems[:12]:
            print(f"          {problem}")
        if len(problems) > 12:
            print(f"          ... and {len(problems) - 12} more")
        return ok

    def note(self, text: str) -> None:
        print(f"  NOTE  {text}")

    def note_list(self, name: str, differences: list[str]) -> None:
        """Informational: the same output as a check, not counted."""
        print(f"  {'SAME' if not differences else 'DIFF'}  {name}")
        for difference in differences:
            print(f"          {difference}")


async def start(command: list[str], home: Path) -> AppServerProcess:
    server = await AppServerProcess.spawn(
        home, command=command, validate_schema=False, cwd=Path(WORKDIR)
    )
    await server.initialize()
    return server


async def with_server(
    command: list[str], home: Path, uri: str, work: Callable[[AppServerProcess], Awaitable[Any]]
) -> Any:
    create_config_toml(home, uri)
    server = await start(command, home)
    try:
        return await work(server)
    finally:
        await server.close(check=False)


async def write(command: list[str], home: Path, scenario: Scenario) -> list[str]:
    async with MockResponsesServer() as api:
        return await with_server(command, home, api.uri, lambda s: scenario.drive(s, api))  # type: ignore[no-any-return]


async def read(command: list[str], home: Path) -> dict[str, Any]:
    async with MockResponsesServer() as api:
        answers = await with_server(command, home, api.uri, read_everything)
    return normalize(answers, home)  # type: ignore[no-any-return]


async def resume(command: list[str], home: Path, thread: str) -> list[dict[str, Any]]:
    """Resume `thread`, run one turn; the conversation its Responses request carried."""

    async def work(server: AppServerProcess) -> None:
        await server.request("thread/resume", {"threadId": thread})
        await run_turn(server, thread, FOLLOW_UP)

    async with MockResponsesServer([answer(FOLLOW_UP_ANSWER)]) as api:
        await with_server(command, home, api.uri, work)
        requests = api.responses_requests()
    return conversation(requests[-1]) if requests else []


async def direction(
    writer: list[str], reader: list[str], label: str, scenarios: list[Scenario], record: Path | None
) -> Report:
    report = Report()
    print(f"== {label}")
    for scenario in scenarios:
        print(f"-- {scenario.name}: {scenario.about}")
        with tempfile.TemporaryDirectory(prefix="parley-history-") as tmp:
            root = Path(tmp)
            try:
                await one_scenario(writer, reader, scenario, root, report, record)
            except Exception as exc:  # a broken step fails the scenario, not the run
                report.check(f"scenario ran ({type(exc).__name__}: {exc})"[:300], ["raised"])
    return report


async def one_scenario(
    writer: list[str],
    reader: list[str],
    scenario: Scenario,
    root: Path,
    report: Report,
    record: Path | None,
) -> None:
    written = root / "written"
    threads = await write(writer, written, scenario)
    files = sorted(p for p in written.glob("*sessions/**/*.jsonl"))
    report.check("writer left rollout files", [] if files else ["no rollout file"])
    SHAPES.setdefault(scenario.name, {})[writer[0]] = line_shapes(files)
    homes = {name: root / name for name in ("by-writer", "by-reader")}
    for home in homes.values():
        copy_history(written, home)
    expected = await read(writer, homes["by-writer"])
    actual = await read(reader, homes["by-reader"])
    listed = [t["id"] for t in [*actual["list"]["data"], *actual["archived"]["data"]]]
    report.check(
        "reader lists every thread", [f"{t} not listed" for t in threads if t not in listed]
    )
    report.check(
        "reader's thread/list matches the writer's",
        differences(expected["list"], actual["list"], "list")
        + differences(expected["archived"], actual["archived"], "archived"),
    )
    archived_ids = {t["id"] for t in expected["archived"]["data"]}
    for thread in threads:
        wanted, got = expected["reads"].get(thread), actual["reads"].get(thread)
        if thread in archived_ids and (_not_loaded(wanted) or _not_loaded(got)):
            report.note(
                f"thread/read of archived {thread[:13]}…: the reference answers `thread not "
                "loaded` for an archived rollout its own SQLite state has not seen (not compared)"
            )
            continue
        report.check(
            f"reader's thread/read of {thread[:13]}… matches the writer's (turns, items)",
            differences(wanted, got, "read"),
        )
    history: dict[str, Any] = {}
    if scenario.resumable:
        for thread in threads:
            wanted = await resume(writer, homes["by-writer"], thread)
            got = await resume(reader, homes["by-reader"], thread)
            history[thread] = wanted
            report.check(
                f"reader resumes {thread[:13]}… and its next request carries the same history",
                differences(wanted, got, "input"),
            )
        again = await read(writer, homes["by-reader"])
        for thread in threads:
            before = len(expected["reads"][thread]["thread"]["turns"])
            after = len(again["reads"].get(thread, {}).get("thread", {}).get("turns", []))
            report.check(
                f"writer reads the turn the reader added to {thread[:13]}…",
                [] if after == before + 1 else [f"{after} turns, expected {before + 1}"],
            )
    if record is not None:
        store(record / scenario.name, written, expected, history)


# Per scenario and writer: the kinds of line its files hold, and their fields.
SHAPES: dict[str, dict[str, dict[str, list[str]]]] = {}


def line_shapes(files: list[Path]) -> dict[str, list[str]]:
    """`{line kind: sorted payload fields}` over `files`; a line kind is its type, with the
    payload's own type (`event_msg/user_message`, `response_item/message`)."""
    shapes: dict[str, set[str]] = {}
    for path in files:
        for raw in path.read_text().splitlines():
            line = json.loads(raw)
            payload = line.get("payload")
            if not isinstance(payload, dict):
                continue
            kind = line["type"] + (f"/{payload['type']}" if "type" in payload else "")
            shapes.setdefault(kind, set()).update(payload)
    return {kind: sorted(fields) for kind, fields in shapes.items()}


def compare_shapes(parley: str, reference: str) -> Report:
    """Which kinds of line, and which fields, one writer's files have and the other's lack."""
    report = Report()
    print("== rollout lines Parley writes against the reference's (same scenarios)")
    for name, by_writer in SHAPES.items():
        if parley not in by_writer or reference not in by_writer:
            continue
        ours, theirs = by_writer[parley], by_writer[reference]
        problems = [f"Parley writes no `{k}` line" for k in sorted(set(theirs) - set(ours))]
        problems += [
            f"Parley writes `{k}`, the reference does not" for k in set(ours) - set(theirs)
        ]
        for kind in sorted(set(ours) & set(theirs)):
            missing = sorted(set(theirs[kind]) - set(ours[kind]))
            extra = sorted(set(ours[kind]) - set(theirs[kind]))
            if missing:
                problems.append(f"`{kind}` lacks {', '.join(missing)}")
            if extra:
                problems.append(f"`{kind}` adds {', '.join(extra)}")
        report.note_list(f"{name}: line kinds and fields", problems)
    return report


def _not_loaded(answer: Any) -> bool:
    error = answer.get("error") if isinstance(answer, dict) else None
    return isinstance(error, dict) and str(error.get("message", "")).startswith("thread not loaded")


def store(target: Path, written: Path, expected: dict[str, Any], history: dict[str, Any]) -> None:
    """Keep a scenario's reference-written history and the reference's answers, the
    reference's prompt wording redacted from both."""
    if target.exists():
        shutil.rmtree(target)
    copy_history(written, target)
    for path in target.glob("*sessions/**/*.jsonl"):
        lines = [json.loads(raw) for raw in path.read_text().splitlines() if raw.strip()]
        path.write_text(
            "".join(json.dumps(redact(line), separators=(",", ":")) + "\n" for line in lines)
        )
    answers = redact(expected | {"resumed_conversation": history, "follow_up": FOLLOW_UP})
    text = json.dumps(answers, indent=1, sort_keys=True).replace(str(written), HOME_MARK)
    (target / "expected.json").write_text(text + "\n")
    print(f"  recorded into {target}")


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


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codex", help="path to the reference `codex` binary")
    parser.add_argument("--only", nargs="*", help="run only these scenarios")
    parser.add_argument("--record", type=Path, help="store reference-written scenarios here")
    parser.add_argument(
        "--direction",
        choices=["both", "to-reference", "from-reference"],
        default="both",
        help="which direction(s) to run",
    )
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS if not args.only or s.name in args.only]
    parley = default_command()
    reference = reference_command(args.codex)
    reports: list[Report] = []
    if reference is None:
        print("reference `codex` not found: only Parley -> Parley runs")
        reports.append(await direction(parley, parley, "Parley -> Parley", scenarios, None))
    else:
        if args.direction in ("both", "to-reference"):
            reports.append(
                await direction(parley, reference, "Parley -> reference", scenarios, None)
            )
        if args.direction in ("both", "from-reference"):
            reports.append(
                await direction(reference, parley, "reference -> Parley", scenarios, args.record)
            )
    if reference is not None:
        compare_shapes(parley[0], reference[0])
    results = [ok for report in reports for ok in report.results]
    print(f"{sum(results)} of {len(results)} steps passed")
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
