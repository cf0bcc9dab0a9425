"""Benchmark: time a person waits on the app-server itself inside a turn, Parley vs. a reference.

Everything is measured black-box at the local mock servers (`tests/support/`), with
`time.perf_counter()` in this process, so both servers are timed the same way:

  tool call         end of the model's SSE answer carrying a `shell_command` call →
                    arrival of the next Responses request (the one carrying its output);
                    `--calls` calls per turn, one turn per run.
  delegation start  the realtime mock sends the voice model's `background_agent` call →
                    arrival of the delegated turn's Responses request.
  delegation finish the delegated turn's Responses answer ends →
                    the realtime mock receives the `function_call_output` with the result.

Delegation is measured twice per run: the first delegated turn of a fresh process ("cold")
and a second one in the same realtime session ("warm"). Runs alternate between the servers
(Parley, reference, Parley, …) so both see the same machine state; every run starts a fresh
process with an empty CODEX_HOME whose config.toml points a model provider at the mocks (the
provider's API key comes from the environment, `env_key`; realtime also needs an API-key login,
`account/login/start`). Commands run with the given HOME's login
profile, approval policy `never` and the given sandbox. By default HOME is a generated one
whose login profile does what profiles typically do (exports, aliases, functions, a few
`$(…)` look-ups; ~50-100 ms of work): your own HOME would make the figures depend on your
profile, and a login shell killed mid-profile at a server's exit can leave a profile's lock
behind (pyenv's rehash lock, for one). `--home DIR` uses DIR instead.

    .venv/bin/python bench/turn_latency.py [--runs 10] [--calls 20] [--reference PATH]
        [--sandbox danger-full-access|workspace-write|read-only] [--home DIR]

Prints median and p90 per measure and server and, when a reference binary is given, the
ratio Parley/reference of the medians. Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from support.mock_realtime import WebSocketConnectionConfig, WebSocketTestServer  # noqa: E402
from support.mock_responses import MockResponsesServer, ScriptedResponse  # noqa: E402
from support.sse import (  # noqa: E402
    create_final_assistant_message_sse_response,
    ev_completed,
    ev_function_call,
    ev_response_created,
    sse,
)

from parley.client import AppServerClient  # noqa: E402

API_KEY_VARIABLE = "PARLEY_BENCH_API_KEY"
TIMEOUT_S = float(os.environ.get("BENCH_TIMEOUT_S", "120"))
# An already-set hold makes the mock stream the answer and note `answered_at` after its last
# byte is written (a plain answer would be written by aiohttp after the handler returned).
_SENT = asyncio.Event()
_SENT.set()

Samples = dict[str, dict[str, list[float]]]  # measure -> server -> seconds


def write_profile(home: Path) -> None:
    """A login profile of typical weight: variables, aliases, functions, a few look-ups."""
    lines = ["export BENCH_PROFILE=loaded", 'export PATH="$HOME/bin:$PATH"']
    lines += [f"export BENCH_VAR_{i}=value-{i}" for i in range(40)]
    lines += [f"alias bench_alias_{i}='echo alias-{i}'" for i in range(40)]
    lines += [f'bench_function_{i}() {{ echo function-{i} "$@"; }}' for i in range(40)]
    lines += [f'BENCH_LOOKUP_{i}="$(uname -s)"' for i in range(15)]
    (home / ".bash_profile").write_text('[ -r "$HOME/.bashrc" ] && . "$HOME/.bashrc"\n')
    (home / ".bashrc").write_text("\n".join(lines) + "\n")
    (home / ".profile").write_text('[ -r "$HOME/.bashrc" ] && . "$HOME/.bashrc"\n')


def streamed(body: str) -> ScriptedResponse:
    return ScriptedResponse.stream(body, hold=_SENT)


def shell_call(index: int) -> str:
    arguments = orjson.dumps(
        {
            "command": f"echo call-{index}",
            "timeout_ms": int(os.environ.get("BENCH_CMD_TIMEOUT_MS", "30000")),
        }
    ).decode()
    return sse(
        [
            ev_response_created(f"resp-{index}"),
            ev_function_call(f"call-{index}", "shell_command", arguments),
            ev_completed(f"resp-{index}"),
        ]
    )


def config_toml(responses_uri: str, realtime_uri: str, sandbox: str) -> str:
    return f"""model = "mock-model"
approval_policy = "never"
sandbox_mode = "{sandbox}"
model_provider = "bench"
experimental_realtime_ws_base_url = "{realtime_uri}"
experimental_realtime_ws_backend_prompt = "backend prompt"
experimental_realtime_ws_startup_context = "startup context"

[realtime]
version = "v2"
type = "conversational"

[features]
realtime_conversation = true

