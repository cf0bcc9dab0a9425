"""A stored thread loaded again takes the configuration of ITS cwd, as the reference does.

thread/resume and thread/fork of a thread stored on disk build its configuration from the
layers of the thread's own cwd: a trusted project's `.codex/config.toml` applies (approval
policy, sandbox, developer instructions, model for a fork), while a resumed thread keeps its
last model unless the request picks another. Checked on the wire: the responses to
thread/resume and thread/fork, and the Responses request of the next turn.
"""

from __future__ import annotations

import json
from pathlib import Path

from support.mock_responses import MockResponsesServer
from support.sse import create_final_assistant_message_sse_response


def user_config(uri: str, project: Path | None) -> str:
    trust = f'\n[projects.{json.dumps(str(project))}]\ntrust_level = "trusted"\n' if project else ""
    return f"""
model = "gpt-5.1"
approval_policy = "on-request"
sandbox_mode = "read-only"
model_provider = "mock"

[model_providers.mock]
name = "mock"
base_url = "{uri}/v1"
request_max_retries = 0
stream_max_retries = 0
{trust}"""


PROJECT_CONFIG = """
model = "gpt-5.2"
approval_policy = "never"
sandbox_mode = "workspace-write"
developer_instructions = "Project rule: answer in haiku."
"""


def developer_texts(body: dict) -> list[str]:
    return [
        part["text"]
        for item in body["input"]
        if item.get("role") == "developer"
        for part in item["content"]
    ]


async def run_turn(mcp, thread_id: str, text: str) -> None:
    await mcp.request(
        "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": text}]}
    )
    await mcp.read_stream_until_notification_message("turn/completed")


async def stored_thread_in_project(spawn_app_server, codex_home: Path, responses, project: Path):
    """A thread started and run once in `project` before the project had any config."""
    mcp = await spawn_app_server()
    await mcp.initialize()
    started = await mcp.request("thread/start", {"cwd": str(project)})
    assert started["approvalPolicy"] == "on-request"
    thread_id = started["thread"]["id"]
    await run_turn(mcp, thread_id, "first")
    await mcp.close()
    return thread_id


async def test_resume_and_fork_of_a_stored_thread_use_its_trusted_project_config(
    spawn_app_server, codex_home: Path, tmp_path: Path
) -> None:
    """After the project gains a trusted `.codex/config.toml`, resuming the stored thread
    applies its approval policy, sandbox and developer instructions (keeping the thread's
    model); a fork also takes the project's model."""
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    done = create_final_assistant_message_sse_response("Done")
    async with MockResponsesServer([done, done, done]) as responses:
        (codex_home / "config.toml").write_text(user_config(responses.uri, None))
        thread_id = await stored_thread_in_project(spawn_app_server, codex_home, responses, project)

        (project / ".codex").mkdir()
        (project / ".codex" / "config.toml").write_text(PROJECT_CONFIG)
        (codex_home / "config.toml").write_text(user_config(responses.uri, project))

        mcp = await spawn_app_server()
        await mcp.initialize()
        resumed = await mcp.request("thread/resume", {"threadId": thread_id})
        assert resumed["cwd"] == str(project)
        assert resumed["model"] == "gpt-5.1"
        assert resumed["approvalPolicy"] == "never"
        assert resumed["sandbox"]["type"] == "workspaceWrite"
        await run_turn(mcp, thread_id, "second")
        second = responses.responses_requests()[1]
        assert second["model"] == "gpt-5.1"
        assert "Project rule: answer in haiku." in developer_texts(second)

        forked = await mcp.request("thread/fork", {"threadId": thread_id})
        assert forked["model"] == "gpt-5.2"
        assert forked["approvalPolicy"] == "never"
        assert forked["sandbox"]["type"] == "workspaceWrite"
        await run_turn(mcp, forked["thread"]["id"], "third")
        third = responses.responses_requests()[2]
        assert third["model"] == "gpt-5.2"
        assert "Project rule: answer in haiku." in developer_texts(third)
        await mcp.close()


async def test_resume_request_model_wins_over_the_stored_one(
    spawn_app_server, codex_home: Path, tmp_path: Path
) -> None:
    """A resume that names a model gets it; an untrusted project's config stays ignored."""
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    done = create_final_assistant_message_sse_response("Done")
    async with MockResponsesServer([done]) as responses:
        (codex_home / "config.toml").write_text(user_config(responses.uri, None))
        thread_id = await stored_thread_in_project(spawn_app_server, codex_home, responses, project)
        (project / ".codex").mkdir()
        (project / ".codex" / "config.toml").write_text(PROJECT_CONFIG)  # never trusted

        mcp = await spawn_app_server()
        await mcp.initialize()
        resumed = await mcp.request("thread/resume", {"threadId": thread_id, "model": "gpt-5.4"})
        assert resumed["model"] == "gpt-5.4"
        assert resumed["approvalPolicy"] == "on-request"
        assert resumed["sandbox"]["type"] == "readOnly"
        await mcp.close()
