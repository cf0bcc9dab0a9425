"""A real user's config.toml, end to end: each key's effect seen on the wire.

Parley starts on a config with a profile, a custom provider (query params, static and
environment headers, its own API key variable), reasoning/verbosity/service tier, extra writable
roots, a shell environment policy, a notify program, developer instructions and an MCP server,
and runs one turn against a local mock Responses server that records what it receives.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from support.mock_responses import MockResponsesServer
from support.sse import ev_assistant_message, ev_completed_with_tokens, ev_response_created, sse

NOTIFY_CAPTURE = Path(__file__).resolve().parent.parent / "support" / "notify_capture.py"


def toml_str(value: str) -> str:
    return json.dumps(value)


def realistic_config(uri: str, notify_file: Path, extra_root: Path) -> str:
    notify = ", ".join(toml_str(a) for a in (sys.executable, str(NOTIFY_CAPTURE), str(notify_file)))
    return f"""
# My everyday setup.
profile = "work"
model = "gpt-5.1"
approval_policy = "on-request"
sandbox_mode = "read-only"
model_reasoning_effort = "low"
notify = [{notify}]
hide_agent_reasoning = true
developer_instructions = "Keep answers short."

[profiles.work]
model = "gpt-5.4"
model_provider = "corp"
approval_policy = "never"
sandbox_mode = "workspace-write"
model_reasoning_effort = "high"
model_reasoning_summary = "detailed"
model_verbosity = "medium"
service_tier = "flex"

[model_providers.corp]
name = "Corp gateway"
base_url = "{uri}/v1"
env_key = "CORP_API_KEY"
query_params = {{ "api-version" = "2025-04-01-preview" }}
http_headers = {{ "X-Team" = "voice" }}
env_http_headers = {{ "X-Corp-Tenant" = "CORP_TENANT" }}
request_max_retries = 0
stream_max_retries = 0

[sandbox_workspace_write]
writable_roots = [{toml_str(str(extra_root))}]
network_access = false

[shell_environment_policy]
inherit = "core"

[mcp_servers.docs]
command = {toml_str(sys.executable)}
args = ["-c", "import sys; sys.exit(0)"]
"""


async def test_a_realistic_user_config_reaches_the_wire(spawn_app_server, codex_home, tmp_path):
    """Profile, provider, reasoning, verbosity, tier, roots and notify all take effect; the
    login key stays home; only the unused key is warned about."""
    extra_root = tmp_path / "shared-cache"
    extra_root.mkdir()
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    notify_file = tmp_path / "notify.json"
    body = sse(
        [
            ev_response_created("resp-1"),
            ev_assistant_message("msg-1", "Done"),
            ev_completed_with_tokens("resp-1", 1200),
        ]
    )
    async with MockResponsesServer([body]) as responses:
        (codex_home / "config.toml").write_text(
            realistic_config(responses.uri, notify_file, extra_root)
        )
        # A login exists, but the corp gateway must get its own key, never this one.
        (codex_home / "auth.json").write_text(json.dumps({"OPENAI_API_KEY": "sk-login-stays-home"}))
        mcp = await spawn_app_server(
            env={
                "CORP_API_KEY": "corp-secret",
                "CORP_TENANT": "acme",
                "OPENAI_API_KEY": "sk-env-not-for-corp",
            }
        )
        await mcp.initialize("my_editor")

        started = await mcp.request("thread/start", {"cwd": str(workspace)})
        assert started["model"] == "gpt-5.4"
        assert started["modelProvider"] == "corp"
        assert started["approvalPolicy"] == "never"
        assert started["reasoningEffort"] == "high"
        assert started["serviceTier"] == "flex"
        sandbox = started["sandbox"]
        assert sandbox["type"] == "workspaceWrite"
        assert str(extra_root) in sandbox["writableRoots"]

        thread_id = started["thread"]["id"]
        await mcp.request(
            "turn/start",
            {"threadId": thread_id, "input": [{"type": "text", "text": "Hello"}]},
        )
        usage = await mcp.read_stream_until_notification_message("thread/tokenUsage/updated")
        await mcp.read_stream_until_notification_message("turn/completed")

        [request] = responses.responses_request_records()
        assert request.path == "/v1/responses"
        assert request.query == "api-version=2025-04-01-preview"
        assert request.header("authorization") == "Bearer corp-secret"
        assert request.header("x-team") == "voice"
        assert request.header("x-corp-tenant") == "acme"
        sent = request.body_json()
        assert sent["model"] == "gpt-5.4"
        assert sent["reasoning"] == {"effort": "high", "summary": "detailed"}
        assert sent["include"] == ["reasoning.encrypted_content"]
        assert sent["text"] == {"verbosity": "medium"}
        assert sent["service_tier"] == "flex"
        developer = [i for i in sent["input"] if i.get("role") == "developer"]
        assert "Keep answers short." in [part["text"] for part in developer[0]["content"]]
        assert usage["params"]["tokenUsage"]["modelContextWindow"] == 272_000 * 95 // 100

        payload = json.loads(await wait_for_file(notify_file))
        assert payload["type"] == "agent-turn-complete"
        assert payload["thread-id"] == thread_id
        assert payload["client"] == "my_editor"
        assert payload["cwd"] == str(workspace)
        assert payload["input-messages"] == ["Hello"]
        assert payload["last-assistant-message"] == "Done"

        warnings = [
            m["params"] for m in mcp.received_messages() if m.get("method") == "configWarning"
        ]
        ignored = [w for w in warnings if w["summary"].startswith("Parley ignores")]
        assert [w["summary"] for w in ignored] == [
            "Parley ignores `hide_agent_reasoning` in the configuration"
        ]
        assert ignored[0]["path"] == str(codex_home / "config.toml")
        assert ignored[0]["range"]["start"]["line"] == 9


async def wait_for_file(path: Path, timeout: float = 10.0) -> str:  # noqa: ASYNC109
    """The notify program runs detached after turn/completed: wait (bounded) for its file."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(path.exists):
        if loop.time() > deadline:
            raise AssertionError(f"{path} did not appear within {timeout}s")
        await asyncio.sleep(0.02)
    return await asyncio.to_thread(path.read_text)