[model_providers.bench]
name = "bench mock"
base_url = "{responses_uri}/v1"
wire_api = "responses"
env_key = "{API_KEY_VARIABLE}"
request_max_retries = 0
stream_max_retries = 0
"""


@contextmanager
def fresh_home() -> Iterator[tuple[Path, Path]]:
    """An empty CODEX_HOME and a workspace, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="parley-turn-bench-"))
    try:
        (root / "codex-home").mkdir()
        (root / "ws").mkdir()
        yield root / "codex-home", root / "ws"
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def next_notification(client: AppServerClient, method: str) -> dict[str, Any]:
    async with asyncio.timeout(TIMEOUT_S):
        while True:
            message = await client.notifications.get()
            if message.get("method") == method:
                return message.get("params") or {}


async def start_server(
    client: AppServerClient,
    argv: list[str] | None,
    codex_home: Path,
    workspace: Path,
    home: Path,
) -> str:
    """Spawns and initializes the server and starts a thread in `workspace`; the thread id."""
    await client.spawn(
        codex_home,
        cwd=workspace,
        command=argv,
        stderr_path=codex_home / "stderr.log",
        env_overrides={"HOME": str(home), API_KEY_VARIABLE: "sk-bench"},
    )
    await client.initialize("bench-turn-latency")
    # Realtime needs API-key auth (the env key only serves the model provider).
    await client.request("account/login/start", {"type": "apiKey", "apiKey": "sk-bench"})
    thread = await client.request("thread/start", {"cwd": str(workspace)}, timeout=TIMEOUT_S)
    return str(thread["thread"]["id"])


async def tool_call_run(
    argv: list[str] | None, calls: int, sandbox: str, home: Path
) -> list[float]:
    """One turn of `calls` shell_command calls; the round trip of each, in order."""
    bodies = [streamed(shell_call(i)) for i in range(calls)]
    bodies.append(streamed(create_final_assistant_message_sse_response("done")))
    with fresh_home() as (codex_home, workspace):
        async with MockResponsesServer(bodies) as responses:
            (codex_home / "config.toml").write_text(
                config_toml(responses.uri, "ws://127.0.0.1:9", sandbox)
            )
            client = AppServerClient()
            try:
                thread_id = await start_server(client, argv, codex_home, workspace, home)
                await client.request(
                    "turn/start",
                    {"threadId": thread_id, "input": [{"type": "text", "text": "run them"}]},
                    timeout=TIMEOUT_S,
                )
                completed = await next_notification(client, "turn/completed")
            finally:
                await client.close()
            records = responses.responses_request_records()
            if completed["turn"]["status"] != "completed" or len(records) != calls + 1:
                raise RuntimeError(
                    f"turn {completed['turn']['status']}, {len(records)} requests; see "
                    f"{(codex_home / 'stderr.log').read_text()[-2000:]}"
                )
            gaps = []
            for index in range(calls):
                request = records[index + 1]
                if f'"call-{index}"' not in request.body_text():
                    raise RuntimeError(f"request {index + 1} does not carry call-{index}'s output")
                if f"call-{index}" not in output_of(request.body_json(), f"call-{index}"):
                    raise RuntimeError(f"call-{index} did not print what it should: {request.body}")
                answered = records[index].answered_at
                assert answered is not None
                gaps.append(request.received_at - answered)
            return gaps


def output_of(body: dict[str, Any], call_id: str) -> str:
    for item in body.get("input", []):
        if item.get("type") == "function_call_output" and item.get("call_id") == call_id:
            output = item.get("output")
            return output if isinstance(output, str) else orjson.dumps(output).decode()
    return ""


def background_agent_call(call_id: str, prompt: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.done",
        "item": {
            "id": f"item_{call_id}",
            "type": "function_call",
            "name": "background_agent",
            "call_id": call_id,
            "arguments": orjson.dumps({"prompt": prompt}).decode(),
        },
    }


async def wait_for_output_frame(realtime: WebSocketTestServer, call_id: str) -> float:
    """When the realtime mock received the `function_call_output` for `call_id`."""
    async with asyncio.timeout(TIMEOUT_S):
        while True:
            for frame in realtime.connections()[0] if realtime.connections() else []:
                body = frame.body
                if (
                    isinstance(body, dict)
                    and body.get("type") == "conversation.item.create"
                    and body.get("item", {}).get("type") == "function_call_output"
                    and body["item"].get("call_id") == call_id
                ):
                    return frame.received_at
            await asyncio.sleep(0.01)


