"""thread/shellCommand: the user runs a command on a thread (see `parley.agent.user_shell`).

While a turn runs, the command joins that turn (its item carries the turn's id and is kept
with it); otherwise it runs as a turn of its own. The answer is empty and comes at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError

if TYPE_CHECKING:
    from parley.server.session import ClientSession

log = logging.getLogger(__name__)
_background: set[asyncio.Task[None]] = set()


async def thread_shell_command(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadShellCommandParams, raw)
    if not params.command.strip():
        raise ClientError("Invalid request: `command` must not be empty")
    thread = session.server.thread(params.thread_id)
    thread.subscribe(session)
    engine = thread.agent_state.running
    if engine is not None and thread.active is not None and not thread.active.interrupted:
        task = asyncio.get_running_loop().create_task(engine.run_user_command(params.command))
        _background.add(task)
        task.add_done_callback(_finished)
        return {}
    thread.agent_state.user_commands.append(params.command)

    def start() -> None:
        thread.start_turn([])

    session.after_response(start)
    return {}


def _finished(task: asyncio.Task[None]) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("user shell command failed inside Parley", exc_info=task.exception())
