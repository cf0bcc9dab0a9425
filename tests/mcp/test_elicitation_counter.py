"""thread/increment_elicitation and thread/decrement_elicitation count per thread."""

from __future__ import annotations

from pathlib import Path

from support.app_server import AppServerProcess


async def test_the_counter_goes_up_and_down_and_never_below_zero(codex_home: Path) -> None:
    """Each increment and decrement answers the new count and whether timeouts are paused; a
    decrement at zero and an unknown thread are invalid requests."""
    async with AppServerProcess(codex_home) as server:
        await server.initialize()
        thread = await server.start_thread({})
        params = {"threadId": thread["id"]}
        assert await server.request("thread/increment_elicitation", params) == {
            "count": 1,
            "paused": True,
        }
        assert await server.request("thread/decrement_elicitation", params) == {
            "count": 0,
            "paused": False,
        }
        error = await server.request_error("thread/decrement_elicitation", params)
        assert error["code"] == -32600
        assert error["message"] == "out-of-band elicitation count is already zero"
        missing = await server.request_error(
            "thread/increment_elicitation", {"threadId": "00000000-0000-4000-8000-000000000000"}
        )
        assert "thread not found" in missing["message"]
