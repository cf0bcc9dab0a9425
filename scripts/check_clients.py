#!/usr/bin/env python3
"""Check that the PyPI clients of `codex app-server` work against `parley app-server` unchanged.

An on-demand developer tool: CI never runs it, Parley does not depend on it, and it installs
nothing. Each check drives a real `parley app-server` through one client's own high-level API:

* `openai-codex` (the official SDK): `Codex(CodexConfig(codex_bin=...))`, `thread_start()`,
  `thread.run("say hi")`, then `TurnResult.final_response`;
* `codex-app-server-sdk`, over stdio (`connect_stdio(command=[parley, "app-server"])`) and over
  WebSocket (`connect_websocket(url=...)` against `parley app-server --listen ws://127.0.0.1:0`):
  `start_thread()`, `chat_once("say hi")`, then `ChatResult.final_text`;
* `codex-python-sdk-unofficial`: `CodexSDKClient(app_server=AppServerConfig(codex_bin=...))`,
  `query("say hi")`, `wait()`, then `TurnResult.assistant_text`;
* `codex-app-server-client`: `CodexAppServer(codex_bin=...)`, `start_thread()`,
  `run("say hi")`, then `TurnResult.final_response`.

Every check gets its own fresh `CODEX_HOME`, a workspace directory, and a mock Responses server
on 127.0.0.1 (`tests/support/mock_responses.py`) that answers exactly one plain streamed text
turn. The config points the `mock_provider` model provider at it with `approval_policy = "never"`.
A check passes when the client returns the scripted text and the mock saw exactly one
`/responses` request carrying the prompt.

Each check runs in a child process of this script, with a time limit. On stdio, the client
launches a small relay instead of Parley itself. The relay starts Parley, passes the bytes through
unchanged, and records every JSON line both ways (`wire.log`) and Parley's stderr
(`parley.stderr.log`); the WebSocket check keeps only Parley's stderr. A failure prints the
client's error, its traceback tail, the last wire lines and Parley's stderr tail.

Set-up, once (a throwaway venv outside the repository; Python >= 3.12, which
`codex-app-server-sdk` requires; `openai-codex` without its `openai-codex-cli-bin` binary):

    python3.12 -m venv ~/.cache/parley-clients/venv
    ~/.cache/parley-clients/venv/bin/pip install -e <repo>
    ~/.cache/parley-clients/venv/bin/pip install --no-deps openai-codex
    ~/.cache/parley-clients/venv/bin/pip install 'pydantic>=2.12' 'packaging>=26.2' \
        codex-app-server-sdk codex-python-sdk-unofficial codex-app-server-client

Run it with that venv's Python (it prints these commands when something is missing):

    ~/.cache/parley-clients/venv/bin/python scripts/check_clients.py [--check NAME ...]

`--list` names the checks. `--parley PATH` picks the server (default: the `parley` next to the
running Python, else the one on PATH). `--timeout S` sets the time limit of one check (default 60).
`--verbose` prints the wire log of passing checks too. `--keep` keeps the work directories under
`~/.cache/parley-clients/runs/`.

The exit status is 0 when every check that could run passed, 1 when one failed, and 2 when none
could run (set-up missing) or on a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

REPO = Path(__file__).resolve().parent.parent
CACHE = Path.home() / ".cache" / "parley-clients"
VENV = CACHE / "venv"
RUNS = CACHE / "runs"

PROMPT = "say hi"
ANSWER = "Hi! This reply comes from the Parley client check's mock model."
API_KEY = "sk-parley-client-check"
DEFAULT_TIMEOUT = 60.0
TAIL_LINES = 25
WIRE_TAIL_LINES = 30
WIRE_LINE_CHARS = 600


# ================================================================================================
# The checks (what each one needs, and how it drives Parley)
# ================================================================================================


@dataclass(frozen=True)
class Check:
    name: str
    summary: str
    distributions: tuple[str, ...]  # PyPI distributions that must be installed
    modules: tuple[str, ...]  # modules that must import


CHECKS: tuple[Check, ...] = (
    Check(
        "openai-codex",
        "official SDK: Codex(codex_bin=parley).thread_start().run()",
        ("openai-codex",),
        ("openai_codex",),
    ),
    Check(
        "codex-app-server-sdk",
        "stdio: connect_stdio([parley, app-server]) start_thread() chat_once()",
        ("codex-app-server-sdk",),
        ("codex_app_server_sdk",),
    ),
    Check(
        "codex-app-server-sdk-ws",
        "WebSocket: connect_websocket(parley --listen ws://) start_thread() chat_once()",
        ("codex-app-server-sdk",),
        ("codex_app_server_sdk",),
    ),
    Check(
        "codex-python-sdk-unofficial",
        "CodexSDKClient(codex_bin=parley).query().wait()",
        ("codex-python-sdk-unofficial",),
        ("codex_agent_sdk",),
    ),
    Check(
        "codex-app-server-client",
        "CodexAppServer(codex_bin=parley).start_thread().run()",
        ("codex-app-server-client",),
        ("codex_app_server_client",),
    ),
)
CHECKS_BY_NAME = {check.name: check for check in CHECKS}


class CheckFailed(AssertionError):
    """The client ran but what it returned is not what Parley should have produced."""


@dataclass
class Context:
    """What one check's driver gets: where things are and how to launch Parley."""

    parley: Path  # the real `parley` executable
    launcher: Path  # the stdio relay in front of it (an executable script)
    codex_home: Path
    workspace: Path
    work: Path
    env: dict[str, str]  # the environment Parley must run with (full, not a delta)
    timeout: float


