"""model/list: the models a client can pick for a thread.

Parley knows no model catalogue of its own; it lists the model the configuration names (the
default for new threads), which is what a client's model picker needs to show the truth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.protocol import models as m
from parley.protocol.params import parse_params

if TYPE_CHECKING:
    from parley.server.session import ClientSession

REASONING_EFFORTS = (
    ("low", "Faster answers, lighter reasoning"),
    ("medium", "Balanced speed and depth"),
    ("high", "Deeper reasoning for hard problems"),
)


async def model_list(session: ClientSession, raw: Any) -> Any:
    parse_params(m.ModelListParams, raw)
    config = session.server.config
    model = config.model
    return {
        "data": [
            {
                "id": model,
                "model": model,
                "displayName": model,
                "description": f"The model configured for provider `{config.provider.id}`",
                "hidden": False,
                "isDefault": True,
                "defaultReasoningEffort": "medium",
                "supportedReasoningEfforts": [
                    {"reasoningEffort": effort, "description": text}
                    for effort, text in REASONING_EFFORTS
                ],
                "inputModalities": ["text", "image"],
            }
        ],
        "nextCursor": None,
    }
