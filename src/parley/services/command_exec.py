"""`command/exec`: one command run for a client outside any thread, streamed or buffered.

Three layers:

* `ExecSpec.from_params` checks a request and resolves its defaults (timeout, output cap,
  sandbox policy, environment, terminal size) without touching the system; its errors carry the
  reference's wording and codes.
* `OutputCap` decides, chunk by chunk, how much of a stream is kept and when the cap is reached.
* `RunningCommand` is the I/O: it starts the argv (through bubblewrap when the policy confines
  it, see `parley.tools.sandbox`) on pipes or on a pseudo-terminal, forwards stdin writes,
  resizes and termination, reports output through a callback and returns the exit code and the
  buffered output. Terminating kills the whole process tree (`parley.tools.process_tree`).

`CommandExecProcesses` is one connection's table of running commands, keyed by the client's
`processId`; process ids never cross connections. Notifications and responses are the
handler's business (`parley.server.handlers.command_exec`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import errno
import fcntl
import os
import signal
import struct
import termios
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from parley.config.shell_environment import ShellEnvironmentPolicy
from parley.protocol import models as m
from parley.rpc.errors import ClientError, InternalError, InvalidParams
from parley.tools.command_reaper import REAPER
from parley.tools.process_tree import MARKER_VARIABLE, ProcessTree
from parley.tools.sandbox import (
    ConfinedLaunch,
    SandboxMode,
    SandboxPolicy,
    SandboxUnavailableError,
    confine,
)
from parley.tools.shell import NETWORK_DISABLED_VARIABLE, command_env

DEFAULT_TIMEOUT_MS = 10_000
DEFAULT_OUTPUT_BYTES_CAP = 1024 * 1024
TIMEOUT_EXIT_CODE = 124
DEFAULT_TERMINAL_SIZE = (24, 80)
# After the command exits, how long descendants may keep its output open before being killed.
DRAIN_GRACE_S = 2.0
_READ_CHUNK = 64 * 1024
# What closing stdin means on a terminal: end-of-file (Ctrl-D) at the start of a line.
_PTY_EOF = b"\x04"


class OutputStream(StrEnum):
    STDOUT = "stdout"
    STDERR = "stderr"


@dataclass(frozen=True)
class ExecSpec:
    """A checked `command/exec` request with every default resolved."""

    argv: list[str]
    process_id: str | None
    tty: bool
    stream_stdin: bool
    stream_output: bool
    output_cap: int | None  # None: no cap
    timeout_s: float | None  # None: no timeout
    cwd: Path
    env: dict[str, str]
    policy: SandboxPolicy
    size: tuple[int, int] | None  # rows, cols

    @classmethod
    def from_params(
        cls,
        params: m.CommandExecParams,
        *,
        server_cwd: Path,
        sandbox_mode: str,
        base_env: Mapping[str, str] | None = None,
        environment_policy: ShellEnvironmentPolicy | None = None,
    ) -> ExecSpec:
        """Checks `params` in the reference's order; raises ClientError/InvalidParams."""
        if not params.command:
            raise ClientError("command must not be empty")
        tty = bool(params.tty)
        if params.size is not None and not tty:
            raise InvalidParams("command/exec size requires tty: true")
        if params.disable_output_cap and params.output_bytes_cap is not None:
            raise InvalidParams("command/exec cannot set both outputBytesCap and disableOutputCap")
        if params.disable_timeout and params.timeout_ms is not None:
            raise InvalidParams("command/exec cannot set both timeoutMs and disableTimeout")
        cwd = server_cwd / params.cwd if params.cwd else server_cwd
        if params.timeout_ms is not None and params.timeout_ms < 0:
            raise InvalidParams(
                f"command/exec timeoutMs must be non-negative, got {params.timeout_ms}"
            )
        size = terminal_size(params.size) if params.size is not None else None
        stream_stdin = tty or bool(params.stream_stdin)
        stream_output = tty or bool(params.stream_stdout_stderr)
        if params.process_id is None and (tty or stream_stdin or stream_output):
            raise ClientError("command/exec tty or streaming requires a client-supplied processId")
        policy = sandbox_policy(params.sandbox_policy, sandbox_mode, cwd)
        env = dict(base_env) if base_env is not None else _client_command_env(environment_policy)
        for name, value in (params.env or {}).items():
            if value is None:
                env.pop(name, None)
            elif isinstance(value, str):
                env[name] = value
            else:
                raise ClientError(f"Invalid request: `env.{name}` must be a string or null")
        if params.disable_timeout:
            timeout_s = None
        else:
            timeout_ms = params.timeout_ms if params.timeout_ms is not None else DEFAULT_TIMEOUT_MS
            timeout_s = timeout_ms / 1000
        if params.disable_output_cap:
            cap = None
        else:
            cap = (
                params.output_bytes_cap
                if params.output_bytes_cap is not None
                else DEFAULT_OUTPUT_BYTES_CAP
            )
        return cls(
            argv=list(params.command),
            process_id=params.process_id,
            tty=tty,
            stream_stdin=stream_stdin,
            stream_output=stream_output,
            output_cap=cap,
            timeout_s=timeout_s,
            cwd=cwd,
            env=env,
            policy=policy,
            size=size,
        )


