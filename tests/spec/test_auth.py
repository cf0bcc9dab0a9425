"""pytest twins of upstream `app-server/tests/suite/auth.rs` (`getAuthStatus`, a v1-era method
the reference still serves beside v2).

Out of scope, each because it needs a ChatGPT sign-in (tokens in auth.json refreshed against
the ChatGPT token endpoint), which Parley does not offer (it logs in with API keys only):
`get_auth_status_omits_token_after_permanent_refresh_failure`,
`get_auth_status_omits_token_after_proactive_refresh_failure`,
`get_auth_status_returns_token_after_proactive_refresh_recovery`.
"""

from __future__ import annotations

from pathlib import Path

from support.app_server import AppServerProcess

TEST_CONFIG = """
model = "mock-model"
approval_policy = "never"
sandbox_mode = "danger-full-access"
{forced}
{provider}
[features]
shell_snapshot = false
{provider_table}
"""

CUSTOM_PROVIDER = """
[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "http://127.0.0.1:0/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
{requires}
"""


def create_config_toml(
    codex_home: Path,
    *,
    custom_provider_requires_openai_auth: bool | None = None,
    forced_method: str | None = None,
) -> None:
    """The three config files of upstream's auth tests: plain, custom provider, forced login."""
    custom = custom_provider_requires_openai_auth is not None
    (codex_home / "config.toml").write_text(
        TEST_CONFIG.format(
            forced=f'forced_login_method = "{forced_method}"' if forced_method else "",
            provider='model_provider = "mock_provider"' if custom else "",
            provider_table=CUSTOM_PROVIDER.format(
                requires="requires_openai_auth = true"
                if custom_provider_requires_openai_auth
                else ""
            )
            if custom
            else "",
        )
    )


async def login_with_api_key_via_request(mcp: AppServerProcess, api_key: str) -> None:
    assert await mcp.request("account/login/start", {"type": "apiKey", "apiKey": api_key}) == {
        "type": "apiKey"
    }


async def test_get_auth_status_no_auth(spawn_app_server, codex_home) -> None:
    """Nobody logged in (and no key in the environment): no method, no token."""
    create_config_toml(codex_home)
    mcp = await spawn_app_server(env={"OPENAI_API_KEY": None})
    await mcp.initialize()

    status = await mcp.request("getAuthStatus", {"includeToken": True, "refreshToken": False})

    assert status["authMethod"] is None, "expected no auth method"
    assert status["authToken"] is None, "expected no token"


async def test_get_auth_status_with_api_key(spawn_app_server, codex_home) -> None:
    """After an API-key login the method is `apikey` and the token is the key."""
    create_config_toml(codex_home)
    mcp = await spawn_app_server()
    await mcp.initialize()
    await login_with_api_key_via_request(mcp, "sk-test-key")

    status = await mcp.request("getAuthStatus", {"includeToken": True, "refreshToken": False})

    assert status["authMethod"] == "apikey"
    assert status["authToken"] == "sk-test-key"


async def test_get_auth_status_with_api_key_when_auth_not_required(
    spawn_app_server, codex_home
) -> None:
    """A provider that does not use OpenAI auth reports no login, whatever key is stored."""
    create_config_toml(codex_home, custom_provider_requires_openai_auth=False)
    mcp = await spawn_app_server()
    await mcp.initialize()
    await login_with_api_key_via_request(mcp, "sk-test-key")

    status = await mcp.request("getAuthStatus", {"includeToken": True, "refreshToken": False})

    assert status["authMethod"] is None, "expected no auth method"
    assert status["authToken"] is None, "expected no token"
    assert status["requiresOpenaiAuth"] is False, "requires_openai_auth should be false"


async def test_get_auth_status_with_api_key_no_include_token(spawn_app_server, codex_home) -> None:
    """Without `includeToken` the key is not sent back."""
    create_config_toml(codex_home)
    mcp = await spawn_app_server()
    await mcp.initialize()
    await login_with_api_key_via_request(mcp, "sk-test-key")

    status = await mcp.request("getAuthStatus", {"refreshToken": False})

    assert status["authMethod"] == "apikey"
    assert status.get("authToken") is None, "token must be omitted"


async def test_get_auth_status_with_api_key_refresh_requested(spawn_app_server, codex_home) -> None:
    """A refresh request changes nothing for an API key."""
    create_config_toml(codex_home)
    mcp = await spawn_app_server()
    await mcp.initialize()
    await login_with_api_key_via_request(mcp, "sk-test-key")

    status = await mcp.request("getAuthStatus", {"includeToken": True, "refreshToken": True})

    assert status == {
        "authMethod": "apikey",
        "authToken": "sk-test-key",
        "requiresOpenaiAuth": True,
    }


async def test_login_api_key_rejected_when_forced_chatgpt(spawn_app_server, codex_home) -> None:
    """forced_login_method = "chatgpt" refuses an API-key login with the reference's message."""
    create_config_toml(codex_home, forced_method="chatgpt")
    mcp = await spawn_app_server()
    await mcp.initialize()

    error = await mcp.request_error(
        "account/login/start", {"type": "apiKey", "apiKey": "sk-test-key"}
    )

    assert error["message"] == "API key login is disabled. Use ChatGPT login instead."


async def test_get_auth_status_refuses_a_non_boolean_include_token(
    spawn_app_server, codex_home
) -> None:
    """Not upstream's: a wrong type is a -32600 naming the field, and the server keeps going."""
    create_config_toml(codex_home)
    mcp = await spawn_app_server()
    await mcp.initialize()

    error = await mcp.request_error("getAuthStatus", {"includeToken": "yes"})

    assert error["code"] == -32600
    assert "`includeToken`" in error["message"]
    assert (await mcp.request("getAuthStatus", {}))["requiresOpenaiAuth"] is True
