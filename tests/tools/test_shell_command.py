"""Running one shell command: arguments, quoting, output, timeouts and process-tree cleanup."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from parley.tools.safe_commands import is_known_safe
from parley.tools.sandbox import SandboxMode, SandboxPolicy
from parley.tools.shell import (
    MODEL_OUTPUT_LIMIT,
    CommandResult,
    ShellCall,
    command_env,
    display_command,
    format_for_model,
    format_wall_time,
    run_command,
    shell_argv,
)

UNCONFINED = SandboxPolicy(SandboxMode.DANGER_FULL_ACCESS)


def live_processes(marker: str) -> list[int]:
    """Pids of non-zombie processes whose command line contains `marker`."""
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if marker.encode() in cmdline and stat[stat.rfind(")") + 2] not in "ZX":
            found.append(int(entry))
    return found


def test_command_is_displayed_like_the_reference() -> None:
    """The item's command string quotes the argv as the reference does."""
    assert (
        display_command(shell_argv("/bin/bash", "printf realtime-tool-ok"))
        == "/bin/bash -lc 'printf realtime-tool-ok'"
    )
    assert (
        display_command(shell_argv("/bin/bash", "sh -c 'printf tool-ok && echo x > f.txt'"))
        == "/bin/bash -lc \"sh -c 'printf tool-ok && echo x > f.txt'\""
    )
    assert display_command(["/bin/bash", "-c", "ls"]) == "/bin/bash -c ls"


def test_arguments_are_parsed_leniently_but_safely() -> None:
    """The seed's arguments parse; bad arguments give the model a clear error."""
    call = ShellCall.parse('{"command":"printf hi","workdir":null,"timeout_ms":5000}')
    assert call == ShellCall(command="printf hi", workdir=None, timeout_ms=5000)
    assert call.timeout_s == 5.0
    assert ShellCall.parse('{"command":["ls","-la"]}').command == "ls -la"
    assert ShellCall.parse('{"command":"x","login":false}').login is False
    with pytest.raises(ValueError, match="command"):
        ShellCall.parse('{"workdir":"/tmp"}')
    with pytest.raises(ValueError, match="failed to parse"):
        ShellCall.parse("not json")


def test_model_output_format() -> None:
    """The model gets exit code, wall time and output, with long output cut in the middle."""
    result = CommandResult(0, "realtime-tool-ok", 0.23)
    assert format_for_model(result) == (
        "Exit code: 0\nWall time: 0.2 seconds\nOutput:\nrealtime-tool-ok"
    )
    assert format_wall_time(0.01) == "0" and format_wall_time(1.26) == "1.3"
    long = format_for_model(CommandResult(1, "a" * 50_000 + "END", 1.0))
    assert len(long) < MODEL_OUTPUT_LIMIT + 200
    assert "characters of output omitted" in long and long.endswith("END")


def test_secrets_are_not_passed_to_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials in the server's environment do not reach the commands it runs."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-secret")
    env = command_env()
    assert "OPENAI_API_KEY" not in env and "GITHUB_TOKEN" not in env
    assert env.get("PATH") == os.environ["PATH"]


def test_known_safe_commands() -> None:
    """Only plainly read-only scripts count as safe."""
    assert is_known_safe("ls -la")
    assert is_known_safe("cat a.txt | grep foo | wc -l")
    assert is_known_safe("git status && git diff")
    assert not is_known_safe("echo x > f.txt")
    assert not is_known_safe("find . -delete")
    assert not is_known_safe("rm -rf /")
    assert not is_known_safe("sed -i s/a/b/ f")
    assert not is_known_safe("ls $(touch x)")
    assert not is_known_safe("git push")


async def test_output_is_streamed_and_aggregated(tmp_path: Path) -> None:
    """stdout and stderr are streamed as they come and kept together in order."""
    chunks: list[str] = []
    result = await run_command(
        shell_argv("/bin/bash", "printf out; printf err >&2; exit 4", login=False),
        cwd=tmp_path,
        policy=UNCONFINED,
        timeout_s=5,
        on_output=chunks.append,
    )
    assert result.exit_code == 4 and not result.timed_out
    assert result.output == "outerr" and "".join(chunks) == "outerr"


async def test_timeout_kills_the_whole_tree(tmp_path: Path) -> None:
    """A timed-out command is killed with every descendant, including setsid'd daemons."""
    script = "(setsid sleep 5151.1 &); (sleep 5151.2 &); sleep 5151.3"
    started = time.monotonic()
    result = await run_command(
        shell_argv("/bin/bash", script, login=False),
        cwd=tmp_path,
        policy=UNCONFINED,
        timeout_s=0.5,
    )
    assert result.timed_out and result.exit_code == 124
    assert time.monotonic() - started < 3
    assert live_processes("sleep 5151.") == []


async def test_cancellation_kills_the_whole_tree(tmp_path: Path) -> None:
    """Cancelling a running command (a turn interrupt) leaves no process behind."""
    script = "(setsid sleep 5252.1 &); sleep 5252.2"
    task = asyncio.create_task(
        run_command(
            shell_argv("/bin/bash", script, login=False),
            cwd=tmp_path,
            policy=UNCONFINED,
            timeout_s=30,
        )
    )
    for _ in range(250):
        if len(live_processes("sleep 5252.")) >= 2:
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert live_processes("sleep 5252.") == []


async def test_background_processes_do_not_outlive_the_command(tmp_path: Path) -> None:
    """Processes a command leaves running in the background are ended when it exits."""
    result = await run_command(
        shell_argv("/bin/bash", "sleep 5353.1 > /dev/null 2>&1 & echo started", login=False),
        cwd=tmp_path,
        policy=UNCONFINED,
        timeout_s=5,
    )
    assert result.exit_code == 0 and result.output == "started\n"
    assert live_processes("sleep 5353.1") == []


async def test_huge_output_is_capped(tmp_path: Path) -> None:
    """A command printing megabytes keeps a bounded head and tail of its output."""
    result = await run_command(
        shell_argv(
            "/bin/bash", "head -c 3000000 /dev/zero | tr '\\0' a; echo; echo TAIL", login=False
        ),
        cwd=tmp_path,
        policy=UNCONFINED,
        timeout_s=10,
    )
    assert result.exit_code == 0
    assert len(result.output) < 1_100_000
    assert "characters of output omitted" in result.output
    assert result.output.endswith("TAIL\n")
