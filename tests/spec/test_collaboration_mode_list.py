"""pytest twin of upstream `app-server/tests/suite/v2/collaboration_mode_list.rs` (1 test).

The expected presets are the reference's built-in ones (`builtin_collaboration_mode_presets`),
written out here as the wire objects. Nothing in the file is out of scope.
"""

from __future__ import annotations

# The reference's presets: Plan (medium reasoning) and Default, no model override.
BUILTIN_COLLABORATION_MODE_PRESETS = [
    {"name": "Plan", "mode": "plan", "model": None, "reasoning_effort": "medium"},
    {"name": "Default", "mode": "default", "model": None, "reasoning_effort": None},
]


async def test_list_collaboration_modes_returns_presets(spawn_app_server) -> None:
    """collaborationMode/list returns the Plan and Default presets in a stable order."""
    mcp = await spawn_app_server()
    await mcp.initialize()

    result = await mcp.request("collaborationMode/list", {})

    items = [
        {key: item.get(key) for key in ("name", "mode", "model", "reasoning_effort")}
        for item in result["data"]
    ]
    assert items == BUILTIN_COLLABORATION_MODE_PRESETS
