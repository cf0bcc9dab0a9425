"""pytest twins of upstream `app-server/tests/suite/v2/experimental_api.rs` (6 tests).

Each client initializes with `experimentalApi: false` and calls something the schema marks
experimental (a method, a field, or a variant), which must be refused naming it. Nothing in the
file is out of scope.
"""

from __future__ import annotations

from support.app_server import DEFAULT_CLIENT_NAME, AppServerProcess
from support.mock_responses import create_mock_responses_server_sequence_unchecked
from support.thread_harness import create_config_toml


def assert_experimental_capability_error(error: dict, reason: str) -> None:
    assert error["code"] == -32600
    assert error["message"] == f"{reason} requires experimentalApi capability"
    assert error.get("data") is None


async def initialize_without_experimental(mcp: AppServerProcess) -> None:
    await mcp.initialize(DEFAULT_CLIENT_NAME, experimental_api=False)


async def test_mock_experimental_method_requires_experimental_api_capability(
    spawn_app_server,
) -> None:
    """mock/experimentalMethod is behind the experimental gate."""
    mcp = await spawn_app_server()
    await initialize_without_experimental(mcp)

    error = await mcp.request_error("mock/experimentalMethod", {})

    assert_experimental_capability_error(error, "mock/experimentalMethod")


async def test_realtime_conversation_start_requires_experimental_api_capability(
    spawn_app_server,
) -> None:
    """thread/realtime/start is behind the experimental gate."""
    mcp = await spawn_app_server()
    await initialize_without_experimental(mcp)

    error = await mcp.request_error(
        "thread/realtime/start", {"threadId": "thr_123", "prompt": "hello", "sessionId": None}
    )

    assert_experimental_capability_error(error, "thread/realtime/start")


async def test_realtime_webrtc_start_requires_experimental_api_capability(
    spawn_app_server,
) -> None:
    """thread/realtime/start over WebRTC is behind the experimental gate too."""
    mcp = await spawn_app_server()
    await initialize_without_experimental(mcp)

    error = await mcp.request_error(
        "thread/realtime/start",
        {
            "threadId": "thr_123",
            "prompt": "hello",
            "sessionId": None,
            "transport": {"type": "webrtc", "sdp": "v=offer\r\n"},
        },
    )

    assert_experimental_capability_error(error, "thread/realtime/start")


async def test_thread_start_mock_field_requires_experimental_api_capability(
    spawn_app_server, codex_home
) -> None:
    """An experimental field of thread/start is refused naming the field."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        create_config_toml(codex_home, server.uri)
        mcp = await spawn_app_server()
        await initialize_without_experimental(mcp)

        error = await mcp.request_error("thread/start", {"mockExperimentalField": "mock"})

        assert_experimental_capability_error(error, "thread/start.mockExperimentalField")
    finally:
        await server.stop()


async def test_thread_start_without_dynamic_tools_allows_without_experimental_api_capability(
    spawn_app_server, codex_home
) -> None:
    """A thread/start with only stable fields works without the capability."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        create_config_toml(codex_home, server.uri)
        mcp = await spawn_app_server()
        await initialize_without_experimental(mcp)

        result = await mcp.request("thread/start", {"model": "mock-model"})

        assert result["thread"]["id"]
    finally:
        await server.stop()


async def test_thread_start_granular_approval_policy_requires_experimental_api_capability(
    spawn_app_server, codex_home
) -> None:
    """The granular approval policy variant is refused naming it."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        create_config_toml(codex_home, server.uri)
        mcp = await spawn_app_server()
        await initialize_without_experimental(mcp)

        error = await mcp.request_error(
            "thread/start",
            {
                "approvalPolicy": {
                    "granular": {
                        "sandbox_approval": True,
                        "rules": False,
                        "skill_approval": False,
                        "request_permissions": True,
                        "mcp_elicitations": False,
                    }
                }
            },
        )

        assert_experimental_capability_error(error, "askForApproval.granular")
    finally:
        await server.stop()
