"""Administrator requirements (`requirements.toml` in the system config folder, and a legacy
`managed_config.toml`), as the reference reads and enforces them for an API-key user:
`configRequirements/read` reports them (null when there are none), a configured or requested
approval policy / sandbox outside the allow-lists falls back to an allowed one with a warning,
a turn/start override outside them is refused with an `error` notification, and `features`
pins feature flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.mock_responses import MockResponsesServer
from support.sse import create_final_assistant_message_sse_response

from parley.config import ConfigError
from parley.config.requirements import Requirements, legacy_requirements, parse_requirements

REQUIREMENTS = """
allowed_approval_policies = ["on-request", "untrusted"]
allowed_sandbox_modes = ["read-only", "workspace-write"]
allowed_web_search_modes = ["cached"]
enforce_residency = "us"

[features]
realtime_conversation = false
apps = false

[experimental_network]
enabled = true
http_port = 3128
allowed_domains = ["example.com"]
denied_domains = ["evil.example"]
"""


def config_text(uri: str) -> str:
    return f"""
model = "mock-model"
approval_policy = "never"
sandbox_mode = "danger-full-access"
model_provider = "mock"

[features]
realtime_conversation = true

[model_providers.mock]
name = "mock"
base_url = "{uri}/v1"
request_max_retries = 0
stream_max_retries = 0
"""


@pytest.fixture
def system_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "etc-codex"
    folder.mkdir()
    return folder


async def test_no_requirements_reads_as_null(spawn_app_server, system_dir: Path) -> None:
    """With no requirements.toml and no managed config the answer is null."""
    mcp = await spawn_app_server(env={"PARLEY_SYSTEM_CONFIG_DIR": str(system_dir)})
    await mcp.initialize()
    assert await mcp.request("configRequirements/read", {}) == {"requirements": None}
    await mcp.close()


async def test_requirements_are_reported_and_enforced(
    spawn_app_server, codex_home: Path, system_dir: Path
) -> None:
    """The file's allow-lists are reported; the user's `never` / `danger-full-access` fall back
    to the first allowed policy and read-only (with warnings), a thread/start asking for a
    disallowed value gets an allowed one, a disallowed turn/start override is refused with an
    error notification, and the pinned features stay off."""
    (system_dir / "requirements.toml").write_text(REQUIREMENTS)
    done = create_final_assistant_message_sse_response("Done")
    async with MockResponsesServer([done]) as responses:
        (codex_home / "config.toml").write_text(config_text(responses.uri))
        mcp = await spawn_app_server(env={"PARLEY_SYSTEM_CONFIG_DIR": str(system_dir)})
        await mcp.initialize()

        read = await mcp.request("configRequirements/read", {})
        assert read["requirements"] == {
            "allowedApprovalPolicies": ["on-request", "untrusted"],
            "allowedApprovalsReviewers": None,
            "allowedSandboxModes": ["read-only", "workspace-write"],
            "allowedWebSearchModes": ["cached", "disabled"],
            "featureRequirements": {"realtime_conversation": False, "apps": False},
            "enforceResidency": "us",
            "network": {
                "enabled": True,
                "httpPort": 3128,
                "socksPort": None,
                "allowUpstreamProxy": None,
                "dangerouslyAllowNonLoopbackProxy": None,
                "dangerouslyAllowAllUnixSockets": None,
                "managedAllowedDomainsOnly": None,
                "dangerFullAccessDenylistOnly": None,
                "allowLocalBinding": None,
                "domains": {"example.com": "allow", "evil.example": "deny"},
                "allowedDomains": ["example.com"],
                "deniedDomains": ["evil.example"],
                "unixSockets": None,
                "allowUnixSockets": None,
            },
        }

        summaries = [
            m["params"]["summary"]
            for m in mcp.received_messages()
            if m.get("method") == "configWarning"
        ]
        assert any(
            s.startswith("Configured value for `approval_policy` is disallowed by requirements")
            and "falling back to required value on-request" in s
            for s in summaries
        )
        assert any(
            s.startswith("Configured value for `sandbox_mode` is disallowed by requirements")
            for s in summaries
        )

        started = await mcp.request("thread/start", {"approvalPolicy": "never"})
        assert started["approvalPolicy"] == "on-request"
        assert started["sandbox"]["type"] == "readOnly"
        allowed = await mcp.request(
            "thread/start", {"approvalPolicy": "untrusted", "sandbox": "workspace-write"}
        )
        assert allowed["approvalPolicy"] == "untrusted"
        assert allowed["sandbox"]["type"] == "workspaceWrite"

        thread_id = started["thread"]["id"]
        await mcp.request(
            "turn/start",
            {
                "threadId": thread_id,
                "input": [{"type": "text", "text": "hi"}],
                "approvalPolicy": "never",
            },
        )
        error = await mcp.read_stream_until_notification_message("error")
        assert error["params"]["error"]["codexErrorInfo"] == "badRequest"
        assert "invalid value for `approval_policy`: `never`" in error["params"]["error"]["message"]
        await mcp.read_stream_until_notification_message("turn/completed")
        resumed = await mcp.request("thread/resume", {"threadId": thread_id})
        assert resumed["approvalPolicy"] == "on-request"

        # Pinned off: realtime is refused although the user's [features] turn it on.
        realtime = await mcp.request_error(
            "thread/realtime/start", {"threadId": thread_id, "prompt": "x", "sessionId": None}
        )
        assert "does not support realtime conversation" in realtime["message"]
        # A pinned feature is not changed by runtime enablement either.
        await mcp.request("experimentalFeature/enablement/set", {"enablement": {"apps": True}})
        listed = await mcp.request("experimentalFeature/list", {"limit": 200})
        [apps] = [f for f in listed["data"] if f["name"] == "apps"]
        assert apps["enabled"] is False
        await mcp.close()


async def test_a_legacy_managed_config_reads_as_requirements(
    spawn_app_server, codex_home: Path, system_dir: Path
) -> None:
    """managed_config.toml's approval policy becomes the only one allowed; its sandbox mode is
    allowed next to read-only."""
    (system_dir / "managed_config.toml").write_text(
        'approval_policy = "on-request"\nsandbox_mode = "workspace-write"\n'
    )
    mcp = await spawn_app_server(env={"PARLEY_SYSTEM_CONFIG_DIR": str(system_dir)})
    await mcp.initialize()
    read = await mcp.request("configRequirements/read", {})
    assert read["requirements"]["allowedApprovalPolicies"] == ["on-request"]
    assert read["requirements"]["allowedSandboxModes"] == ["read-only", "workspace-write"]
    started = await mcp.request("thread/start", {"approvalPolicy": "never"})
    assert started["approvalPolicy"] == "on-request"
    await mcp.close()


async def test_a_broken_requirements_file_fails_what_needs_the_configuration(
    spawn_app_server, system_dir: Path
) -> None:
    """As the reference: a requirements file that cannot be parsed fails thread/start (and
    configRequirements/read) naming the file; the server keeps serving."""
    (system_dir / "requirements.toml").write_text('allowed_sandbox_modes = ["workspace-write"]\n')
    mcp = await spawn_app_server(env={"PARLEY_SYSTEM_CONFIG_DIR": str(system_dir)})
    await mcp.initialize()
    error = await mcp.request_error("thread/start", {})
    assert "must include 'read-only'" in error["message"]
    error = await mcp.request_error("configRequirements/read", {})
    assert str(system_dir / "requirements.toml") in error["message"]
    assert (await mcp.request("model/list", {}))["data"]
    await mcp.close()


def test_requirement_rules_without_a_server(tmp_path: Path) -> None:
    """Values in, values out: merging keeps the first source's fields, unknown values and an
    empty allow-list are refused, legacy settings map as the reference maps them."""
    path = tmp_path / "requirements.toml"
    first = Requirements().merge_unset(
        parse_requirements({"allowed_approval_policies": ["never"]}, path), path
    )
    merged = first.merge_unset(legacy_requirements({"approval_policy": "on-request"}), tmp_path)
    assert merged.value("allowed_approval_policies") == ["never"]
    assert merged.approval_policy("on-request", explicit=False) == ("never", None)
    policy, warning = merged.approval_policy("on-request", explicit=True)
    assert policy == "never" and warning is not None and str(path) in warning
    assert Requirements().to_wire() is None
    assert legacy_requirements({"sandbox_mode": "read-only"}) == {
        "allowed_sandbox_modes": ["read-only"]
    }
    assert legacy_requirements({"approvals_reviewer": "guardian_subagent"}) == {
        "allowed_approvals_reviewers": ["guardian_subagent", "user"]
    }
    with pytest.raises(ConfigError, match="cannot be empty"):
        parse_requirements({"allowed_approval_policies": []}, path)
    with pytest.raises(ConfigError, match="unknown variant `sometimes`"):
        parse_requirements({"allowed_approval_policies": ["sometimes"]}, path)
    with pytest.raises(ConfigError, match="invalid `features` requirement `nope`"):
        parse_requirements({"features": {"nope": True}}, path)
