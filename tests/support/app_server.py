"""Drives a real `parley app-server` subprocess over stdio, as upstream's `McpProcess` does.

`AppServerProcess` starts `python -m parley app-server` with `CODEX_HOME` pointing at the test's
directory and `OPENAI_API_KEY` removed, writes JSON-RPC requests as JSON lines on stdin (integer
ids counting up from 0) and reads JSON lines from stdout. The child's stderr goes to
`<CODEX_HOME>/app-server.stderr.log` and its tail is quoted in every failure.

Reading follows upstream semantics: `read_stream_until_*` first searches the messages it buffered
earlier, oldest first, then reads on, buffering every message that does not match. Assertions are
therefore first-in-first-out per kind of message, not about the global order. Each read has a
deadline (10 s by default) and fails with what was received instead.

Every message the server writes is checked: it must be a JSON object shaped like a JSON-RPC
response, error, notification or request, and, when `tests/support/schema.py` is available, valid
against the 0.120 protocol schema (responses by the method of the request they answer). A
violation fails the next read (or `close()`), wherever it was found.
"""

# Reads take their own deadline so a timeout can report what was received instead.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import sys
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol

import orjson

__all__ = [
    "DEFAULT_CLIENT_NAME",
    "DEFAULT_TIMEOUT",
    "AppServerError",
    "AppServerProcess",
    "ReadTimeout",
    "SpawnAppServer",
]

DEFAULT_CLIENT_NAME = "codex-app-server-tests"
# Safety nets only (a loaded 2-core CI machine can take seconds to start a server); no test
# passes or fails by how fast an answer comes.
DEFAULT_TIMEOUT = 30.0
EXIT_TIMEOUT = 15.0
STDERR_FILE_NAME = "app-server.stderr.log"
# A realtime appendAudio line can carry megabytes of base64; don't let the line reader choke.
_LINE_LIMIT = 256 * 1024 * 1024
_STDERR_TAIL_LINES = 40
_SUMMARY_CHARS = 300

Message = dict[str, Any]
RequestId = int | str


class AppServerError(AssertionError):
    """The server answered a request with a JSON-RPC error where a result was expected."""

    def __init__(self, method: str, error: Message) -> None:
        super().__init__(f"{method} failed: {orjson.dumps(error).decode()}")
        self.method = method
        self.error = error


class ReadTimeout(AssertionError):
    """Nothing matching arrived before the deadline."""


class _SchemaValidator(Protocol):
    def validate_notification(self, msg: Message) -> Any: ...
    def validate_response(self, method: str, result: Any) -> Any: ...
    def validate_server_request(self, msg: Message) -> Any: ...


@functools.cache
def _schema_validator() -> _SchemaValidator | None:
    """The shared schema validator, or None while it cannot be imported (said once, loudly)."""
    try:
        from .schema import SchemaValidator
    except ImportError as exc:
        warnings.warn(
            f"app-server output is NOT schema-checked: tests/support/schema.py unavailable ({exc})",
            stacklevel=2,
        )
        return None
    validator: _SchemaValidator = SchemaValidator()
    return validator


# The v1-era methods the reference still serves; the 0.120 schema has no types for them, so their
# twins assert their results field by field instead.
V1_METHODS = frozenset({"getAuthStatus", "getConversationSummary"})


def _kind(message: Message) -> str:
    if "method" in message:
        return "request" if "id" in message else "notification"
    if "id" in message and "result" in message:
        return "response"
    if "id" in message and "error" in message:
        return "error"
    return "unknown"


def _same_id(a: Any, b: RequestId) -> bool:
    return type(a) is type(b) and a == b


def _summary(message: Message) -> str:
    text = orjson.dumps(message).decode()
    return text if len(text) <= _SUMMARY_CHARS else text[:_SUMMARY_CHARS] + "…"


def _open_log(path: Path) -> IO[bytes]:
    """Open the stderr log (a local file; opening it does not block the loop meaningfully)."""
    return path.open("wb")


def default_command() -> list[str]:
    """How the app-server under test is started."""
    return [sys.executable, "-m", "parley", "app-server"]


