"""The `shell_command` tool: its function schema, argument parsing, and running one command.

A call runs ``[<user shell>, "-lc", command]`` (``-c`` when the model passes ``login: false``)
in ``workdir`` or the turn's cwd, confined by bubblewrap unless the sandbox mode is
``danger-full-access``; when the thread has a shell snapshot the same command runs through it
instead of a login shell (``parley.tools.shell_snapshot``; the caller picks the argv). The
environment is the one `shell_environment_policy` builds (``parley.tools.environment``).
stdout and stderr are merged in arrival order, streamed to a callback as text, and kept
(capped) for the item's ``aggregatedOutput`` and for the model.

The whole process tree is killed on timeout, on cancellation (turn interrupt) and when the
command's main process exits while descendants still run (a command's background processes do
not outlive its call); see ``parley.tools.process_tree`` for how the tree is found, and
``parley.tools.command_reaper`` for what ends commands when the server itself is killed.

Approvals and item notifications are not handled here (``parley.agent.command_call`` does).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from parley.config.shell_environment import ShellEnvironmentPolicy
from parley.tools.command_reaper import REAPER
from parley.tools.environment import command_environment
from parley.tools.process_tree import MARKER_VARIABLE, ProcessTree
from parley.tools.sandbox import ConfinedLaunch, SandboxPolicy, confine
from parley.tools.sandbox import SandboxUnavailableError as SandboxUnavailableError

SHELL_TOOL_NAME = "shell_command"
DEFAULT_TIMEOUT_MS = 10_000
MAX_TIMEOUT_MS = 24 * 3600 * 1000
TIMEOUT_EXIT_CODE = 124
# Cap on what a command's output may occupy in memory / in the item (head and tail are kept).
AGGREGATED_OUTPUT_LIMIT = 1024 * 1024
# Cap on what is given back to the model for one call.
MODEL_OUTPUT_LIMIT = 10_000
# Cap on output streamed as item/commandExecution/outputDelta notifications for one call.
STREAMED_OUTPUT_LIMIT = 1024 * 1024
# Set for confined commands whose network is off, as the reference does.
NETWORK_DISABLED_VARIABLE = "CODEX_SANDBOX_NETWORK_DISABLED"
# After the main process exits, how long leftover descendants may keep the output pipe open.
DRAIN_GRACE_S = 0.2
TREE_SCAN_INTERVAL_S = 0.2
_READ_CHUNK = 64 * 1024


def shell_tool_spec(*, allow_escalation: bool) -> dict[str, Any]:
    """The Responses `function` tool the model calls to run a command."""
    properties: dict[str, Any] = {
        "command": {
            "type": "string",
            "description": "The shell script to run, as one string (it is passed to the user's "
            "shell with -lc).",
        },
        "workdir": {
            "type": "string",
            "description": "Directory to run in; defaults to the session's working directory.",
        },
        "timeout_ms": {
            "type": "number",
            "description": f"Timeout in milliseconds (default {DEFAULT_TIMEOUT_MS}).",
        },
        "login": {
            "type": "boolean",
            "description": "Run as a login shell (default true).",
        },
    }
    if allow_escalation:
        properties["sandbox_permissions"] = {
            "type": "string",
            "enum": ["use_default", "require_escalated"],
            "description": "Set to require_escalated to ask the user to run this command "
            "outside the sandbox (for example when it needs the network or to write outside "
            "the workspace).",
        }
        properties["justification"] = {
            "type": "string",
            "description": "With require_escalated: one sentence telling the user why.",
        }
    return {
        "type": "function",
        "name": SHELL_TOOL_NAME,
        "description": "Runs a shell command and returns its exit code and output.",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": ["command"],
            "additionalProperties": False,
        },
    }


@dataclass(frozen=True)
class ShellCall:
    """The model's arguments for one `shell_command` call."""

    command: str
    workdir: str | None = None
    timeout_ms: int | None = None
    login: bool = True
    escalation_requested: bool = False
    justification: str | None = None

    @classmethod
    def parse(cls, arguments: str) -> ShellCall:
        """Parses the call's JSON arguments; ValueError says what is wrong, for the model."""
        try:
            raw = orjson.loads(arguments or "{}")
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"failed to parse function arguments: {exc}") from None
        if not isinstance(raw, dict):
            raise ValueError("failed to parse function arguments: expected a JSON object")
        command = raw.get("command")
        if isinstance(command, list) and all(isinstance(p, str) for p in command):
            command = shlex.join(command)  # tolerate the argv form other tools use
        if not isinstance(command, str) or not command.strip():
            raise ValueError("failed to parse function arguments: `command` must be a string")
        workdir = raw.get("workdir")
        if workdir is not None and not isinstance(workdir, str):
            raise ValueError("failed to parse function arguments: `workdir` must be a string")
        timeout = raw.get("timeout_ms")
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
                raise ValueError(
                    "failed to parse function arguments: `timeout_ms` must be a positive number"
                )
            timeout = min(int(timeout), MAX_TIMEOUT_MS)
        login = raw.get("login")
        justification = raw.get("justification")
        return cls(
            command=command,
            workdir=workdir or None,
            timeout_ms=timeout,
            login=login if isinstance(login, bool) else True,
            escalation_requested=raw.get("sandbox_permissions") == "require_escalated"
            or raw.get("with_escalated_permissions") is True,
            justification=justification if isinstance(justification, str) else None,
        )

    @property
    def timeout_s(self) -> float:
        return (self.timeout_ms or DEFAULT_TIMEOUT_MS) / 1000


