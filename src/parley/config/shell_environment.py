"""`[shell_environment_policy]`: which environment variables the agent's commands get.

The keys and their meaning are the reference's:

* ``inherit`` (``"all"`` | ``"core"`` | ``"none"``): start from the server's whole environment,
  from the core variables only (``HOME``, ``LANG``, ``LC_ALL``, ``LC_CTYPE``, ``LOGNAME``,
  ``PATH``, ``SHELL``, ``TEMP``, ``TMP``, ``TMPDIR``, ``USER``), or from nothing;
* ``ignore_default_excludes``: skip the default excludes (names matching ``*KEY*``,
  ``*SECRET*``, ``*TOKEN*``, and in Parley also ``*PASSWORD*``, ``*PASSWD*``,
  ``*CREDENTIAL*``);
* ``exclude``: more name patterns to drop; ``set``: variables to set; ``include_only``: when
  non-empty, only names matching one of these patterns are kept (applied after ``set``).

Patterns are globs over the name (``*`` any run, ``?`` one character), case-insensitive.

One deliberate difference: the reference defaults ``ignore_default_excludes`` to true (its
commands see ``OPENAI_API_KEY`` unless configured otherwise); Parley defaults it to false, so
credentials in the server's environment do not reach model-chosen programs unless the user
asks for that. ``experimental_use_profile`` is accepted (a boolean) and has no effect, as in
the reference release.

This module only parses and validates; `parley.tools.environment` builds the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

TABLE = "shell_environment_policy"
KNOWN_KEYS = frozenset(
    {
        "inherit",
        "ignore_default_excludes",
        "exclude",
        "set",
        "include_only",
        "experimental_use_profile",
    }
)


class Inherit(StrEnum):
    CORE = "core"
    ALL = "all"
    NONE = "none"


@dataclass(frozen=True)
class ShellEnvironmentPolicy:
    inherit: Inherit = Inherit.ALL
    ignore_default_excludes: bool = False
    exclude: tuple[str, ...] = ()
    set: Mapping[str, str] = field(default_factory=dict)
    include_only: tuple[str, ...] = ()

    def __hash__(self) -> int:
        return hash(
            (
                self.inherit,
                self.ignore_default_excludes,
                self.exclude,
                tuple(sorted(self.set.items())),
                self.include_only,
            )
        )


# `fail(key, reason)` returns the error to raise (the loader's, naming the file).
Fail = Callable[[str, str], Exception]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "sequence"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


def _patterns(raw: Mapping[str, Any], key: str, fail: Fail) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise fail(f"{TABLE}.{key}", f"invalid type: {_kind(value)}, expected a sequence")
    for item in value:
        if not isinstance(item, str):
            raise fail(f"{TABLE}.{key}", f"invalid type: {_kind(item)}, expected a string")
    return tuple(value)


def parse_shell_environment_policy(
    raw: Any, *, fail: Fail, warn: Callable[[str], None]
) -> ShellEnvironmentPolicy:
    """Validates the `[shell_environment_policy]` table (absent: the defaults)."""
    if raw is None:
        return ShellEnvironmentPolicy()
    if not isinstance(raw, dict):
        raise fail(TABLE, f"invalid type: {_kind(raw)}, expected a table")
    for key in sorted(set(raw) - KNOWN_KEYS):
        warn(f"unknown key `{TABLE}.{key}` is ignored")
    inherit_raw = raw.get("inherit", Inherit.ALL.value)
    if not isinstance(inherit_raw, str):
        raise fail(f"{TABLE}.inherit", f"invalid type: {_kind(inherit_raw)}, expected a string")
    try:
        inherit = Inherit(inherit_raw)
    except ValueError:
        raise fail(
            f"{TABLE}.inherit",
            f"unknown variant `{inherit_raw}`, expected one of `core`, `all`, `none`",
        ) from None
    for key in ("ignore_default_excludes", "experimental_use_profile"):
        if key in raw and not isinstance(raw[key], bool):
            raise fail(f"{TABLE}.{key}", f"invalid type: {_kind(raw[key])}, expected a boolean")
    values = raw.get("set", {})
    if not isinstance(values, dict):
        raise fail(f"{TABLE}.set", f"invalid type: {_kind(values)}, expected a map")
    for name, value in values.items():
        if not isinstance(value, str):
            raise fail(f"{TABLE}.set.{name}", f"invalid type: {_kind(value)}, expected a string")
    return ShellEnvironmentPolicy(
        inherit=inherit,
        ignore_default_excludes=bool(raw.get("ignore_default_excludes", False)),
        exclude=_patterns(raw, "exclude", fail),
        set=dict(values),
        include_only=_patterns(raw, "include_only", fail),
    )