def terminal_size(size: m.CommandExecTerminalSize) -> tuple[int, int]:
    if size.rows == 0 or size.cols == 0:
        raise InvalidParams("command/exec size rows and cols must be greater than 0")
    return size.rows, size.cols


def sandbox_policy(requested: Any, configured_mode: str, cwd: Path) -> SandboxPolicy:
    """The policy a request names (the `turn/start` shapes), else the configured mode."""
    if requested is None:
        return SandboxPolicy.for_turn(configured_mode, cwd)
    kind = getattr(requested, "type", None)
    if kind == "dangerFullAccess":
        return SandboxPolicy.for_turn(SandboxMode.DANGER_FULL_ACCESS, cwd)
    if kind == "externalSandbox":
        # The client confines the server itself: Parley adds no sandbox of its own.
        return SandboxPolicy.for_turn(SandboxMode.DANGER_FULL_ACCESS, cwd)
    network = bool(getattr(requested, "network_access", False))
    if kind == "workspaceWrite":
        base = SandboxPolicy.for_turn(SandboxMode.WORKSPACE_WRITE, cwd, network)
        extra = tuple(Path(os.path.realpath(root)) for root in requested.writable_roots or [])
        roots = base.writable_roots + tuple(r for r in extra if r not in base.writable_roots)
        return SandboxPolicy(base.mode, roots, network)
    return SandboxPolicy.for_turn(SandboxMode.READ_ONLY, cwd)


@dataclass
class OutputCap:
    """How much of one stream is kept: at most `limit` bytes (None: everything)."""

    limit: int | None
    seen: int = 0

    @property
    def reached(self) -> bool:
        return self.limit is not None and self.seen >= self.limit

    def take(self, chunk: bytes) -> tuple[bytes, bool]:
        """The part of `chunk` within the cap, and whether the cap is now reached."""
        if self.limit is None:
            return chunk, False
        kept = chunk[: max(self.limit - self.seen, 0)]
        self.seen += len(kept)
        return kept, self.reached


def decode_base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidParams(f"invalid {what}: {exc}") from None


def _client_command_env(policy: ShellEnvironmentPolicy | None) -> dict[str, str]:
    """The environment of a client's own command: the server's, filtered like the agent's
    commands (no secrets), except that `CODEX_HOME` is kept, as the reference keeps it (the
    credentials in it stay hidden by the sandbox)."""
    env = command_env(policy)
    codex_home = os.environ.get("CODEX_HOME")
    if codex_home is not None:
        env.setdefault("CODEX_HOME", codex_home)
    return env


def exit_code_of(returncode: int | None) -> int:
    if returncode is None:
        return -1
    return 128 - returncode if returncode < 0 else returncode


OutputCallback = Callable[[OutputStream, bytes, bool], None]


@dataclass
class ExecResult:
    exit_code: int
    stdout: str
    stderr: str


