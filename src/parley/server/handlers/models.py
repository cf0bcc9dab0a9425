"""model/list and collaborationMode/list: the models and mode presets a client can pick.

The model list is the reference's catalogue (`parley.catalog.models`): bundled models, refreshed
by a fresh `models_cache.json`, limited to API-usable ones, hidden ones only on request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.catalog.models import available_models
from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.server.handlers.paging import page

if TYPE_CHECKING:
    from parley.server.session import ClientSession

# The reference's two built-in presets (the TUI-visible collaboration modes).
COLLABORATION_MODES = (
    {"name": "Plan", "mode": "plan", "model": None, "reasoning_effort": "medium"},
    {"name": "Default", "mode": "default", "model": None, "reasoning_effort": None},
)


async def model_list(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ModelListParams, raw)
    models = available_models(session.server.config.codex_home, bool(params.include_hidden))
    items, next_cursor = page(models, params.cursor, params.limit, "models")
    return {"data": items, "nextCursor": next_cursor}


async def collaboration_mode_list(session: ClientSession, raw: Any) -> Any:
    parse_params(m.CollaborationModeListParams, raw)
    return {"data": [dict(mode) for mode in COLLABORATION_MODES]}
