"""A command the user runs on a thread (`thread/shellCommand`), outside the model's control.

It runs in the user's shell with the user's own access (no sandbox, no approval: the user typed
it), in the thread's working directory, and is shown as a `commandExecution` item with source
`userShell`. The model learns about it through a note added to the history.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from parley.agent.notifier import now_ms
from parley.config.shell_environment import ShellEnvironmentPolicy
from parley.tools.sandbox import SandboxMode, SandboxPolicy
from parley.tools.shell import (
    MODEL_OUTPUT_LIMIT,
    command_env,
    display_command,
    run_command,
    shell_argv,
    truncate_middle,
    user_shell,
)

UNCONFINED = SandboxPolicy(SandboxMode.DANGER_FULL_ACCESS)
# A user command may run long (a build, a server); it ends when it ends or the turn is stopped.
USER_COMMAND_TIMEOUT_S = 24 * 3600.0

Notify = Callable[[str, dict[str, Any]], None]


def history_note(command: str, exit_code: int, output: str) -> dict[str, Any]:
    text = (
        "<user_shell_command>\n"
        f"The user ran this command themselves:\n$ {command}\n"
        f"Exit code: {exit_code}\nOutput:\n{truncate_middle(output, MODEL_OUTPUT_LIMIT)}\n"
        "</user_shell_command>"
    )
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


async def run_user_command(
    command: str,
    cwd: Path,
    notify: Notify,
    environment: ShellEnvironmentPolicy | None = None,
    thread_id: str | None = None,
) -> dict[str, Any]:
    """Runs the command, showing it as an item through `notify`; returns the history note."""
    argv = shell_argv(user_shell(), command, login=True)
    item: dict[str, Any] = {
        "type": "commandExecution",
        "id": f"user-shell-{uuid.uuid4()}",
        "command": display_command(argv),
        "cwd": str(cwd),
        "processId": None,
        "source": "userShell",
        "status": "inProgress",
        "commandActions": [{"type": "unknown", "command": command}],
        "aggregatedOutput": None,
        "exitCode": None,
        "durationMs": None,
    }
    notify("item/started", {"item": item, "startedAtMs": now_ms()})

    def on_output(text: str) -> None:
        notify("item/commandExecution/outputDelta", {"itemId": item["id"], "delta": text})

    started = time.monotonic()
    try:
        result = await run_command(
            argv,
            cwd=cwd,
            policy=UNCONFINED,
            timeout_s=USER_COMMAND_TIMEOUT_S,
            on_output=on_output,
            env=command_env(environment, thread_id),
        )
        exit_code, output = result.exit_code, result.output
        duration = result.duration_ms
    except OSError as exc:
        exit_code, output = 127, f"failed to start {argv[0]}: {exc.strerror or exc}"
        duration = int((time.monotonic() - started) * 1000)
    done = {
        **item,
        "status": "completed" if exit_code == 0 else "failed",
        "aggregatedOutput": output,
        "exitCode": exit_code,
        "durationMs": duration,
    }
    notify("item/completed", {"item": done, "completedAtMs": now_ms()})
    return history_note(command, exit_code, output)
