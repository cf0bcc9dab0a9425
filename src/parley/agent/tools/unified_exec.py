"""Unified exec: `exec_command` starts a process that may outlive the call, `write_stdin` talks
to it. Offered instead of `shell_command` when the `unified_exec` feature is on.

`exec_command` starts the script in the user's shell (confined like any agent command), waits
up to `yield_time_ms` and returns the output so far: with the exit code if it ended, else with
the process id the model passes to `write_stdin` (which sends text and waits again). With
`tty: true` the process runs under a pseudo-terminal (programs see a terminal, input is echoed),
and `max_output_tokens` lowers how much output the model gets back. The client
sees one `commandExecution` item per process, carrying `processId`, started when the process
starts and completed when it exits. Running processes belong to the thread (`ProcessTable`);
`thread/backgroundTerminals/clean` and thread shutdown end them.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import errno
import logging
import time
from pathlib import Path
from typing import Any

import orjson

from parley.agent.approval import Decision, parse_decision, plan_exec
from parley.agent.pause import ElicitationPause
from parley.agent.tools.apply_patch import ApplyPatchTool, shell_invocation
from parley.agent.tools.base import CallOutcome, ToolCall, ToolContext
from parley.agent.tools.processes import ExecProcess, ProcessTable, PseudoTerminal
from parley.tools.command_reaper import REAPER
from parley.tools.process_tree import MARKER_VARIABLE, ProcessTree
from parley.tools.sandbox import ConfinedLaunch, SandboxPolicy, confine
from parley.tools.shell import (
    MODEL_OUTPUT_LIMIT,
    NETWORK_DISABLED_VARIABLE,
    command_env,
    display_command,
    format_wall_time,
    shell_argv,
    truncate_middle,
    user_shell,
)

log = logging.getLogger(__name__)

FEATURE = "unified_exec"
EXEC_TOOL = "exec_command"
WRITE_TOOL = "write_stdin"
APPROVAL_METHOD = "item/commandExecution/requestApproval"
DEFAULT_YIELD_MS = 10_000
MIN_YIELD_MS = 250
MAX_YIELD_MS = 30_000
_READ_CHUNK = 64 * 1024
BYTES_PER_TOKEN = 4


def exec_spec() -> dict[str, Any]:
    return {
        "type": "function",
        "name": EXEC_TOOL,
        "description": (
            "Run a shell command. Returns its output after it exits or after `yield_time_ms`, "
            "whichever comes first; a command still running keeps going and can be given input "
            "or polled with `write_stdin` using the returned process id."
        ),
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "cmd": {"type": "string", "description": "The shell script to run."},
                "workdir": {"type": "string", "description": "Directory to run it in."},
                "login": {"type": "boolean", "description": "Use a login shell (default)."},
                "tty": {
                    "type": "boolean",
                    "description": "Run under a pseudo-terminal (for interactive programs).",
                },
                "yield_time_ms": {"type": "number", "description": "How long to wait."},
                "max_output_tokens": {
                    "type": "number",
                    "description": "Most output to return, in tokens (about 4 bytes each).",
                },
            },
            "required": ["cmd"],
            "additionalProperties": False,
        },
    }


def write_spec() -> dict[str, Any]:
    return {
        "type": "function",
        "name": WRITE_TOOL,
        "description": (
            "Send text to the standard input of a process started by `exec_command` (empty "
            "text just waits for more output) and return what it printed since last time."
        ),
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "session_id": {"type": "number", "description": "The process id."},
                "chars": {"type": "string", "description": "Text to write (may be empty)."},
                "yield_time_ms": {"type": "number"},
                "max_output_tokens": {
                    "type": "number",
                    "description": "Most output to return, in tokens (about 4 bytes each).",
                },
            },
            "required": ["session_id"],
            "additionalProperties": False,
        },
    }


def _yield_seconds(value: Any) -> float:
    ms = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    ms = DEFAULT_YIELD_MS if ms is None else min(max(int(ms), MIN_YIELD_MS), MAX_YIELD_MS)
    return ms / 1000


def _output_limit(value: Any) -> int:
    """Characters of output the model gets: `max_output_tokens` (about 4 bytes a token) when
    given and smaller than the usual cap."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return min(MODEL_OUTPUT_LIMIT, int(value) * BYTES_PER_TOKEN)
    return MODEL_OUTPUT_LIMIT


def _report(process: ExecProcess, text: str, limit: int = MODEL_OUTPUT_LIMIT) -> str:
    wall = format_wall_time(time.monotonic() - process.started)
    status = (
        f"Process exited with code {process.exit_code}"
        if process.done
        else f"Process running with session ID {process.process_id}"
    )
    return f"Wall time: {wall} seconds\n{status}\nOutput:\n{truncate_middle(text, limit)}"


