"""A broken configuration, as the reference handles it: the server stays up, says what is wrong
and where (configWarning with file, line, column), and refuses what needs the configuration.
Also: a CODEX_HOME that does not exist, and which provider gets which credential."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.app_server import AppServerProcess
from support.mock_responses import MockResponsesServer
from support.sse import create_final_assistant_message_sse_response


def config_warnings(mcp: AppServerProcess) -> list[dict]:
    return [m["params"] for m in mcp.received_messages() if m.get("method") == "configWarning"]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ('model = "m"\nmodel = \n', 2, "invalid TOML"),
        ('model = "m"\nmodel_reasoning_effort = "extreme"\n', 2, "`model_reasoning_effort`"),
        ('\n\nprofile = "nope"\n', 3, "config profile `nope` not found"),
        ('model_provider = "corp"\n', 1, "provider `corp` is not defined"),
        ('sandbox_mode = "sideways"\n', 1, "`sandbox_mode`: unknown value `sideways`"),
        ('[features]\nrealtime_conversation = "yes"\n', 2, "features.realtime_conversation"),
    ],
    ids=["not-toml", "bad-enum", "missing-profile", "missing-provider", "bad-choice", "bad-type"],
)
async def test_a_bad_config_keeps_the_server_up_and_says_where(
    spawn_app_server, codex_home, text: str, line: int, reason: str
) -> None:
    """initialize works, configWarning names file/line/column/reason, thread/start fails with
    the reason, and the server keeps answering."""
    path = codex_home / "config.toml"
    path.write_text(text)
    mcp = await spawn_app_server()
    await mcp.initialize()

    warning = (await mcp.read_stream_until_notification_message("configWarning"))["params"]
    assert warning["summary"] == "Invalid configuration; using defaults."
    assert reason in warning["details"]
    assert warning["path"] == str(path)
    assert warning["range"]["start"]["line"] == line
    assert warning["range"]["start"]["column"] >= 1

    error = await mcp.request_error("thread/start", {})
    assert error["code"] == -32600
    assert error["message"].startswith("failed to load configuration: ")
    assert reason in error["message"]

    # Still serving, and fixing the file is picked up by the next thread/start.
    assert (await mcp.request("model/list", {}))["data"]
    path.write_text('model = "fixed-model"\n')
    assert (await mcp.request("thread/start", {}))["model"] == "fixed-model"
    await mcp.close()


async def test_bad_shell_environment_policy_is_refused(spawn_app_server, codex_home) -> None:
    """`shell_environment_policy.inherit = "some"` is refused like any bad value."""
    (codex_home / "config.toml").write_text('[shell_environment_policy]\ninherit = "some"\n')
    mcp = await spawn_app_server()
    await mcp.initialize()

    error = await mcp.request_error("thread/start", {})

    assert "shell_environment_policy.inherit" in error["message"]


async def test_a_missing_codex_home_is_an_error_naming_it(spawn_app_server, tmp_path) -> None:
    """CODEX_HOME pointing nowhere is refused (not created), naming the path."""
    missing = tmp_path / "no-such-home"
    mcp = AppServerProcess(tmp_path / "harness", env={"CODEX_HOME": str(missing)})
    await mcp.start()
    status = await mcp.wait_for_exit(timeout=30.0)
    assert status != 0
    assert str(missing) in mcp.stderr_text()
    assert "does not exist" in mcp.stderr_text()
    assert not missing.exists()
    await mcp.close(check=False)


def two_provider_config(a_uri: str, b_uri: str) -> str:
    providers = ""
    for name, uri, env_key in (("a", a_uri, 'env_key = "PROVIDER_A_KEY"\n'), ("b", b_uri, "")):
        providers += f"""
[model_providers.{name}]
name = "Provider {name}"
base_url = "{uri}/v1"
{env_key}request_max_retries = 0
stream_max_retries = 0
"""
    return f'model = "mock-model"\napproval_policy = "never"\nmodel_provider = "a"\n{providers}'


async def run_one_turn(mcp: AppServerProcess, provider: str) -> None:
    thread = (await mcp.request("thread/start", {"modelProvider": provider}))["thread"]
    await mcp.request(
        "turn/start", {"threadId": thread["id"], "input": [{"type": "text", "text": "hi"}]}
    )
    await mcp.read_stream_until_notification_message("turn/completed")


@pytest.mark.parametrize("logged_in", [False, True], ids=["no-login", "with-login"])
async def test_each_provider_gets_only_its_own_credential(
    spawn_app_server, codex_home, logged_in: bool
) -> None:
    """A provider with env_key gets that variable (never the login key); a custom provider
    without one never gets OPENAI_API_KEY (only the login, when there is one)."""
    done = create_final_assistant_message_sse_response("Done")
    async with MockResponsesServer([done]) as a, MockResponsesServer([done]) as b:
        (codex_home / "config.toml").write_text(two_provider_config(a.uri, b.uri))
        if logged_in:
            (codex_home / "auth.json").write_text(json.dumps({"OPENAI_API_KEY": "sk-login"}))
        mcp = await spawn_app_server(
            env={"PROVIDER_A_KEY": "key-for-a", "OPENAI_API_KEY": "sk-from-env"}
        )
        await mcp.initialize()

        await run_one_turn(mcp, "a")
        await run_one_turn(mcp, "b")

        [to_a] = a.responses_request_records()
        [to_b] = b.responses_request_records()
        assert to_a.header("authorization") == "Bearer key-for-a"
        assert to_b.header("authorization") == ("Bearer sk-login" if logged_in else None)


def test_credential_rules_without_a_server(tmp_path: Path, monkeypatch) -> None:
    """The rules in one place: env_key only; bearer token; login; OPENAI_API_KEY for openai."""
    from parley.auth import AuthStore, credential_for
    from parley.config.loader import ModelProvider, openai_provider

    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.delenv("MISSING_KEY", raising=False)
    store = AuthStore(tmp_path)
    custom = ModelProvider(id="c", name="c", base_url="http://h/v1")
    assert credential_for(custom, store) is None
    assert credential_for(openai_provider(), store) == "sk-env"
    with_env = ModelProvider(id="e", name="e", base_url="http://h/v1", env_key="MISSING_KEY")
    store.login("sk-login")
    assert credential_for(with_env, store) is None
    assert credential_for(custom, store) == "sk-login"
    bearer = ModelProvider(id="t", name="t", base_url="http://h/v1", bearer_token="tok")
    assert credential_for(bearer, store) == "tok"
