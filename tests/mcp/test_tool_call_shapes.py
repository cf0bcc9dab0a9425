"""The pure pieces around an MCP call: when to ask, what the model gets back, config tables."""

from __future__ import annotations

import os

import pytest
from mcp import types

from parley.mcp import tool_call
from parley.mcp.config import HttpTransport, StdioTransport, http_headers, parse_server


def test_only_tools_that_may_change_things_ask_first() -> None:
    """Read-only tools run at once; destructive or unannotated ones ask, unless the user chose
    never to be asked with full access, or the tool is configured `approve`/`prompt`."""
    read_only = types.ToolAnnotations(readOnlyHint=True)
    destructive = types.ToolAnnotations(readOnlyHint=True, destructiveHint=True)
    closed_world = types.ToolAnnotations(destructiveHint=False, openWorldHint=False)
    assert not tool_call.should_ask(read_only, "auto", "on-request", "read-only")
    assert tool_call.should_ask(destructive, "auto", "on-request", "read-only")
    assert tool_call.should_ask(None, "auto", "never", "read-only")
    assert not tool_call.should_ask(closed_world, "auto", "on-request", "read-only")
    assert not tool_call.should_ask(None, "auto", "never", "danger-full-access")
    assert not tool_call.should_ask(None, "approve", "on-request", "read-only")
    assert tool_call.should_ask(read_only, "prompt", "on-request", "read-only")


def test_the_model_gets_structured_content_else_the_content_list() -> None:
    """As the reference: structured content wins; otherwise the content blocks as JSON."""
    text = types.TextContent(type="text", text="hi")
    assert tool_call.output_for_model(types.CallToolResult(content=[text])) == (
        '[{"type":"text","text":"hi"}]'
    )
    structured = types.CallToolResult(content=[text], structuredContent={"result": 3})
    assert tool_call.output_for_model(structured) == '{"result":3}'
    assert tool_call.error_output("boom") == '[{"type":"text","text":"boom"}]'


def test_arguments_must_be_a_json_object() -> None:
    assert tool_call.parse_arguments("") == (None, None)
    assert tool_call.parse_arguments('{"a": 1}') == ({"a": 1}, None)
    assert tool_call.parse_arguments("[1]")[1] == "err: tool arguments must be a JSON object"
    assert (tool_call.parse_arguments("{oops")[1] or "").startswith("err: ")


def test_a_servers_form_schema_is_reshaped_to_the_protocols() -> None:
    """Keys the protocol's form schema does not define (pydantic titles at the top) are dropped."""
    schema = {
        "title": "Confirmation",
        "type": "object",
        "properties": {"confirmed": {"title": "Confirmed", "type": "boolean", "x": 1}},
        "required": ["confirmed"],
    }
    assert tool_call.form_schema(schema) == {
        "type": "object",
        "properties": {"confirmed": {"title": "Confirmed", "type": "boolean"}},
        "required": ["confirmed"],
    }


def test_server_tables_are_read_as_the_reference_names_them() -> None:
    stdio = parse_server("s", {"command": "srv", "args": ["-v"], "env": {"A": "1"}})
    assert stdio.transport == StdioTransport(command="srv", args=("-v",), env={"A": "1"})
    assert (stdio.startup_timeout_sec, stdio.tool_timeout_sec) == (30.0, 120.0)
    http = parse_server("h", {"url": "http://x/mcp", "tool_timeout_sec": 5, "required": True})
    assert isinstance(http.transport, HttpTransport) and http.required
    assert http.tool_timeout_sec == 5.0
    both = parse_server("b", {"command": "x", "url": "http://x"})
    assert both.transport is None and "exactly one" in (both.problem or "")
    picky = parse_server("p", {"command": "x", "enabled_tools": ["a"], "disabled_tools": ["b"]})
    assert picky.offers("a") and not picky.offers("b") and not picky.offers("c")


def test_a_bearer_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = HttpTransport(url="http://x", bearer_token_env_var="PARLEY_TEST_TOKEN")
    monkeypatch.delenv("PARLEY_TEST_TOKEN", raising=False)
    with pytest.raises(ValueError, match="PARLEY_TEST_TOKEN is not set"):
        http_headers(transport)
    monkeypatch.setenv("PARLEY_TEST_TOKEN", "t0k")
    assert http_headers(transport) == {"Authorization": "Bearer t0k"}
    assert os.environ["PARLEY_TEST_TOKEN"] == "t0k"
