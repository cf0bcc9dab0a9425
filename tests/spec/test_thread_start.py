"""pytest twins of upstream `app-server/tests/suite/v2/thread_start.rs`.

Twinned here (9): `thread_start_creates_thread_and_emits_started`,
`thread_start_accepts_metrics_service_name`, `thread_start_ephemeral_remains_pathless`,
`thread_start_with_read_only_sandbox_does_not_persist_project_trust`,
`thread_start_respects_project_config_from_cwd`, `thread_start_accepts_flex_service_tier`,
`thread_start_with_elevated_sandbox_trusts_project_and_followup_loads_project_config`,
`thread_start_with_nested_git_cwd_trusts_repo_root`,
`thread_start_skips_trust_write_when_project_is_already_trusted`.

Elsewhere or pending on other engineers' features (no twin here, not skipped):
- `thread_start_tracks_thread_initialized_analytics`,
  `thread_start_does_not_track_thread_initialized_analytics_without_feature`: pending on analytics
  (an analytics backend).
- `thread_start_fails_when_required_mcp_server_fails_to_initialize`,
  `thread_start_emits_mcp_server_status_updated_notifications`: twinned with the MCP work in
  `tests/mcp/test_thread_start_mcp.py`.
- `thread_start_surfaces_cloud_requirements_load_errors`: pending on cloud requirements (needs
  ChatGPT sign-in and a cloud service).
"""

from __future__ import annotations

from pathlib import Path

from support.app_server import SpawnAppServer
from support.thread_harness import create_mock_responses_server_repeating_assistant


