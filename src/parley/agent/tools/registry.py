"""The list of tools one turn offers the model, and dispatch of the model's calls by name.

`turn_tools(context)` returns the built-in tools for the turn's settings; other tool sources
(client-defined dynamic tools, MCP servers) append their own `AgentTool` objects to the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parley.agent.tools.apply_patch import FREEFORM_FEATURE, ApplyPatchTool
from parley.agent.tools.base import AgentTool, CallOutcome, ToolCall, ToolContext
from parley.agent.tools.dynamic import DynamicTool
from parley.agent.tools.request_permissions import RequestPermissionsTool
from parley.agent.tools.request_user_input import RequestUserInputTool
from parley.agent.tools.shell_command import ShellCommandTool
from parley.agent.tools.unified_exec import ExecCommandTool, WriteStdinTool
from parley.agent.tools.update_plan import UpdatePlanTool
from parley.agent.tools.view_image import ViewImageTool


def turn_tools(context: ToolContext) -> list[AgentTool]:
    features = context.settings.features
    patches = ApplyPatchTool(context, freeform=FREEFORM_FEATURE in features)
    tools: list[AgentTool] = [
        ShellCommandTool(context, patches),
        UpdatePlanTool(context),
        patches,
        RequestUserInputTool.for_turn(context, context.plan_mode),
        RequestPermissionsTool(context),
        ExecCommandTool(context, context.processes, patches),
        WriteStdinTool(context, context.processes),
        ViewImageTool(context, offered=context.view_image),
    ]
    tools += [DynamicTool(context, spec) for spec in context.dynamic_tools]
    return tools


class ToolBox:
    """A turn's tools: their specs for the request and the call dispatch."""

    def __init__(self, tools: Sequence[AgentTool]) -> None:
        self.tools = list(tools)

    def specs(self) -> list[dict[str, Any]]:
        return [spec for tool in self.tools if (spec := tool.spec()) is not None]

    def has(self, name: str) -> bool:
        return any(tool.name == name for tool in self.tools)

    async def run(self, call: ToolCall) -> CallOutcome:
        for tool in self.tools:
            if tool.name == call.name:
                return await tool.run(call)
        return CallOutcome(f"unsupported call: {call.name}")