async def _wait(process: ExecProcess, seconds: float, pause: ElicitationPause | None) -> None:
    """Until the process exits or `seconds` pass (not counting time the thread is paused)."""
    if process.reader is None or process.done:
        return
    with contextlib.suppress(TimeoutError):
        if pause is None:
            await asyncio.wait_for(asyncio.shield(process.reader), seconds)
        else:
            await pause.wait_for(asyncio.shield(process.reader), seconds)


class ExecCommandTool:
    name = EXEC_TOOL

    def __init__(
        self, context: ToolContext, table: ProcessTable, patches: ApplyPatchTool | None = None
    ) -> None:
        self._ctx = context
        self._table = table
        self._patches = patches

    def spec(self) -> dict[str, Any] | None:
        return exec_spec() if FEATURE in self._ctx.settings.features else None

    async def run(self, call: ToolCall) -> CallOutcome:
        try:
            args = orjson.loads(call.arguments or "{}")
        except orjson.JSONDecodeError as exc:
            return CallOutcome(f"exec_command arguments are not valid JSON: {exc}")
        if not isinstance(args, dict) or not isinstance(args.get("cmd"), str):
            return CallOutcome("exec_command needs `cmd`: the script to run")
        ctx = self._ctx
        cwd = ctx.settings.cwd
        workdir = args.get("workdir")
        # A script that only applies a patch goes to apply_patch, as with shell_command, so
        # the client sees a fileChange item it can approve.
        patch = shell_invocation(args["cmd"]) if self._patches is not None else None
        if patch is not None and self._patches is not None:
            where = patch.workdir or (workdir if isinstance(workdir, str) else None)
            if patch.workdir and isinstance(workdir, str) and workdir:
                where = f"{workdir}/{patch.workdir}"
            return await self._patches.apply(call.call_id, patch.patch, where)
        if isinstance(workdir, str) and workdir:
            cwd = Path(workdir) if Path(workdir).is_absolute() else cwd / workdir
        login = args.get("login") is not False
        argv = shell_argv(user_shell(), args["cmd"], login=login)
        process_id = self._table.next_id()
        item = {
            "type": "commandExecution",
            "id": call.call_id,
            "command": display_command(argv),
            "cwd": str(cwd),
            "processId": process_id,
            "source": "agent",
            "status": "inProgress",
            "commandActions": [{"type": "unknown", "command": args["cmd"]}],
            "aggregatedOutput": None,
            "exitCode": None,
            "durationMs": None,
        }
        ctx.notifier.item_started(item)
        plan = plan_exec(
            ctx.approval_policy,
            confined=ctx.sandbox.confined,
            command=args["cmd"],
            escalation_requested=False,
            justification=None,
            approved_for_session=args["cmd"] in ctx.grants.commands,
        )
        sandbox = ctx.sandbox
        if plan.ask_reason is not None:
            decision = await self._ask(item, plan.ask_reason)
            if not decision.approved:
                ctx.notifier.item_completed({**item, "status": "declined"})
                return CallOutcome(
                    "rejected by user: the command was not run",
                    cancel_turn=decision is Decision.CANCEL,
                )
            if decision is Decision.ACCEPT_FOR_SESSION:
                ctx.grants.commands.add(args["cmd"])
        tty = args.get("tty") is True
        try:
            process = await self._start(process_id, item, argv, cwd, sandbox, plan.sandboxed, tty)
        except (OSError, RuntimeError) as exc:
            message = f"failed to start the command: {exc}"
            ctx.notifier.item_completed({**item, "status": "failed", "aggregatedOutput": message})
            return CallOutcome(message)
        await _wait(process, _yield_seconds(args.get("yield_time_ms")), self._ctx.pause)
        limit = _output_limit(args.get("max_output_tokens"))
        return CallOutcome(_report(process, process.take_unread(), limit))

    async def _ask(self, item: dict[str, Any], reason: str) -> Decision:
        ctx = self._ctx
        params = {
            "threadId": ctx.channel.thread_id,
            "turnId": ctx.channel.turn_id,
            "itemId": item["id"],
            "approvalId": None,
            "reason": reason,
            "command": item["command"],
            "cwd": item["cwd"],
            "commandActions": item["commandActions"],
            "availableDecisions": ["accept", "acceptForSession", "decline", "cancel"],
        }
        try:
            return parse_decision(await ctx.channel.request_client(APPROVAL_METHOD, params))
        except Exception as exc:
            log.info("approval for %s failed (%s); declining", item["id"], exc)
            return Decision.DECLINE

    async def _start(
        self,
        process_id: str,
        item: dict[str, Any],
        argv: list[str],
        cwd: Path,
        sandbox: SandboxPolicy,
        sandboxed: bool,
        tty: bool = False,
    ) -> ExecProcess:
        launch = (
            await asyncio.to_thread(confine, sandbox, argv, cwd)
            if sandboxed
            else ConfinedLaunch(list(argv), ())
        )
        await asyncio.to_thread(REAPER.prepare)
        marker = REAPER.marker()
        env = command_env(self._ctx.settings.shell_environment, self._ctx.channel.thread_id)
        if sandboxed and sandbox.network_disabled:
            env[NETWORK_DISABLED_VARIABLE] = "1"
        env[MARKER_VARIABLE] = marker
        terminal = PseudoTerminal.open() if tty else None
        if terminal is not None:
            env.setdefault("TERM", "xterm-256color")
        try:
            proc = await asyncio.create_subprocess_exec(
                *launch.argv,
                cwd=str(cwd),
                stdin=terminal.child if terminal else asyncio.subprocess.PIPE,
                stdout=terminal.child if terminal else asyncio.subprocess.PIPE,
                stderr=terminal.child if terminal else asyncio.subprocess.STDOUT,
                start_new_session=True,
                env=env,
                pass_fds=launch.pass_fds,
            )
        except BaseException:
            if terminal is not None:
                terminal.close()
            raise
        finally:
            launch.close()
            if terminal is not None:
                terminal.close_child()
        REAPER.started(proc.pid)
        process = ExecProcess(
            process_id, item, proc, ProcessTree(proc.pid, marker), self._ctx.notifier
        )
        process.terminal = terminal
        output = await terminal.reader() if terminal is not None else proc.stdout
        assert output is not None
        process.reader = asyncio.create_task(_pump(process, output))
        self._table.processes[process_id] = process
        return process


