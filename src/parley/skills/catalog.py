"""The skills each working directory sees (installed plugins' skills included, named
`<plugin>:<skill>`), cached, with a watch for changes on disk.

`list()` answers `skills/list` for one cwd (scan results are kept per cwd until a forced
reload, a settings write or a change on disk). The watch polls the skill files under the roots of
the working directories in use about once a second and calls back when any SKILL.md appears,
disappears or changes, so clients get `skills/changed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from parley.mcp.config_file import read_tree
from parley.skills.loader import ScanResult, Skill, SkillRoot, home_dir, scan, skill_roots
from parley.skills.settings import disabled_paths

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0


class SkillCatalog:
    def __init__(self, codex_home: Path, on_change: Callable[[], None]) -> None:
        self.codex_home = codex_home
        self._on_change = on_change
        self._cache: dict[Path, ScanResult] = {}
        self._watched: set[Path] = set()
        self._baseline: frozenset[tuple[str, int, int]] = frozenset()
        self._watch: asyncio.Task[None] | None = None

    def clear(self) -> None:
        self._cache.clear()

    def scan(
        self, cwd: Path, extra_user_roots: Sequence[Path] = (), force: bool = False
    ) -> ScanResult:
        if force or cwd not in self._cache:
            roots = skill_roots(self.codex_home, home_dir(), cwd, extra_user_roots)
            roots += self._plugin_roots()
            self._cache[cwd] = scan(roots)
        return self._cache[cwd]

    def entry(self, cwd: Path, extra_user_roots: Sequence[Path], force: bool) -> dict[str, Any]:
        """One `SkillsListEntry`."""
        result = self.scan(cwd, extra_user_roots, force)
        disabled = disabled_paths(result.skills, read_tree(self.codex_home))
        return {
            "cwd": str(cwd),
            "skills": [
                {
                    "name": skill.name,
                    "description": skill.description,
                    "shortDescription": skill.short_description,
                    "interface": None,
                    "dependencies": None,
                    "path": str(skill.path),
                    "scope": skill.scope,
                    "enabled": skill.path not in disabled,
                }
                for skill in result.skills
            ],
            "errors": [{"path": str(path), "message": message} for path, message in result.errors],
        }

    def enabled_skills(self, cwd: Path) -> list[Skill]:
        result = self.scan(cwd)
        disabled = disabled_paths(result.skills, read_tree(self.codex_home))
        return [skill for skill in result.skills if skill.path not in disabled]

    def _plugin_roots(self) -> list[SkillRoot]:
        """Installed, enabled plugins' skills, user-scoped and named `<plugin>:<skill>`."""
        from parley.plugins.catalog import plugin_skill_roots

        tree = read_tree(self.codex_home)
        return [
            SkillRoot(path, "user", namespace=plugin)
            for plugin, path in plugin_skill_roots(self.codex_home, tree)
        ]

    # ---- watching ----------------------------------------------------------------------
    def watch(self, cwd: Path) -> None:
        """Watch `cwd`'s skill roots; what is on disk now is the baseline (taken at once, so a
        change made right after this call is seen)."""
        if cwd not in self._watched:
            self._watched.add(cwd)
            self._baseline = self._signature()
        if self._watch is None:
            self._watch = asyncio.create_task(self._poll(), name="skills-watch")

    def _signature(self) -> frozenset[tuple[str, int, int]]:
        files: set[tuple[str, int, int]] = set()
        for cwd in list(self._watched):
            for root in skill_roots(self.codex_home, home_dir(), cwd):
                if not root.path.is_dir():
                    continue
                for path in root.path.rglob("SKILL.md"):
                    with contextlib.suppress(OSError):
                        stat = path.stat()
                        files.add((str(path), stat.st_mtime_ns, stat.st_size))
        return frozenset(files)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                current = await asyncio.to_thread(self._signature)
            except Exception:
                log.exception("skills watch failed")
                continue
            if current != self._baseline:
                self._baseline = current
                self.clear()
                self._on_change()

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(BaseException):
                await self._watch
            self._watch = None
