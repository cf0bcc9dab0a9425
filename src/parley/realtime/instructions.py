"""The instructions a realtime session starts with: backend prompt plus startup context.

Resolution rules are pure functions; `scan_workspace` and `local_user_first_name` are the only
parts that touch the machine (filesystem listing, account database) and are meant to run in a
worker thread. Nothing here talks to the network or knows the wire format.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

STARTUP_CONTEXT_HEADER: Final = "Startup context from Codex."
# About 5,300 tokens at roughly four characters per token.
STARTUP_CONTEXT_CHAR_BUDGET: Final = 21_200
MAX_PRIOR_TURNS: Final = 3
MAX_TURN_TEXT_CHARS: Final = 1_500
TREE_DEPTH: Final = 2
TREE_ENTRIES_PER_LEVEL: Final = 20
NOISY_DIRECTORIES: Final = frozenset(
    {
        "node_modules",
        ".git",
        "target",
        "dist",
        "build",
        "__pycache__",
        ".venv",
        "venv",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".next",
        ".cache",
    }
)

_USER_NAME_PLACEHOLDER: Final = "{{ user_first_name }}"
_DEFAULT_BACKEND_PROMPT: Final = """\
You are Codex, speaking with {{ user_first_name }} in a live voice conversation about their code.

## What you do
- You are the voice in front of a background coding agent that can read files, run commands and
  change the workspace. You cannot do those things yourself; the agent can.
- Keep the conversation moving: listen, confirm what was asked, hand the work over, and report
  back what came of it.

## How you speak
- Talk the way a helpful colleague would on a call: short sentences, plain words, one idea at a
  time. Spoken answers should rarely run longer than a few sentences.
- Do not read out code, long paths, logs or tables. Summarise them and offer to go deeper.
- If something is unclear, ask one short question instead of guessing.

## Handing work to the background agent
- Send anything that needs the repository, the shell, or more than a moment of thought to the
  background agent, using the user's own words and any detail they gave.
- While it works, say briefly what you asked for; do not invent results.
- If the user adds to or changes the request while the agent is busy, pass that along too; it
  reaches the running task as guidance.
- When the user asks for something to happen later or next, hand it over now so it is really
  queued, rather than promising to remember it.

## Using what comes back
- Progress updates and final results from the agent arrive as messages. Relay the gist in a
  sentence or two and mention anything that needs the user's decision.
- If the agent failed or is unsure, say so plainly and suggest a next step.

## Workspace awareness
- Background notes about the current thread and workspace may follow. Use them to understand
  references like "that file" or "the test from before", but do not recite them.
"""


def local_user_first_name() -> str:
    """First word of the account's real name, else of the login name, else "there"."""
    candidates: list[str] = []
    try:
        entry = pwd.getpwuid(os.getuid())
        candidates += [entry.pw_gecos.split(",", 1)[0], entry.pw_name]
    except (KeyError, OSError):
        pass
    candidates.append(os.environ.get("USER", ""))
    for name in candidates:
        words = name.split()
        if words:
            return words[0]
    return "there"


def default_backend_prompt(user_first_name: str) -> str:
    """Parley's built-in backend prompt, addressed to the user by first name."""
    return _DEFAULT_BACKEND_PROMPT.rstrip().replace(_USER_NAME_PLACEHOLDER, user_first_name)


def resolve_backend_prompt(
    *,
    config_override: str | None,
    prompt: str | None,
    prompt_present: bool,
    default: Callable[[], str],
) -> str:
    """The backend prompt for a start request.

    A non-blank config override always wins. Otherwise the request decides: an absent
    `prompt` means the built-in default, `null` or `""` means none, a string is used as is.
    """
    if config_override is not None and config_override.strip():
        return config_override
    if not prompt_present:
        return default()
    return prompt or ""


def compose_instructions(backend_prompt: str, startup_context: str) -> str:
    """Join the non-empty parts with a blank line."""
    return "\n\n".join(part for part in (backend_prompt, startup_context) if part)


@dataclass(frozen=True)
class WorkspaceSnapshot:
    """What a bounded scan of the local machine found, ready to be formatted."""

    cwd: Path
    git_root: Path | None
    home: Path | None
    cwd_tree: Sequence[str] = field(default_factory=tuple)
    git_root_tree: Sequence[str] = field(default_factory=tuple)
    home_tree: Sequence[str] = field(default_factory=tuple)


