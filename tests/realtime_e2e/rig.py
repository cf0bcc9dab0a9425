"""Shared set-up for the realtime end-to-end tests, built on the spec twins' helpers.

`start_rig()` writes the spec's config (realtime enabled, the given Realtime WebSocket base URL,
startup context overridden so no workspace scan runs), starts `parley app-server` with
`PARLEY_LOG=debug` unless told otherwise (so a failure's stderr tail says what the server did),
initializes with the experimental API, logs in with an API key (unless `api_key=None`) and
starts a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spec.test_realtime_conversation import (
    RealtimeTestSandbox,
    RealtimeTestVersion,
    SpecEnv,
    StartupContextConfig,
    append_audio_params,
    create_config_toml_with_realtime_version,
    login_with_api_key,
    read_notification,
    read_response,
    realtime_start_params,
    start_thread,
)
from support.app_server import AppServerProcess
from support.mock_responses import MockResponsesServer

Json = Any

API_KEY = "sk-test-key"
CLIENT_NAME = "codex-app-server-tests"
REALTIME_MODEL = "gpt-realtime-1.5"
V2_VOICES = [
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
]
NOT_RUNNING = "conversation is not running"
HIGH_DEMAND = "We're currently experiencing high demand, which may cause temporary errors."
READ_RESET = (
    "stream disconnected before completion: failed to read websocket message: "
    "WebSocket protocol error: Connection reset without closing handshake"
)


def user_text_item(text: str) -> Json:
    """The v2 frame for user text (appendText or mirrored typed text)."""
    return {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        },
    }


def audio_append(data: str) -> Json:
    return {"type": "input_audio_buffer.append", "audio": data}


def text_input(text: str) -> list[Json]:
    """A `turn/start` input list with one text item."""
    return [{"type": "text", "text": text, "text_elements": []}]


@dataclass
class Rig:
    """One app-server (logged in, one thread started) plus its Responses mock."""

    env: SpecEnv
    mcp: AppServerProcess
    responses: MockResponsesServer
    thread_id: str

    # -- requests --------------------------------------------------------------------------------

    async def start_realtime(
        self,
        thread_id: str | None = None,
        *,
        session_id: str | None = None,
        transport: Json = None,
        voice: str | None = None,
    ) -> None:
        """`thread/realtime/start`; its result must be `{}` (failures come as notifications)."""
        params = realtime_start_params(
            thread_id or self.thread_id, prompt="backend prompt", transport=transport, voice=voice
        )
        params["sessionId"] = session_id
        request_id = await self.mcp.send_request("thread/realtime/start", params)
        assert await read_response(self.mcp, request_id) == {}

    async def append_text(self, text: str, thread_id: str | None = None) -> None:
        request_id = await self.mcp.send_request(
            "thread/realtime/appendText", {"threadId": thread_id or self.thread_id, "text": text}
        )
        assert await read_response(self.mcp, request_id) == {}

    async def append_audio(self, data: str, thread_id: str | None = None) -> None:
        request_id = await self.mcp.send_request(
            "thread/realtime/appendAudio", audio_params(thread_id or self.thread_id, data)
        )
        assert await read_response(self.mcp, request_id) == {}

    async def stop(self, thread_id: str | None = None) -> None:
        request_id = await self.mcp.send_request(
            "thread/realtime/stop", {"threadId": thread_id or self.thread_id}
        )
        assert await read_response(self.mcp, request_id) == {}

    async def list_voices_still_works(self) -> None:
        """The server is still serving: `listVoices` answers with the v2 voices."""
        request_id = await self.mcp.send_request("thread/realtime/listVoices", {})
        result = await read_response(self.mcp, request_id)
        assert result["voices"]["v2"] == V2_VOICES

    async def notification(self, method: str) -> Json:
        return await read_notification(self.mcp, method)

    # -- what was received -----------------------------------------------------------------------

    def all_notifications(self, method: str) -> list[Json]:
        """Params of every `method` notification received so far, read or not."""
        return [
            m.get("params")
            for m in self.mcp.received_messages()
            if m.get("method") == method and "id" not in m
        ]

    def index_of(self, method: str, **params: Json) -> int:
        """Position in the output stream of the first `method` message whose params match."""
        for index, message in enumerate(self.mcp.received_messages()):
            got = message.get("params") or {}
            if message.get("method") == method and all(got.get(k) == v for k, v in params.items()):
                return index
        raise AssertionError(f"no {method} {params} was received")

    async def finish(self) -> None:
        """Close stdin: the server must exit 0, have written only valid output and no traceback."""
        await self.mcp.close()
        stderr = self.mcp.stderr_text()
        assert "Traceback" not in stderr, f"app-server logged a traceback:\n{stderr[-4000:]}"


def audio_params(thread_id: str, data: str) -> Json:
    params = append_audio_params(thread_id)
    params["audio"]["data"] = data
    return params


async def start_rig(
    env: SpecEnv,
    realtime_uri: str,
    *,
    responses: MockResponsesServer | None = None,
    version: RealtimeTestVersion = RealtimeTestVersion.V2,
    api_key: str | None = API_KEY,
    log_level: str = "debug",
) -> Rig:
    if responses is None:
        responses = await env.create_mock_responses_server_sequence_unchecked([])
    create_config_toml_with_realtime_version(
        env.codex_home,
        responses.uri,
        realtime_uri,
        True,  # realtime_enabled
        StartupContextConfig.override_with("startup context"),
        version,
        RealtimeTestSandbox.READ_ONLY,
    )
    env.app_server_env["PARLEY_LOG"] = log_level
    mcp = await env.mcp_process()
    await mcp.initialize()
    if api_key is not None:
        await login_with_api_key(mcp, api_key)
    thread_id = await start_thread(mcp)
    return Rig(env, mcp, responses, thread_id)