async def delegation_run(argv: list[str] | None, sandbox: str, home: Path) -> dict[str, float]:
    """Two delegated turns through one realtime session: start and finish of each."""
    # Client frames: 0 session.update, then per delegation a progress update, the function
    # output and response.create; a batch goes out after each client frame. The second call is
    # sent after the first delegation's response.create (client frame 3).
    script = [
        [
            {"type": "session.updated", "session": {"id": "sess_bench"}},
            background_agent_call("call_cold", "first task"),
        ],
        [],
        [],
        [background_agent_call("call_warm", "second task")],
    ]
    realtime = WebSocketTestServer(
        [WebSocketConnectionConfig(script, close_after_requests=False, record_after_requests=True)]
    )
    bodies = [
        streamed(create_final_assistant_message_sse_response("first result")),
        streamed(create_final_assistant_message_sse_response("second result")),
    ]
    with fresh_home() as (codex_home, workspace):
        async with MockResponsesServer(bodies) as responses, realtime:
            (codex_home / "config.toml").write_text(
                config_toml(responses.uri, realtime.uri, sandbox)
            )
            client = AppServerClient()
            try:
                thread_id = await start_server(client, argv, codex_home, workspace, home)
                await client.request(
                    "thread/realtime/start",
                    {"threadId": thread_id, "sessionId": None, "transport": None, "voice": None},
                    timeout=TIMEOUT_S,
                )
                cold_output = await wait_for_output_frame(realtime, "call_cold")
                warm_output = await wait_for_output_frame(realtime, "call_warm")
            finally:
                await client.close()
            records = responses.responses_request_records()
            sent = realtime.batch_sent_times()
            if len(records) != 2 or len(sent) < 4:
                raise RuntimeError(f"{len(records)} Responses requests, {len(sent)} batches sent")
            cold_done, warm_done = records[0].answered_at, records[1].answered_at
            assert cold_done is not None and warm_done is not None
            return {
                "delegation start (cold)": records[0].received_at - sent[0],
                "delegation finish (cold)": cold_output - cold_done,
                "delegation start (warm)": records[1].received_at - sent[3],
                "delegation finish (warm)": warm_output - warm_done,
            }


def summarize(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return statistics.median(ordered), p90


def report(samples: Samples, servers: list[str]) -> None:
    header = f"{'measure':<26}" + "".join(f"{s + ' median':>18}{s + ' p90':>15}" for s in servers)
    if "reference" in servers:
        header += f"{'ratio':>8}"
    print(header)
    for measure, by_server in samples.items():
        line = f"{measure:<26}"
        medians = {}
        for server in servers:
            values = by_server.get(server, [])
            if not values:
                line += f"{'-':>18}{'-':>15}"
                continue
            median, p90 = summarize(values)
            medians[server] = median
            line += f"{median * 1000:>15.1f} ms{p90 * 1000:>12.1f} ms"
        if "reference" in medians and "parley" in medians and medians["reference"] > 0:
            line += f"{medians['parley'] / medians['reference']:>7.2f}x"
        print(line)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per server (alternating)")
    parser.add_argument("--calls", type=int, default=20, help="shell_command calls per turn")
    parser.add_argument("--reference", type=Path, help="a `codex` binary to compare with")
    parser.add_argument("--sandbox", default="danger-full-access")
    parser.add_argument("--home", type=Path, help="HOME (login profile); default: generated")
    parser.add_argument("--no-delegation", action="store_true", help="only the tool-call bench")
    args = parser.parse_args()

    servers: dict[str, list[str] | None] = {"parley": None}
    if args.reference is not None:
        servers["reference"] = [str(args.reference.resolve()), "app-server"]
    os.environ.pop("OPENAI_API_KEY", None)
    generated_home = None
    if args.home is None:
        generated_home = tempfile.TemporaryDirectory(prefix="parley-bench-home-")
        args.home = Path(generated_home.name)
        write_profile(args.home)
    samples: Samples = {}

    def add(measure: str, server: str, values: list[float]) -> None:
        samples.setdefault(measure, {}).setdefault(server, []).extend(values)

    for argv in servers.values():  # warm the OS file cache; not counted
        await tool_call_run(argv, 2, args.sandbox, args.home)
    for run in range(args.runs):
        for name, argv in servers.items():
            gaps = await tool_call_run(argv, args.calls, args.sandbox, args.home)
            add("tool call (first)", name, gaps[:1])
            add("tool call (all)", name, gaps)
            if not args.no_delegation:
                for measure, value in (await delegation_run(argv, args.sandbox, args.home)).items():
                    add(measure, name, [value])
        print(f"run {run + 1}/{args.runs} done", file=sys.stderr)

    print(
        f"\n{args.runs} alternating runs, {args.calls} shell_command calls per run, "
        f"sandbox {args.sandbox}, HOME {'generated' if generated_home else args.home}"
    )
    report(samples, list(servers))
    if generated_home is not None:
        generated_home.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
