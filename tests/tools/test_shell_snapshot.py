"""The per-thread shell snapshot: the profile's aliases and variables reach commands without a
login shell per command, and a profile that fails or hangs only costs the fallback."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from integration.helpers import (
    API_KEY,
    config_toml,
    items,
    processes_with_argument,
    start_turn,
    wait_turn_completed,
)
from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer
from support.sse import (
    create_final_assistant_message_sse_response,
    ev_completed,
    ev_function_call,
    ev_response_created,
    sse,
)

from parley.config.shell_environment import ShellEnvironmentPolicy
from parley.tools.sandbox import SandboxMode, SandboxPolicy, check
from parley.tools.shell import run_command, shell_argv
from parley.tools.shell_snapshot import ShellSnapshotSlot, SnapshotError, capture

UNCONFINED = SandboxPolicy(SandboxMode.DANGER_FULL_ACCESS)
BASH = "/bin/bash"
PROFILE_CHECK = "hi_alias; hi_function; echo var=$PROFILE_VAR; echo set=$FROM_POLICY"


def make_home(root: Path, *, bash_profile: str = "", bashrc: str = "") -> Path:
    home = root / "home"
    home.mkdir()
    (home / ".bash_profile").write_text(bash_profile)
    (home / ".bashrc").write_text(bashrc)
    return home


FRIENDLY_PROFILE = {
    "bash_profile": "export PROFILE_VAR=from-profile\nexport PROFILE_TOKEN=leaked\n",
    "bashrc": "alias hi_alias='echo alias-works'\nhi_function() { echo function-works; }\n",
}


async def test_snapshot_restores_aliases_functions_and_variables(tmp_path: Path) -> None:
    """A command run through the snapshot sees the profile's alias, function and variable."""
    home = make_home(tmp_path, **FRIENDLY_PROFILE)
    codex_home = tmp_path / "codex-home"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}

    snapshot = await capture(BASH, tmp_path, env, codex_home)
    policy = ShellEnvironmentPolicy(set={"FROM_POLICY": "policy-wins"})
    result = await run_command(
        snapshot.argv(PROFILE_CHECK),
        cwd=tmp_path,
        policy=UNCONFINED,
        timeout_s=10,
        env=snapshot.command_environment(policy, "thread-1"),
    )

    assert result.exit_code == 0, result.output
    assert result.output.split() == [
        "alias-works",
        "function-works",
        "var=from-profile",
        "set=policy-wins",
    ]
    assert snapshot.path.parent == codex_home / "shell_snapshots"
    assert "PROFILE_TOKEN" not in snapshot.command_environment(policy, None)  # excludes apply


async def test_snapshot_keeps_the_command_semantics(tmp_path: Path) -> None:
    """Quotes, exit status and multi-line scripts behave as with `bash -c`."""
    home = make_home(tmp_path)
    snapshot = await capture(BASH, tmp_path, {"PATH": "/usr/bin:/bin", "HOME": str(home)}, tmp_path)
    script = "printf '%s\\n' \"it's\" 'a $HOME'\nfalse || exit 7"

    result = await run_command(
        snapshot.argv(script), cwd=tmp_path, policy=UNCONFINED, timeout_s=10, env={}
    )

    assert result.exit_code == 7
    assert result.output == "it's\na $HOME\n"


