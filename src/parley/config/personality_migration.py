"""The one-time personality migration the reference runs when the app-server starts.

Someone who used the agent before personalities existed keeps the terse style they had: when
`CODEX_HOME` holds recorded sessions (live or archived) and the effective configuration names no
personality, `personality = "pragmatic"` is written to the user's `config.toml`. A marker file
records that the migration ran (whatever it decided), so it never runs again and a later choice
of the user is never overwritten. New installs (no sessions) get the marker only.
"""

from __future__ import annotations

import enum
import json
import logging
import os
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

MARKER_FILENAME: Final = ".personality_migration"
MIGRATED_PERSONALITY: Final = "pragmatic"


class MigrationStatus(enum.Enum):
    SKIPPED_MARKER = "skippedMarker"
    SKIPPED_EXPLICIT_PERSONALITY = "skippedExplicitPersonality"
    SKIPPED_NO_SESSIONS = "skippedNoSessions"
    APPLIED = "applied"


def _is_rollout(path: str) -> bool:
    """A rollout file that starts with its session's meta line (a recorded session)."""
    try:
        with open(path, encoding="utf-8") as handle:
            first = json.loads(handle.readline())
    except (OSError, ValueError):
        return False
    return isinstance(first, dict) and first.get("type") == "session_meta"


def _rollouts(directory: Path, depth: int) -> bool:
    """Whether `directory` (sessions nest YYYY/MM/DD, archived ones are flat) holds one."""
    try:
        with os.scandir(directory) as entries:
            found = list(entries)
    except OSError:
        return False
    for entry in found:
        if depth > 0:
            if entry.is_dir(follow_symlinks=False) and _rollouts(Path(entry.path), depth - 1):
                return True
        elif entry.name.startswith("rollout-") and entry.name.endswith(".jsonl"):
            if _is_rollout(entry.path):
                return True
    return False


def _has_recorded_sessions(codex_home: Path) -> bool:
    # Read directly rather than through `parley.threads`: this runs before `initialize` is
    # answered, when the thread stack is not loaded yet.
    return _rollouts(codex_home / "sessions", 3) or _rollouts(codex_home / "archived_sessions", 0)


def _write_marker(marker: Path) -> None:
    try:
        with marker.open("x", encoding="utf-8") as handle:
            handle.write("v1\n")
    except FileExistsError:
        pass


def migrate_personality(
    codex_home: Path, configured_personality: str | None, overrides: list[str] | None = None
) -> MigrationStatus:
    """Run the migration once; `configured_personality` is the effective configuration's."""
    marker = codex_home / MARKER_FILENAME
    if marker.exists():
        return MigrationStatus.SKIPPED_MARKER
    if configured_personality is not None:
        _write_marker(marker)
        return MigrationStatus.SKIPPED_EXPLICIT_PERSONALITY
    if not _has_recorded_sessions(codex_home):
        _write_marker(marker)
        return MigrationStatus.SKIPPED_NO_SESSIONS
    # Imported here: tomlkit is only needed on the rare start that applies the migration.
    from parley.config.edit import Edit, apply_edits

    apply_edits(codex_home, [Edit("personality", MIGRATED_PERSONALITY)], overrides=overrides or ())
    _write_marker(marker)
    return MigrationStatus.APPLIED


def migrate_personality_at_startup(
    codex_home: Path, configured_personality: str | None, overrides: list[str] | None = None
) -> bool:
    """As `migrate_personality`, never failing the start: True when the config was changed."""
    from parley.config.edit import ConfigWriteError

    try:
        status = migrate_personality(codex_home, configured_personality, overrides)
    except (OSError, ConfigWriteError) as exc:
        log.warning("personality migration failed: %s", exc)
        return False
    return status is MigrationStatus.APPLIED
