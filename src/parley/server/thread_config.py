"""A thread's effective configuration: the layer stack for its cwd plus its request parameters.

Thread handlers call `server.thread_config(cwd, request_overrides(params))`: it reloads the
layers (so edits made through `config/value/write` apply to the next thread, as in the
reference), adds the trusted project layers of `cwd`, and lays the request's own choices
(`model`, `modelProvider`, `sandbox`, `approvalPolicy`, `serviceTier`, `personality` and the
free-form `config` map) on top. A configuration that cannot be used fails the request with the
reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from parley.server.handlers.wire import enum_value

# Request params field -> config key.
_PARAM_KEYS = {
    "model": "model",
    "model_provider": "model_provider",
    "sandbox": "sandbox_mode",
    "approval_policy": "approval_policy",
    "service_tier": "service_tier",
    "personality": "personality",
}


def request_overrides(params: Any) -> dict[str, Any]:
    """Dotted config keys from a thread/start-like params model (fields that were given)."""
    overrides: dict[str, Any] = {}
    extra = getattr(params, "config", None)
    if isinstance(extra, Mapping):
        overrides.update({str(k): v for k, v in extra.items()})
    for field, key in _PARAM_KEYS.items():
        value = getattr(params, field, None)
        if value is None:
            continue
        text = value if isinstance(value, str) else enum_value(value)
        if text is not None:
            overrides[key] = text
    return overrides


def apply_turn_config(settings: Any, params: Any) -> None:
    """turn/start's `serviceTier` applies to this turn and the thread's later ones (effort,
    summary and personality are kept with the thread's turn options)."""
    config = getattr(settings, "config", None)
    tier = enum_value(getattr(params, "service_tier", None))
    if config is not None and tier is not None:
        settings.config = dataclasses.replace(config, service_tier=tier)