async def test_failing_profile_falls_back_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A profile that exits non-zero gives no snapshot, and a warning is logged."""
    home = make_home(tmp_path, bash_profile="exit 3\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    with pytest.raises(SnapshotError):
        await capture(BASH, tmp_path, env, tmp_path)

    slot = ShellSnapshotSlot()
    with caplog.at_level(logging.WARNING, logger="parley.tools.shell_snapshot"):
        slot.start(BASH, tmp_path, env, tmp_path)
        assert await slot.get() is None
    assert "shell snapshot" in caplog.text and "login shell" in caplog.text


async def test_hanging_profile_does_not_hang_the_command(tmp_path: Path) -> None:
    """A profile that never finishes: the snapshot gives up at its limit, the command (a login
    shell again) ends at its own timeout, and nothing of the profile is left running."""
    home = make_home(tmp_path, bash_profile="sleep 7171.5\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    slot = ShellSnapshotSlot(timeout_s=0.5)
    started = time.monotonic()

    slot.start(BASH, tmp_path, env, tmp_path)
    snapshot = await slot.get()
    result = await run_command(
        shell_argv(BASH, "echo never"), cwd=tmp_path, policy=UNCONFINED, timeout_s=0.5, env=env
    )

    assert snapshot is None
    assert result.timed_out
    assert time.monotonic() - started < 30  # a safety net, not a timing assertion
    assert processes_with_argument("7171.5") == []


async def test_snapshot_is_only_for_its_shell_and_cwd(tmp_path: Path) -> None:
    """Another working directory or shell runs as a login shell (the profile may differ)."""
    home = make_home(tmp_path)
    snapshot = await capture(BASH, tmp_path, {"PATH": "/usr/bin:/bin", "HOME": str(home)}, tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    assert snapshot.applies_to(BASH, tmp_path)
    assert not snapshot.applies_to(BASH, other)
    assert not snapshot.applies_to("/bin/sh", tmp_path)


async def start_server_with_profile(
    spawn: SpawnAppServer,
    codex_home: Path,
    responses: MockResponsesServer,
    workspace: Path,
    home: Path,
    sandbox: str,
    *,
    snapshot: bool = True,
) -> tuple[AppServerProcess, dict[str, Any]]:
    policy = '\n[shell_environment_policy]\nset = { FROM_POLICY = "policy-wins" }\n'
    config = config_toml(responses.uri, sandbox=sandbox)
    if not snapshot:
        config = config.replace("[features]\n", "[features]\nshell_snapshot = false\n")
    (codex_home / "config.toml").write_text(config + policy)
    server = await spawn(codex_home=codex_home, env={"HOME": str(home), "SHELL": BASH})
    await server.initialize()
    await server.login_with_api_key(API_KEY)
    thread = await server.start_thread({"cwd": str(workspace)})
    return server, thread


def shell_command_turn(command: str, call_id: str = "call-1", **extra: Any) -> str:
    arguments = orjson.dumps({"command": command, **extra}).decode()
    return sse(
        [
            ev_response_created(f"resp-{call_id}"),
            ev_function_call(call_id, "shell_command", arguments),
            ev_completed(f"resp-{call_id}"),
        ]
    )


@pytest.mark.parametrize("sandbox", ["danger-full-access", "read-only"])
async def test_profile_alias_reaches_commands_through_the_server(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    tmp_path: Path,
    sandbox: str,
) -> None:
    """Through the real server: the profile's alias, function and variable work in a command,
    the policy's `set` applies, and the item still shows the command as typed."""
    if sandbox != "danger-full-access" and check() is not None:
        pytest.skip(f"bubblewrap cannot confine here: {check()}")
    home = make_home(tmp_path, **FRIENDLY_PROFILE)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    responses_server.push(
        shell_command_turn(PROFILE_CHECK), create_final_assistant_message_sse_response("done")
    )
    server, thread = await start_server_with_profile(
        spawn_app_server, codex_home, responses_server, workspace, home, sandbox
    )

    turn = await start_turn(server, thread["id"], "use my alias")
    completed = await wait_turn_completed(server, turn["id"])

    assert completed["status"] == "completed"
    (done,) = items(server, "item/completed", "commandExecution")
    assert done["item"]["command"] == f"{BASH} -lc '{PROFILE_CHECK}'"
    assert done["item"]["aggregatedOutput"].split() == [
        "alias-works",
        "function-works",
        "var=from-profile",
        "set=policy-wins",
    ], done["item"]["aggregatedOutput"]
    await server.close()


