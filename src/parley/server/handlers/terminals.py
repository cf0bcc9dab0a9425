"""thread/backgroundTerminals/clean: end the processes the agent left running (unified exec)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.protocol import models as m
from parley.protocol.params import parse_params

if TYPE_CHECKING:
    from parley.server.session import ClientSession


async def background_terminals_clean(session: ClientSession, raw: Any) -> Any:
    """Ends every unified-exec process the thread's agent left running."""
    params = parse_params(m.ThreadBackgroundTerminalsCleanParams, raw)
    thread = session.server.thread(params.thread_id)
    await thread.agent_state.processes.clean()
    return {}