def create_config_toml_without_approval_policy(codex_home: Path, server_uri: str) -> None:
    (codex_home / "config.toml").write_text(
        f"""
model = "mock-model"
sandbox_mode = "read-only"

model_provider = "mock_provider"

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{server_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""
    )


def set_project_trust_level(codex_home: Path, project: Path, level: str) -> None:
    """Append a `[projects."<path>"]` trust entry to the user config, as upstream's helper does."""
    with (codex_home / "config.toml").open("a") as config:
        config.write(f'\n[projects."{project.resolve()}"]\ntrust_level = "{level}"\n')


def _read(path: Path) -> str:
    return path.read_text()


def _is_absolute_and_absent(path: str) -> tuple[bool, bool]:
    return Path(path).is_absolute(), Path(path).exists()


async def test_thread_start_creates_thread_and_emits_started(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml_without_approval_policy(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    result = await mcp.request("thread/start", {"model": "gpt-5.1"})
    thread = result["thread"]
    assert thread["id"], "thread id should not be empty"
    assert thread["preview"] == "", "new threads should start with an empty preview"
    assert result["modelProvider"] == "mock_provider"
    assert thread["createdAt"] > 0
    assert thread["ephemeral"] is False
    assert thread["status"] == {"type": "idle"}
    absolute, exists = _is_absolute_and_absent(thread["path"])
    assert absolute, "thread path should be absolute"
    assert not exists, "fresh thread rollout should not be materialized until first user message"
    assert "name" in thread and thread["name"] is None

    message = await mcp.read_stream_until_notification_message("thread/started")
    for earlier in mcp.received_messages():
        if earlier is message:
            break
        if earlier.get("method") == "thread/status/changed":
            assert earlier["params"]["threadId"] != thread["id"], (
                "thread/start should introduce the thread without a preceding thread/status/changed"
            )
    started = message["params"]["thread"]
    assert "name" in started and started["name"] is None
    assert started["ephemeral"] is False
    assert started == thread
    await server.stop()


async def test_thread_start_accepts_metrics_service_name(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml_without_approval_policy(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    result = await mcp.request("thread/start", {"serviceName": "my_app_server_client"})
    assert result["thread"]["id"], "thread id should not be empty"
    await server.stop()


async def test_thread_start_ephemeral_remains_pathless(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml_without_approval_policy(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    result = await mcp.request("thread/start", {"model": "gpt-5.1", "ephemeral": True})
    assert result["thread"]["ephemeral"] is True, "ephemeral threads should be marked explicitly"
    assert result["thread"]["path"] is None, "ephemeral threads should not expose a path"
    await server.stop()


async def test_thread_start_with_read_only_sandbox_does_not_persist_project_trust(
    spawn_app_server: SpawnAppServer, codex_home: Path, tmp_path: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml_without_approval_policy(codex_home, server.uri)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    await mcp.request("thread/start", {"cwd": str(workspace)})
    config_toml = _read(codex_home / "config.toml")
    assert 'trust_level = "trusted"' not in config_toml
    assert str(workspace) not in config_toml
    await server.stop()


async def test_thread_start_respects_project_config_from_cwd(
    spawn_app_server: SpawnAppServer, codex_home: Path, tmp_path: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml_without_approval_policy(codex_home, server.uri)
    workspace = tmp_path / "workspace"
    (workspace / ".codex").mkdir(parents=True)
    (workspace / ".codex" / "config.toml").write_text('\nmodel_reasoning_effort = "high"\n')
    set_project_trust_level(codex_home, workspace, "trusted")
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    result = await mcp.request("thread/start", {"cwd": str(workspace)})
    assert result["reasoningEffort"] == "high"
    await server.stop()


async def test_thread_start_accepts_flex_service_tier(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml_without_approval_policy(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    result = await mcp.request("thread/start", {"serviceTier": "flex"})
    assert result["serviceTier"] == "flex"
    await server.stop()


async def test_thread_start_with_elevated_sandbox_trusts_project_and_followup_loads_project_config(
    spawn_app_server: SpawnAppServer, codex_home: Path, tmp_path: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml_without_approval_policy(codex_home, server.uri)
    workspace = tmp_path / "workspace"
    (workspace / ".codex").mkdir(parents=True)
    (workspace / ".codex" / "config.toml").write_text('\nmodel_reasoning_effort = "high"\n')
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    await mcp.request("thread/start", {"cwd": str(workspace), "sandbox": "workspace-write"})
    second = await mcp.request("thread/start", {"cwd": str(workspace)})
    assert second["approvalPolicy"] == "on-request"
    assert second["reasoningEffort"] == "high"
    config_toml = _read(codex_home / "config.toml")
    # `workspace` is not inside a git repository, so the trusted root is the workspace itself.
    assert str(workspace.resolve()) in config_toml
    assert 'trust_level = "trusted"' in config_toml
    await server.stop()


async def test_thread_start_with_nested_git_cwd_trusts_repo_root(
    spawn_app_server: SpawnAppServer, codex_home: Path, tmp_path: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml_without_approval_policy(codex_home, server.uri)
    repo_root = tmp_path / "repo"
    (repo_root / ".git").mkdir(parents=True)
    nested = repo_root / "nested" / "project"
    nested.mkdir(parents=True)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    await mcp.request("thread/start", {"cwd": str(nested), "sandbox": "workspace-write"})
    config_toml = _read(codex_home / "config.toml")
    assert f'"{repo_root.resolve()}"' in config_toml
    assert str(nested.resolve()) not in config_toml
    await server.stop()


async def test_thread_start_skips_trust_write_when_project_is_already_trusted(
    spawn_app_server: SpawnAppServer, codex_home: Path, tmp_path: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml_without_approval_policy(codex_home, server.uri)
    workspace = tmp_path / "workspace"
    (workspace / ".codex").mkdir(parents=True)
    (workspace / ".codex" / "config.toml").write_text('\nmodel_reasoning_effort = "high"\n')
    set_project_trust_level(codex_home, workspace, "trusted")
    config_before = _read(codex_home / "config.toml")
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    result = await mcp.request(
        "thread/start", {"cwd": str(workspace), "sandbox": "workspace-write"}
    )
    assert result["approvalPolicy"] == "on-request"
    assert result["reasoningEffort"] == "high"
    assert _read(codex_home / "config.toml") == config_before
    await server.stop()
