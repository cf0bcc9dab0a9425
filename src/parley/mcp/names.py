"""The names MCP tools carry in front of the model, as the reference forms them.

A tool is offered as `mcp__<server>__<tool>`. The Responses API accepts only `[A-Za-z0-9_-]`
in names and at most 64 characters, and the reference also replaces `-`, so every other
character becomes `_`. When two servers (or two tools) sanitise to the same name, each gets a
suffix made of the first 12 hex digits of the SHA-1 of its raw identity; a name still too long
is cut and suffixed the same way. The raw server and tool names are kept for the MCP call.
Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

PREFIX = "mcp"
DELIMITER = "__"
MAX_NAME_LENGTH = 64
HASH_LENGTH = 12


@dataclass(frozen=True)
class ToolRef:
    """A raw MCP identity: the configured server name and the tool's own name."""

    server: str
    tool: str


def sanitize(name: str) -> str:
    cleaned = "".join(c if (c.isascii() and c.isalnum()) or c == "_" else "_" for c in name)
    return cleaned or "_"


def _hash_suffix(identity: str) -> str:
    return "_" + hashlib.sha1(identity.encode()).hexdigest()[:HASH_LENGTH]


def _with_namespace_suffix(namespace: str, identity: str) -> str:
    if namespace.endswith(DELIMITER):
        return namespace[: -len(DELIMITER)] + _hash_suffix(identity) + DELIMITER
    return namespace + _hash_suffix(identity)


def _fit(namespace: str, tool: str, identity: str) -> tuple[str, str]:
    suffix = _hash_suffix(identity)
    room = MAX_NAME_LENGTH - len(namespace)
    if room >= len(suffix):
        return namespace, tool[: room - len(suffix)] + suffix
    return namespace[: MAX_NAME_LENGTH - len(suffix)], suffix


def qualify(tools: list[ToolRef]) -> dict[str, ToolRef]:
    """Model-visible name -> raw identity, unique and at most 64 characters each."""
    candidates: list[tuple[str, str, str, str, ToolRef]] = []
    seen: set[str] = set()
    for ref in tools:
        namespace_raw = f"{PREFIX}{DELIMITER}{ref.server}{DELIMITER}"
        namespace_id = f"{ref.server}\0{namespace_raw}\0"
        tool_id = f"{namespace_id}\0{ref.tool}\0{ref.tool}"
        if tool_id in seen:
            continue
        seen.add(tool_id)
        candidates.append((sanitize(namespace_raw), sanitize(ref.tool), namespace_id, tool_id, ref))

    namespaces: dict[str, set[str]] = defaultdict(set)
    for namespace, _, namespace_id, _, _ in candidates:
        namespaces[namespace].add(namespace_id)
    renamed = []
    for namespace, tool, namespace_id, tool_id, ref in candidates:
        if len(namespaces[namespace]) > 1:
            namespace = _with_namespace_suffix(namespace, namespace_id)
        renamed.append((namespace, tool, tool_id, ref))

    tool_ids: dict[tuple[str, str], set[str]] = defaultdict(set)
    for namespace, tool, tool_id, _ in renamed:
        tool_ids[(namespace, tool)].add(tool_id)
    final = []
    for namespace, tool, tool_id, ref in renamed:
        if len(tool_ids[(namespace, tool)]) > 1:
            tool = tool + _hash_suffix(tool_id)
        final.append((tool_id, namespace, tool, ref))
    final.sort(key=lambda entry: entry[0])

    used: set[str] = set()
    qualified: dict[str, ToolRef] = {}
    for tool_id, namespace, tool, ref in final:
        name = namespace + tool
        attempt = 0
        while len(name) > MAX_NAME_LENGTH or name in used:
            identity = tool_id if attempt == 0 else f"{tool_id}\0{attempt}"
            fitted_namespace, fitted_tool = _fit(namespace, tool, identity)
            name = fitted_namespace + fitted_tool
            attempt += 1
        used.add(name)
        qualified[name] = ref
    return qualified