class RunningCommand:
    """One started command; `wait()` returns its result once it and its output are done."""

    def __init__(self, spec: ExecSpec, on_output: OutputCallback) -> None:
        self.spec = spec
        self._on_output = on_output
        self._proc: asyncio.subprocess.Process | None = None
        self._tree: ProcessTree | None = None
        self._master: int | None = None  # the terminal's controlling side, in tty mode
        self._stdin_closed = False
        self._timed_out = False
        self._buffers: dict[OutputStream, bytearray] = {s: bytearray() for s in OutputStream}
        self._readers: list[asyncio.Task[None]] = []
        self._launch: ConfinedLaunch | None = None

    async def start(self) -> None:
        """Starts the process; ClientError/InternalError say why it could not start."""
        spec = self.spec
        argv = spec.argv
        launch: ConfinedLaunch | None = None
        if spec.policy.confined:
            # The same confinement as the agent's commands: user namespace, no capabilities,
            # the seccomp filter, protected config and hidden credentials.
            try:
                launch = await asyncio.to_thread(confine, spec.policy, argv, spec.cwd)
            except SandboxUnavailableError as exc:
                raise InternalError(f"exec failed: {exc}") from None
            argv = launch.argv
            self._launch = launch
        await asyncio.to_thread(REAPER.prepare)
        marker = REAPER.marker()
        env = {**spec.env, MARKER_VARIABLE: marker}
        if spec.policy.network_disabled:
            env[NETWORK_DISABLED_VARIABLE] = "1"
        pass_fds = launch.pass_fds if launch is not None else ()
        try:
            if spec.tty:
                self._proc = await self._spawn_on_terminal(argv, env, pass_fds)
            else:
                self._proc = await asyncio.create_subprocess_exec(
                    *argv,
                    cwd=str(spec.cwd),
                    env=env,
                    stdin=asyncio.subprocess.PIPE
                    if spec.stream_stdin
                    else asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    start_new_session=True,
                    pass_fds=pass_fds,
                )
        except OSError as exc:
            raise InternalError(f"failed to spawn command: {exc}") from None
        finally:
            if launch is not None:
                launch.close()
        REAPER.started(self._proc.pid)
        self._tree = ProcessTree(self._proc.pid, marker)
        if self._master is not None:
            self._readers.append(asyncio.create_task(self._read_terminal(self._master)))
        else:
            assert self._proc.stdout is not None and self._proc.stderr is not None
            self._readers.append(
                asyncio.create_task(self._read_pipe(self._proc.stdout, OutputStream.STDOUT))
            )
            self._readers.append(
                asyncio.create_task(self._read_pipe(self._proc.stderr, OutputStream.STDERR))
            )

    async def _spawn_on_terminal(
        self, argv: list[str], env: dict[str, str], pass_fds: tuple[int, ...]
    ) -> asyncio.subprocess.Process:
        master, slave = os.openpty()
        try:
            rows, cols = self.spec.size or DEFAULT_TERMINAL_SIZE
            _set_window_size(master, rows, cols)
            env.setdefault("TERM", "xterm-256color")
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=str(self.spec.cwd),
                env=env,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                start_new_session=True,
                pass_fds=pass_fds,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        self._master = master
        return proc

    # ---- output ------------------------------------------------------------------------
    def _deliver(self, stream: OutputStream, cap: OutputCap, chunk: bytes) -> None:
        if cap.reached:
            return  # later output of a capped stream is dropped (still drained)
        kept, reached = cap.take(chunk)
        if self.spec.stream_output:
            self._on_output(stream, kept, reached)
        else:
            self._buffers[stream] += kept

    async def _read_pipe(self, reader: asyncio.StreamReader, stream: OutputStream) -> None:
        cap = OutputCap(self.spec.output_cap)
        while chunk := await reader.read(_READ_CHUNK):
            self._deliver(stream, cap, chunk)

    async def _read_terminal(self, master: int) -> None:
        cap = OutputCap(self.spec.output_cap)
        loop = asyncio.get_running_loop()
        while True:
            readable: asyncio.Future[None] = loop.create_future()
            loop.add_reader(master, _wake, readable)
            try:
                await readable
            finally:
                loop.remove_reader(master)
            try:
                chunk = os.read(master, _READ_CHUNK)
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno == errno.EIO:  # every holder of the terminal's other side is gone
                    return
                raise
            if not chunk:
                return
            self._deliver(OutputStream.STDOUT, cap, chunk)

    # ---- control -----------------------------------------------------------------------
    async def write(self, data: bytes, close_stdin: bool) -> None:
        if not self.spec.stream_stdin:
            raise ClientError("stdin streaming is not enabled for this command/exec")
        if data:
            if self._stdin_closed:
                raise ClientError("stdin is already closed")
            await self._write_stdin(data)
        if close_stdin and not self._stdin_closed:
            self._stdin_closed = True
            if self._master is not None:
                await self._write_stdin(_PTY_EOF)
            elif self._proc is not None and self._proc.stdin is not None:
                self._proc.stdin.close()

    async def _write_stdin(self, data: bytes) -> None:
        try:
            if self._master is not None:
                await _write_fd(self._master, data)
            elif self._proc is not None and self._proc.stdin is not None:
                self._proc.stdin.write(data)
                await self._proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError, OSError):
            raise ClientError("stdin is already closed") from None

    def resize(self, rows: int, cols: int) -> None:
        if self._master is None:
            raise ClientError("failed to resize PTY: command/exec was not started with tty: true")
        try:
            _set_window_size(self._master, rows, cols)
        except OSError as exc:
            raise ClientError(f"failed to resize PTY: {exc}") from None
        # Without a controlling terminal (bubblewrap starts a new session) the kernel does not
        # signal the size change, so tell the command's processes the way a terminal would.
        if self._tree is not None:
            for stat in self._tree.refresh():
                with contextlib.suppress(OSError):
                    os.kill(stat.pid, signal.SIGWINCH)

    def terminate(self) -> None:
        if self._tree is not None:
            self._tree.kill()

    # ---- completion --------------------------------------------------------------------
    async def wait(self) -> ExecResult:
        proc = self._proc
        assert proc is not None, "start() first"
        try:
            try:
                await asyncio.wait_for(proc.wait(), self.spec.timeout_s)
            except TimeoutError:
                self._timed_out = True
                self.terminate()
                await proc.wait()
            if self._readers:
                _done, pending = await asyncio.wait(self._readers, timeout=DRAIN_GRACE_S)
                if pending:
                    self.terminate()  # descendants still hold the output open
                    await asyncio.wait(pending, timeout=DRAIN_GRACE_S)
        finally:
            REAPER.finished(proc.pid)
            self._finish()
        code = TIMEOUT_EXIT_CODE if self._timed_out else exit_code_of(proc.returncode)
        return ExecResult(
            exit_code=code,
            stdout=self._buffers[OutputStream.STDOUT].decode("utf-8", "replace"),
            stderr=self._buffers[OutputStream.STDERR].decode("utf-8", "replace"),
        )

    def _finish(self) -> None:
        """Nothing of the command survives its call, and its descriptors are closed."""
        if self._proc is not None and self._proc.returncode is None:
            self.terminate()
        elif self._tree is not None and self._tree.refresh():
            self.terminate()
        for reader in self._readers:
            reader.cancel()
        if self._launch is not None:
            self._launch.finished()  # mount points bwrap left in the workspace
        if self._master is not None:
            with contextlib.suppress(OSError):
                os.close(self._master)
            self._master = None


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _set_window_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