def _expect_text(what: str, got: object) -> str:
    if got != ANSWER:
        raise CheckFailed(f"{what} is {got!r}, expected {ANSWER!r}")
    return f"{what} = {got!r}"


async def drive_openai_codex(ctx: Context) -> str:
    from openai_codex import Codex, CodexConfig

    def run() -> str:
        # `env` is merged over os.environ by the SDK; `codex_bin` must be an existing path.
        config = CodexConfig(codex_bin=str(ctx.launcher), cwd=str(ctx.workspace), env=ctx.env)
        with Codex(config) as codex:
            thread = codex.thread_start()  # default approval mode: auto_review
            result = thread.run(PROMPT)
            line = _expect_text("TurnResult.final_response", result.final_response)
            return f"{line}; {len(result.items)} item(s); usage {'set' if result.usage else None}"

    return await asyncio.to_thread(run)


async def drive_app_server_sdk_stdio(ctx: Context) -> str:
    from codex_app_server_sdk import CodexClient

    client = CodexClient.connect_stdio(
        command=[str(ctx.launcher), "app-server"],
        cwd=str(ctx.workspace),
        env=ctx.env,
        request_timeout=ctx.timeout,
        inactivity_timeout=ctx.timeout,
    )
    async with client:
        thread = await client.start_thread()
        result = await thread.chat_once(PROMPT)
    line = _expect_text("ChatResult.final_text", result.final_text)
    return f"{line} (completion_source={result.completion_source})"


async def drive_app_server_sdk_ws(ctx: Context) -> str:
    from codex_app_server_sdk import CodexClient

    async with ParleyWebSocketServer(ctx) as url:
        client = CodexClient.connect_websocket(
            url=url, request_timeout=ctx.timeout, inactivity_timeout=ctx.timeout
        )
        async with client:
            thread = await client.start_thread()
            result = await thread.chat_once(PROMPT)
    line = _expect_text("ChatResult.final_text", result.final_text)
    return f"{line} (completion_source={result.completion_source}, {url})"


