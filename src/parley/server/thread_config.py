"""A thread's effective configuration: the layer stack for its cwd plus its request parameters.

`thread_config(server, params, cwd)` is the one call thread handlers make: it reloads the layers
(so edits made through `config/value/write` apply to the next thread, as in the reference), adds
the trusted project layers of `cwd`, and lays the request's own choices (`model`,
`modelProvider`, `sandbox`, `approvalPolicy`, `serviceTier`, `personality` and the free-form
`config` map) on top. A configuration that cannot be used fails the request with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.config import Config
from parley.server.handlers.wire import enum_value

if TYPE_CHECKING:
    from parley.server.session import AppServer

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


def thread_config(server: AppServer, params: Any, cwd: Path) -> Config:
    """The configuration a thread started (or resumed) with `params` in `cwd` runs with."""
    return server.thread_config(cwd, request_overrides(params))
