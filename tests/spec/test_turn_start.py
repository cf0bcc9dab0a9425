"""pytest twins of upstream `app-server/tests/suite/v2/turn_start.rs`.

Each twin keeps the Rust test's name, scripted Responses traffic and assertions, and drives the
real `parley app-server` subprocess (`support.app_server`) against the mock Responses server
(`support.mock_responses`). Where upstream asserts Codex's own prompt text (personality and
collaboration-mode instructions), the twin asserts the same behaviour with Parley's own words.

Out of scope here (no twin):
* `turn_start_emits_spawn_agent_item_with_model_metadata_v2` and
  `turn_start_emits_spawn_agent_item_with_effective_role_model_metadata_v2`: multi-agent
  (`spawn_agent` collaboration tools) is not part of Parley.
* `turn_start_uses_migrated_pragmatic_personality_without_override_v2`: depends on Codex's
  personality migration of an existing `~/.codex` (a marker file and Codex's own template text).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer, create_final_assistant_message_sse_response
from support.sse import create_apply_patch_sse_response

Json = Any


def create_config_toml(
    codex_home: Path,
    server_uri: str,
    approval_policy: str,
    feature_flags: dict[str, bool] | None = None,
    sandbox_mode: str = "read-only",
) -> None:
    """The upstream file's own config helper (`create_config_toml_with_sandbox`)."""
    features = "\n".join(f"{key} = {str(on).lower()}" for key, on in (feature_flags or {}).items())
    (codex_home / "config.toml").write_text(
        f"""
model = "mock-model"
approval_policy = "{approval_policy}"
sandbox_mode = "{sandbox_mode}"

model_provider = "mock_provider"

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


async def wait_for_item(server: Any, method: str, kind: str) -> Json:
    """The first `item/started` / `item/completed` whose item is of type `kind`."""
    while True:
        params = await server.read_notification(method)
        if params["item"]["type"] == kind:
            return params["item"]


def _index(messages: list[Json], predicate: Any) -> int:
    return next(i for i, m in enumerate(messages) if predicate(m))


# ---- file changes -------------------------------------------------------------------------


async def test_turn_start_file_change_approval_v2(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A patch under `untrusted` is shown with its diff, approved, applied and completed."""
    codex_home = tmp_path / "codex_home"
    codex_home.mkdir()
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    patch = "*** Begin Patch\n*** Add File: README.md\n+new line\n*** End Patch\n"
    responses_server.push(
        create_apply_patch_sse_response(patch, "patch-call"),
        create_final_assistant_message_sse_response("patch applied"),
    )
    create_config_toml(codex_home, responses_server.uri, "untrusted")
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model", "cwd": str(workspace)})
    turn = (
        await mcp.request(
            "turn/start",
            {"threadId": thread["id"], "input": text_input("apply patch"), "cwd": str(workspace)},
        )
    )["turn"]

    started = await wait_for_item(mcp, "item/started", "fileChange")
    assert started["id"] == "patch-call"
    assert started["status"] == "inProgress"

    request = await mcp.read_stream_until_request_message()
    assert request["method"] == "item/fileChange/requestApproval"
    params = request["params"]
    assert params["itemId"] == "patch-call"
    assert params["threadId"] == thread["id"]
    assert params["turnId"] == turn["id"]
    readme = workspace / "README.md"
    assert started["changes"] == [
        {"path": str(readme), "kind": {"type": "add"}, "diff": "new line\n"}
    ]

    await mcp.send_response(request["id"], {"decision": "accept"})
    completed = await wait_for_item(mcp, "item/completed", "fileChange")
    delta = await mcp.read_notification("item/fileChange/outputDelta")
    messages = mcp.received_messages()
    resolved_at = _index(
        messages,
        lambda m: (
            m.get("method") == "serverRequest/resolved"
            and m["params"]["requestId"] == request["id"]
        ),
    )
    assert messages[resolved_at]["params"]["threadId"] == thread["id"]
    delta_at = _index(messages, lambda m: m.get("method") == "item/fileChange/outputDelta")
    completed_at = _index(
        messages,
        lambda m: (
            m.get("method") == "item/completed" and m["params"]["item"]["type"] == "fileChange"
        ),
    )
    assert resolved_at < delta_at, "serverRequest/resolved should arrive first"
    assert resolved_at < completed_at, "serverRequest/resolved should arrive first"

    assert delta["threadId"] == thread["id"]
    assert delta["turnId"] == turn["id"]
    assert delta["itemId"] == "patch-call"
    assert delta["delta"], "expected delta to be non-empty"
    assert completed["id"] == "patch-call"
    assert completed["status"] == "completed"
    assert readme.read_text() == "new line\n"
    await mcp.read_notification("turn/completed")


async def test_turn_start_file_change_approval_accept_for_session_persists_v2(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """After "accept for session", a later patch to the same file is applied without asking."""
    codex_home = tmp_path / "codex_home"
    codex_home.mkdir()
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    patch_1 = "*** Begin Patch\n*** Add File: README.md\n+new line\n*** End Patch\n"
    patch_2 = (
        "*** Begin Patch\n*** Update File: README.md\n@@\n-new line\n+updated line\n*** End Patch\n"
    )
    responses_server.push(
        create_apply_patch_sse_response(patch_1, "patch-call-1"),
        create_final_assistant_message_sse_response("patch 1 applied"),
        create_apply_patch_sse_response(patch_2, "patch-call-2"),
        create_final_assistant_message_sse_response("patch 2 applied"),
    )
    create_config_toml(codex_home, responses_server.uri, "untrusted")
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model", "cwd": str(workspace)})

    turn_1 = (
        await mcp.request(
            "turn/start",
            {"threadId": thread["id"], "input": text_input("apply patch 1"), "cwd": str(workspace)},
        )
    )["turn"]
    started = await wait_for_item(mcp, "item/started", "fileChange")
    assert started["id"] == "patch-call-1"
    assert started["status"] == "inProgress"
    request = await mcp.read_stream_until_request_message()
    assert request["method"] == "item/fileChange/requestApproval"
    assert request["params"]["itemId"] == "patch-call-1"
    assert request["params"]["threadId"] == thread["id"]
    assert request["params"]["turnId"] == turn_1["id"]
    await mcp.send_response(request["id"], {"decision": "acceptForSession"})
    await mcp.read_notification("item/fileChange/outputDelta")
    await mcp.read_notification("item/completed")
    await mcp.read_notification("turn/completed")
    readme = workspace / "README.md"
    assert readme.read_text() == "new line\n"

    await mcp.request(
        "turn/start",
        {"threadId": thread["id"], "input": text_input("apply patch 2"), "cwd": str(workspace)},
    )
    started = await wait_for_item(mcp, "item/started", "fileChange")
    assert started["id"] == "patch-call-2"
    assert started["status"] == "inProgress"
    await mcp.read_notification("item/fileChange/outputDelta")
    await mcp.read_notification("item/completed")
    await mcp.read_notification("turn/completed")
    # Upstream's reader fails on any server request here: approval must have been skipped.
    requests = [m for m in mcp.received_messages() if "method" in m and "id" in m]
    assert len(requests) == 1, f"unexpected second approval request: {requests[1:]}"
    assert readme.read_text() == "updated line\n"


async def test_turn_start_file_change_approval_decline_v2(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A declined patch ends as a declined `fileChange` item and writes nothing."""
    codex_home = tmp_path / "codex_home"
    codex_home.mkdir()
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    patch = "*** Begin Patch\n*** Add File: README.md\n+new line\n*** End Patch\n"
    responses_server.push(
        create_apply_patch_sse_response(patch, "patch-call"),
        create_final_assistant_message_sse_response("patch declined"),
    )
    create_config_toml(codex_home, responses_server.uri, "untrusted")
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model", "cwd": str(workspace)})
    turn = (
        await mcp.request(
            "turn/start",
            {"threadId": thread["id"], "input": text_input("apply patch"), "cwd": str(workspace)},
        )
    )["turn"]
    started = await wait_for_item(mcp, "item/started", "fileChange")
    assert started["id"] == "patch-call"
    assert started["status"] == "inProgress"
    request = await mcp.read_stream_until_request_message()
    assert request["method"] == "item/fileChange/requestApproval"
    assert request["params"]["itemId"] == "patch-call"
    assert request["params"]["threadId"] == thread["id"]
    assert request["params"]["turnId"] == turn["id"]
    readme = workspace / "README.md"
    assert started["changes"] == [
        {"path": str(readme), "kind": {"type": "add"}, "diff": "new line\n"}
    ]
    await mcp.send_response(request["id"], {"decision": "decline"})
    completed = await wait_for_item(mcp, "item/completed", "fileChange")
    assert completed["id"] == "patch-call"
    assert completed["status"] == "declined"
    await mcp.read_notification("turn/completed")
    assert not readme.exists(), "declined patch should not be applied"
