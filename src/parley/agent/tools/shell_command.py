"""`shell_command`: the model runs a shell script (see `parley.agent.command_call`).

A script that only applies a patch (`apply_patch <<'EOF' … EOF`) is handed to the
`apply_patch` tool, so the client sees a `fileChange` item and can approve the diff, instead of
opaque shell output.
"""

from __future__ import annotations

from typing import Any

import orjson

from parley.agent.approval import ApprovalPolicy
from parley.agent.command_call import CommandCallRunner
from parley.agent.tools.apply_patch import ApplyPatchTool, shell_invocation
from parley.agent.tools.base import CallOutcome, ToolCall, ToolContext
from parley.agent.tools.unified_exec import FEATURE as UNIFIED_EXEC_FEATURE
from parley.tools.shell import SHELL_TOOL_NAME, shell_tool_spec


def _script(arguments: str) -> tuple[str | None, str | None]:
    """(command, workdir) from shell_command arguments, when they can be read."""
    try:
        data = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    command, workdir = data.get("command"), data.get("workdir")
    return (
        command if isinstance(command, str) else None,
        workdir if isinstance(workdir, str) else None,
    )


class ShellCommandTool:
    name = SHELL_TOOL_NAME

    def __init__(self, context: ToolContext, patches: ApplyPatchTool) -> None:
        self._ctx = context
        self._patches = patches
        self._runner = CommandCallRunner(
            context.channel,
            context.notifier,
            cwd=context.settings.cwd,
            sandbox=context.sandbox,
            approval_policy=context.approval_policy,
            approvals=context.grants,
            environment=context.settings.shell_environment,
            codex_home=context.settings.codex_home,
            snapshot=context.shell_snapshot,
        )

    def spec(self) -> dict[str, Any] | None:
        if UNIFIED_EXEC_FEATURE in self._ctx.settings.features:
            return None  # exec_command takes its place (calls to it are still answered)
        escalation = self._ctx.approval_policy is ApprovalPolicy.ON_REQUEST
        return shell_tool_spec(allow_escalation=escalation)

    async def run(self, call: ToolCall) -> CallOutcome:
        command, workdir = _script(call.arguments)
        patch = shell_invocation(command) if command is not None else None
        if patch is not None:
            where = patch.workdir or workdir
            if patch.workdir and workdir:
                where = f"{workdir}/{patch.workdir}"
            return await self._patches.apply(call.call_id, patch.patch, where)
        # request_permissions may have widened the sandbox since the last call.
        self._runner.sandbox = self._ctx.sandbox
        return await self._runner.run(call.call_id, call.arguments)
