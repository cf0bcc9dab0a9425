"""Write the JSON Schema Parley speaks, for ``parley app-server generate-json-schema``.

Command line: ``parley app-server generate-json-schema --out DIR [--experimental]``.

Parley speaks the 0.120 protocol, so the schema is the vendored 0.120 bundle
(`parley/protocol/schema/`), which is the reference's ``--experimental`` output. With
``experimental=True`` the files are copied byte for byte. Without it, the stable surface is
derived the way the reference derives it, applied to every file:

1. the experimental fields of stable params (`methods.EXPERIMENTAL_FIELDS`, e.g.
   ``ThreadStartParams.mockExperimentalField``) are removed from their object schemas (in the
   file's root if its ``title`` is the type, and in ``definitions``, including the ``v2``
   namespace);
2. every union branch whose ``method`` is an experimental client method
   (`methods.EXPERIMENTAL_METHODS`: all ``thread/realtime/*``, ``mock/experimentalMethod``, ...)
   is dropped, wherever it appears (``ClientRequest`` and the bundles);
3. the params and result types of those methods are removed from ``definitions``, and their
   own files (``v2/ThreadRealtimeStartParams.json``, ...) are not written.

Types only reachable from removed ones stay, as they do in the reference's output.
Server notifications are not filtered (the reference's JSON export does not filter them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from parley.protocol.methods import BY_NAME, EXPERIMENTAL_FIELDS, EXPERIMENTAL_METHODS

_SCHEMA_PACKAGE = "parley.protocol"
_SCHEMA_DIR = "schema"


def schema_root() -> Traversable:
    """The vendored 0.120 bundle (package data)."""
    return resources.files(_SCHEMA_PACKAGE) / _SCHEMA_DIR


def write_json_schema(out_dir: Path, experimental: bool) -> list[Path]:
    """Write the JSON Schema bundle into ``out_dir`` (created if needed); return the files written.

    Existing files in ``out_dir`` with other names are left alone, like the reference does.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    removed_types = _experimental_method_types()
    written: list[Path] = []
    for relative, source in _schema_files(schema_root()):
        if not experimental and Path(relative).stem in removed_types:
            continue
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text(encoding="utf-8")
        if not experimental:
            document = json.loads(text)
            _filter_experimental(document, removed_types)
            text = json.dumps(document, indent=2, ensure_ascii=False)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return sorted(written)


def stable_schema(document: Any) -> Any:
    """A copy of one schema document with the experimental surface removed (rules 1-3)."""
    copy = json.loads(json.dumps(document))
    _filter_experimental(copy, _experimental_method_types())
    return copy


# -- internals ---------------------------------------------------------------------------------


def _schema_files(root: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for entry in sorted(root.iterdir(), key=lambda item: item.name):
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():
            yield from _schema_files(entry, f"{relative}/")
        elif entry.name.endswith(".json"):
            yield relative, entry


def _experimental_method_types() -> frozenset[str]:
    names: set[str] = set()
    for method in EXPERIMENTAL_METHODS:
        entry = BY_NAME[method]
        names.add(entry.result)
        if entry.params is not None:
            names.add(entry.params)
    return frozenset(names)


def _filter_experimental(document: Any, removed_types: frozenset[str]) -> None:
    if not isinstance(document, dict):
        return
    title = document.get("title")
    for field in EXPERIMENTAL_FIELDS:
        if title == field.type_name:
            _remove_property(document, field.field_name)
    definitions = document.get("definitions")
    if isinstance(definitions, dict):
        _filter_definitions(definitions)
    _prune_method_variants(document, EXPERIMENTAL_METHODS)
    if isinstance(definitions, dict):
        _remove_definitions(definitions, removed_types)


def _filter_definitions(definitions: dict[str, Any]) -> None:
    for name, schema in definitions.items():
        if _is_namespace(schema):
            _filter_definitions(schema)
            continue
        for field in EXPERIMENTAL_FIELDS:
            if _names_type(name, field.type_name):
                _remove_property(schema, field.field_name)


def _remove_definitions(definitions: dict[str, Any], removed_types: Iterable[str]) -> None:
    removed = frozenset(removed_types)
    for name in [key for key in definitions if any(_names_type(key, t) for t in removed)]:
        del definitions[name]
    for schema in definitions.values():
        if _is_namespace(schema):
            _remove_definitions(schema, removed)


def _prune_method_variants(node: Any, methods: frozenset[str]) -> None:
    if isinstance(node, list):
        node[:] = [item for item in node if not _is_method_variant(item, methods)]
        for item in node:
            _prune_method_variants(item, methods)
    elif isinstance(node, dict):
        for value in node.values():
            _prune_method_variants(value, methods)


def _is_method_variant(node: Any, methods: frozenset[str]) -> bool:
    if not isinstance(node, dict):
        return False
    properties = node.get("properties")
    method = properties.get("method") if isinstance(properties, dict) else None
    if not isinstance(method, dict):
        return False
    if isinstance(method.get("const"), str):
        return method["const"] in methods
    values = method.get("enum")
    return isinstance(values, list) and len(values) == 1 and values[0] in methods


def _remove_property(schema: Any, name: str) -> None:
    if not isinstance(schema, dict):
        return
    properties = schema.get("properties")
    if isinstance(properties, dict):
        properties.pop(name, None)
    required = schema.get("required")
    if isinstance(required, list):
        required[:] = [entry for entry in required if entry != name]
    if "schema" in schema:
        _remove_property(schema["schema"], name)


def _names_type(definition_name: str, type_name: str) -> bool:
    return definition_name == type_name or definition_name.endswith(f"::{type_name}")


def _is_namespace(value: Any) -> bool:
    """A map of definitions (such as ``definitions.v2``) rather than a schema."""
    if not isinstance(value, dict) or any(key.startswith("$") for key in value):
        return False
    if any(key in value for key in ("type", "properties", "anyOf", "oneOf", "allOf")):
        return False
    return all(isinstance(item, dict) for item in value.values())