async def _write_fd(fd: int, data: bytes) -> None:
    loop = asyncio.get_running_loop()
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            ready: asyncio.Future[None] = loop.create_future()
            loop.add_writer(fd, _wake, ready)
            try:
                await ready
            finally:
                loop.remove_writer(fd)
            continue
        view = view[written:]


@dataclass
class CommandExecProcesses:
    """One connection's running commands, by the client's `processId`."""

    # Client ids are strings; commands started without one get an int only Parley knows.
    running: dict[str | int, RunningCommand] = field(default_factory=dict)
    _next_internal_id: int = 0

    def internal_id(self) -> int:
        self._next_internal_id += 1
        return self._next_internal_id

    def claim(self, process_id: str | int, command: RunningCommand) -> None:
        if process_id in self.running:
            raise ClientError(f"duplicate active command/exec process id: {_quoted(process_id)}")
        self.running[process_id] = command

    def release(self, process_id: str | int, command: RunningCommand) -> None:
        if self.running.get(process_id) is command:
            del self.running[process_id]

    def get(self, process_id: str) -> RunningCommand:
        command = self.running.get(process_id)
        if command is None:
            raise ClientError(f"no active command/exec for process id {_quoted(process_id)}")
        return command

    def terminate_all(self) -> None:
        for command in list(self.running.values()):
            command.terminate()


def _quoted(process_id: str | int) -> str:
    """The id as the reference's messages show it: a JSON string."""
    if isinstance(process_id, int):
        return str(process_id)
    escaped = process_id.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
