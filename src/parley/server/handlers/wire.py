"""Helpers shared by the request handlers: wire conversions of protocol models."""

from __future__ import annotations

from typing import Any


def dump(model: Any) -> Any:
    """A protocol model as its wire dict."""
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


def enum_value(value: Any) -> str | None:
    """The string of an enum-like protocol value (plain, RootModel or Enum)."""
    if value is None:
        return None
    inner = getattr(value, "root", value)
    inner = getattr(inner, "value", inner)
    return inner if isinstance(inner, str) else None
