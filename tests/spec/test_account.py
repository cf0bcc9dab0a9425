"""pytest twins of upstream `app-server/tests/suite/v2/account.rs` (the API-key tests).

Out of scope, each because it needs ChatGPT sign-in, which Parley does not offer (it logs in
with API keys only): `set_auth_token_updates_account_and_notifies`,
`account_read_refresh_token_is_noop_in_external_mode`, `external_auth_refreshes_on_unauthorized`,
`external_auth_refresh_error_fails_turn`, `external_auth_refresh_mismatched_workspace_fails_turn`,
`external_auth_refresh_invalid_access_token_fails_turn` (ChatGPT auth tokens supplied by the
client), `login_account_chatgpt_device_code_returns_error_when_disabled`,
`login_account_chatgpt_device_code_succeeds_and_notifies`,
`login_account_chatgpt_device_code_failure_notifies_without_account_update`,
`login_account_chatgpt_device_code_can_be_cancelled`,
`login_account_chatgpt_start_can_be_cancelled`, `set_auth_token_cancels_active_chatgpt_login`,
`login_account_chatgpt_includes_forced_workspace_query_param` (the ChatGPT browser and device-code
login flows), `get_account_with_chatgpt` and
`get_account_with_chatgpt_missing_plan_claim_returns_unknown` (a ChatGPT account in auth.json).
"""

from __future__ import annotations

import json
from pathlib import Path

from support.app_server import AppServerProcess


def create_config_toml(
    codex_home: Path,
    *,
    forced_method: str | None = None,
    forced_workspace_id: str | None = None,
    requires_openai_auth: bool | None = None,
    base_url: str | None = None,
) -> None:
    base_url = base_url or "http://127.0.0.1:0/v1"
    forced_line = f'forced_login_method = "{forced_method}"\n' if forced_method else ""
    workspace_line = (
        f'forced_chatgpt_workspace_id = "{forced_workspace_id}"\n' if forced_workspace_id else ""
    )
    requires_line = "requires_openai_auth = true\n" if requires_openai_auth else ""
    (codex_home / "config.toml").write_text(
        f"""
model = "mock-model"
approval_policy = "never"
sandbox_mode = "danger-full-access"
{forced_line}
{workspace_line}

model_provider = "mock_provider"

[features]
shell_snapshot = false

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{base_url}"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
{requires_line}
"""
    )


def login_with_api_key(codex_home: Path, api_key: str) -> None:
    """What the reference's `login_with_api_key` stores (file mode)."""
    (codex_home / "auth.json").write_text(
        json.dumps({"OPENAI_API_KEY": api_key, "tokens": None, "last_refresh": None})
    )


async def get_account(mcp: AppServerProcess) -> dict:
    return await mcp.request("account/read", {"refreshToken": False})


async def test_logout_account_removes_auth_and_notifies(spawn_app_server, codex_home) -> None:
    """Logout deletes auth.json, says so with account/updated, and the account is gone."""
    create_config_toml(codex_home)
    login_with_api_key(codex_home, "sk-test-key")
    assert (codex_home / "auth.json").exists()
    mcp = await spawn_app_server(env={"OPENAI_API_KEY": None})
    await mcp.initialize()

    assert await mcp.request("account/logout") == {}
    note = await mcp.read_stream_until_notification_message("account/updated")
    assert note["params"].get("authMode") is None, "auth_method should be None after logout"
    assert note["params"].get("planType") is None
    assert not (codex_home / "auth.json").exists(), "auth.json should be deleted"

    account = await get_account(mcp)
    assert account["account"] is None


async def test_login_account_api_key_succeeds_and_notifies(spawn_app_server, codex_home) -> None:
    """An API-key login answers, completes and updates the account, and stores the key."""
    create_config_toml(codex_home)
    mcp = await spawn_app_server()
    await mcp.initialize()

    login = await mcp.request("account/login/start", {"type": "apiKey", "apiKey": "sk-test-key"})
    assert login == {"type": "apiKey"}

    completed = (await mcp.read_stream_until_notification_message("account/login/completed"))[
        "params"
    ]
    assert completed.get("loginId") is None
    assert completed["success"] is True
    assert completed.get("error") is None

    updated = (await mcp.read_stream_until_notification_message("account/updated"))["params"]
    assert updated["authMode"] == "apikey"
    assert updated.get("planType") is None

    assert (codex_home / "auth.json").exists()


async def test_login_account_api_key_rejected_when_forced_chatgpt(
    spawn_app_server, codex_home
) -> None:
    """forced_login_method = "chatgpt" refuses API-key logins."""
    create_config_toml(codex_home, forced_method="chatgpt")
    mcp = await spawn_app_server()
    await mcp.initialize()

    error = await mcp.request_error(
        "account/login/start", {"type": "apiKey", "apiKey": "sk-test-key"}
    )

    assert error["message"] == "API key login is disabled. Use ChatGPT login instead."


async def test_login_account_chatgpt_rejected_when_forced_api(spawn_app_server, codex_home) -> None:
    """forced_login_method = "api" refuses ChatGPT logins."""
    create_config_toml(codex_home, forced_method="api")
    mcp = await spawn_app_server()
    await mcp.initialize()

    error = await mcp.request_error("account/login/start", {"type": "chatgpt"})

    assert error["message"] == "ChatGPT login is disabled. Use API key login instead."


async def test_get_account_no_auth(spawn_app_server, codex_home) -> None:
    """Signed out with a provider that needs OpenAI auth: no account, auth required."""
    create_config_toml(codex_home, requires_openai_auth=True)
    mcp = await spawn_app_server(env={"OPENAI_API_KEY": None})
    await mcp.initialize()

    account = await get_account(mcp)

    assert account["account"] is None, "expected no account"
    assert account["requiresOpenaiAuth"] is True


async def test_get_account_with_api_key(spawn_app_server, codex_home) -> None:
    """After an API-key login the account is an API-key account."""
    create_config_toml(codex_home, requires_openai_auth=True)
    mcp = await spawn_app_server()
    await mcp.initialize()
    await mcp.request("account/login/start", {"type": "apiKey", "apiKey": "sk-test-key"})

    account = await get_account(mcp)

    assert account == {"account": {"type": "apiKey"}, "requiresOpenaiAuth": True}


async def test_get_account_when_auth_not_required(spawn_app_server, codex_home) -> None:
    """A provider that needs no OpenAI auth reports no account and no requirement."""
    create_config_toml(codex_home, requires_openai_auth=False)
    mcp = await spawn_app_server()
    await mcp.initialize()

    account = await get_account(mcp)

    assert account == {"account": None, "requiresOpenaiAuth": False}
