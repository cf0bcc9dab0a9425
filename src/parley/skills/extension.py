"""Tells the agent, at the start of each turn, which skills it may use (a `TurnExtension` that
offers text and no tools). The wording is Parley's own."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from parley.agent.extensions import CallChannel, ExtensionCall, TurnOffer
from parley.skills.catalog import SkillCatalog
from parley.skills.loader import Skill

if TYPE_CHECKING:
    from parley.agent.settings import TurnSettings


def skills_text(skills: list[Skill]) -> str:
    lines = [
        "<skills>",
        "The user keeps skills: folders whose SKILL.md holds instructions for a kind of task. "
        "When a request matches a skill's description, or the user names a skill (for example "
        "`$name`), read that SKILL.md with the shell before starting and follow it; files it "
        "mentions are relative to its folder. Read only the skills you need.",
        "Available skills:",
    ]
    lines.extend(f"- {s.name}: {s.description} (file: {s.path})" for s in skills)
    lines.append("</skills>")
    return "\n".join(lines)


class SkillsExtension:
    def __init__(self, catalog: SkillCatalog, cwd: Path) -> None:
        self._catalog = catalog
        self._cwd = cwd

    async def offer(self, settings: TurnSettings, io: CallChannel) -> TurnOffer:
        skills = self._catalog.enabled_skills(settings.cwd or self._cwd)
        return TurnOffer(instructions=[skills_text(skills)] if skills else [])

    def handles(self, tool_name: str) -> bool:
        return False

    async def call(self, request: ExtensionCall) -> str:
        raise AssertionError("skills offer no tools")

    async def close(self) -> None:
        return None