def find_git_root(start: Path) -> Path | None:
    """The nearest directory at or above `start` that contains `.git`."""
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _visible_entries(directory: Path) -> tuple[list[Path], list[Path]]:
    dirs: list[Path] = []
    files: list[Path] = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return dirs, files
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir:
            if entry.name not in NOISY_DIRECTORIES:
                dirs.append(entry)
        else:
            files.append(entry)
    dirs.sort(key=lambda p: p.name)
    files.sort(key=lambda p: p.name)
    return dirs, files


def directory_tree(root: Path, depth: int = TREE_DEPTH) -> list[str]:
    """A Markdown list of `root`: directories first, then files, a bounded number per level."""
    lines: list[str] = []

    def walk(directory: Path, level: int) -> None:
        dirs, files = _visible_entries(directory)
        entries = [*dirs, *files]
        indent = "  " * level
        for entry in entries[:TREE_ENTRIES_PER_LEVEL]:
            is_dir = entry in dirs
            lines.append(f"{indent}- {entry.name}{'/' if is_dir else ''}")
            if is_dir and level + 1 < depth:
                walk(entry, level + 1)
        hidden = len(entries) - TREE_ENTRIES_PER_LEVEL
        if hidden > 0:
            lines.append(f"{indent}- ... {hidden} more entries")

    walk(root, 0)
    return lines


def scan_workspace(cwd: Path, home: Path | None = None) -> WorkspaceSnapshot:
    """Look around `cwd` (blocking filesystem work; run it off the event loop)."""
    if home is None:
        try:
            home = Path.home()
        except RuntimeError:
            home = None
    git_root = find_git_root(cwd)
    cwd_tree = directory_tree(cwd)
    git_tree = directory_tree(git_root) if git_root is not None and git_root != cwd else []
    home_tree: list[str] = []
    if home is not None and home not in (cwd, git_root):
        home_tree = directory_tree(home, depth=1)
    return WorkspaceSnapshot(cwd, git_root, home, cwd_tree, git_tree, home_tree)


def _clip(text: str, limit: int = MAX_TURN_TEXT_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def format_startup_context(
    prior_turns: Sequence[tuple[str, str]],
    workspace: WorkspaceSnapshot | None,
    *,
    budget: int = STARTUP_CONTEXT_CHAR_BUDGET,
) -> str:
    """Background notes for the realtime model; sections with nothing to say are left out."""
    sections: list[str] = [
        STARTUP_CONTEXT_HEADER
        + "\nThe notes below describe this conversation's history and the machine it runs on. "
        "They can be partial or out of date: use them to understand what the user refers to, "
        "and do not read them back unless asked."
    ]

    turns = [t for t in prior_turns if t[0].strip() or t[1].strip()][-MAX_PRIOR_TURNS:]
    if turns:
        lines = ["## Current Thread", "Earlier exchanges in this thread, oldest first."]
        for index, (user, assistant) in enumerate(turns, start=1):
            title = "Latest turn" if index == len(turns) else f"Prior turn {index}"
            lines += ["", f"### {title}", "User:", _clip(user) or "(nothing)", ""]
            lines += ["Assistant:", _clip(assistant) or "(no reply)"]
        sections.append("\n".join(lines))

    if workspace is not None:
        lines = [
            "## Machine / Workspace Map",
            f"Current working directory: {workspace.cwd}",
            f"Working directory name: {workspace.cwd.name or workspace.cwd}",
        ]
        if workspace.git_root is not None:
            lines += [
                f"Git root: {workspace.git_root}",
                f"Git project: {workspace.git_root.name}",
            ]
        if workspace.home is not None:
            lines.append(f"User root: {workspace.home}")
        for title, tree in (
            ("Working directory tree:", workspace.cwd_tree),
            ("Git root tree:", workspace.git_root_tree),
            ("User root tree:", workspace.home_tree),
        ):
            if tree:
                lines += ["", title, *tree]
        sections.append("\n".join(lines))

    sections.append(
        "## Notes\nAssembled when the voice session started, from this thread's history and a "
        "quick, depth-limited look at the local directories. Project instruction files and "
        "saved memories are not included."
    )
    text = "\n\n".join(sections)
    if len(text) > budget:
        text = text[: budget - 1].rstrip() + "…"
    return text


def build_startup_context(
    cwd: Path, prior_turns: Sequence[tuple[str, str]], home: Path | None = None
) -> str:
    """Scan the workspace and format the startup context (blocking; run it in a thread)."""
    return format_startup_context(prior_turns, scan_workspace(cwd, home))
