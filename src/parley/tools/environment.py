"""The environment the agent's commands start with, built from `shell_environment_policy`.

The steps are the reference's, in its order: start from the server's environment as `inherit`
says; drop the default excludes unless `ignore_default_excludes`; drop the `exclude` patterns;
apply `set`; keep only `include_only` matches when that list is non-empty; add
``CODEX_THREAD_ID``. Besides, ``CODEX_HOME`` is never passed on (unless `set` names it): a
command has no reason to find Parley's configuration and credentials.

Nothing here starts processes; `parley.tools.shell` adds the per-command variables (the
sandbox's network flag, the process-tree marker).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from parley.config.shell_environment import Inherit, ShellEnvironmentPolicy

CORE_VARIABLES = frozenset(
    {
        "PATH",
        "SHELL",
        "TMPDIR",
        "TEMP",
        "TMP",
        "HOME",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "LOGNAME",
        "USER",
    }
)
# The reference's three, plus the password-shaped names it lets through (PGPASSWORD, ...).
DEFAULT_EXCLUDES = ("*KEY*", "*SECRET*", "*TOKEN*", "*PASSWORD*", "*PASSWD*", "*CREDENTIAL*")
WITHHELD = ("CODEX_HOME",)
THREAD_ID_VARIABLE = "CODEX_THREAD_ID"


def _compile(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex for globs where `*` is any run and `?` one character."""
    parts = []
    for pattern in patterns:
        parts.append(
            "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        )
    if not parts:
        return None
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE | re.DOTALL)


def name_matches(name: str, patterns: Iterable[str]) -> bool:
    compiled = _compile(patterns)
    return compiled is not None and compiled.fullmatch(name) is not None


def command_environment(
    policy: ShellEnvironmentPolicy,
    base: Mapping[str, str],
    thread_id: str | None = None,
) -> dict[str, str]:
    """The variables a command gets, from the server's environment `base`."""
    if policy.inherit is Inherit.ALL:
        env = dict(base)
    elif policy.inherit is Inherit.CORE:
        env = {k: v for k, v in base.items() if k in CORE_VARIABLES}
    else:
        env = {}
    excluded = [] if policy.ignore_default_excludes else list(DEFAULT_EXCLUDES)
    drop = _compile([*excluded, *policy.exclude, *WITHHELD])
    if drop is not None:
        env = {k: v for k, v in env.items() if not drop.fullmatch(k)}
    env.update(policy.set)
    keep = _compile(policy.include_only)
    if keep is not None:
        env = {k: v for k, v in env.items() if keep.fullmatch(k)}
    if thread_id is not None:
        env[THREAD_ID_VARIABLE] = thread_id
    return env
