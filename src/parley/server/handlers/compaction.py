"""thread/compact/start: compact a thread's history now (see `parley.agent.compaction`).

The compaction runs as a turn of its own (turn/started, a `contextCompaction` item,
turn/completed); on a thread whose turn is running, that turn compacts before its next request.
The answer is empty and comes at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.protocol import models as m
from parley.protocol.params import parse_params

if TYPE_CHECKING:
    from parley.server.session import ClientSession


async def thread_compact_start(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadCompactStartParams, raw)
    thread = session.server.thread(params.thread_id)
    thread.subscribe(session)
    thread.agent_state.compact_next_turn = True
    if thread.active is None or thread.active.interrupted:

        def start() -> None:
            thread.start_turn([])

        session.after_response(start)
    return {}