async def drive_python_sdk_unofficial(ctx: Context) -> str:
    from codex_agent_sdk import AppServerConfig, CodexSDKClient

    app_server = AppServerConfig(codex_bin=str(ctx.launcher), cwd=str(ctx.workspace), env=ctx.env)
    async with CodexSDKClient(app_server=app_server) as client:
        handle = await client.query(PROMPT)
        result = await handle.wait()
    if result.status != "completed":
        raise CheckFailed(f"TurnResult.status is {result.status!r} (error: {result.error!r})")
    return _expect_text("TurnResult.assistant_text", result.assistant_text)


async def drive_app_server_client(ctx: Context) -> str:
    from codex_app_server_client import CodexAppServer

    # No cwd option: the child process running this check already sits in the workspace.
    async with CodexAppServer(codex_bin=str(ctx.launcher), env=ctx.env) as server:
        thread = await server.start_thread()
        result = await thread.run(PROMPT, timeout_s=ctx.timeout)
    if result.status != "completed":
        raise CheckFailed(f"TurnResult.status is {result.status!r} (error: {result.error!r})")
    return _expect_text("TurnResult.final_response", result.final_response)


DRIVERS: dict[str, Callable[[Context], Awaitable[str]]] = {
    "openai-codex": drive_openai_codex,
    "codex-app-server-sdk": drive_app_server_sdk_stdio,
    "codex-app-server-sdk-ws": drive_app_server_sdk_ws,
    "codex-python-sdk-unofficial": drive_python_sdk_unofficial,
    "codex-app-server-client": drive_app_server_client,
}


# ================================================================================================
# Running one check (in a child process of this script)
# ================================================================================================


def config_toml(responses_uri: str) -> str:
    return f"""model = "mock-model"
approval_policy = "never"
sandbox_mode = "read-only"
model_provider = "mock_provider"

[model_providers.mock_provider]
name = "Mock provider for the client check"
base_url = "{responses_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""


def turn_sse() -> str:
    """One plain text turn, streamed as the real API does: deltas, the done item, usage."""
    from support.sse import (
        ev_assistant_message,
        ev_completed_with_tokens,
        ev_message_item_added,
        ev_output_text_delta,
        ev_response_created,
        sse,
    )

    half = len(ANSWER) // 2
    body: str = sse(
        [
            ev_response_created("resp-1"),
            ev_message_item_added("msg-1", ""),
            ev_output_text_delta(ANSWER[:half]),
            ev_output_text_delta(ANSWER[half:]),
            ev_assistant_message("msg-1", ANSWER),
            ev_completed_with_tokens("resp-1", 42),
        ]
    )
    return body


def write_launcher(path: Path, parley: Path, wire_log: Path, stderr_log: Path) -> Path:
    """An executable that clients can launch as if it were Parley (the relay in front of it)."""
    argv = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--relay",
        str(wire_log),
        str(stderr_log),
        str(parley),
    ]
    path.write_text(f'#!/bin/sh\nexec {shlex.join(argv)} "$@"\n', encoding="utf-8")
    path.chmod(0o755)
    return path


class ParleyWebSocketServer:
    """`parley app-server --listen ws://127.0.0.1:0`; yields the URL it reports on stderr."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._proc: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None

    async def __aenter__(self) -> str:
        log = (self._ctx.work / "parley.stderr.log").open("ab")
        self._proc = await asyncio.create_subprocess_exec(
            str(self._ctx.parley),
            "app-server",
            "--listen",
            "ws://127.0.0.1:0",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self._ctx.workspace,
            env=self._ctx.env,
        )
        assert self._proc.stderr is not None
        deadline = time.monotonic() + 15
        url = None
        while url is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CheckFailed("parley did not report its ws:// address within 15 s")
            line = await asyncio.wait_for(self._proc.stderr.readline(), remaining)
            if not line:
                raise CheckFailed(
                    f"parley exited before listening (status {self._proc.returncode})"
                )
            log.write(line)
            log.flush()
            found = re.search(rb"listening on (ws://\S+)", line)
            if found:
                url = found.group(1).decode()

        async def pump(stream: asyncio.StreamReader) -> None:
            while chunk := await stream.read(65536):
                log.write(chunk)
                log.flush()
            log.close()

        self._pump = asyncio.create_task(pump(self._proc.stderr))
        return url

    async def __aexit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self._proc.wait(), 5)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        if self._pump is not None:
            # Bounded: a grandchild that outlives Parley could hold the pipe open.
            done, _ = await asyncio.wait({self._pump}, timeout=2)
            if not done:
                self._pump.cancel()


