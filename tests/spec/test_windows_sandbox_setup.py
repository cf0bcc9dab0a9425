"""pytest twins of upstream `app-server/tests/suite/v2/windows_sandbox_setup.rs`.

Upstream runs these on every platform: off Windows the reference accepts the setup request and
then reports, in `windowsSandbox/setupCompleted`, that it failed (there is no Windows sandbox to
set up). Parley answers the same way.
"""

from __future__ import annotations

import pytest
from support.mock_responses import create_mock_responses_server_sequence_unchecked
from support.thread_harness import create_config_toml


async def test_windows_sandbox_setup_start_emits_completion_notification(
    spawn_app_server, codex_home
) -> None:
    """The request is started and its completion names the mode."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        create_config_toml(codex_home, server.uri)
        mcp = await spawn_app_server()
        await mcp.initialize()

        start = await mcp.request("windowsSandbox/setupStart", {"mode": "unelevated", "cwd": None})
        assert start["started"] is True

        note = await mcp.read_stream_until_notification_message("windowsSandbox/setupCompleted")
        assert note["params"]["mode"] == "unelevated"
    finally:
        await server.stop()


async def test_windows_sandbox_setup_start_rejects_relative_cwd(
    spawn_app_server, codex_home
) -> None:
    """A relative `cwd` is refused as an invalid request."""
    mcp = await spawn_app_server()
    await mcp.initialize()

    error = await mcp.request_error(
        "windowsSandbox/setupStart", {"mode": "unelevated", "cwd": "relative-root"}
    )

    assert error["code"] == -32600
    assert "Invalid request" in error["message"]


@pytest.mark.parametrize("mode", ["elevated", "unelevated"])
async def test_windows_sandbox_setup_reports_why_it_failed_off_windows(
    spawn_app_server, codex_home, mode: str
) -> None:
    """Not upstream's: the completion says it failed and why, and a bad mode names the choices."""
    mcp = await spawn_app_server()
    await mcp.initialize()

    assert await mcp.request("windowsSandbox/setupStart", {"mode": mode, "cwd": "/tmp"}) == {
        "started": True
    }
    note = (await mcp.read_stream_until_notification_message("windowsSandbox/setupCompleted"))[
        "params"
    ]
    bad_mode = await mcp.request_error("windowsSandbox/setupStart", {"mode": "bogus"})

    assert note["success"] is False
    assert "only available on Windows" in note["error"]
    assert bad_mode["code"] == -32600
    assert "`elevated`" in bad_mode["message"] and "`unelevated`" in bad_mode["message"]