async def test_failing_profile_does_not_fail_the_turn(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    tmp_path: Path,
) -> None:
    """A broken profile: the command still runs (in a login shell) and the turn completes."""
    home = make_home(tmp_path, bash_profile="exit 1\n")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    responses_server.push(
        shell_command_turn("echo after-broken-profile"),
        create_final_assistant_message_sse_response("done"),
    )
    server, thread = await start_server_with_profile(
        spawn_app_server, codex_home, responses_server, workspace, home, "danger-full-access"
    )

    turn = await start_turn(server, thread["id"], "run it")
    completed = await wait_turn_completed(server, turn["id"])

    assert completed["status"] == "completed"
    assert len(items(server, "item/completed", "commandExecution")) == 1
    assert "shell snapshot" in server.stderr_text()
    await server.close()


# The profile notes each run in a file, so a test can count login shells.
COUNTING_PROFILE = 'echo ran >> "$HOME/profile-runs"\nexport PROFILE_VAR=from-profile\n'
LOGIN_CHECK = "shopt -q login_shell && echo login || echo non-login; echo var=$PROFILE_VAR"


@pytest.mark.parametrize("snapshot", [True, False], ids=["snapshot", "no-snapshot"])
async def test_shell_snapshot_feature_switch(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    tmp_path: Path,
    snapshot: bool,
) -> None:
    """With the snapshot (the default) the profile runs once per thread and commands run in a
    non-login shell; `[features] shell_snapshot = false` runs every command in a login shell
    again (the profile once per command) and writes no snapshot. Either way the command sees
    the profile's variable and the item shows the command as typed."""
    home = make_home(tmp_path, bash_profile=COUNTING_PROFILE)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    responses_server.push(
        shell_command_turn(LOGIN_CHECK, "call-1"),
        shell_command_turn(LOGIN_CHECK, "call-2"),
        create_final_assistant_message_sse_response("done"),
    )
    server, thread = await start_server_with_profile(
        spawn_app_server,
        codex_home,
        responses_server,
        workspace,
        home,
        "danger-full-access",
        snapshot=snapshot,
    )

    turn = await start_turn(server, thread["id"], "run it twice")
    completed = await wait_turn_completed(server, turn["id"])

    assert completed["status"] == "completed"
    done = items(server, "item/completed", "commandExecution")
    assert [d["item"]["command"] for d in done] == [f"{BASH} -lc '{LOGIN_CHECK}'"] * 2
    shell_kind = "non-login" if snapshot else "login"
    for d in done:
        assert d["item"]["aggregatedOutput"].split() == [shell_kind, "var=from-profile"]
    profile_runs = (home / "profile-runs").read_text().split()
    assert len(profile_runs) == (1 if snapshot else 2)
    snapshots = codex_home / "shell_snapshots"
    written = list(snapshots.iterdir()) if snapshots.exists() else []
    assert bool(written) == snapshot
    await server.close()


async def test_hanging_profile_does_not_hang_the_turn(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    tmp_path: Path,
) -> None:
    """A profile that never finishes: the snapshot gives up at its limit, the command (a login
    shell, which hangs too) ends at its own timeout, the turn completes and nothing of the
    profile is left running."""
    home = make_home(tmp_path, bash_profile="sleep 7171.7\n")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    responses_server.push(
        shell_command_turn("echo never", timeout_ms=500),
        create_final_assistant_message_sse_response("done"),
    )
    server, thread = await start_server_with_profile(
        spawn_app_server, codex_home, responses_server, workspace, home, "danger-full-access"
    )

    turn = await start_turn(server, thread["id"], "run it")
    completed = await wait_turn_completed(server, turn["id"], timeout=60)

    assert completed["status"] == "completed"
    (done,) = items(server, "item/completed", "commandExecution")
    assert done["item"]["status"] == "failed"
    assert "never" not in (done["item"]["aggregatedOutput"] or "").split()
    assert "shell snapshot" in server.stderr_text()
    assert processes_with_argument("7171.7") == []
    await server.close()
