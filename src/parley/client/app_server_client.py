"""Spawn `parley app-server` (or connect over WebSocket) and talk JSON-RPC to it.

Responses are matched to requests by id; notifications go to a queue the caller drains;
server→client requests (approvals) are answered by a callback. This is the client side of the
protocol, for Parley's own terminal tools; it is not used by the server.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

# Where Parley's own clients find the WebSocket bearer token when no file is named.
WS_TOKEN_ENV = "PARLEY_WS_TOKEN"

ApprovalHandler = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


def websocket_token(token_file: Path | None) -> str | None:
    """The bearer token for `--listen-url`: the file's content (trimmed) if one is named,
    else `$PARLEY_WS_TOKEN`, else None."""
    if token_file is not None:
        return token_file.read_text(encoding="utf-8").strip() or None
    return os.environ.get(WS_TOKEN_ENV) or None


class RpcCallError(Exception):
    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method} failed: {error.get('message')} (code {error.get('code')})")
        self.method = method
        self.error = error


async def _accept_all(method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"decision": "accept"}


class AppServerClient:
    def __init__(self, on_server_request: ApprovalHandler = _accept_all) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._send: Callable[[bytes], Awaitable[None]] | None = None
        self._next_id = 1
        self._pending: dict[int, tuple[str, asyncio.Future[Any]]] = {}
        self.notifications: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._on_server_request = on_server_request
        self._reader_task: asyncio.Task[None] | None = None
        self._answering: set[asyncio.Task[None]] = set()
        self._ws: Any = None
        self.closed = asyncio.Event()

    # ---- connect -----------------------------------------------------------------------
    async def spawn(
        self,
        codex_home: Path,
        cwd: Path | None = None,
        extra_args: list[str] | None = None,
        stderr_path: Path | None = None,
        env_overrides: dict[str, str] | None = None,
        command: list[str] | None = None,
    ) -> None:
        """Starts `parley app-server` (or `command`, e.g. a reference `codex app-server`)."""
        env = dict(os.environ)
        env["CODEX_HOME"] = str(codex_home)
        env.update(env_overrides or {})
        stderr: Any = asyncio.subprocess.DEVNULL
        if stderr_path is not None:
            stderr = stderr_path.open("wb")
        argv = command or [sys.executable, "-m", "parley", "app-server"]
        self._proc = await asyncio.create_subprocess_exec(
            *argv,
            *(extra_args or []),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            cwd=str(cwd) if cwd else None,
            env=env,
            limit=64 * 1024 * 1024,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        stdin = self._proc.stdin

        async def send(data: bytes) -> None:
            stdin.write(data)
            await stdin.drain()

        self._send = send
        self._reader_task = asyncio.create_task(self._read_stdout(self._proc.stdout))

    async def connect_websocket(self, url: str, token: str | None = None) -> None:
        """Join a running `parley app-server --listen ws://…`; `token` is sent as
        `Authorization: Bearer` (a `--ws-auth` capability token or signed JWT)."""
        from websockets.asyncio.client import connect

        headers = {"Authorization": f"Bearer {token}"} if token else None
        self._ws = await connect(
            url, max_size=64 * 1024 * 1024, compression=None, additional_headers=headers
        )
        ws = self._ws

        async def send(data: bytes) -> None:
            await ws.send(data.rstrip(b"\n").decode("utf-8"))

        self._send = send
        self._reader_task = asyncio.create_task(self._read_ws())

    # ---- reading -----------------------------------------------------------------------
    async def _read_stdout(self, stdout: asyncio.StreamReader) -> None:
        try:
            while True:
                line = await stdout.readline()
                if not line:
                    return
                await self._dispatch(line)
        finally:
            self._fail_pending("app-server exited")

    async def _read_ws(self) -> None:
        try:
            async for message in self._ws:
                await self._dispatch(message.encode() if isinstance(message, str) else message)
        except Exception:
            pass
        finally:
            self._fail_pending("app-server connection closed")

    def _fail_pending(self, why: str) -> None:
        self.closed.set()
        for method, future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError(f"{why} before answering {method}"))
        self._pending.clear()

    async def _dispatch(self, line: bytes) -> None:
        try:
            message = orjson.loads(line)
        except orjson.JSONDecodeError:
            return
        if not isinstance(message, dict):
            return
        if "method" in message and "id" in message:
            task = asyncio.create_task(self._answer(message))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
        elif "method" in message:
            await self.notifications.put(message)
        elif "id" in message:
            entry = self._pending.pop(message["id"], None)
            if entry is None:
                return
            method, future = entry
            if future.done():
                return
            if "error" in message:
                future.set_exception(RpcCallError(method, message["error"]))
            else:
                future.set_result(message.get("result"))

    async def _answer(self, message: dict[str, Any]) -> None:
        result = await self._on_server_request(message["method"], message.get("params") or {})
        await self._write({"id": message["id"], "result": result})

    # ---- writing -----------------------------------------------------------------------
    async def _write(self, message: dict[str, Any]) -> None:
        if self._send is None:
            raise ConnectionError("not connected")
        await self._send(orjson.dumps(message) + b"\n")

    async def request(
        self,
        method: str,
        params: dict[str, Any],
        timeout: float = 30.0,  # noqa: ASYNC109 (a per-call deadline is the caller's choice)
    ) -> Any:
        request_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (method, future)
        await self._write({"id": request_id, "method": method, "params": params})
        return await asyncio.wait_for(future, timeout)

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"method": method}
        if params is not None:
            message["params"] = params
        await self._write(message)

    async def append_audio(self, thread_id: str, pcm16: bytes, sample_rate: int = 24_000) -> None:
        """Send one chunk of mono PCM16 audio to the thread's realtime conversation."""
        await self.request(
            "thread/realtime/appendAudio",
            {
                "threadId": thread_id,
                "audio": {
                    "data": base64.b64encode(pcm16).decode("ascii"),
                    "sampleRate": sample_rate,
                    "numChannels": 1,
                    "samplesPerChannel": len(pcm16) // 2,
                },
            },
        )

    async def initialize(self, client_name: str = "parley-cli", version: str = "0.1.0") -> Any:
        result = await self.request(
            "initialize",
            {
                "clientInfo": {"name": client_name, "title": None, "version": version},
                "capabilities": {"experimentalApi": True},
            },
        )
        await self.notify("initialized")
        return result

    async def close(self) -> int | None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._proc is not None:
            if self._proc.stdin is not None:
                with contextlib.suppress(Exception):
                    self._proc.stdin.close()
            try:
                await asyncio.wait_for(self._proc.wait(), 5)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(BaseException):
                await self._reader_task
        return self._proc.returncode if self._proc is not None else None
