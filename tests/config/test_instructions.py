"""`developer_instructions` and `model_instructions_file` from config.toml, as the reference
uses them: the file's text replaces the base instructions (the Responses `instructions`
field), `developer_instructions` joins the developer message, request parameters win over
both, and `instructions` (which the reference ignores too) is reported, not applied."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.mock_responses import MockResponsesServer
from support.sse import create_final_assistant_message_sse_response

from parley.config import ConfigError, load_config


def config_text(uri: str, extra: str) -> str:
    return f"""
model = "gpt-5.4"
model_provider = "mock"
approval_policy = "never"
{extra}

[model_providers.mock]
name = "mock"
base_url = "{uri}/v1"
request_max_retries = 0
stream_max_retries = 0
"""


def developer_texts(body: dict) -> list[str]:
    return [
        part["text"]
        for item in body["input"]
        if item.get("role") == "developer"
        for part in item["content"]
    ]


async def run_turn(mcp, params: dict) -> None:
    thread = (await mcp.request("thread/start", params))["thread"]
    await mcp.request(
        "turn/start", {"threadId": thread["id"], "input": [{"type": "text", "text": "hi"}]}
    )
    await mcp.read_stream_until_notification_message("turn/completed")


async def test_config_instructions_reach_the_responses_request(
    spawn_app_server, codex_home: Path
) -> None:
    """The file's text is `instructions`, the developer text is in the developer message;
    thread/start's own baseInstructions / developerInstructions replace them."""
    (codex_home / "prompts").mkdir()
    (codex_home / "prompts" / "base.md").write_text("\n  You are the release bot.  \n\n")
    extra = """
model_instructions_file = "prompts/base.md"
developer_instructions = "Always cite the files you read."
instructions = "This key changes nothing."
"""
    done = create_final_assistant_message_sse_response("Done")
    async with MockResponsesServer([done, done]) as responses:
        (codex_home / "config.toml").write_text(config_text(responses.uri, extra))
        mcp = await spawn_app_server()
        await mcp.initialize()

        await run_turn(mcp, {})
        await run_turn(
            mcp, {"baseInstructions": "Request base.", "developerInstructions": "Request dev."}
        )

        first, second = responses.responses_requests()
        assert first["instructions"] == "You are the release bot."
        assert "Always cite the files you read." in developer_texts(first)
        assert second["instructions"] == "Request base."
        assert "Request dev." in developer_texts(second)
        assert "Always cite the files you read." not in developer_texts(second)

        summaries = [
            m["params"]["summary"]
            for m in mcp.received_messages()
            if m.get("method") == "configWarning"
        ]
        assert any(s.startswith("`instructions` has no effect") for s in summaries)
        assert not any("developer_instructions" in s for s in summaries)
        assert not any("model_instructions_file" in s for s in summaries)
        await mcp.close()


async def test_an_empty_model_instructions_file_fails_thread_start(
    spawn_app_server, codex_home: Path
) -> None:
    """As the reference: an empty (or missing) instructions file is a configuration error."""
    empty = codex_home / "empty.md"
    empty.write_text("   \n")
    (codex_home / "config.toml").write_text(f'model_instructions_file = "{empty}"\n')
    mcp = await spawn_app_server()
    await mcp.initialize()

    error = await mcp.request_error("thread/start", {})
    assert error["code"] == -32600
    assert f"model instructions file is empty: {empty}" in error["message"]
    await mcp.close()


def test_relative_instruction_files_resolve_from_the_file_that_names_them(
    tmp_path: Path,
) -> None:
    """A relative path is read from the config file's folder; from a `-c` flag, from the cwd."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (home / "a.md").write_text("from home")
    (work / "a.md").write_text("from cwd")
    (home / "config.toml").write_text('model_instructions_file = "a.md"\n')

    assert load_config(home).base_instructions == "from home"
    flagged = load_config(home, overrides=['model_instructions_file="a.md"'], cwd=work)
    assert flagged.base_instructions == "from cwd"

    (home / "config.toml").write_text('model_instructions_file = "missing.md"\n')
    with pytest.raises(ConfigError, match="failed to read model instructions file"):
        load_config(home)
