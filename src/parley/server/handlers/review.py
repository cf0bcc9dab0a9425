"""review/start: a code review turn on the thread (inline) or on a new thread (detached)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from parley.agent.review import ReviewRequest, ReviewTargetError
from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError
from parley.server.handlers.wire import dump, enum_value

if TYPE_CHECKING:
    from parley.server.session import ClientSession


async def review_start(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ReviewStartParams, raw)
    try:
        request = ReviewRequest.from_target(dump(params.target))
    except ReviewTargetError as exc:
        raise ClientError(f"Invalid request: {exc}") from None
    parent = session.server.thread(params.thread_id)
    if enum_value(params.delivery) == "detached":
        # As the reference: the review runs on a fork of the thread (its history copied), so
        # the result lands there and the thread itself is left as it was.
        thread = session.server.threads.fork(
            parent.id,
            None,
            lambda _: dataclasses.replace(parent.settings),
            ephemeral=False,
            extended=False,
            originator=session.client_name,
        )
        thread.subscribe(session)
        session.after_response(lambda: session.notify("thread/started", {"thread": thread.wire()}))
    else:
        thread = parent
        thread.subscribe(session)
        if thread.active is not None and not thread.active.interrupted:
            raise ClientError(
                f"Invalid request: thread {thread.id} is running a turn; start the review "
                "when it has finished"
            )
    thread.agent_state.review = request
    turn = thread.start_turn([])
    return {"turn": turn, "reviewThreadId": thread.id}
