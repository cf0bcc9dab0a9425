"""config/read: the effective configuration, as the reference's `Config` object.

Parley reads one file (`$CODEX_HOME/config.toml`) plus `-c` overrides, so it reports the
effective values it uses and no per-layer breakdown (`origins` is empty; `layers` is an empty
list when asked for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.protocol import models as m
from parley.protocol.params import parse_params

if TYPE_CHECKING:
    from parley.server.session import ClientSession


async def config_read(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ConfigReadParams, raw)
    config = session.server.config
    return {
        "config": {
            "model": config.model,
            "model_provider": config.provider.id,
            "approval_policy": config.approval_policy,
            "sandbox_mode": config.sandbox_mode,
            "sandbox_workspace_write": {"network_access": config.network_access},
        },
        "origins": {},
        "layers": [] if params.include_layers else None,
    }
