"""thread/start params that configure the agent rather than the thread record.

Client-defined dynamic tools and per-thread feature flags given as
`config` entries (`"features.NAME": true|false`) are kept in the thread's agent state, where
every turn of the thread finds them.
"""

from __future__ import annotations

from typing import Any

from parley.protocol import models as m
from parley.rpc.errors import ClientError
from parley.server.handlers.wire import dump
from parley.threads.runtime import ThreadRuntime

FEATURE_PREFIX = "features."


def apply_thread_start_agent_params(thread: ThreadRuntime, params: m.ThreadStartParams) -> None:
    state = thread.agent_state
    if params.dynamic_tools:
        names = [tool.name for tool in params.dynamic_tools]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ClientError(f"Invalid request: duplicate dynamic tool names: {duplicates}")
        state.dynamic_tools = [dump(tool) for tool in params.dynamic_tools]
    state.feature_overrides.update(feature_overrides(params.config))


def feature_overrides(config: dict[str, Any] | None) -> dict[str, bool]:
    overrides: dict[str, bool] = {}
    for key, value in (config or {}).items():
        if key.startswith(FEATURE_PREFIX) and isinstance(value, bool):
            overrides[key[len(FEATURE_PREFIX) :]] = value
    return overrides
