"""pytest twins of upstream `app-server/tests/suite/v2/model_list.rs` (4 tests).

`write_models_cache` and `expected_visible_models` are ported in `tests/support/models_cache.py`
(the catalogue facts come from Parley's bundled data file; the listing rules are re-derived
there). Every test of the file runs offline: none is out of scope.
"""

from __future__ import annotations

from support.models_cache import expected_visible_models, write_models_cache

INVALID_REQUEST_ERROR_CODE = -32600


async def test_list_models_returns_all_models_with_large_limit(
    spawn_app_server, codex_home
) -> None:
    """With a large limit one page holds every picker-visible model, in catalogue order."""
    write_models_cache(codex_home)
    mcp = await spawn_app_server()
    await mcp.initialize()

    result = await mcp.request("model/list", {"limit": 100, "cursor": None, "includeHidden": None})

    assert result["data"] == expected_visible_models()
    assert result["nextCursor"] is None


async def test_list_models_includes_hidden_models(spawn_app_server, codex_home) -> None:
    """includeHidden adds the models the picker hides."""
    write_models_cache(codex_home)
    mcp = await spawn_app_server()
    await mcp.initialize()

    result = await mcp.request("model/list", {"limit": 100, "cursor": None, "includeHidden": True})

    assert any(item["hidden"] for item in result["data"])
    assert result["nextCursor"] is None


async def test_list_models_pagination_works(spawn_app_server, codex_home) -> None:
    """Pages of one follow the cursor to the end and add up to the full list."""
    write_models_cache(codex_home)
    mcp = await spawn_app_server()
    await mcp.initialize()
    expected_models = expected_visible_models()
    cursor = None
    items: list[dict] = []

    for _ in range(len(expected_models)):
        result = await mcp.request(
            "model/list", {"limit": 1, "cursor": cursor, "includeHidden": None}
        )
        assert len(result["data"]) == 1
        items.extend(result["data"])
        if result["nextCursor"] is not None:
            cursor = result["nextCursor"]
        else:
            assert items == expected_models
            return
    raise AssertionError(f"model pagination did not terminate after {len(expected_models)} pages")


async def test_list_models_rejects_invalid_cursor(spawn_app_server, codex_home) -> None:
    """A cursor that is not a position is refused, naming it."""
    write_models_cache(codex_home)
    mcp = await spawn_app_server()
    await mcp.initialize()

    request_id = await mcp.send_request(
        "model/list", {"limit": None, "cursor": "invalid", "includeHidden": None}
    )
    error = await mcp.read_stream_until_error_message(request_id)

    assert error["id"] == request_id
    assert error["error"]["code"] == INVALID_REQUEST_ERROR_CODE
    assert error["error"]["message"] == "invalid cursor: invalid"
