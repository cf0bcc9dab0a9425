"""The light `initialize` models validate exactly as the generated ones do."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from parley.protocol import handshake
from parley.protocol import models as generated

PAIRS = [
    (handshake.ClientInfo, generated.ClientInfo),
    (handshake.InitializeCapabilities, generated.InitializeCapabilities),
    (handshake.InitializeParams, generated.InitializeParams),
]


def _shape(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema with descriptions and titles left out (they change no validation)."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("description", "title")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return dict(strip(model.model_json_schema(by_alias=True)))


@pytest.mark.parametrize(("light", "full"), PAIRS, ids=lambda m: m.__name__)
def test_light_initialize_models_have_the_generated_schema(
    light: type[BaseModel], full: type[BaseModel]
) -> None:
    """Same fields, types, aliases, defaults and required keys as the generated models."""
    assert _shape(light) == _shape(full)


@pytest.mark.parametrize(
    "params",
    [
        {"clientInfo": {"name": "a", "version": "1"}},
        {"clientInfo": {"name": "a", "version": "1", "title": None}, "capabilities": None},
        {"clientInfo": {"name": "a", "version": "1"}, "capabilities": {"experimentalApi": True}},
        {"clientInfo": {"name": "a"}},
        {"clientInfo": {"name": 5, "version": "1"}},
        {"capabilities": {"optOutNotificationMethods": ["x"]}},
        {"clientInfo": {"name": "a", "version": "1"}, "capabilities": {"experimentalApi": "yes"}},
    ],
)
def test_light_and_generated_initialize_models_agree(params: dict[str, Any]) -> None:
    """Every handshake either model accepts the other accepts, with the same values."""
    outcomes = []
    for model in (handshake.InitializeParams, generated.InitializeParams):
        try:
            outcomes.append(model.model_validate(params).model_dump(by_alias=True))
        except ValidationError as exc:
            outcomes.append([(e["loc"], e["type"]) for e in exc.errors()])
    assert outcomes[0] == outcomes[1]