def user_shell() -> str:
    shell = os.environ.get("SHELL", "")
    if shell.startswith("/") and os.access(shell, os.X_OK):
        return shell
    return "/bin/bash" if os.access("/bin/bash", os.X_OK) else "/bin/sh"


def shell_argv(shell: str, command: str, *, login: bool = True) -> list[str]:
    return [shell, "-lc" if login else "-c", command]


_BARE = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")
_DOUBLE_QUOTE_SPECIAL = set('"$`\\!')


def quote_arg(arg: str) -> str:
    """Quotes like the reference: bare, else '…', else "…" when the text holds a quote."""
    if arg and _BARE.match(arg):
        return arg
    if "'" not in arg:
        return f"'{arg}'"
    if not _DOUBLE_QUOTE_SPECIAL.intersection(arg):
        return f'"{arg}"'
    return shlex.quote(arg)


def display_command(argv: list[str]) -> str:
    """The item's `command` string, e.g. ``/bin/bash -lc 'printf realtime-tool-ok'``."""
    return " ".join(quote_arg(a) for a in argv)


def command_env(
    environment_policy: ShellEnvironmentPolicy | None = None, thread_id: str | None = None
) -> dict[str, str]:
    """The server's environment filtered by `environment_policy` (default: the defaults)."""
    policy = environment_policy or ShellEnvironmentPolicy()
    return command_environment(policy, os.environ, thread_id)