async def _read(output: asyncio.StreamReader) -> bytes:
    try:
        return await output.read(_READ_CHUNK)
    except OSError as exc:
        # A terminal's reading end fails with EIO once every writer has closed: its EOF.
        if exc.errno == errno.EIO:
            return b""
        raise


async def _pump(process: ExecProcess, output: asyncio.StreamReader) -> None:
    """Reads the process's output until it exits, then completes its item."""
    proc = process.proc
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        while True:
            chunk = await _read(output)
            text = decoder.decode(chunk, final=not chunk)
            if text:
                process.output.append(text)
                process.unread.append(text)
                process.notifier.notify(
                    "item/commandExecution/outputDelta",
                    {"itemId": process.item["id"], "delta": text},
                )
            if not chunk:
                break
        code = await proc.wait()
    except asyncio.CancelledError:
        process.kill()
        code = await proc.wait()
    finally:
        if process.terminal is not None:
            process.terminal.close()
    REAPER.finished(proc.pid)
    process.exit_code = 128 - code if code < 0 else code
    duration = int((time.monotonic() - process.started) * 1000)
    process.notifier.item_completed(
        {
            **process.item,
            "status": "completed" if process.exit_code == 0 else "failed",
            "aggregatedOutput": process.output.text(),
            "exitCode": process.exit_code,
            "durationMs": duration,
        }
    )


class WriteStdinTool:
    name = WRITE_TOOL

    def __init__(self, context: ToolContext, table: ProcessTable) -> None:
        self._ctx = context
        self._table = table

    def spec(self) -> dict[str, Any] | None:
        return write_spec() if FEATURE in self._ctx.settings.features else None

    async def run(self, call: ToolCall) -> CallOutcome:
        try:
            args = orjson.loads(call.arguments or "{}")
        except orjson.JSONDecodeError as exc:
            return CallOutcome(f"write_stdin arguments are not valid JSON: {exc}")
        raw_id = args.get("session_id") if isinstance(args, dict) else None
        process = None
        if isinstance(raw_id, int | float | str) and str(raw_id).split(".")[0].isdigit():
            process = self._table.processes.get(str(raw_id).split(".")[0])
        if process is None:
            return CallOutcome(f"no running process with session ID {raw_id}")
        chars = args.get("chars")
        if isinstance(chars, str) and chars and not process.done:
            if process.terminal is not None:
                with contextlib.suppress(OSError):
                    await process.terminal.write(chars.encode())
            elif process.proc.stdin is not None:
                stdin = process.proc.stdin
                with contextlib.suppress(ConnectionError, BrokenPipeError):
                    stdin.write(chars.encode())
                    await stdin.drain()
        await _wait(process, _yield_seconds(args.get("yield_time_ms")), self._ctx.pause)
        limit = _output_limit(args.get("max_output_tokens"))
        report = _report(process, process.take_unread(), limit)
        if process.done:
            self._table.processes.pop(process.process_id, None)
        return CallOutcome(report)
