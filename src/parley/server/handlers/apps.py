"""app/list and thread/increment_elicitation / thread/decrement_elicitation.

Apps (ChatGPT connectors) need a ChatGPT sign-in: an API-key user gets an empty list, as from
the reference; for a ChatGPT sign-in `parley.apps.service` loads the directory and the
connected apps, sending `app/list/updated` to every client as they arrive. With a `threadId` the
thread's own `apps` feature decides. The elicitation counter records that a client is showing
an out-of-band elicitation for a thread; while it is above zero the thread's timeout clocks
stand still: unified exec's `yield_time_ms` wait (as in the reference) and MCP tool calls'
`tool_timeout_sec` (`parley.agent.pause`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.apps.service import LIST_UPDATED
from parley.config import ConfigError
from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError
from parley.server.deferred import DeferredReply

if TYPE_CHECKING:
    from parley.server.session import ClientSession


async def app_list(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.AppsListParams, raw)
    server = session.server
    try:
        config = server.load_config()  # as the files say now
    except ConfigError as exc:
        raise ClientError(f"failed to load configuration: {exc.message}") from None
    if params.thread_id is not None:
        thread = server.thread(params.thread_id)  # an unknown thread is an error
        config = _with_thread_apps_feature(config, thread.config)

    def notify(apps: list[dict[str, Any]]) -> None:
        server.broadcast(LIST_UPDATED, {"data": apps})

    return DeferredReply(
        server.apps.list_apps(
            config, params.cursor, params.limit, bool(params.force_refetch), notify
        )
    )


def _with_thread_apps_feature(config: Any, thread_config: Any) -> Any:
    """`config` with the thread's own `apps` feature (as the reference lists for a thread)."""
    import dataclasses

    from parley.apps.service import apps_feature

    features = set(config.features)
    table = {k: v for k, v in config.feature_table.items() if k not in ("apps", "connectors")}
    enabled = apps_feature(thread_config)
    table["apps"] = enabled
    if enabled:
        features.add("apps")
    else:
        features.discard("apps")
    return dataclasses.replace(config, features=frozenset(features), feature_table=table)


async def thread_increment_elicitation(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadIncrementElicitationParams, raw)
    pause = session.server.thread(params.thread_id).agent_state.elicitation_pause
    count = pause.increment()
    return {"count": count, "paused": count > 0}


async def thread_decrement_elicitation(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadDecrementElicitationParams, raw)
    pause = session.server.thread(params.thread_id).agent_state.elicitation_pause
    try:
        count = pause.decrement()
    except ValueError as exc:
        raise ClientError(str(exc)) from None
    return {"count": count, "paused": count > 0}
