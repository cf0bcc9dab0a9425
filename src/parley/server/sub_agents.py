"""Starts the sub-agent threads `spawn_agent` asks for (the server side of `agent.collab`).

A sub-agent is a new thread recorded with a `thread_spawn` sub-agent source (parent, depth,
nickname, role), on its parent's settings with the model, effort and developer instructions its
role or the call chose. Every initialized connection is subscribed to it (as the reference
attaches them to every new thread), so clients follow its work; its first turn starts at once
with the task.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import TYPE_CHECKING, Any, Final

from parley.agent.collab import (
    DEFAULT_EFFORT,
    DEPTH_LIMIT_MESSAGE,
    MAX_DEPTH,
    SpawnArgs,
    SpawnedAgent,
    SpawnError,
    resolve_role,
)
from parley.rpc.connection import HandshakeState

if TYPE_CHECKING:
    from parley.server.session import AppServer
    from parley.threads.runtime import ThreadRuntime

# Names sub-agents are called by, handed out in turn (Parley's own list).
NICKNAMES: Final = (
    "Ada", "Basil", "Cleo", "Dmitri", "Esme", "Felix", "Greta", "Hugo", "Ines", "Jonah",
)  # fmt: skip


def spawn_depth(source: Any) -> int:
    """How deep a thread is in a spawn tree (0 for a thread a client started)."""
    sub = source.get("subagent") if isinstance(source, dict) else None
    spawn = sub.get("thread_spawn") if isinstance(sub, dict) else None
    depth = spawn.get("depth") if isinstance(spawn, dict) else None
    return depth if isinstance(depth, int) else 0


class SubAgentSpawner:
    def __init__(self, server: AppServer) -> None:
        self._server = server
        self._names = itertools.cycle(NICKNAMES)

    async def spawn(self, parent_thread_id: str, args: SpawnArgs) -> SpawnedAgent:
        registry = self._server.threads
        parent = registry.get(parent_thread_id)
        if parent is None:
            raise SpawnError("collab manager unavailable")
        depth = spawn_depth(parent.info.source) + 1
        if depth > MAX_DEPTH:
            raise SpawnError(DEPTH_LIMIT_MESSAGE)
        config = parent.settings.config or self._server.config
        role = resolve_role(config.tree, config.codex_home, args.agent_type)
        model = role.model or args.model or parent.settings.model
        effort = (
            role.reasoning_effort
            or args.reasoning_effort
            or parent.agent_state.options.reasoning_effort()
            or config.reasoning_effort
            or DEFAULT_EFFORT
        )
        settings = dataclasses.replace(
            parent.settings,
            model=model,
            developer_instructions=role.developer_instructions
            or parent.settings.developer_instructions,
        )
        nickname = next(self._names)
        source = {
            "subagent": {
                "thread_spawn": {
                    "parent_thread_id": parent.id,
                    "depth": depth,
                    "agent_path": None,
                    "agent_nickname": nickname,
                    "agent_role": args.agent_type,
                }
            }
        }
        child = registry.create(
            settings, source=source, agent_nickname=nickname, agent_role=args.agent_type
        )
        child.agent_state.options.effort = effort
        self._introduce(parent, child)
        child.start_turn([{"type": "text", "text": args.message, "text_elements": []}])
        status = "running" if child.is_running else "pendingInit"
        return SpawnedAgent(child.id, nickname, model, effort, status)

    def _introduce(self, parent: ThreadRuntime, child: ThreadRuntime) -> None:
        """As the reference: every initialized connection (and the parent's subscribers)
        follows the new thread; its turn's status change is what announces it."""
        for peer in parent.subscribers:
            child.subscribe(peer)
        for session in self._server.sessions:
            if session.rpc.state is HandshakeState.INITIALIZED and not session.closed:
                child.subscribe(session)