async def run_one(name: str, parley: Path, work: Path, budget: float) -> dict[str, Any]:
    """Run check `name` in this process (`budget`: the clients' time limits, in seconds)."""
    if str(REPO / "tests") not in sys.path:
        sys.path.insert(0, str(REPO / "tests"))
    from support.mock_responses import MockResponsesServer

    codex_home = work / "codex_home"
    workspace = work / "workspace"
    codex_home.mkdir(parents=True)
    workspace.mkdir()
    os.chdir(workspace)
    launcher = write_launcher(
        work / "parley-relay", parley, work / "wire.log", work / "parley.stderr.log"
    )
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("CODEX_", "OPENAI_"))
    }
    env.update(CODEX_HOME=str(codex_home), OPENAI_API_KEY=API_KEY)
    result: dict[str, Any] = {"name": name}
    async with MockResponsesServer([turn_sse()]) as mock:
        (codex_home / "config.toml").write_text(config_toml(mock.uri), encoding="utf-8")
        ctx = Context(parley, launcher, codex_home, workspace, work, env, budget)
        started = time.monotonic()
        try:
            detail = await DRIVERS[name](ctx)
            result.update(status="PASS", detail=detail)
        except BaseException as exc:  # report everything, KeyboardInterrupt included
            result.update(
                status="FAIL",
                error=f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}",
                traceback="".join(traceback.format_exception(exc)),
            )
        result["seconds"] = round(time.monotonic() - started, 2)
        bodies = mock.responses_requests()
    result["responses_requests"] = len(bodies)
    if result["status"] == "PASS":
        prompt_seen = len(bodies) == 1 and PROMPT in json.dumps(bodies[0].get("input"))
        if not prompt_seen:
            result.update(
                status="FAIL",
                error=f"the mock saw {len(bodies)} /responses request(s), expected exactly one "
                f"carrying {PROMPT!r}",
            )
    return result


def child_main(name: str, parley: Path, work: Path, timeout: float, out: Path) -> int:
    result = asyncio.run(run_one(name, parley, work, timeout))
    out.write_text(json.dumps(result), encoding="utf-8")
    return 0


# ================================================================================================
# The stdio relay (what clients launch instead of Parley)
# ================================================================================================


class _WireLog:
    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self._partial = {">": b"", "<": b""}
        self._t0 = time.monotonic()

    def note(self, text: str) -> None:
        with self._lock:
            self._file.write(f"{time.monotonic() - self._t0:8.3f} # {text}\n")
            self._file.flush()

    def data(self, direction: str, chunk: bytes) -> None:
        with self._lock:
            buffered = self._partial[direction] + chunk
            *lines, rest = buffered.split(b"\n")
            self._partial[direction] = rest
            stamp = f"{time.monotonic() - self._t0:8.3f}"
            for line in lines:
                text = line.decode("utf-8", "replace")
                self._file.write(f"{stamp} {direction} {text}\n")
            self._file.flush()


