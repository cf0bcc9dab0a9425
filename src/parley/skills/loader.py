"""Finding and reading skills, as the reference scans for them.

Roots, highest precedence first: the repository's `.agents/skills` folders (every directory from
the project root — the nearest ancestor holding `.git` — down to the working directory, scope
"repo"), `$CODEX_HOME/skills` and `$HOME/.agents/skills` (scope "user"), any extra user roots a
client names, and `/etc/codex/skills` (scope "admin"). Each root is walked breadth-first up to six
levels deep, skipping hidden entries and following symlinked folders; every `SKILL.md` found is
parsed. A file that cannot be used becomes an error entry (path and reason) instead of a skill.
Pure file reading; no caching, no watching (see `catalog`).
"""

from __future__ import annotations

import dataclasses
import os
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SKILL_FILE = "SKILL.md"
MAX_DEPTH = 6
MAX_DIRS_PER_ROOT = 2000
MAX_NAME_LEN = 64
MAX_DESCRIPTION_LEN = 1024
PROJECT_ROOT_MARKERS = (".git",)
ADMIN_ROOT = Path("/etc/codex/skills")
SCOPE_RANK = {"repo": 0, "user": 1, "system": 2, "admin": 3}


@dataclass(frozen=True)
class SkillRoot:
    path: Path
    scope: str  # "repo" | "user" | "system" | "admin"
    namespace: str | None = None  # a plugin's skills are named `<plugin>:<skill>`


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    short_description: str | None
    path: Path  # the SKILL.md file, resolved
    scope: str


@dataclass
class ScanResult:
    skills: list[Skill] = field(default_factory=list)
    errors: list[tuple[Path, str]] = field(default_factory=list)


class SkillFileError(Exception):
    """Why a SKILL.md cannot be used, in the reference's words."""


def project_root(cwd: Path) -> Path:
    for directory in (cwd, *cwd.parents):
        if any((directory / marker).exists() for marker in PROJECT_ROOT_MARKERS):
            return directory
    return cwd


def skill_roots(
    codex_home: Path, home: Path | None, cwd: Path, extra_user_roots: Sequence[Path] = ()
) -> list[SkillRoot]:
    roots = [SkillRoot(codex_home / "skills", "user")]
    if home is not None:
        roots.append(SkillRoot(home / ".agents" / "skills", "user"))
    roots.extend(SkillRoot(path, "user") for path in extra_user_roots)
    roots.append(SkillRoot(ADMIN_ROOT, "admin"))
    top = project_root(cwd)
    chain = [cwd, *cwd.parents]
    between = chain[: chain.index(top) + 1] if top in chain else [cwd]
    for directory in reversed(between):
        candidate = directory / ".agents" / "skills"
        if candidate.is_dir():
            roots.append(SkillRoot(candidate, "repo"))
    seen: set[Path] = set()
    unique = []
    for root in roots:
        if root.path not in seen:
            seen.add(root.path)
            unique.append(root)
    return unique


def home_dir() -> Path | None:
    home = os.environ.get("HOME")
    return Path(home) if home else None


def scan(roots: list[SkillRoot]) -> ScanResult:
    result = ScanResult()
    for root in roots:
        _scan_root(root, result)
    unique: dict[Path, Skill] = {}
    for skill in result.skills:
        unique.setdefault(skill.path, skill)
    result.skills = list(unique.values())
    result.skills.sort(key=lambda s: (SCOPE_RANK.get(s.scope, 9), s.name, str(s.path)))
    return result


def _scan_root(root: SkillRoot, result: ScanResult) -> None:
    try:
        start = root.path.resolve(strict=True)
    except OSError:
        return
    if not start.is_dir():
        return
    visited = {start}
    queue: deque[tuple[Path, int]] = deque([(start, 0)])
    while queue:
        directory, depth = queue.popleft()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
                is_file = entry.is_file(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if entry.is_symlink() and root.scope == "system":
                    continue
                resolved = path.resolve()
                if depth + 1 <= MAX_DEPTH and len(visited) < MAX_DIRS_PER_ROOT:
                    if resolved not in visited:
                        visited.add(resolved)
                        queue.append((resolved, depth + 1))
            elif is_file and entry.name == SKILL_FILE:
                try:
                    skill = parse_skill_file(path, root.scope)
                    if root.namespace is not None:
                        skill = dataclasses.replace(skill, name=f"{root.namespace}:{skill.name}")
                    result.skills.append(skill)
                except SkillFileError as exc:
                    if root.scope != "system":
                        result.errors.append((path, str(exc)))


def _single_line(text: str) -> str:
    return " ".join(text.split())


def front_matter(contents: str) -> str | None:
    lines = contents.splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    body: list[str] = []
    for line in lines[1:]:
        if line.strip() == "---":
            return "\n".join(body) if body else None
        body.append(line)
    return None


def _check_length(value: str, limit: int, field_name: str) -> None:
    if not value:
        raise SkillFileError(f"missing field `{field_name}`")
    if len(value) > limit:
        raise SkillFileError(f"invalid {field_name}: exceeds maximum length of {limit} characters")


def parse_skill_file(path: Path, scope: str) -> Skill:
    try:
        contents = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillFileError(f"failed to read file: {exc}") from None
    matter = front_matter(contents)
    if matter is None:
        raise SkillFileError("missing YAML frontmatter delimited by ---")
    try:
        data = yaml.safe_load(matter)
    except yaml.YAMLError as exc:
        raise SkillFileError(f"invalid YAML: {_single_line(str(exc))}") from None
    if not isinstance(data, dict):
        raise SkillFileError("invalid YAML: expected a mapping of fields")
    raw_name = data.get("name")
    name = _single_line(raw_name) if isinstance(raw_name, str) else ""
    if not name:
        name = _single_line(path.parent.name) or "skill"
    raw_description = data.get("description")
    description = _single_line(raw_description) if isinstance(raw_description, str) else ""
    metadata = data.get("metadata")
    short = metadata.get("short-description") if isinstance(metadata, dict) else None
    short_description = _single_line(short) if isinstance(short, str) and short.strip() else None
    _check_length(name, MAX_NAME_LEN, "name")
    _check_length(description, MAX_DESCRIPTION_LEN, "description")
    if short_description is not None:
        _check_length(short_description, MAX_DESCRIPTION_LEN, "metadata.short-description")
    try:
        resolved = path.resolve()
    except OSError:
        resolved = path
    return Skill(name, description, short_description, resolved, scope)
