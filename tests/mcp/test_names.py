"""The model-visible names of MCP tools, as the reference forms them (pure functions)."""

from __future__ import annotations

import hashlib

from parley.mcp.names import ToolRef, qualify, sanitize


def test_names_are_prefixed_and_sanitised() -> None:
    """Characters the Responses API refuses (and `-`) become `_`."""
    assert sanitize("look-up.raw") == "look_up_raw"
    assert sanitize("") == "_"
    assert qualify([ToolRef("tools", "echo")]) == {"mcp__tools__echo": ToolRef("tools", "echo")}
    assert list(qualify([ToolRef("my.server", "look-up")])) == ["mcp__my_server__look_up"]


def test_servers_that_sanitise_alike_get_hash_suffixes() -> None:
    """`some-server` and `some_server` both keep their tools under distinct names."""
    names = qualify([ToolRef("some-server", "lookup"), ToolRef("some_server", "lookup")])
    assert len(names) == 2
    assert set(names.values()) == {
        ToolRef("some-server", "lookup"),
        ToolRef("some_server", "lookup"),
    }
    for name, ref in names.items():
        identity = f"{ref.server}\0mcp__{ref.server}__\0"
        suffix = hashlib.sha1(identity.encode()).hexdigest()[:12]
        assert name == f"mcp__some_server_{suffix}__lookup"


def test_long_names_are_cut_to_64_characters() -> None:
    """A name longer than the API allows is shortened with a hash, still unique."""
    names = qualify([ToolRef("srv", "t" * 80), ToolRef("srv", "t" * 81)])
    assert len(names) == 2
    assert all(len(name) <= 64 and name.startswith("mcp__srv__t") for name in names)
