"""Which shell commands are known to only read, so `untrusted` approval lets them run unasked.

The check is deliberately conservative: a script is safe only when every pipeline segment is a
plain command from a short allow-list, with no redirection, substitution, globbing into writes,
or options that execute or write (``find -exec``, ``sed -i``, ``rg --pre``, ``git`` subcommands
other than inspection). Anything it cannot parse is unsafe.
"""

from __future__ import annotations

import shlex

# Programs that only read or print, whatever their (non-excluded) arguments.
_READ_ONLY_PROGRAMS = frozenset(
    {
        "cat",
        "cd",
        "date",
        "echo",
        "false",
        "file",
        "grep",
        "egrep",
        "fgrep",
        "head",
        "id",
        "ls",
        "nl",
        "printf",
        "pwd",
        "stat",
        "tail",
        "true",
        "uname",
        "wc",
        "which",
        "whoami",
        "tree",
        "du",
        "df",
        "basename",
        "dirname",
        "realpath",
        "readlink",
        "cut",
        "tr",
        "uniq",
        "diff",
        "cmp",
    }
)
_FIND_UNSAFE = frozenset(
    {"-exec", "-execdir", "-ok", "-okdir", "-delete", "-fls", "-fprint", "-fprint0", "-fprintf"}
)
_RG_UNSAFE = frozenset({"--pre", "--hostname-bin", "--search-zip", "-z"})
# The reference's list: `rev-parse` and `ls-files` are not on it, so `untrusted` asks for them.
_GIT_READ_ONLY = frozenset({"status", "log", "diff", "show", "branch"})
_OPERATORS = frozenset({"&&", "||", ";", "|"})
_FORBIDDEN_CHARS = set("<>`$(){}*?[]~\n&")


def _split_segments(tokens: list[str]) -> list[list[str]] | None:
    segments: list[list[str]] = [[]]
    for token in tokens:
        if token in _OPERATORS:
            if not segments[-1]:
                return None
            segments.append([])
        else:
            segments[-1].append(token)
    if not segments[-1]:
        return None
    return segments


def _segment_is_safe(argv: list[str]) -> bool:
    program, args = argv[0], argv[1:]
    if "/" in program or "=" in program:
        return False  # explicit paths or VAR=value prefixes: not worth reasoning about
    if program == "env":
        return not args  # `env CMD` runs CMD
    if program in _READ_ONLY_PROGRAMS:
        return True
    if program == "find":
        return not _FIND_UNSAFE.intersection(args)
    if program == "rg":
        return not any(a.split("=", 1)[0] in _RG_UNSAFE for a in args)
    if program == "sed":
        # Only `sed -n <range>p [file…]`, the usual way to print part of a file.
        return len(args) >= 2 and args[0] == "-n" and args[1].rstrip("p") != args[1]
    if program == "git":
        sub = next((a for a in args if not a.startswith("-")), None)
        if sub == "branch":
            return all(
                a.startswith("-") and a in {"-a", "-r", "-v", "-vv", "--list"} for a in args[1:]
            )
        return sub in _GIT_READ_ONLY and "--output" not in " ".join(args)
    return False


def is_known_safe(command: str) -> bool:
    """True when `command` (a shell script string) only reads."""
    if _FORBIDDEN_CHARS.intersection(command.replace("&&", "")):
        return False
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars="|;&")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        return False
    if not tokens:
        return False
    segments = _split_segments(tokens)
    if segments is None:
        return False
    return all(_segment_is_safe(segment) for segment in segments)
