"""The client method table matches the 0.120 schema and knows which methods are experimental."""

from __future__ import annotations

import json
from typing import Any

from parley.protocol import models
from parley.protocol.methods import (
    ALL_CLIENT_METHODS,
    BY_NAME,
    CLIENT_METHODS,
    EXPERIMENTAL_FIELDS,
    EXPERIMENTAL_METHODS,
    experimental_reason,
)
from parley.protocol.schema_export import schema_root


def bundle() -> dict[str, Any]:
    text = (schema_root() / "codex_app_server_protocol.schemas.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def definition(name: str) -> dict[str, Any] | None:
    definitions = bundle()["definitions"]
    found: dict[str, Any] | None = definitions["v2"].get(name) or definitions.get(name)
    return found


def test_table_lists_every_schema_method_in_schema_order() -> None:
    """Every method of the 0.120 ClientRequest union is known, in the reference's order."""
    variants = bundle()["definitions"]["ClientRequest"]["oneOf"]
    assert ALL_CLIENT_METHODS == tuple(v["properties"]["method"]["enum"][0] for v in variants)
    assert ALL_CLIENT_METHODS[:3] == ("initialize", "thread/start", "thread/resume")


def test_params_types_match_the_schema() -> None:
    """Each method's params type is the one the schema names (None where params are null)."""
    for variant in bundle()["definitions"]["ClientRequest"]["oneOf"]:
        method = variant["properties"]["method"]["enum"][0]
        params = variant["properties"]["params"]
        expected = params["$ref"].rsplit("/", 1)[-1] if "$ref" in params else None
        assert BY_NAME[method].params == expected, method


def test_every_named_type_exists_as_model_and_definition() -> None:
    """Params and result names resolve to generated models and to schema definitions."""
    for method in CLIENT_METHODS:
        for name in (method.params, method.result):
            if name is None:
                continue
            assert hasattr(models, name), name
            assert definition(name) is not None, name


def test_realtime_and_other_reference_experimental_methods_are_gated() -> None:
    """All thread/realtime methods, and the others the reference marks, need experimentalApi."""
    realtime = {name for name in ALL_CLIENT_METHODS if name.startswith("thread/realtime/")}
    assert len(realtime) == 5
    assert realtime <= EXPERIMENTAL_METHODS
    assert {
        "mock/experimentalMethod",
        "collaborationMode/list",
        "thread/increment_elicitation",
        "thread/decrement_elicitation",
        "thread/backgroundTerminals/clean",
        "fuzzyFileSearch/sessionStart",
        "fuzzyFileSearch/sessionUpdate",
        "fuzzyFileSearch/sessionStop",
    } <= EXPERIMENTAL_METHODS
    assert "thread/start" not in EXPERIMENTAL_METHODS
    assert "turn/start" not in EXPERIMENTAL_METHODS
    assert EXPERIMENTAL_METHODS <= set(ALL_CLIENT_METHODS)


def test_experimental_fields_exist_in_the_schema() -> None:
    """Every gated field is a real property of its params type in the 0.120 schema."""
    for field in EXPERIMENTAL_FIELDS:
        schema = definition(field.type_name)
        assert schema is not None and field.field_name in schema["properties"], field


def test_experimental_reason_names_method_or_field() -> None:
    """The gate reports the method, or the used field's descriptor, as the reference words it."""
    assert experimental_reason("thread/realtime/listVoices", {}) == "thread/realtime/listVoices"
    assert experimental_reason("thread/start", {"mockExperimentalField": "x"}) == (
        "thread/start.mockExperimentalField"
    )
    assert experimental_reason("thread/start", {"persistExtendedHistory": True}) == (
        "thread/start.persistFullHistory"
    )
    assert experimental_reason("thread/start", {"persistExtendedHistory": False}) is None
    assert experimental_reason("thread/start", {"mockExperimentalField": None}) is None
    assert experimental_reason("thread/start", {"model": "m"}) is None
    assert experimental_reason("no/such/method", {}) is None
