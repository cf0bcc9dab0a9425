"""pytest twins of upstream `app-server/tests/suite/v2/rate_limits.rs`.

Out of scope: `get_account_rate_limits_returns_snapshot` needs a ChatGPT sign-in (a ChatGPT
token in auth.json and the ChatGPT usage backend), which Parley does not offer; Parley answers
every API-key or signed-out account as the other two tests require.
"""

from __future__ import annotations

INVALID_REQUEST_ERROR_CODE = -32600


async def test_get_account_rate_limits_requires_auth(spawn_app_server) -> None:
    """Signed out, rate limits cannot be read."""
    mcp = await spawn_app_server(env={"OPENAI_API_KEY": None})
    await mcp.initialize()

    request_id = await mcp.send_request("account/rateLimits/read")
    error = await mcp.read_stream_until_error_message(request_id)

    assert error["id"] == request_id
    assert error["error"]["code"] == INVALID_REQUEST_ERROR_CODE
    assert error["error"]["message"] == "codex account authentication required to read rate limits"


async def test_get_account_rate_limits_requires_chatgpt_auth(spawn_app_server) -> None:
    """With an API key, rate limits need a ChatGPT account instead."""
    mcp = await spawn_app_server()
    await mcp.initialize()
    await mcp.login_with_api_key("sk-test-key")

    request_id = await mcp.send_request("account/rateLimits/read")
    error = await mcp.read_stream_until_error_message(request_id)

    assert error["id"] == request_id
    assert error["error"]["code"] == INVALID_REQUEST_ERROR_CODE
    assert error["error"]["message"] == "chatgpt authentication required to read rate limits"
