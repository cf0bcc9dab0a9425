"""pytest twins of upstream `app-server/tests/suite/v2/thread_resume.rs`.

Twinned here (15): every test below. Rollouts are seeded as upstream's harness writes them.
Upstream delays the running turn's model answer by 500 ms to keep the turn running; the twins
hold it with a gate instead (released when the test is done with the running thread), so they
never depend on timing. `thread_resume_prefers_persisted_git_metadata_for_local_threads` seeds
the reference's private SQLite state DB upstream; its twin checks the same behaviour on Parley's
own records (the metadata update is kept in the rollout).
`thread_resume_accepts_personality_override` checks Parley's own default base instructions where
upstream checks its gpt-5.2-codex instructions template.

Elsewhere or pending on other engineers' features (no twin here, not skipped):
- `thread_resume_tracks_thread_initialized_analytics`: pending on analytics.
- `thread_resume_fails_when_required_mcp_server_fails_to_initialize`: twinned with the MCP work
  in `tests/mcp/test_thread_start_mcp.py`.
- `thread_resume_surfaces_cloud_requirements_load_errors`: pending on cloud requirements
  (ChatGPT sign-in and a cloud service).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.agent_steps import message_input_texts
from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer, ScriptedResponse
from support.rollout import (
    create_fake_rollout_with_text_elements,
    rollout_path,
    session_meta_payload,
    set_mtime,
)
from support.sse import (
    create_apply_patch_sse_response,
    create_final_assistant_message_sse_response,
    create_shell_command_sse_response,
    ev_assistant_message,
    ev_completed,
    ev_response_created,
    sse,
)
from support.thread_harness import (
    create_mock_responses_server_repeating_assistant,
    run_turn,
    text_input,
)

from parley.agent.prompt import BASE_INSTRUCTIONS

Json = dict[str, Any]


def create_config_toml(codex_home: Path, server_uri: str) -> None:
    (codex_home / "config.toml").write_text(
        f"""
model = "gpt-5.2-codex"
approval_policy = "never"
sandbox_mode = "read-only"

model_provider = "mock_provider"

[features]
personality = true
general_analytics = true

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{server_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""
    )


def mtime(path: Path) -> int:
    return os.stat(path).st_mtime_ns


def rfc_seconds(text: str) -> int:
    import datetime as dt

    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


async def ready(spawn_app_server: SpawnAppServer, codex_home: Path) -> AppServerProcess:
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    return mcp


async def start_thread(mcp: AppServerProcess, model: str = "gpt-5.1-codex-max") -> Json:
    thread: Json = (await mcp.request("thread/start", {"model": model}))["thread"]
    return thread


def done_body(n: int) -> str:
    return sse(
        [
            ev_response_created(f"resp-{n}"),
            ev_assistant_message(f"msg-{n}", "Done"),
            ev_completed(f"resp-{n}"),
        ]
    )


@dataclass
class RunningThread:
    mcp: AppServerProcess
    server: MockResponsesServer
    thread: Json
    release: asyncio.Event


async def start_running_thread(spawn_app_server: SpawnAppServer, codex_home: Path) -> RunningThread:
    """A thread with one finished turn and a second one whose model answer is held back."""
    release = asyncio.Event()
    server = await MockResponsesServer(
        [done_body(1), ScriptedResponse.stream(done_body(2), gate=release)]
    ).start()
    create_config_toml(codex_home, server.uri)
    primary = await ready(spawn_app_server, codex_home)
    thread = await start_thread(primary)
    await run_turn(primary, thread["id"], "seed history")
    primary.clear_message_buffer()
    await primary.request(
        "turn/start", {"threadId": thread["id"], "input": text_input("keep running")}
    )
    await primary.read_notification("turn/started")
    return RunningThread(primary, server, thread, release)