def relay_main(wire_log: Path, stderr_log: Path, argv: Sequence[str]) -> int:
    """Start `argv` (Parley), pass stdin/stdout through byte for byte, log both directions."""
    log = _WireLog(wire_log)
    log.note(f"argv: {shlex.join(argv)}")
    with stderr_log.open("ab") as err:
        child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
    assert child.stdin is not None and child.stdout is not None

    def forward_signal(signum: int, _frame: object) -> None:
        log.note(f"relay got signal {signum}; passing it on")
        if child.poll() is None:
            child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward_signal)

    def pump_stdin(sink: BinaryIO) -> None:
        try:
            while chunk := os.read(0, 65536):
                log.data(">", chunk)
                sink.write(chunk)
                sink.flush()
            log.note("client closed stdin")
        except (BrokenPipeError, OSError) as exc:
            log.note(f"stdin relay stopped: {exc}")
        finally:
            try:
                sink.close()
            except OSError:
                pass

    threading.Thread(target=pump_stdin, args=(child.stdin,), daemon=True).start()
    try:
        while chunk := os.read(child.stdout.fileno(), 65536):
            log.data("<", chunk)
            os.write(1, chunk)
    except OSError as exc:
        log.note(f"stdout relay stopped: {exc}")
    status = child.wait()
    log.note(f"parley exited with status {status}")
    return status if status >= 0 else 128 - status


# ================================================================================================
# The parent: set-up checks, one child process per check, the report
# ================================================================================================


def installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def missing_for(check: Check) -> list[str]:
    missing = [d for d in check.distributions if installed_version(d) is None]
    missing += [m for m in check.modules if importlib.util.find_spec(m) is None]
    return missing


def setup_commands() -> str:
    pip = VENV / "bin" / "pip"
    return "\n".join(
        [
            "# Python >= 3.12 (codex-app-server-sdk requires it); on this machine e.g.",
            "# ~/.pyenv/versions/3.12.*/bin/python3",
            f"python3.12 -m venv {VENV}",
            f"{pip} install -e {shlex.quote(str(REPO))}",
            f"{pip} install --no-deps openai-codex   # not its openai-codex-cli-bin binary",
            f"{pip} install 'pydantic>=2.12' 'packaging>=26.2' codex-app-server-sdk \\",
            "    codex-python-sdk-unofficial codex-app-server-client",
            f"{VENV / 'bin' / 'python'} {shlex.quote(str(Path(__file__).resolve()))}",
        ]
    )


def find_parley(explicit: str | None) -> Path | None:
    if explicit is not None:
        path = Path(explicit).expanduser()
        found = path if path.is_file() else shutil.which(explicit)
        return Path(found).resolve() if found else None
    beside = Path(sys.executable).parent / "parley"
    if beside.is_file():
        return beside.absolute()
    on_path = shutil.which("parley")
    return Path(on_path).absolute() if on_path else None