class AppServerProcess:
    """A running app-server subprocess and a JSON-RPC client for it; see the module docstring.

    `args` are appended to the command line; `env` overrides the child's environment (a value of
    None removes the variable). Use as `async with AppServerProcess(home) as server:` or
    `server = await AppServerProcess.spawn(home)` … `await server.close()`.
    """

    def __init__(
        self,
        codex_home: Path,
        *,
        args: Sequence[str] = (),
        env: Mapping[str, str | None] | None = None,
        cwd: Path | None = None,
        command: Sequence[str] | None = None,
        validate_schema: bool = True,
        default_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.codex_home = Path(codex_home)
        self.command = [*(command if command is not None else default_command()), *args]
        self._env_overrides = dict(env or {})
        self._cwd = cwd
        self._validate_schema = validate_schema
        self.default_timeout = default_timeout
        self.stderr_path = self.codex_home / STDERR_FILE_NAME

        self._proc: asyncio.subprocess.Process | None = None
        self._stderr_file: IO[bytes] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._incoming: asyncio.Queue[Message | None] = asyncio.Queue()
        self._pending: list[Message] = []
        self._received: list[Message] = []
        self._problems: list[str] = []
        self._stdout_closed = False
        self._next_id = 0
        self._request_methods: dict[Any, str] = {}

    # -- lifecycle -------------------------------------------------------------------------------

    @classmethod
    async def spawn(cls, codex_home: Path, **kwargs: Any) -> AppServerProcess:
        """Create and start a process (keyword arguments as for the constructor)."""
        return await cls(codex_home, **kwargs).start()

    async def start(self) -> AppServerProcess:
        if self._proc is not None:
            raise RuntimeError("app-server already started")
        env = dict(os.environ)
        env["CODEX_HOME"] = str(self.codex_home)
        env.pop("OPENAI_API_KEY", None)
        env.pop("CODEX_INTERNAL_ORIGINATOR_OVERRIDE", None)
        for key, value in self._env_overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        self.codex_home.mkdir(parents=True, exist_ok=True)
        self._stderr_file = _open_log(self.stderr_path)
        self._proc = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr_file,
            env=env,
            cwd=self._cwd,
            limit=_LINE_LIMIT,
            # Its own process group, so a forced kill also reaches what it spawned.
            start_new_session=True,
        )
        self._reader = asyncio.ensure_future(self._read_stdout())
        return self

    async def close(self, *, check: bool = True, timeout: float = EXIT_TIMEOUT) -> int | None:
        """Close stdin and wait for the exit (killing after `timeout`).

        With `check`, fail if the server had to be killed, exited non-zero, or wrote anything
        invalid. Returns the exit status.
        """
        proc = self._proc
        if proc is None:
            return None
        if proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.close()
            with contextlib.suppress(ConnectionError, OSError):
                await proc.stdin.wait_closed()
        killed = False
        try:
            returncode = await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            killed = True
            self._kill_group()
            returncode = await proc.wait()
        if self._reader is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, 1.0)
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None
        if check:
            if killed:
                raise AssertionError(
                    f"app-server did not exit within {timeout}s of stdin closing; killed it"
                    f"{self._stderr_tail()}"
                )
            self._raise_problems()
            if returncode != 0:
                raise AssertionError(
                    f"app-server exited with status {returncode}{self._stderr_tail()}"
                )
        return returncode

    def kill(self) -> None:
        """Kill the server (and its process group) without waiting."""
        if self._proc is not None and self._proc.returncode is None:
            self._kill_group()

    def _kill_group(self) -> None:
        assert self._proc is not None
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()

    async def __aenter__(self) -> AppServerProcess:
        if self._proc is None:
            await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.close()
        else:
            with contextlib.suppress(Exception):
                await self.close(check=False)

    @property
    def pid(self) -> int:
        assert self._proc is not None, "app-server not started"
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.returncode

    def stderr_text(self) -> str:
        """Everything the server wrote to stderr so far."""
        if self._stderr_file is not None:
            self._stderr_file.flush()
        try:
            return self.stderr_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    # -- writing ---------------------------------------------------------------------------------

    async def send_request(self, method: str, params: Any = None) -> int:
        """Send a request (params omitted when None) and return its integer id."""
        request_id = self._next_id
        self._next_id += 1
        message: Message = {"id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self._request_methods[request_id] = method
        await self._write(orjson.dumps(message) + b"\n")
        return request_id

    async def send_notification(self, method: str, params: Any = None) -> None:
        """Send a client notification (params omitted when None)."""
        message: Message = {"method": method}
        if params is not None:
            message["params"] = params
        await self._write(orjson.dumps(message) + b"\n")

    async def send_response(self, request_id: RequestId, result: Any) -> None:
        """Answer a server→client request (e.g. an approval)."""
        await self._write(orjson.dumps({"id": request_id, "result": result}) + b"\n")

    async def send_error(
        self, request_id: RequestId, code: int, message: str, data: Any = None
    ) -> None:
        """Answer a server→client request with a JSON-RPC error."""
        error: Message = {"code": code, "message": message}
        if data is not None:
            error["data"] = data
        await self._write(orjson.dumps({"id": request_id, "error": error}) + b"\n")

    async def send_raw_line(self, line: bytes | str) -> None:
        """Write one line as is (a newline is added unless present).

        If it parses as a request, its id is remembered so the response can be schema-checked.
        """
        data = line.encode() if isinstance(line, str) else line
        with contextlib.suppress(orjson.JSONDecodeError, TypeError):
            parsed = orjson.loads(data)
            if (
                isinstance(parsed, dict)
                and "id" in parsed
                and isinstance(parsed.get("method"), str)
            ):
                with contextlib.suppress(TypeError):
                    self._request_methods[parsed["id"]] = parsed["method"]
        await self._write(data if data.endswith(b"\n") else data + b"\n")

    async def send_raw_bytes(self, data: bytes) -> None:
        """Write bytes exactly, with no newline added."""
        await self._write(data)

    async def close_stdin(self) -> None:
        """Close the server's stdin (EOF) without waiting for the exit."""
        assert self._proc is not None and self._proc.stdin is not None
        if not self._proc.stdin.is_closing():
            self._proc.stdin.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._proc.stdin.wait_closed()

    async def wait_for_exit(self, timeout: float = EXIT_TIMEOUT) -> int:
        """Wait for the process to exit on its own; fail after `timeout`."""
        assert self._proc is not None
        try:
            return await asyncio.wait_for(self._proc.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"app-server still running after {timeout}s{self._stderr_tail()}"
            ) from None

    async def _write(self, data: bytes) -> None:
        proc = self._proc
        assert proc is not None and proc.stdin is not None, "app-server not started"
        try:
            proc.stdin.write(data)
            await proc.stdin.drain()
        except (ConnectionError, OSError) as exc:
            raise AssertionError(
                f"could not write to app-server stdin ({exc!r}); exit status {proc.returncode}"
                f"{self._stderr_tail()}"
            ) from exc

    # -- reading ---------------------------------------------------------------------------------

    async def read_stream_until_response_message(
        self, request_id: RequestId, timeout: float | None = None
    ) -> Message:
        """The response to `request_id`; fails if the server answered with an error instead."""
        message = await self._read_reply(request_id, timeout)
        if "error" in message:
            raise AppServerError(self._method_of(request_id), message["error"])
        return message

    async def read_stream_until_error_message(
        self, request_id: RequestId, timeout: float | None = None
    ) -> Message:
        """The error answer to `request_id`; fails if the server answered with a result."""
        message = await self._read_reply(request_id, timeout)
        if "error" not in message:
            raise AssertionError(
                f"expected an error for request {request_id} ({self._method_of(request_id)}), "
                f"got a result: {_summary(message)}"
            )
        return message

    async def read_stream_until_notification_message(
        self, method: str, timeout: float | None = None
    ) -> Message:
        """The next (oldest unread) notification called `method`, as a whole message."""
        return await self._read_until(
            lambda m: _kind(m) == "notification" and m.get("method") == method,
            f"notification {method!r}",
            timeout,
        )

    async def read_stream_until_matching_notification(
        self, description: str, predicate: Callable[[Message], bool], timeout: float | None = None
    ) -> Message:
        """The next (oldest unread) notification for which `predicate` holds."""
        return await self._read_until(
            lambda m: _kind(m) == "notification" and predicate(m), description, timeout
        )

    async def read_notification(self, method: str, timeout: float | None = None) -> Any:
        """The params of the next notification called `method` (which must have params)."""
        message = await self.read_stream_until_notification_message(method, timeout)
        assert "params" in message, f"notification {method!r} has no params: {_summary(message)}"
        return message["params"]

    async def read_stream_until_request_message(
        self, method: str | None = None, timeout: float | None = None
    ) -> Message:
        """The next server→client request (called `method`, if given)."""
        return await self._read_until(
            lambda m: _kind(m) == "request" and (method is None or m.get("method") == method),
            f"server request {method!r}" if method else "a server request",
            timeout,
        )

    async def expect_no_notification(self, method: str, within: float = 0.1) -> None:
        """Fail if a notification called `method` arrives (or is buffered) within `within`."""
        try:
            message = await self.read_stream_until_notification_message(method, timeout=within)
        except ReadTimeout:
            return
        raise AssertionError(f"unexpected notification {method!r}: {_summary(message)}")

    def clear_message_buffer(self) -> None:
        """Forget buffered messages, so later reads only see what arrives from now on."""
        self._pending.clear()

    def buffered_messages(self) -> list[Message]:
        """Messages read from stdout but not yet consumed by a `read_*` call."""
        return list(self._pending)

    def received_messages(self) -> list[Message]:
        """Every message the server wrote so far, consumed or not, in order."""
        return list(self._received)

    async def _read_reply(self, request_id: RequestId, timeout: float | None) -> Message:
        return await self._read_until(
            lambda m: _kind(m) in ("response", "error") and _same_id(m.get("id"), request_id),
            f"the answer to request {request_id} ({self._method_of(request_id)})",
            timeout,
        )

    async def _read_until(
        self, predicate: Callable[[Message], bool], what: str, timeout: float | None
    ) -> Message:
        self._raise_problems()
        for index, message in enumerate(self._pending):
            if predicate(message):
                del self._pending[index]
                return message
        limit = self.default_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            if self._stdout_closed and self._incoming.empty():
                raise AssertionError(
                    f"app-server closed stdout (exit status {self.returncode}) while waiting for "
                    f"{what}{self._buffer_report()}{self._stderr_tail()}"
                )
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(self._incoming.get(), remaining)
            except TimeoutError:
                raise ReadTimeout(
                    f"timed out after {limit}s waiting for {what}"
                    f"{self._buffer_report()}{self._stderr_tail()}"
                ) from None
            self._raise_problems()
            if message is None:  # end of stdout, or a wake-up after a problem
                continue
            if predicate(message):
                return message
            self._pending.append(message)

    def _method_of(self, request_id: RequestId) -> str:
        return self._request_methods.get(request_id, "?")

    async def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        try:
            while True:
                try:
                    line = await stdout.readline()
                except ValueError as exc:
                    self._problem(f"unreadable stdout line: {exc}")
                    continue
                if not line:
                    break
                self._accept_line(line)
        finally:
            self._stdout_closed = True
            self._incoming.put_nowait(None)

    def _accept_line(self, line: bytes) -> None:
        try:
            message = orjson.loads(line)
        except orjson.JSONDecodeError:
            self._problem(f"stdout line is not JSON: {line[:_SUMMARY_CHARS]!r}")
            return
        if not isinstance(message, dict):
            self._problem(f"stdout line is not a JSON object: {line[:_SUMMARY_CHARS]!r}")
            return
        try:
            self._check(message)
        except Exception as exc:  # a malformed message must not kill the reader task
            self._problem(f"could not check message ({exc!r}): {_summary(message)}")
        self._received.append(message)
        self._incoming.put_nowait(message)

    def _check(self, message: Message) -> None:
        kind = _kind(message)
        if kind == "unknown":
            self._problem(f"not a JSON-RPC message: {_summary(message)}")
            return
        if kind == "error":
            error = message["error"]
            if not (
                isinstance(error, dict)
                and isinstance(error.get("code"), int)
                and isinstance(error.get("message"), str)
            ):
                self._problem(f"malformed JSON-RPC error: {_summary(message)}")
            return
        validator = _schema_validator() if self._validate_schema else None
        if validator is None:
            return
        try:
            if kind == "notification":
                validator.validate_notification(message)
            elif kind == "request":
                validator.validate_server_request(message)
            else:
                method = self._request_methods.get(message["id"])
                if method is not None and method not in V1_METHODS:
                    validator.validate_response(method, message["result"])
        except Exception as exc:
            self._problem(f"{kind} fails the 0.120 schema: {exc}\n  {_summary(message)}")

    def _problem(self, text: str) -> None:
        self._problems.append(text)
        # Wake a waiting read so it fails now rather than at its deadline.
        self._incoming.put_nowait(None)

    def _raise_problems(self) -> None:
        if self._problems:
            problems = "\n".join(self._problems)
            raise AssertionError(
                f"app-server wrote invalid output:\n{problems}{self._stderr_tail()}"
            )

    def _buffer_report(self) -> str:
        if not self._pending:
            return "; nothing else was received and left unread"
        shown = self._pending[-30:]
        lines = "\n".join(f"  {_summary(m)}" for m in shown)
        more = (
            f" (last {len(shown)} of {len(self._pending)})"
            if len(shown) < len(self._pending)
            else ""
        )
        return f"; unread messages{more}:\n{lines}"

    def _stderr_tail(self) -> str:
        lines = self.stderr_text().splitlines()[-_STDERR_TAIL_LINES:]
        if not lines:
            return "\n(app-server stderr is empty)"
        return "\napp-server stderr (tail):\n" + "\n".join(f"  {line}" for line in lines)

    # -- conveniences ----------------------------------------------------------------------------

    async def request(self, method: str, params: Any = None, timeout: float | None = None) -> Any:
        """Send a request and return its result (failing on an error answer)."""
        request_id = await self.send_request(method, params)
        message = await self.read_stream_until_response_message(request_id, timeout)
        return message["result"]

    async def request_error(
        self, method: str, params: Any = None, timeout: float | None = None
    ) -> Message:
        """Send a request that must fail and return the `error` object."""
        request_id = await self.send_request(method, params)
        message = await self.read_stream_until_error_message(request_id, timeout)
        error: Message = message["error"]
        return error

    async def initialize(
        self,
        client_name: str = DEFAULT_CLIENT_NAME,
        experimental_api: bool = True,
        opt_out: Iterable[str] | None = None,
        *,
        client_title: str | None = None,
        client_version: str = "0.1.0",
    ) -> Message:
        """`initialize` then the `initialized` notification; returns the initialize result."""
        capabilities: Message = {"experimentalApi": experimental_api}
        if opt_out is not None:
            capabilities["optOutNotificationMethods"] = list(opt_out)
        params = {
            "clientInfo": {"name": client_name, "title": client_title, "version": client_version},
            "capabilities": capabilities,
        }
        result: Message = await self.request("initialize", params)
        await self.send_notification("initialized")
        return result

    async def login_with_api_key(self, api_key: str) -> None:
        """Log in with an API key; the result must be `{"type": "apiKey"}`."""
        result = await self.request("account/login/start", {"type": "apiKey", "apiKey": api_key})
        assert result == {"type": "apiKey"}, f"unexpected login result: {result!r}"

    async def start_thread(self, params: Message | None = None) -> Message:
        """`thread/start` and return the new thread object."""
        result = await self.request("thread/start", {} if params is None else params)
        thread: Message = result["thread"]
        return thread


# The `spawn_app_server` fixture's type: `await spawn(codex_home=…, **AppServerProcess kwargs)`.
SpawnAppServer = Callable[..., Awaitable[AppServerProcess]]
