"""Fuzz every params field of every method Parley implements, on stdio and on WebSocket.

Hypothesis builds batches of requests from a sensible base per method with one or two fields
replaced by hostile values (wrong types, NUL bytes, huge strings and numbers, nested junk,
missing required fields, params that are not an object), plus notifications and lines that are
not requests at all. The protocol says:

* a request gets exactly one answer: a result, or `-32600` (`-32602` for params that parse but
  contradict each other) when the client got something wrong (never `-32603`, which means a bug
  in Parley, nor `-32601` for an implemented method);
* a notification and a line that is not a request get no answer;
* the server keeps serving: after each batch a normal request is answered.

Bounded for CI (`FUZZ_EXAMPLES` per transport, derandomized, no deadline); set the environment
variable `PARLEY_FUZZ_EXAMPLES` to explore more, `PARLEY_FUZZ_RANDOM=1` for fresh examples.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import threading
from collections.abc import Awaitable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect

from parley.protocol import models as m
from parley.protocol.methods import BY_NAME
from parley.rpc.errors import INVALID_PARAMS, INVALID_REQUEST
from parley.server.handlers import HANDLERS

FUZZ_EXAMPLES = int(os.environ.get("PARLEY_FUZZ_EXAMPLES", "30"))
REPLY_TIMEOUT = 20.0
# Invalid request (serde errors, as the reference) and invalid params (contradicting fields).
CLIENT_MISTAKE_CODES = (INVALID_REQUEST, INVALID_PARAMS)
_T = TypeVar("_T")

THREAD = "<thread>"  # replaced by the id of a real thread on the server under test
BASE_PARAMS: dict[str, dict[str, Any]] = {
    "account/login/start": {"type": "apiKey", "apiKey": "sk-fuzz-key"},
    "thread/resume": {"threadId": THREAD},
    "thread/read": {"threadId": THREAD},
    "turn/start": {"threadId": THREAD, "input": [{"type": "text", "text": "hi"}]},
    "turn/steer": {
        "threadId": THREAD,
        "expectedTurnId": "turn-1",
        "input": [{"type": "text", "text": "hi"}],
    },
    "turn/interrupt": {"threadId": THREAD, "turnId": "turn-1"},
    "thread/realtime/start": {"threadId": THREAD},
    "thread/realtime/appendAudio": {
        "threadId": THREAD,
        "audio": {"data": "AAAA", "sampleRate": 24000, "numChannels": 1},
    },
    "thread/realtime/appendText": {"threadId": THREAD, "text": "hi"},
    "thread/realtime/stop": {"threadId": THREAD},
    "thread/name/set": {"threadId": THREAD, "name": "fuzzed"},
    "thread/archive": {"threadId": THREAD},
    "thread/unarchive": {"threadId": THREAD},
    "thread/unsubscribe": {"threadId": THREAD},
}
METHODS = sorted(HANDLERS)
# The v1-era methods have no schema types: their fields by hand.
V1_FIELDS = {
    "getAuthStatus": ["includeToken", "refreshToken"],
    "getConversationSummary": ["conversationId", "rolloutPath"],
}


def _field_names(method: str) -> list[str]:
    """The wire names of the method's params fields (both variants' for a union)."""
    if method in V1_FIELDS:
        return V1_FIELDS[method]
    spec = BY_NAME[method]
    names: set[str] = set(BASE_PARAMS.get(method, {}))
    model = getattr(m, spec.params, None) if spec.params else None
    if model is not None and hasattr(model, "model_fields"):
        names.update(field.alias or name for name, field in model.model_fields.items())
    if method == "account/login/start":
        names.update({"type", "apiKey", "accessToken", "chatgptAccountId"})
    return sorted(names)


FIELDS = {method: _field_names(method) for method in METHODS}
ALL_FIELDS = sorted({name for names in FIELDS.values() for name in names})

SPECIAL_STRINGS = [
    "",
    "\x00",
    "/tmp/a\x00b",
    "x" * 5_000,
    "/" + "p" * 100_000,
    "../../../../etc/passwd",
    "😀 ünïcödé",
    "-1",
    "null",
    "00000000-0000-7000-8000-000000000000",
    "danger-full-access",
    "dangerFullAccess",
    "auto_review",
    "webrtc",
    "apiKey",
    "chatgpt",
    "text",
    "AAAA",
    "not base64!",
]
scalars = st.one_of(
    st.sampled_from(SPECIAL_STRINGS),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.sampled_from([0, -1, 2**31, 2**32, 2**53 + 1, 2**63 - 1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(SPECIAL_STRINGS),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(ALL_FIELDS)), children),
    ),
    max_leaves=12,
)


@dataclass(frozen=True)
class Case:
    """One message (or raw line) to send; `request_id` None when no answer is due."""

    message: dict[str, Any] | None
    raw: bytes
    request_id: str | None


@st.composite
def request_case(draw: st.DrawFn, serial: Iterator[int]) -> Case:
    method = draw(st.sampled_from(METHODS))
    params: Any = dict(BASE_PARAMS.get(method, {}))
    shape = draw(st.sampled_from(["fields", "fields", "fields", "not-an-object", "drop"]))
    if shape == "not-an-object":
        params = draw(st.one_of(scalars, st.lists(scalars, min_size=1, max_size=3)))
    elif shape == "drop" and params:
        params.pop(draw(st.sampled_from(sorted(params))))
    else:
        for _ in range(draw(st.integers(1, 2))):
            field = draw(
                st.one_of(st.sampled_from(FIELDS[method] or ALL_FIELDS), st.text(max_size=6))
            )
            params[field] = draw(json_values)
    request_id = f"fuzz-{next(serial)}"
    message: dict[str, Any] = {"id": request_id, "method": method, "params": params}
    if draw(st.booleans()) and draw(st.booleans()):
        message["jsonrpc"] = "2.0"
    if draw(st.integers(0, 9)) == 0:  # the same call as a notification: never answered
        del message["id"]
        request_id = None
    return Case(message, b"", request_id)


junk_lines = st.sampled_from(
    [
        b"not json",
        b"[1,2,3]",
        b'{"id":"junk-1"}',
        b'{"id":"junk-2","result":{}}',
        b'{"method":5}',
        b'{"id":{"x":1},"method":"thread/read","params":{}}',
        b"\xff\xfe",
        b'"just a string"',
    ]
).map(lambda line: Case(None, line, None))


def batches(serial: Iterator[int]) -> st.SearchStrategy[list[Case]]:
    return st.lists(st.one_of(request_case(serial), junk_lines), min_size=1, max_size=6)


# Keys whose strings name files: absolute ones are moved under the fuzz root, so that
# `fs/remove {"path": "/", "recursive": true}` and friends only ever touch a scratch directory.
_PATH_KEY = re.compile(r"^(?:cwds?|path|roots|\w+(?:Path|Roots))$")
# Methods that run a program: whatever argv was generated, `true` is what runs.
_HARMLESS_COMMAND = ["true"]


def confine(value: Any, thread_id: str, root: str, key: str | None = None) -> Any:
    """The message as sent: the thread placeholder filled in, paths kept under `root`,
    commands made harmless (their other fields stay as generated)."""
    if isinstance(value, dict):
        confined = {k: confine(v, thread_id, root, k) for k, v in value.items()}
        if confined.get("method") == "command/exec" and isinstance(confined.get("params"), dict):
            params = confined["params"]
            if isinstance(params.get("command"), list):
                params["command"] = list(_HARMLESS_COMMAND)
        return confined
    if isinstance(value, list):
        return [confine(item, thread_id, root, key) for item in value]
    if value == THREAD:
        return thread_id
    if isinstance(value, str) and key is not None and _PATH_KEY.match(key):
        if value.startswith("/") or value.startswith("~"):
            return root + "/jail/" + value.lstrip("/~")
    return value


# -- the server under test, driven from a loop in its own thread --------------------------------


class Channel:
    """A JSON-RPC connection: send one line, receive one message."""

    async def send(self, line: bytes) -> None:
        raise NotImplementedError

    async def receive(self) -> dict[str, Any]:
        raise NotImplementedError


class StdioChannel(Channel):
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        self._stdin, self._stdout = process.stdin, process.stdout

    async def send(self, line: bytes) -> None:
        self._stdin.write(line.replace(b"\n", b" ") + b"\n")
        await self._stdin.drain()

    async def receive(self) -> dict[str, Any]:
        line = await self._stdout.readline()
        if not line:
            raise AssertionError("the app-server closed stdout")
        message = orjson.loads(line)
        assert isinstance(message, dict)
        return message


class WebSocketChannel(Channel):
    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket

    async def send(self, line: bytes) -> None:
        await self._socket.send(line.decode("utf-8", "replace"))

    async def receive(self) -> dict[str, Any]:
        message = orjson.loads(await self._socket.recv())
        assert isinstance(message, dict)
        return message


class FuzzTarget:
    """A `parley app-server` on one transport, with one thread started, run on a private loop
    (hypothesis drives examples synchronously)."""

    def __init__(self, transport: str, codex_home: Path) -> None:
        self.transport = transport
        self.codex_home = codex_home
        # Scratch space for whatever paths the fuzzer names (see `confine`), also the cwd.
        self.root = codex_home.parent / "scratch"
        self.root.mkdir(exist_ok=True)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.process: asyncio.subprocess.Process | None = None
        self.channel: Channel | None = None
        self.thread_id = ""
        self._serial = 0

    def run(self, coro: Awaitable[_T], timeout: float = 60.0) -> _T:
        async def wrapped() -> _T:
            return await coro

        future: Future[_T] = asyncio.run_coroutine_threadsafe(wrapped(), self.loop)
        return future.result(timeout)

    async def start(self) -> None:
        (self.codex_home / "config.toml").write_text(
            'model = "mock-model"\napproval_policy = "never"\nsandbox_mode = "read-only"\n'
            'model_provider = "mock"\n[model_providers.mock]\nname = "unreachable"\n'
            'base_url = "http://127.0.0.1:9/v1"\nrequest_max_retries = 0\n'
            "stream_max_retries = 0\n"
        )
        env = {**os.environ, "CODEX_HOME": str(self.codex_home)}
        env.pop("OPENAI_API_KEY", None)
        listen = ["--listen", "ws://127.0.0.1:0"] if self.transport == "websocket" else []
        stderr = (self.codex_home / "app-server.stderr.log").open("wb")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "parley",
            "app-server",
            *listen,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env=env,
            cwd=self.root,
            limit=1 << 28,
        )
        if self.transport == "websocket":
            self.channel = WebSocketChannel(await self._connect())
        else:
            self.channel = StdioChannel(self.process)
        init = {
            "clientInfo": {"name": "fuzz", "title": None, "version": "1"},
            "capabilities": {"experimentalApi": True},
        }
        assert "result" in await self.call("initialize", init)
        started = await self.call("thread/start", {})
        self.thread_id = started["result"]["thread"]["id"]

    async def _connect(self) -> ClientConnection:
        log = self.codex_home / "app-server.stderr.log"
        async with asyncio.timeout(REPLY_TIMEOUT):
            while True:
                found = re.search(r"ws://([0-9.]+):(\d+)", log.read_text(errors="replace"))
                if found is not None:
                    return await connect(f"ws://{found.group(1)}:{found.group(2)}", max_size=None)
                await asyncio.sleep(0.05)

    async def call(self, method: str, params: Any) -> dict[str, Any]:
        self._serial += 1
        request_id = f"call-{self._serial}"
        assert self.channel is not None
        await self.channel.send(
            orjson.dumps({"id": request_id, "method": method, "params": params})
        )
        return await self.reply_to(request_id)

    async def reply_to(self, request_id: str) -> dict[str, Any]:
        """The answer to `request_id`; any other answer on the way is a protocol violation."""
        assert self.channel is not None
        async with asyncio.timeout(REPLY_TIMEOUT):
            while True:
                message = await self.channel.receive()
                if "method" in message:
                    continue  # notifications and server requests are not the point here
                if message.get("id") == request_id:
                    return message
                raise AssertionError(f"an answer nobody asked for: {message}")

    async def play(self, cases: list[Case]) -> None:
        assert self.channel is not None
        for case in cases:
            line = case.raw
            if case.message is not None:
                line = orjson.dumps(confine(case.message, self.thread_id, str(self.root)))
            await self.channel.send(line)
            if case.request_id is None:
                continue
            answer = await self.reply_to(case.request_id)
            if "error" in answer:
                code = answer["error"].get("code")
                assert code in CLIENT_MISTAKE_CODES, (
                    f"{line[:300]!r} was answered {answer['error']} "
                    "(expected a result, -32600 or -32602)"
                )
        health = await self.call("thread/loaded/list", {})
        assert "result" in health, f"the server stopped serving: {health}"

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    def close(self) -> None:
        self.run(self.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    def stderr_tail(self) -> str:
        log = self.codex_home / "app-server.stderr.log"
        return log.read_text(errors="replace")[-4000:] if log.exists() else ""


@pytest.fixture(scope="module", params=["stdio", "websocket"])
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    """One server per transport, shared by the sweep and the random batches."""
    fuzz = FuzzTarget(request.param, tmp_path_factory.mktemp("fuzz") / "codex-home")
    fuzz.codex_home.mkdir()
    fuzz.run(fuzz.start())
    try:
        yield fuzz
    finally:
        fuzz.close()


_serial_numbers = iter(range(10**12))


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("PARLEY_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cases=batches(_serial_numbers))
def test_every_params_field_of_every_method_is_answered_with_the_right_code(
    target: FuzzTarget, cases: list[Case]
) -> None:
    """Hostile params get a result or -32600/-32602, never -32603; the server keeps serving."""
    try:
        target.run(target.play(cases))
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- server stderr ---\n{target.stderr_tail()}") from None


HOSTILE_VALUES: list[Any] = [
    None,
    True,
    -1,
    2**64 - 1,
    1.5,
    "",
    "a\x00b",
    "/" + "p" * 100_000,
    "not base64!",
    [],
    [None, {"type": 7}],
    {"type": "bogus", "text": 5},
]


def sweep_cases(serial: Iterator[int]) -> Iterator[list[Case]]:
    """Every field of every method, each with every hostile value (one batch per method)."""
    for method in METHODS:
        batch = []
        for field in FIELDS[method] or ["unknownField"]:
            for value in HOSTILE_VALUES:
                params = dict(BASE_PARAMS.get(method, {}))
                params[field] = value
                request_id = f"sweep-{next(serial)}"
                message = {"id": request_id, "method": method, "params": params}
                batch.append(Case(message, b"", request_id))
        yield batch


def test_every_field_of_every_method_survives_each_hostile_value(target: FuzzTarget) -> None:
    """The systematic half of the fuzzer: no field is left to chance."""
    for batch in sweep_cases(_serial_numbers):
        try:
            target.run(target.play(batch), timeout=120.0)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- server stderr ---\n{target.stderr_tail()}") from None


def test_the_fuzzer_only_names_paths_under_its_scratch_directory() -> None:
    """A generated `/` or `~/x` becomes a path under the scratch directory; argv is `true`."""
    message = {
        "id": "x",
        "method": "command/exec",
        "params": {
            "command": ["rm", "-rf", "/"],
            "cwd": "/",
            "sandboxPolicy": {"writableRoots": ["/etc", "~/x"]},
        },
    }
    sent = confine(message, "t-1", "/scratch")
    assert sent["params"] == {
        "command": ["true"],
        "cwd": "/scratch/jail/",
        "sandboxPolicy": {"writableRoots": ["/scratch/jail/etc", "/scratch/jail/x"]},
    }
    fs = confine(
        {"method": "fs/copy", "params": {"sourcePath": "/a", "destinationPath": "/"}}, "", "/s"
    )
    assert fs["params"] == {"sourcePath": "/s/jail/a", "destinationPath": "/s/jail/"}
    assert confine({"threadId": THREAD}, "t-1", "/s") == {"threadId": "t-1"}


def test_the_fuzzer_covers_every_implemented_method() -> None:
    """Every handler has a base and its fields listed (a new method is fuzzed automatically)."""
    assert set(FIELDS) == set(HANDLERS)
    for method, base in BASE_PARAMS.items():
        assert method in HANDLERS, method
        assert set(base) <= set(FIELDS[method]), method
