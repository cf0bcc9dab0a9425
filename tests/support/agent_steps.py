"""Steps shared by the agent-turn twins (turn_start, turn_steer, plan_item, review, …).

The config file most upstream agent tests write (a mock provider with no retries, an approval
policy, a sandbox mode and feature flags), the text-input shape, and readers that wait for an
item of one type or for an interrupted turn to end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .app_server import AppServerProcess

Json = Any


def create_config_toml(
    codex_home: Path,
    server_uri: str,
    approval_policy: str = "never",
    feature_flags: dict[str, bool] | None = None,
    sandbox_mode: str = "read-only",
    extra: str = "",
) -> None:
    """`config.toml` pointing at the mock Responses server (`extra` goes before the tables)."""
    features = "\n".join(f"{key} = {str(on).lower()}" for key, on in (feature_flags or {}).items())
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(
        f"""
model = "mock-model"
approval_policy = "{approval_policy}"
sandbox_mode = "{sandbox_mode}"

model_provider = "mock_provider"
{extra}

[features]
{features}

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{server_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
""",
        encoding="utf-8",
    )


def text_input(text: str) -> list[Json]:
    return [{"type": "text", "text": text, "text_elements": []}]


async def wait_for_item(server: AppServerProcess, method: str, kind: str) -> Json:
    """The item of the first `method` (item/started or item/completed) whose type is `kind`."""
    while True:
        params = await server.read_notification(method)
        if params["item"]["type"] == kind:
            return params["item"]


async def interrupt_turn_and_wait_for_aborted(
    server: AppServerProcess, thread_id: str, turn_id: str
) -> None:
    """`turn/interrupt`, its (empty) answer, then the turn's `turn/completed`."""
    await server.request("turn/interrupt", {"threadId": thread_id, "turnId": turn_id})
    while True:
        params = await server.read_notification("turn/completed")
        if params["turn"]["id"] == turn_id:
            return


async def start_turn(server: AppServerProcess, thread_id: str, text: str, **params: Json) -> Json:
    """`turn/start` with one text input (plus any other params); returns the turn."""
    result = await server.request(
        "turn/start", {"threadId": thread_id, "input": text_input(text), **params}
    )
    return result["turn"]


def message_input_texts(body: Json, role: str) -> list[str]:
    """Every `input_text` span of the request's `message` inputs with `role`, in order."""
    texts: list[str] = []
    for item in body.get("input", []):
        if item.get("type") == "message" and item.get("role") == role:
            for span in item.get("content") or []:
                if span.get("type") == "input_text":
                    texts.append(span.get("text", ""))
    return texts


def assistant_turn(response_id: str, message_id: str, text: str) -> str:
    """An SSE body: created, one assistant message, completed."""
    from .sse import ev_assistant_message, ev_completed, ev_response_created, sse

    return sse(
        [
            ev_response_created(response_id),
            ev_assistant_message(message_id, text),
            ev_completed(response_id),
        ]
    )


async def wait_resolved_before_turn_completed(
    server: AppServerProcess, thread_id: str, request_id: Json
) -> None:
    """Reads to `turn/completed`; the request's `serverRequest/resolved` must come before it."""
    await server.read_notification("turn/completed")
    messages = server.received_messages()
    resolved_at = next(
        (
            i
            for i, m in enumerate(messages)
            if m.get("method") == "serverRequest/resolved"
            and m["params"]["requestId"] == request_id
        ),
        None,
    )
    assert resolved_at is not None, "no serverRequest/resolved for the request"
    assert messages[resolved_at]["params"]["threadId"] == thread_id
    completed_at = next(i for i, m in enumerate(messages) if m.get("method") == "turn/completed")
    assert resolved_at < completed_at, "serverRequest/resolved should arrive first"