def tail(text: str, lines: int) -> str:
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def shorten(line: str) -> str:
    return line if len(line) <= WIRE_LINE_CHARS else line[:WIRE_LINE_CHARS] + " …"


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def run_child(check: Check, parley: Path, work: Path, timeout: float) -> tuple[dict[str, Any], str]:
    out = work / "result.json"
    argv = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        check.name,
        "--parley",
        str(parley),
        "--work",
        str(work),
        "--timeout",
        str(timeout),
        "--result",
        str(out),
    ]
    # Its own session, so a hung check can be stopped with everything it started.
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        output, _ = proc.communicate(timeout=timeout + 15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        result = {
            "name": check.name,
            "status": "FAIL",
            "error": f"timed out: no result within {timeout + 15:.0f} s (the check was killed)",
        }
        return result, output.decode("utf-8", "replace")
    else:
        # Whatever the client left behind in the check's session (a Parley it never stopped).
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    text = output.decode("utf-8", "replace")
    if out.exists():
        return json.loads(out.read_text(encoding="utf-8")), text
    return (
        {"name": check.name, "status": "FAIL", "error": f"the check exited with {proc.returncode}"},
        text,
    )


def report(result: dict[str, Any], work: Path, output: str, verbose: bool) -> None:
    status = result["status"]
    seconds = f" ({result['seconds']} s)" if "seconds" in result else ""
    print(f"{status}  {result['name']}{seconds}")
    if status == "PASS":
        print(f"      {result.get('detail', '')}")
    else:
        error = str(result.get("error"))
        print("      error: " + error.replace("\n", "\n             "))
        if result.get("traceback"):
            print("      traceback (tail):")
            print(indent(tail(result["traceback"], TAIL_LINES), "        "))
    if status != "PASS" or verbose:
        wire = read_text(work / "wire.log")
        if wire:
            lines = [shorten(line) for line in wire.splitlines()]
            shown = lines if verbose else lines[-WIRE_TAIL_LINES:]
            print(f"      wire ({'all' if verbose else 'tail'}; > client to parley, < parley):")
            print(indent("\n".join(shown), "        "))
        stderr = read_text(work / "parley.stderr.log")
        if stderr.strip():
            print("      parley stderr (tail):")
            print(indent(tail(stderr, TAIL_LINES), "        "))
        if output.strip():
            print("      check process output (tail):")
            print(indent(tail(output, TAIL_LINES), "        "))
    print()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Drive `parley app-server` with the PyPI app-server clients.",
        epilog="Set-up (once):\n" + setup_commands(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--check", action="append", choices=list(CHECKS_BY_NAME), help="run only these checks"
    )
    parser.add_argument("--list", action="store_true", help="name the checks and exit")
    parser.add_argument("--parley", help="the parley executable (default: beside this Python)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per check")
    parser.add_argument("--verbose", action="store_true", help="print wire logs of passes too")
    parser.add_argument("--keep", action="store_true", help=f"keep the work dirs in {RUNS}")
    # Internal: one check in a child process, and the stdio relay.
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--relay"]:
        if len(argv) < 4:
            print("usage: --relay WIRE_LOG STDERR_LOG PROGRAM [ARG ...]", file=sys.stderr)
            return 2
        return relay_main(Path(argv[1]), Path(argv[2]), argv[3:])
    args = parse_args(argv)
    if args.child:
        return child_main(
            args.child, Path(args.parley), Path(args.work), args.timeout, Path(args.result)
        )
    if args.list:
        for check in CHECKS:
            print(f"{check.name:30} {check.summary}")
        return 0

    problems = []
    if importlib.util.find_spec("parley") is None or installed_version("parley") is None:
        problems.append("parley is not installed in this Python (its test mocks need its deps)")
    parley = find_parley(args.parley)
    if parley is None:
        problems.append("no `parley` executable found (use --parley PATH)")
    if problems:
        print("\n".join(f"cannot run: {p}" for p in problems), file=sys.stderr)
        print(f"\nSet-up (once):\n{setup_commands()}", file=sys.stderr)
        return 2
    assert parley is not None

    selected = [CHECKS_BY_NAME[name] for name in args.check] if args.check else list(CHECKS)
    print(f"parley: {parley}  (python {sys.version.split()[0]}: {sys.executable})")
    versions = sorted({d for c in selected for d in c.distributions})
    print("clients: " + ", ".join(f"{d} {installed_version(d) or '(missing)'}" for d in versions))
    print()

    RUNS.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix=time.strftime("run-%Y%m%d-%H%M%S-"), dir=RUNS))
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for check in selected:
        missing = missing_for(check)
        if missing:
            counts["SKIP"] += 1
            print(f"SKIP  {check.name}: not installed here: {', '.join(missing)}\n")
            continue
        work = run_dir / check.name
        work.mkdir()
        result, output = run_child(check, parley, work, args.timeout)
        counts[result["status"]] += 1
        report(result, work, output, args.verbose)

    if args.keep:
        print(f"work directories kept in {run_dir}")
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
    if counts["SKIP"]:
        print(f"Some clients are not installed; set-up (once):\n{setup_commands()}\n")
    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
    if counts["FAIL"]:
        return 1
    return 0 if counts["PASS"] else 2


if __name__ == "__main__":
    sys.exit(main())
