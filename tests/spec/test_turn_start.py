"""pytest twins of upstream `app-server/tests/suite/v2/turn_start.rs`.

Each twin keeps the Rust test's name, scripted Responses traffic and assertions, and drives the
real `parley app-server` subprocess (`support.app_server`) against the mock Responses server
(`support.mock_responses`). Where upstream asserts Codex's own prompt text (personality and
collaboration-mode instructions), the twin asserts the same behaviour with Parley's own words.

Every test of the upstream file has a twin here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import orjson
from support.agent_steps import (
    assistant_turn,
    create_config_toml,
    message_input_texts,
    start_turn,
    text_input,
    wait_for_item,
)
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer, create_final_assistant_message_sse_response
from support.rollout import create_fake_rollout
from support.sse import (
    create_apply_patch_sse_response,
    create_exec_command_sse_response,
    create_shell_command_sse_response,
    ev_assistant_message,
    ev_completed,
    ev_function_call,
    ev_response_created,
    sse,
)

from parley.agent.turn_options import (
    CollaborationMode,
    mode_instructions,
    personality_base_section,
    personality_instructions,
)
from parley.config.personality_migration import MARKER_FILENAME as PERSONALITY_MIGRATION_FILENAME
from parley.tools.shell import display_command, shell_argv, user_shell

Json = Any


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


# ---- input size ---------------------------------------------------------------------------

MAX_USER_INPUT_TEXT_CHARS = 1 << 20
INVALID_PARAMS_ERROR_CODE = -32602
INPUT_TOO_LARGE_ERROR_CODE = "input_too_large"


async def test_turn_start_accepts_text_at_limit_with_mention_item(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Text exactly at the limit, plus a mention, starts a turn that completes."""
    responses_server.push(create_final_assistant_message_sse_response("Done"))
    create_config_toml(codex_home, responses_server.uri, "never", {"personality": True})
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    result = await mcp.request(
        "turn/start",
        {
            "threadId": thread["id"],
            "input": [
                {"type": "text", "text": "x" * MAX_USER_INPUT_TEXT_CHARS, "text_elements": []},
                {"type": "mention", "name": "Demo App", "path": "app://demo-app"},
            ],
        },
    )
    assert result["turn"]["status"] == "inProgress"
    await mcp.read_notification("turn/completed")