class OutputBuffer:
    """Keeps the first and last `limit/2` characters of a stream and counts the rest."""

    def __init__(self, limit: int) -> None:
        self._half = max(limit // 2, 1)
        self._head: list[str] = []
        self._head_len = 0
        self._tail = ""
        self.total = 0

    def append(self, text: str) -> None:
        self.total += len(text)
        if self._head_len < self._half:
            take = text[: self._half - self._head_len]
            self._head.append(take)
            self._head_len += len(take)
            text = text[len(take) :]
        if text:
            self._tail = (self._tail + text)[-self._half :]

    def text(self) -> str:
        head = "".join(self._head)
        omitted = self.total - len(head) - len(self._tail)
        if omitted <= 0:
            return head + self._tail
        return f"{head}\n[... {omitted} characters of output omitted ...]\n{self._tail}"


def truncate_middle(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    buffer = OutputBuffer(limit)
    buffer.append(text)
    return buffer.text()


@dataclass(frozen=True)
class CommandResult:
    exit_code: int
    output: str  # stdout+stderr as the item's aggregatedOutput (capped)
    duration_s: float
    timed_out: bool = False

    @property
    def duration_ms(self) -> int:
        return int(self.duration_s * 1000)


def format_wall_time(seconds: float) -> str:
    text = f"{round(seconds, 1):.1f}"
    return text[:-2] if text.endswith(".0") else text


def format_for_model(result: CommandResult, timeout_ms: int | None = None) -> str:
    """The function_call_output text: exit code, wall time and (capped) output."""
    output = result.output
    if result.timed_out:
        limit = timeout_ms if timeout_ms is not None else int(result.duration_s * 1000)
        output = f"{output}\ncommand timed out after {limit} milliseconds"
    lines = [
        f"Exit code: {result.exit_code}",
        f"Wall time: {format_wall_time(result.duration_s)} seconds",
    ]
    if len(output) > MODEL_OUTPUT_LIMIT:
        lines.append(f"Total output lines: {output.count(chr(10)) + 1}")
    lines.append("Output:")
    return "\n".join(lines) + "\n" + truncate_middle(output, MODEL_OUTPUT_LIMIT)


def _prepare(policy: SandboxPolicy, argv: list[str], cwd: Path) -> ConfinedLaunch:
    REAPER.prepare()  # the watcher exists before the first command does
    return confine(policy, argv, cwd)


async def run_command(
    argv: list[str],
    *,
    cwd: Path,
    policy: SandboxPolicy,
    timeout_s: float,
    on_output: Callable[[str], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> CommandResult:
    """Runs `argv` in `cwd` under `policy`; kills its whole tree on timeout or cancellation.

    Raises SandboxUnavailableError (before starting anything) when the policy confines the
    command and bubblewrap cannot run, and OSError when the program cannot be started.
    """
    launch = await asyncio.to_thread(_prepare, policy, argv, cwd)
    marker = REAPER.marker()
    proc_env = dict(env) if env is not None else command_env()
    if policy.network_disabled:
        proc_env[NETWORK_DISABLED_VARIABLE] = "1"
    proc_env[MARKER_VARIABLE] = marker
    started = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *launch.argv,
            cwd=str(cwd),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env=proc_env,
            pass_fds=launch.pass_fds,
        )
    finally:
        launch.close()
    REAPER.started(proc.pid)
    tree = ProcessTree(proc.pid, marker)
    buffer = OutputBuffer(AGGREGATED_OUTPUT_LIMIT)
    streamed = 0

    async def read_output() -> None:
        nonlocal streamed
        assert proc.stdout is not None
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            chunk = await proc.stdout.read(_READ_CHUNK)
            text = decoder.decode(chunk, final=not chunk)
            if text:
                buffer.append(text)
                if on_output is not None and streamed < STREAMED_OUTPUT_LIMIT:
                    streamed += len(text)
                    on_output(text)
            if not chunk:
                return

    async def watch_tree() -> None:
        while True:
            await asyncio.sleep(TREE_SCAN_INTERVAL_S)
            tree.refresh()

    reader = asyncio.create_task(read_output())
    watcher = asyncio.create_task(watch_tree())
    timed_out = False
    try:
        try:
            await asyncio.wait_for(proc.wait(), timeout_s)
        except TimeoutError:
            timed_out = True
        else:
            # Descendants still holding the output pipe get a short grace.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), DRAIN_GRACE_S)
        tree.kill()
        await proc.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(reader), 2.0)
    finally:
        watcher.cancel()
        if not reader.done() or proc.returncode is None:
            # Cancelled (turn interrupt) or failed: nothing of the command may survive.
            tree.kill()
            reader.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(proc.wait(), 2.0)
        with contextlib.suppress(BaseException):
            await watcher
        with contextlib.suppress(BaseException):
            await reader
        REAPER.finished(proc.pid)
        launch.finished()
    duration = time.monotonic() - started
    returncode = proc.returncode if proc.returncode is not None else -1
    if timed_out:
        exit_code = TIMEOUT_EXIT_CODE
    elif returncode < 0:
        exit_code = 128 - returncode  # killed by a signal, as a shell reports it
    else:
        exit_code = returncode
    return CommandResult(exit_code, buffer.text(), duration, timed_out)
