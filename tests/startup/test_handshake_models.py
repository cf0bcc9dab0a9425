"""The `initialize` params are read exactly as the generated models validate them: the light
pydantic models have the generated schema, and the direct reading (no pydantic) accepts only
what the generated model accepts, with the same values; everything else is left to the models."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from parley.protocol import handshake_models as handshake
from parley.protocol import models as generated
from parley.protocol.handshake import read_initialize, read_well_formed
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError

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


HANDSHAKES: list[Any] = [
    {"clientInfo": {"name": "a", "version": "1"}},
    {"clientInfo": {"name": "a", "version": "1", "title": None}, "capabilities": None},
    {"clientInfo": {"name": "a", "version": "1"}, "capabilities": {"experimentalApi": True}},
    {"clientInfo": {"name": "a"}},
    {"clientInfo": {"name": 5, "version": "1"}},
    {"capabilities": {"optOutNotificationMethods": ["x"]}},
    {"clientInfo": {"name": "a", "version": "1"}, "capabilities": {"experimentalApi": "yes"}},
    {"clientInfo": {"name": "a", "version": "1"}, "capabilities": {"experimentalApi": None}},
    {"clientInfo": {"name": "a", "version": "1"}, "capabilities": {"experimentalApi": 1}},
    {"clientInfo": {"name": "a", "version": "1"}, "capabilities": {}},
    {"clientInfo": {"name": "a", "version": "1"}, "capabilities": []},
    {
        "clientInfo": {"name": "a", "version": "1", "title": "T"},
        "capabilities": {"experimentalApi": False, "optOutNotificationMethods": ["a", "b"]},
    },
    {
        "clientInfo": {"name": "a", "version": "1"},
        "capabilities": {"optOutNotificationMethods": [1]},
    },
    {
        "clientInfo": {"name": "a", "version": "1"},
        "capabilities": {"optOutNotificationMethods": None},
    },
    {"clientInfo": {"name": "a", "version": "1", "title": 3}},
    {"clientInfo": {"name": "a", "version": None}},
    {"clientInfo": None},
    {"clientInfo": {"name": "a", "version": "1"}, "protocolVersion": 2},
    {"clientInfo": {"name": "a", "version": "1", "extra": True}},
    {"clientInfo": {"name": "a", "version": "1"}, "cwd": "bad\u0000path"},
    {"client_info": {"name": "a", "version": "1"}},
    None,
    [],
    [1],
    "params",
    {},
]


@pytest.mark.parametrize("params", [p for p in HANDSHAKES if isinstance(p, dict)])
def test_light_and_generated_initialize_models_agree(params: dict[str, Any]) -> None:
    """Every handshake either model accepts the other accepts, with the same values."""
    outcomes = []
    for model in (handshake.InitializeParams, generated.InitializeParams):
        try:
            outcomes.append(model.model_validate(params).model_dump(by_alias=True))
        except ValidationError as exc:
            outcomes.append([(e["loc"], e["type"]) for e in exc.errors()])
    assert outcomes[0] == outcomes[1]


def _generated_outcome(params: Any) -> Any:
    try:
        return parse_params(generated.InitializeParams, params).model_dump(by_alias=True)
    except ClientError as exc:
        return ("error", exc.message)


def _read_outcome(params: Any) -> Any:
    try:
        return read_initialize(params).to_wire()
    except ClientError as exc:
        return ("error", exc.message)


@pytest.mark.parametrize("params", HANDSHAKES)
def test_initialize_is_read_as_the_generated_model_validates_it(params: Any) -> None:
    """The same values for a handshake the generated model accepts, the same error message
    for one it rejects."""
    assert _read_outcome(params) == _generated_outcome(params)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
KEYS = st.sampled_from(
    [
        "clientInfo",
        "capabilities",
        "name",
        "title",
        "version",
        "experimentalApi",
        "optOutNotificationMethods",
        "cwd",
        "x",
    ]
)
LEAVES = st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.just([])
SHAPED = st.fixed_dictionaries(
    {
        "clientInfo": st.fixed_dictionaries(
            {"name": LEAVES, "version": LEAVES}, optional={"title": LEAVES, "x": LEAVES}
        )
        | LEAVES
    },
    optional={
        "capabilities": st.fixed_dictionaries(
            {},
            optional={
                "experimentalApi": LEAVES,
                "optOutNotificationMethods": st.lists(LEAVES, max_size=3) | LEAVES,
                "cwd": LEAVES,
            },
        )
        | LEAVES,
        "cwd": LEAVES,
    },
)
HANDSHAKE_LIKE = SHAPED | st.recursive(
    JSON_VALUES,
    lambda inner: st.dictionaries(KEYS, inner, max_size=4) | st.lists(inner, max_size=3),
    max_leaves=10,
)


@given(HANDSHAKE_LIKE)
def test_initialize_reading_agrees_with_the_generated_model(params: Any) -> None:
    """Any JSON value: read as the generated model validates it (values or error message), and
    wherever the direct reading accepts, the generated model accepts with the same values."""
    assert _read_outcome(params) == _generated_outcome(params)
    direct = read_well_formed(params)
    if direct is not None:
        assert direct.to_wire() == _generated_outcome(params)