async def test_turn_start_rejects_combined_oversized_text_input(
    codex_home: Path, spawn_app_server: SpawnAppServer
) -> None:
    """Text parts that together exceed the limit are refused (-32602) and no turn starts."""
    create_config_toml(codex_home, "http://localhost/unused", "never", {"personality": True})
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    first = "x" * (MAX_USER_INPUT_TEXT_CHARS // 2)
    second = "y" * (MAX_USER_INPUT_TEXT_CHARS // 2 + 1)
    error = await mcp.request_error(
        "turn/start",
        {
            "threadId": thread["id"],
            "input": [
                {"type": "text", "text": first, "text_elements": []},
                {"type": "text", "text": second, "text_elements": []},
            ],
        },
    )
    assert error["code"] == INVALID_PARAMS_ERROR_CODE
    assert error["message"] == (
        f"Input exceeds the maximum length of {MAX_USER_INPUT_TEXT_CHARS} characters."
    )
    data = error["data"]
    assert data["input_error_code"] == INPUT_TOO_LARGE_ERROR_CODE
    assert data["max_chars"] == MAX_USER_INPUT_TEXT_CHARS
    assert data["actual_chars"] == len(first) + len(second)
    await mcp.expect_no_notification("turn/started", within=0.25)


# ---- collaboration modes and personality ----------------------------------------------------


async def test_turn_start_accepts_collaboration_mode_override_v2(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """The mode's model wins over the turn's, and its instructions (with request_user_input
    offered in Default mode when the feature is on) reach the request."""
    responses_server.push(assistant_turn("resp-1", "msg-1", "Done"))
    create_config_toml(
        codex_home, responses_server.uri, "never", {"default_mode_request_user_input": True}
    )
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "gpt-5.2-codex"})
    collaboration_mode = {
        "mode": "default",
        "settings": {
            "model": "mock-model-collab",
            "reasoning_effort": "high",
            "developer_instructions": None,
        },
    }
    await start_turn(
        mcp,
        thread["id"],
        "Hello",
        model="mock-model-override",
        effort="low",
        summary="auto",
        outputSchema=None,
        collaborationMode=collaboration_mode,
    )
    await mcp.read_notification("turn/completed")
    (payload,) = responses_server.responses_requests()
    assert payload["model"] == "mock-model-collab"
    # Parley's own wording: Default mode with the feature on offers request_user_input, and
    # says so differently from Default mode without it and from Plan mode.
    features = frozenset({"default_mode_request_user_input"})
    offered = mode_instructions(CollaborationMode("default"), features)
    assert "request_user_input" in offered
    assert offered != mode_instructions(CollaborationMode("default"), frozenset())
    assert offered != mode_instructions(CollaborationMode("plan"), features)
    assert offered in message_input_texts(payload, "developer")


async def test_turn_start_accepts_personality_override_v2(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A personality chosen on turn/start adds a personality message to the developer input."""
    responses_server.push(assistant_turn("resp-1", "msg-1", "Done"))
    create_config_toml(codex_home, responses_server.uri, "never", {"personality": True})
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "exp-codex-personality"})
    await start_turn(mcp, thread["id"], "Hello", personality="friendly")
    await mcp.read_notification("turn/completed")
    (payload,) = responses_server.responses_requests()
    developer_texts = message_input_texts(payload, "developer")
    assert any("<personality_spec>" in text for text in developer_texts), developer_texts
    assert personality_instructions("friendly") in developer_texts
    assert personality_instructions("friendly") != personality_instructions("pragmatic")


async def test_turn_start_change_personality_mid_thread_v2(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """No personality message until one is chosen; the next request carries it."""
    responses_server.push(
        assistant_turn("resp-1", "msg-1", "Done"), assistant_turn("resp-2", "msg-2", "Done")
    )
    create_config_toml(codex_home, responses_server.uri, "never", {"personality": True})
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "exp-codex-personality"})
    await start_turn(mcp, thread["id"], "Hello", personality=None)
    await mcp.read_notification("turn/completed")
    await start_turn(mcp, thread["id"], "Hello again", personality="friendly")
    await mcp.read_notification("turn/completed")
    requests = responses_server.responses_requests()
    assert len(requests) == 2, "expected two requests"
    first = message_input_texts(requests[0], "developer")
    assert all("<personality_spec>" not in text for text in first), first
    second = message_input_texts(requests[1], "developer")
    assert any("<personality_spec>" in text for text in second), second


async def test_turn_start_uses_migrated_pragmatic_personality_without_override_v2(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Someone with recorded sessions and no personality is migrated to `pragmatic` at start
    (config written, marker left), and a new thread's base instructions carry it."""
    responses_server.push(assistant_turn("resp-1", "msg-1", "Done"))
    create_config_toml(codex_home, responses_server.uri, "never", {"personality": True})
    create_fake_rollout(
        codex_home,
        "2025-01-01T00-00-00",
        "2025-01-01T00:00:00Z",
        "history user message",
        "mock_provider",
    )
    mcp = await spawn_app_server()
    await mcp.initialize()
    persisted = tomllib.loads((codex_home / "config.toml").read_text())
    assert persisted.get("personality") == "pragmatic"
    assert (codex_home / PERSONALITY_MIGRATION_FILENAME).exists(), (
        "expected personality migration marker to be written on startup"
    )
    thread = await mcp.start_thread({"model": "gpt-5.2-codex"})
    await start_turn(mcp, thread["id"], "Hello", personality=None)
    await mcp.read_notification("turn/completed")
    (request,) = responses_server.responses_requests()
    # Parley's own pragmatic text, in the model instructions (not a personality update).
    assert personality_base_section("pragmatic") in request["instructions"], request
    assert personality_base_section("pragmatic") != personality_base_section("friendly")


# ---- basics -----------------------------------------------------------------------------

TEST_ORIGINATOR = "codex_vscode"


async def test_turn_start_sends_originator_header(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Every model request carries the client's name as the `originator` header."""
    responses_server.push(create_final_assistant_message_sse_response("Done"))
    create_config_toml(codex_home, responses_server.uri, "never", {"personality": True})
    mcp = await spawn_app_server()
    await mcp.initialize(TEST_ORIGINATOR, client_title="Codex VS Code Extension")
    thread = await mcp.start_thread({"model": "mock-model"})
    await start_turn(mcp, thread["id"], "Hello")
    await mcp.read_notification("turn/completed")
    requests = responses_server.responses_request_records()
    assert requests
    for request in requests:
        assert request.header("originator") == TEST_ORIGINATOR, "originator header missing"


async def test_turn_start_emits_user_message_item_with_text_elements(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """The userMessage item echoes the input with its text elements."""
    responses_server.push(create_final_assistant_message_sse_response("Done"))
    create_config_toml(codex_home, responses_server.uri, "never", {"personality": True})
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    text_elements = [{"byteRange": {"start": 0, "end": 5}, "placeholder": "<note>"}]
    await mcp.request(
        "turn/start",
        {
            "threadId": thread["id"],
            "input": [{"type": "text", "text": "Hello", "text_elements": text_elements}],
        },
    )
    item = await wait_for_item(mcp, "item/started", "userMessage")
    assert item["content"] == [{"type": "text", "text": "Hello", "text_elements": text_elements}]
    await mcp.read_notification("turn/completed")


async def test_thread_start_omits_empty_instruction_overrides_from_model_request(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Empty base/developer instructions mean none: no `instructions`, no empty developer text."""
    responses_server.push(assistant_turn("resp-1", "msg-1", "Done"))
    create_config_toml(codex_home, responses_server.uri, "never")
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread(
        {
            "config": {"include_permissions_instructions": False},
            "baseInstructions": "",
            "developerInstructions": "",
        }
    )
    await start_turn(mcp, thread["id"], "Hello")
    await mcp.read_notification("turn/completed")
    (body,) = responses_server.responses_requests()
    empty = [text for text in message_input_texts(body, "developer") if not text]
    assert {"hasInstructions": "instructions" in body, "emptyDeveloperInputTexts": empty} == {
        "hasInstructions": False,
        "emptyDeveloperInputTexts": [],
    }


async def test_turn_start_emits_notifications_and_accepts_model_override(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Two turns each get started/completed notifications; the second overrides the model."""
    responses_server.push(*[create_final_assistant_message_sse_response("Done")] * 3)
    create_config_toml(codex_home, responses_server.uri, "never", {"personality": True})
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})

    turn = await start_turn(mcp, thread["id"], "Hello")
    assert turn["id"]
    started = await mcp.read_notification("turn/started")
    assert started["threadId"] == thread["id"]
    assert started["turn"]["status"] == "inProgress"
    assert started["turn"]["id"] == turn["id"]
    completed = await mcp.read_notification("turn/completed")
    assert completed["threadId"] == thread["id"]
    assert completed["turn"]["id"] == turn["id"]
    assert completed["turn"]["status"] == "completed"

    turn2 = await start_turn(mcp, thread["id"], "Second", model="mock-model-override")
    assert turn2["id"]
    assert turn["id"] != turn2["id"]
    started2 = await mcp.read_notification("turn/started")
    assert started2["threadId"] == thread["id"]
    assert started2["turn"]["id"] == turn2["id"]
    assert started2["turn"]["status"] == "inProgress"
    completed2 = await mcp.read_notification("turn/completed")
    assert completed2["threadId"] == thread["id"]
    assert completed2["turn"]["id"] == turn2["id"]
    assert completed2["turn"]["status"] == "completed"


# ---- commands ---------------------------------------------------------------------------


async def test_turn_start_accepts_local_image_input(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A local image input (even a missing file) starts a turn that completes."""
    responses_server.push(*[create_final_assistant_message_sse_response("Done")] * 2)
    create_config_toml(codex_home, responses_server.uri, "never")
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    image_path = codex_home / "image.png"
    result = await mcp.request(
        "turn/start",
        {"threadId": thread["id"], "input": [{"type": "localImage", "path": str(image_path)}]},
    )
    assert result["turn"]["id"]
    await mcp.read_notification("turn/completed")


PYTHON_42 = ["python3", "-c", "print(42)"]


async def test_turn_start_exec_approval_toggle_v2(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """`untrusted` asks before a command; a later turn switched to `never` does not ask."""
    codex_home = tmp_path
    responses_server.push(
        create_shell_command_sse_response(PYTHON_42, None, 5000, "call1"),
        create_final_assistant_message_sse_response("done 1"),
        create_shell_command_sse_response(PYTHON_42, None, 5000, "call2"),
        create_final_assistant_message_sse_response("done 2"),
    )
    create_config_toml(codex_home, responses_server.uri, "untrusted")
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    await start_turn(mcp, thread["id"], "run python")
    request = await mcp.read_stream_until_request_message()
    assert request["method"] == "item/commandExecution/requestApproval"
    assert request["params"]["itemId"] == "call1"
    await mcp.send_response(request["id"], {"decision": "accept"})
    await mcp.read_notification("turn/completed")
    messages = mcp.received_messages()
    resolved = [m for m in messages if m.get("method") == "serverRequest/resolved"]
    assert resolved, "serverRequest/resolved should arrive before turn/completed"
    assert resolved[0]["params"]["threadId"] == thread["id"]
    assert resolved[0]["params"]["requestId"] == request["id"]
    resolved_at = messages.index(resolved[0])
    completed_at = next(i for i, m in enumerate(messages) if m.get("method") == "turn/completed")
    assert resolved_at < completed_at, "serverRequest/resolved should arrive first"

    await start_turn(
        mcp,
        thread["id"],
        "run python again",
        approvalPolicy="never",
        sandboxPolicy={"type": "dangerFullAccess"},
        model="mock-model",
        effort="medium",
        summary="auto",
    )
    await mcp.read_notification("turn/completed")
    requests = [m for m in mcp.received_messages() if "method" in m and "id" in m]
    assert len(requests) == 1, f"unexpected approval request: {requests[1:]}"


async def test_turn_start_exec_approval_decline_v2(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A declined command ends as a declined item with no exit code and no output."""
    codex_home = tmp_path
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    responses_server.push(
        create_shell_command_sse_response(PYTHON_42, None, 5000, "call-decline"),
        create_final_assistant_message_sse_response("done"),
    )
    create_config_toml(codex_home, responses_server.uri, "untrusted")
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    turn = await start_turn(mcp, thread["id"], "run python", cwd=str(workspace))
    started = await wait_for_item(mcp, "item/started", "commandExecution")
    assert started["id"] == "call-decline"
    assert started["status"] == "inProgress"
    request = await mcp.read_stream_until_request_message()
    assert request["method"] == "item/commandExecution/requestApproval"
    assert request["params"]["itemId"] == "call-decline"
    assert request["params"]["threadId"] == thread["id"]
    assert request["params"]["turnId"] == turn["id"]
    await mcp.send_response(request["id"], {"decision": "decline"})
    completed = await wait_for_item(mcp, "item/completed", "commandExecution")
    assert completed["id"] == "call-decline"
    assert completed["status"] == "declined"
    assert completed.get("exitCode") is None
    assert completed.get("aggregatedOutput") is None
    await mcp.read_notification("turn/completed")


async def test_turn_start_updates_sandbox_and_cwd_between_turns_v2(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """The second turn's cwd and sandbox apply to its command."""
    codex_home = tmp_path / "codex_home"
    workspace_root = tmp_path / "workspace"
    first_cwd = workspace_root / "turn1"
    second_cwd = workspace_root / "turn2"
    first_cwd.mkdir(parents=True)
    second_cwd.mkdir()
    responses_server.push(
        create_shell_command_sse_response(["echo", "first", "turn"], None, 5000, "call-first"),
        create_final_assistant_message_sse_response("done first"),
        create_shell_command_sse_response(["echo", "second", "turn"], None, 5000, "call-second"),
        create_final_assistant_message_sse_response("done second"),
    )
    create_config_toml(codex_home, responses_server.uri, "untrusted")
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    common = {
        "model": "mock-model",
        "effort": "medium",
        "summary": "auto",
        "approvalPolicy": "never",
    }
    await start_turn(
        mcp,
        thread["id"],
        "first turn",
        cwd=str(first_cwd),
        sandboxPolicy={
            "type": "workspaceWrite",
            "writableRoots": [str(first_cwd)],
            "readOnlyAccess": {"type": "fullAccess"},
            "networkAccess": False,
            "excludeTmpdirEnvVar": False,
            "excludeSlashTmp": False,
        },
        **common,
    )
    await mcp.read_notification("turn/completed")
    mcp.clear_message_buffer()
    await start_turn(
        mcp,
        thread["id"],
        "second turn",
        cwd=str(second_cwd),
        sandboxPolicy={"type": "dangerFullAccess"},
        **common,
    )
    item = await wait_for_item(mcp, "item/started", "commandExecution")
    assert item["cwd"] == str(second_cwd)
    expected_command = display_command(shell_argv(user_shell(), "echo second turn", login=True))
    assert item["command"] == expected_command
    assert item["status"] == "inProgress"
    await mcp.read_notification("turn/completed")


async def test_turn_start_uses_thread_feature_overrides_for_collaboration_mode_instructions_v2(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A feature turned on in thread/start's `config` shapes the mode instructions."""
    responses_server.push(assistant_turn("resp-1", "msg-1", "Done"))
    create_config_toml(codex_home, responses_server.uri, "never")
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread(
        {
            "model": "gpt-5.2-codex",
            "config": {"features.default_mode_request_user_input": True},
        }
    )
    await start_turn(
        mcp,
        thread["id"],
        "Hello",
        model="mock-model-override",
        effort="low",
        summary="auto",
        outputSchema=None,
        collaborationMode={
            "mode": "default",
            "settings": {
                "model": "mock-model-collab",
                "reasoning_effort": "high",
                "developer_instructions": None,
            },
        },
    )
    await mcp.read_notification("turn/completed")
    (payload,) = responses_server.responses_requests()
    offered = mode_instructions(
        CollaborationMode("default"), frozenset({"default_mode_request_user_input"})
    )
    assert offered in message_input_texts(payload, "developer")


async def test_command_execution_notifications_include_process_id(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Unified exec shows its command item with the same processId from start to end."""
    responses_server.push(
        create_exec_command_sse_response("uexec-1"),
        create_final_assistant_message_sse_response("done"),
    )
    create_config_toml(
        codex_home,
        responses_server.uri,
        "never",
        {"unified_exec": True},
        sandbox_mode="danger-full-access",
    )
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    await start_turn(mcp, thread["id"], "run a command", sandboxPolicy={"type": "dangerFullAccess"})
    started = await wait_for_item(mcp, "item/started", "commandExecution")
    assert started["id"] == "uexec-1"
    assert started["status"] == "inProgress"
    started_process_id = started["processId"]
    assert started_process_id is not None, "process id should be present"
    completed = await wait_for_item(mcp, "item/completed", "commandExecution")
    assert completed["id"] == "uexec-1"
    assert completed["status"] in ("completed", "failed")
    if completed["status"] == "completed":
        assert completed["exitCode"] == 0
    else:
        assert completed["exitCode"] is not None, "expected exit_code for failed command"
    assert completed["processId"] == started_process_id
    await mcp.read_notification("turn/completed")


async def test_turn_start_with_elevated_override_does_not_persist_project_trust(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A turn switched to danger-full-access does not mark the workspace trusted in config."""
    responses_server.push(create_final_assistant_message_sse_response("Done"))
    create_config_toml(codex_home, responses_server.uri, "never", {"personality": True})
    workspace = codex_home.parent / "workspace"
    workspace.mkdir()
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"cwd": str(workspace)})
    await start_turn(
        mcp,
        thread["id"],
        "Hello",
        cwd=str(workspace),
        sandboxPolicy={"type": "dangerFullAccess"},
    )
    await mcp.read_notification("turn/completed")
    config_toml = (codex_home / "config.toml").read_text()
    assert 'trust_level = "trusted"' not in config_toml
    assert str(workspace) not in config_toml


# ---- multi-agent: spawn_agent -----------------------------------------------------------------

CHILD_PROMPT = "child: do work"
PARENT_PROMPT = "spawn a child and continue"
SPAWN_CALL_ID = "spawn-call-1"
REQUESTED_MODEL = "gpt-5.1"
REQUESTED_REASONING_EFFORT = "low"


def body_contains(request: Any, text: str) -> bool:
    return text in request.body_text()


def mount_spawn_conversation(server: MockResponsesServer, spawn_args: Json) -> None:
    """Parent asks for a sub-agent, the child answers, the parent finishes (any order)."""
    server.mount_once_matching(
        lambda req: body_contains(req, PARENT_PROMPT),
        sse(
            [
                ev_response_created("resp-turn1-1"),
                ev_function_call(SPAWN_CALL_ID, "spawn_agent", orjson.dumps(spawn_args).decode()),
                ev_completed("resp-turn1-1"),
            ]
        ),
    )
    server.mount_once_matching(
        lambda req: body_contains(req, CHILD_PROMPT) and not body_contains(req, SPAWN_CALL_ID),
        sse(
            [
                ev_response_created("resp-child-1"),
                ev_assistant_message("msg-child-1", "child done"),
                ev_completed("resp-child-1"),
            ]
        ),
    )
    server.mount_once_matching(
        lambda req: body_contains(req, SPAWN_CALL_ID),
        sse(
            [
                ev_response_created("resp-turn1-2"),
                ev_assistant_message("msg-turn1-2", "parent done"),
                ev_completed("resp-turn1-2"),
            ]
        ),
    )


async def spawn_item_of(mcp: Any, method: str) -> Json:
    while True:
        item = (await mcp.read_notification(method))["item"]
        if item["type"] == "collabAgentToolCall" and item["id"] == SPAWN_CALL_ID:
            return item


async def parent_turn_completed(mcp: Any, thread_id: str, turn_id: str) -> Json:
    while True:
        completed = await mcp.read_notification("turn/completed")
        if completed["threadId"] == thread_id and completed["turn"]["id"] == turn_id:
            return completed


def check_spawn_completed(item: Json, thread_id: str, model: str, effort: str) -> None:
    receivers = item["receiverThreadIds"]
    assert receivers, "spawn completion should include child thread id"
    receiver = receivers[0]
    assert item["id"] == SPAWN_CALL_ID
    assert item["tool"] == "spawnAgent"
    assert item["status"] == "completed"
    assert item["senderThreadId"] == thread_id
    assert receivers == [receiver]
    assert item["prompt"] == CHILD_PROMPT
    assert item["model"] == model
    assert item["reasoningEffort"] == effort
    state = item["agentsStates"].get(receiver)
    assert state is not None, "spawn completion should include child agent state"
    assert state["status"] in ("pendingInit", "running"), (
        f"child agent should still be initializing or already running, got {state['status']}"
    )
    assert state.get("message") is None


async def test_turn_start_emits_spawn_agent_item_with_model_metadata_v2(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """spawn_agent is shown as a collabAgentToolCall carrying the requested model and effort,
    completed with the child thread and its (starting) state; the parent turn then completes."""
    mount_spawn_conversation(
        responses_server,
        {
            "message": CHILD_PROMPT,
            "model": REQUESTED_MODEL,
            "reasoning_effort": REQUESTED_REASONING_EFFORT,
        },
    )
    create_config_toml(codex_home, responses_server.uri, "never", {"multi_agent": True})
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "gpt-5.2-codex"})
    turn = await start_turn(mcp, thread["id"], PARENT_PROMPT)

    started = await spawn_item_of(mcp, "item/started")
    assert started == {
        "type": "collabAgentToolCall",
        "id": SPAWN_CALL_ID,
        "tool": "spawnAgent",
        "status": "inProgress",
        "senderThreadId": thread["id"],
        "receiverThreadIds": [],
        "prompt": CHILD_PROMPT,
        "model": REQUESTED_MODEL,
        "reasoningEffort": REQUESTED_REASONING_EFFORT,
        "agentsStates": {},
    }
    completed = await spawn_item_of(mcp, "item/completed")
    check_spawn_completed(completed, thread["id"], REQUESTED_MODEL, REQUESTED_REASONING_EFFORT)
    finished = await parent_turn_completed(mcp, thread["id"], turn["id"])
    assert finished["threadId"] == thread["id"]
    assert finished["turn"]["id"] == turn["id"]


async def test_turn_start_emits_spawn_agent_item_with_effective_role_model_metadata_v2(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A role whose config file sets model and effort wins over what the call asked for."""
    role_model, role_effort = "gpt-5.1-codex-max", "high"
    mount_spawn_conversation(
        responses_server,
        {
            "message": CHILD_PROMPT,
            "agent_type": "custom",
            "model": REQUESTED_MODEL,
            "reasoning_effort": REQUESTED_REASONING_EFFORT,
        },
    )
    create_config_toml(codex_home, responses_server.uri, "never", {"multi_agent": True})
    (codex_home / "custom-role.toml").write_text(
        f'model = "{role_model}"\nmodel_reasoning_effort = "{role_effort}"\n'
    )
    config_path = codex_home / "config.toml"
    base_config = config_path.read_text()
    config_path.write_text(
        f"""{base_config}

[agents.custom]
description = "Custom role"
config_file = "./custom-role.toml"
"""
    )
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "gpt-5.2-codex"})
    turn = await start_turn(mcp, thread["id"], PARENT_PROMPT)

    completed = await spawn_item_of(mcp, "item/completed")
    check_spawn_completed(completed, thread["id"], role_model, role_effort)
    finished = await parent_turn_completed(mcp, thread["id"], turn["id"])
    assert finished["threadId"] == thread["id"]