async def test_thread_resume_rejects_unmaterialized_thread(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    mcp = await ready(spawn_app_server, codex_home)
    thread = await start_thread(mcp)
    error = await mcp.request_error("thread/resume", {"threadId": thread["id"]})
    assert "no rollout found for thread id" in error["message"], error["message"]
    await server.stop()


async def test_thread_resume_returns_rollout_history(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    preview = "Saved user message"
    elements = [{"byte_range": {"start": 0, "end": 5}, "placeholder": "<note>"}]
    conversation_id = create_fake_rollout_with_text_elements(
        codex_home,
        "2025-01-05T12-00-00",
        "2025-01-05T12:00:00Z",
        preview,
        elements,
        "mock_provider",
    )
    mcp = await ready(spawn_app_server, codex_home)
    thread = (await mcp.request("thread/resume", {"threadId": conversation_id}))["thread"]
    assert thread["id"] == conversation_id
    assert thread["preview"] == preview
    assert thread["modelProvider"] == "mock_provider"
    assert Path(thread["path"]).is_absolute()
    assert thread["cwd"] == "/"
    assert thread["cliVersion"] == "0.0.0"
    assert thread["source"] == "cli"
    assert thread["gitInfo"] is None
    assert thread["status"] == {"type": "idle"}
    assert len(thread["turns"]) == 1, "expected rollouts to include one turn"
    turn = thread["turns"][0]
    assert turn["status"] == "completed"
    assert len(turn["items"]) == 1, "expected user message item"
    assert turn["items"][0]["type"] == "userMessage"
    assert turn["items"][0]["content"] == [
        {
            "type": "text",
            "text": preview,
            "text_elements": [{"byteRange": {"start": 0, "end": 5}, "placeholder": "<note>"}],
        }
    ]
    await server.stop()


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _seed_repo_and_rollout(codex_home: Path) -> str:
    repo_path = codex_home / "repo"
    repo_path.mkdir(parents=True)
    subprocess.run(["git", "init", str(repo_path)], check=True, capture_output=True)
    _git(repo_path, "checkout", "-B", "master")
    _git(repo_path, "config", "user.name", "Test User")
    _git(repo_path, "config", "user.email", "test@example.com")
    (repo_path / "README.md").write_text("test\n")
    _git(repo_path, "add", "README.md")
    _git(repo_path, "commit", "-m", "initial")
    head = subprocess.run(
        ["git", "branch", "--show-current"], cwd=repo_path, capture_output=True, text=True
    )
    assert head.stdout.strip() == "master", "test repo should stay on master"
    thread_id = str(uuid.uuid4())
    path = rollout_path(codex_home, "2025-01-05T12-00-00", thread_id)
    path.parent.mkdir(parents=True)
    stamp = "2025-01-05T12:00:00Z"
    lines = [
        {
            "timestamp": stamp,
            "type": "session_meta",
            "payload": session_meta_payload(
                thread_id, stamp, "mock_provider", None, "cli", cwd=str(repo_path)
            ),
        },
        {
            "timestamp": stamp,
            "type": "response_item",
            "payload": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Saved user message"}],
            },
        },
        {
            "timestamp": stamp,
            "type": "event_msg",
            "payload": {"type": "user_message", "message": "Saved user message", "kind": "plain"},
        },
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return thread_id


async def test_thread_resume_prefers_persisted_git_metadata_for_local_threads(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    thread_id = _seed_repo_and_rollout(codex_home)
    mcp = await ready(spawn_app_server, codex_home)
    await mcp.request(
        "thread/metadata/update",
        {"threadId": thread_id, "gitInfo": {"branch": "feature/pr-branch"}},
    )
    thread = (await mcp.request("thread/resume", {"threadId": thread_id}))["thread"]
    assert (thread["gitInfo"] or {}).get("branch") == "feature/pr-branch"
    await server.stop()


async def test_thread_resume_and_read_interrupt_incomplete_rollout_turn_when_thread_is_idle(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    filename_ts, meta_rfc3339 = "2025-01-05T12-00-00", "2025-01-05T12:00:00Z"
    conversation_id = create_fake_rollout_with_text_elements(
        codex_home, filename_ts, meta_rfc3339, "Saved user message", [], "mock_provider"
    )
    path = rollout_path(codex_home, filename_ts, conversation_id)
    turn_id = "incomplete-turn"
    appended = [
        {
            "timestamp": meta_rfc3339,
            "type": "event_msg",
            "payload": {
                "type": "task_started",
                "turn_id": turn_id,
                "model_context_window": None,
                "collaboration_mode_kind": "default",
            },
        },
        {
            "timestamp": meta_rfc3339,
            "type": "event_msg",
            "payload": {
                "type": "agent_message",
                "message": "Still running",
                "phase": None,
                "memory_citation": None,
            },
        },
    ]
    with path.open("a") as file:
        file.write("\n".join(json.dumps(line) for line in appended) + "\n")
    mcp = await ready(spawn_app_server, codex_home)

    for _ in range(2):
        thread = (await mcp.request("thread/resume", {"threadId": conversation_id}))["thread"]
        assert thread["status"] == {"type": "idle"}
        assert len(thread["turns"]) == 2
        assert thread["turns"][0]["status"] == "completed"
        assert thread["turns"][1]["id"] == turn_id
        assert thread["turns"][1]["status"] == "interrupted"

    read = (await mcp.request("thread/read", {"threadId": conversation_id, "includeTurns": True}))[
        "thread"
    ]
    assert read["status"] == {"type": "idle"}
    assert len(read["turns"]) == 2
    assert read["turns"][1]["id"] == turn_id
    assert read["turns"][1]["status"] == "interrupted"
    await server.stop()


@dataclass
class RolloutFixture:
    conversation_id: str
    rollout_file_path: Path
    before_modified: int
    expected_updated_at: int


def setup_rollout_fixture(codex_home: Path, server_uri: str) -> RolloutFixture:
    create_config_toml(codex_home, server_uri)
    filename_ts, meta_rfc3339 = "2025-01-05T12-00-00", "2025-01-05T12:00:00Z"
    expected = "2025-01-07T00:00:00Z"
    conversation_id = create_fake_rollout_with_text_elements(
        codex_home, filename_ts, meta_rfc3339, "Saved user message", [], "mock_provider"
    )
    path = rollout_path(codex_home, filename_ts, conversation_id)
    set_mtime(path, expected)
    return RolloutFixture(conversation_id, path, mtime(path), rfc_seconds(expected))


async def test_thread_resume_without_overrides_does_not_change_updated_at_or_mtime(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    rollout = setup_rollout_fixture(codex_home, server.uri)
    mcp = await ready(spawn_app_server, codex_home)
    thread = (await mcp.request("thread/resume", {"threadId": rollout.conversation_id}))["thread"]
    assert thread["updatedAt"] == rollout.expected_updated_at
    assert thread["status"] == {"type": "idle"}
    assert mtime(rollout.rollout_file_path) == rollout.before_modified
    await run_turn(mcp, rollout.conversation_id, "Hello")
    assert mtime(rollout.rollout_file_path) > rollout.before_modified
    await server.stop()


async def test_thread_resume_keeps_in_flight_turn_streaming(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    primary = await ready(spawn_app_server, codex_home)
    thread = await start_thread(primary)
    await run_turn(primary, thread["id"], "seed history")
    primary.clear_message_buffer()
    await primary.request(
        "turn/start", {"threadId": thread["id"], "input": text_input("respond with docs")}
    )
    await primary.read_notification("turn/started")
    secondary = await ready(spawn_app_server, codex_home)
    resumed = (await secondary.request("thread/resume", {"threadId": thread["id"]}))["thread"]
    assert resumed["status"] != {"type": "notLoaded"}
    await primary.read_notification("turn/completed")
    await server.stop()


async def test_thread_resume_rejects_history_when_thread_is_running(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    running = await start_running_thread(spawn_app_server, codex_home)
    error = await running.mcp.request_error(
        "thread/resume",
        {
            "threadId": running.thread["id"],
            "history": [
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "history override"}],
                }
            ],
        },
    )
    message = error["message"]
    assert "cannot resume thread" in message and "with history" in message, message
    assert "running" in message, message
    running.release.set()
    await running.mcp.read_notification("turn/completed")
    await running.server.stop()


async def test_thread_resume_rejects_mismatched_path_when_thread_is_running(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    running = await start_running_thread(spawn_app_server, codex_home)
    error = await running.mcp.request_error(
        "thread/resume",
        {
            "threadId": running.thread["id"],
            "path": "/tmp/does-not-match-running-rollout.jsonl",
        },
    )
    assert "mismatched path" in error["message"], error["message"]
    running.release.set()
    await running.mcp.read_notification("turn/completed")
    await running.server.stop()


async def test_thread_resume_rejoins_running_thread_even_with_override_mismatch(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    running = await start_running_thread(spawn_app_server, codex_home)
    result = await running.mcp.request(
        "thread/resume",
        {"threadId": running.thread["id"], "model": "not-the-running-model", "cwd": "/tmp"},
    )
    assert result["model"] == "gpt-5.1-codex-max"
    status = result["thread"]["status"]
    assert status in ({"type": "active", "activeFlags": []}, {"type": "idle"}), status
    running.release.set()
    await running.mcp.read_notification("turn/completed")
    await running.server.stop()


async def test_thread_resume_replays_pending_command_execution_request_approval(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await MockResponsesServer(
        [
            create_final_assistant_message_sse_response("seeded"),
            create_shell_command_sse_response(["python3", "-c", "print(42)"], None, 5000, "call-1"),
            create_final_assistant_message_sse_response("done"),
        ]
    ).start()
    create_config_toml(codex_home, server.uri)
    primary = await ready(spawn_app_server, codex_home)
    thread = await start_thread(primary)
    await run_turn(primary, thread["id"], "seed history")
    primary.clear_message_buffer()
    await primary.request(
        "turn/start",
        {
            "threadId": thread["id"],
            "input": text_input("run command"),
            "approvalPolicy": "untrusted",
        },
    )
    original = await primary.read_stream_until_request_message()
    assert original["method"] == "item/commandExecution/requestApproval", original
    resumed = (await primary.request("thread/resume", {"threadId": thread["id"]}))["thread"]
    assert resumed["id"] == thread["id"]
    assert any(turn["status"] == "inProgress" for turn in resumed["turns"])
    replayed = await primary.read_stream_until_request_message()
    assert replayed == original
    await primary.send_response(replayed["id"], {"decision": "accept"})
    await primary.read_notification("turn/completed")
    await server.wait_for_responses_requests(3)
    await server.stop()


@dataclass
class RestartedThreadFixture:
    mcp: AppServerProcess
    thread_id: str
    rollout_file_path: Path


async def start_materialized_thread_and_restart(
    spawn_app_server: SpawnAppServer, codex_home: Path, seed_text: str
) -> RestartedThreadFixture:
    first = await ready(spawn_app_server, codex_home)
    thread = await start_thread(first)
    await run_turn(first, thread["id"], seed_text)
    await first.close()
    second = await ready(spawn_app_server, codex_home)
    return RestartedThreadFixture(second, thread["id"], Path(thread["path"]))


async def test_thread_resume_with_overrides_defers_updated_at_until_turn_start(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    fixture = await start_materialized_thread_and_restart(
        spawn_app_server, codex_home, "materialize"
    )
    expected = "2025-01-07T00:00:00Z"
    set_mtime(fixture.rollout_file_path, expected)
    before = mtime(fixture.rollout_file_path)
    resumed = (
        await fixture.mcp.request(
            "thread/resume", {"threadId": fixture.thread_id, "model": "mock-model"}
        )
    )["thread"]
    assert resumed["updatedAt"] == rfc_seconds(expected)
    assert resumed["status"] == {"type": "idle"}
    assert mtime(fixture.rollout_file_path) == before
    await run_turn(fixture.mcp, resumed["id"], "Hello")
    assert mtime(fixture.rollout_file_path) > before
    await server.stop()


async def test_thread_resume_prefers_path_over_thread_id(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    mcp = await ready(spawn_app_server, codex_home)
    thread = await start_thread(mcp)
    await run_turn(mcp, thread["id"], "materialize")
    resumed = (
        await mcp.request(
            "thread/resume", {"threadId": "not-a-valid-thread-id", "path": thread["path"]}
        )
    )["thread"]
    assert resumed["id"] == thread["id"]
    assert resumed["path"] == thread["path"]
    assert resumed["status"] == {"type": "idle"}
    await server.stop()


async def test_thread_resume_supports_history_and_overrides(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    fixture = await start_materialized_thread_and_restart(
        spawn_app_server, codex_home, "materialize"
    )
    history_text = "Hello from history"
    result = await fixture.mcp.request(
        "thread/resume",
        {
            "threadId": fixture.thread_id,
            "history": [
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": history_text}],
                }
            ],
            "model": "mock-model",
            "modelProvider": "mock_provider",
        },
    )
    assert result["thread"]["id"]
    assert result["modelProvider"] == "mock_provider"
    assert result["thread"]["preview"] == history_text
    assert result["thread"]["status"] == {"type": "idle"}
    await server.stop()


async def test_thread_resume_accepts_personality_override(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await MockResponsesServer(
        [
            sse(
                [
                    ev_response_created("resp-1"),
                    ev_assistant_message("msg-1", "Done"),
                    ev_completed("resp-1"),
                ]
            ),
            sse(
                [
                    ev_response_created("resp-2"),
                    ev_assistant_message("msg-2", "Done"),
                    ev_completed("resp-2"),
                ]
            ),
        ]
    ).start()
    create_config_toml(codex_home, server.uri)
    primary = await ready(spawn_app_server, codex_home)
    thread = await start_thread(primary, "gpt-5.2-codex")
    await run_turn(primary, thread["id"], "seed history")

    secondary = await ready(spawn_app_server, codex_home)
    resume = await secondary.request(
        "thread/resume",
        {"threadId": thread["id"], "model": "gpt-5.2-codex", "personality": "friendly"},
    )
    assert resume["thread"]["status"] == {"type": "idle"}
    await run_turn(secondary, resume["thread"]["id"], "Hello")

    request = server.responses_requests()[-1]
    developer_texts = message_input_texts(request, "developer")
    assert any("<personality_spec>" in text for text in developer_texts), (
        f"expected a personality update message in developer input, got {developer_texts}"
    )
    # Parley's default base instructions stand in for upstream's gpt-5.2-codex template.
    assert BASE_INSTRUCTIONS in request["instructions"], "expected default base instructions"
    await server.stop()


async def test_thread_resume_replays_pending_file_change_request_approval(
    spawn_app_server: SpawnAppServer, codex_home: Path, tmp_path: Path
) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    patch = "*** Begin Patch\n*** Add File: README.md\n+new line\n*** End Patch\n"
    server = await MockResponsesServer(
        [
            create_final_assistant_message_sse_response("seeded"),
            create_apply_patch_sse_response(patch, "patch-call"),
            create_final_assistant_message_sse_response("done"),
        ]
    ).start()
    create_config_toml(codex_home, server.uri)
    primary = await ready(spawn_app_server, codex_home)
    thread = (
        await primary.request("thread/start", {"model": "gpt-5.1-codex-max", "cwd": str(workspace)})
    )["thread"]
    await primary.request(
        "turn/start",
        {"threadId": thread["id"], "input": text_input("seed history"), "cwd": str(workspace)},
    )
    await primary.read_notification("turn/completed")
    primary.clear_message_buffer()
    await primary.request(
        "turn/start",
        {
            "threadId": thread["id"],
            "input": text_input("apply patch"),
            "cwd": str(workspace),
            "approvalPolicy": "untrusted",
        },
    )
    while True:
        started = (await primary.read_notification("item/started"))["item"]
        if started["type"] == "fileChange":
            break
    assert started == {
        "type": "fileChange",
        "id": "patch-call",
        "changes": [
            {"path": str(workspace / "README.md"), "kind": {"type": "add"}, "diff": "new line\n"}
        ],
        "status": "inProgress",
    }
    original = await primary.read_stream_until_request_message()
    assert original["method"] == "item/fileChange/requestApproval", original
    primary.clear_message_buffer()
    resumed = (await primary.request("thread/resume", {"threadId": thread["id"]}))["thread"]
    assert resumed["id"] == thread["id"]
    assert any(turn["status"] == "inProgress" for turn in resumed["turns"])
    replayed = await primary.read_stream_until_request_message()
    assert replayed == original
    await primary.send_response(replayed["id"], {"decision": "accept"})
    await primary.read_notification("turn/completed")
    await server.wait_for_responses_requests(3)
    await server.stop()
