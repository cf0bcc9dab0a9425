"""`[[skills.config]]` entries: which skills the user turned off, and writing that choice.

An entry selects a skill by `path` (its SKILL.md) or by `name` and sets `enabled`; later entries
win. `skills/config/write` replaces any entry with the same selector; turning a skill back on
removes the entry that turned it off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT

from parley.mcp.config_file import edit_tree, table
from parley.skills.loader import Skill

Selector = tuple[str, str]  # ("path", "/abs/SKILL.md") | ("name", "skill-name")


def _selector(entry: Any) -> Selector | None:
    if not isinstance(entry, dict):
        return None
    path, name = entry.get("path"), entry.get("name")
    if isinstance(path, str) and path and name is None:
        return ("path", str(Path(path)))
    if isinstance(name, str) and name.strip() and path is None:
        return ("name", name.strip())
    return None


def rules(tree: dict[str, Any]) -> list[tuple[Selector, bool]]:
    entries = table(tree, "skills").get("config")
    found: list[tuple[Selector, bool]] = []
    for entry in entries if isinstance(entries, list) else []:
        selector = _selector(entry)
        if selector is None or not isinstance(entry.get("enabled"), bool):
            continue
        found = [(s, e) for s, e in found if s != selector]
        found.append((selector, entry["enabled"]))
    return found


def disabled_paths(skills: list[Skill], tree: dict[str, Any]) -> set[Path]:
    disabled: set[Path] = set()
    for (kind, value), enabled in rules(tree):
        if kind == "path":
            targets = {Path(value)}
        else:
            targets = {skill.path for skill in skills if skill.name == value}
        disabled = disabled - targets if enabled else disabled | targets
    return disabled


def write_rule(codex_home: Path, selector: Selector, enabled: bool) -> None:
    kind, value = selector

    def change(document: Any) -> None:
        skills = document.get("skills")
        if skills is None:
            skills = tomlkit.table()
            document["skills"] = skills
        existing = skills.get("config")
        kept = [e for e in (existing or []) if _selector(dict(e)) != selector]
        if not enabled:
            entry = tomlkit.table()
            entry[kind] = value
            entry["enabled"] = False
            kept.append(entry)
        if kept:
            array = AoT([])
            for entry in kept:
                array.append(entry)
            skills["config"] = array
        elif "config" in skills:
            del skills["config"]

    edit_tree(codex_home, change)
