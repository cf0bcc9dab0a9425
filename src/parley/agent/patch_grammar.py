"""The Codex patch format: parse a patch, work out what it does to files, and apply it.

A patch is a plain-text envelope of file operations::

    *** Begin Patch
    *** Add File: docs/new.md          (every following line starts with `+`)
    +hello
    *** Delete File: old.txt
    *** Update File: src/app.py
    *** Move to: src/main.py           (optional rename)
    @@ def handler():                  (optional line to find before the change)
     context line
    -removed line
    +added line
    *** End of File                    (optional: the change is at the end of the file)
    *** End Patch

`parse_patch` turns the text into `Hunk`s (pure); `plan_changes` reads the files the hunks touch
(through a reader callback) and returns one `FileChange` per file with the new content and the
diff a client shows; `write_changes` performs them on disk. Matching of context lines tolerates
trailing whitespace, surrounding whitespace and typographic punctuation, in that order.

Nothing here decides whether a change is allowed (approval, sandbox): that is
`parley.agent.tools.apply_patch`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

BEGIN = "*** Begin Patch"
END = "*** End Patch"
ADD = "*** Add File: "
DELETE = "*** Delete File: "
UPDATE = "*** Update File: "
MOVE = "*** Move to: "
END_OF_FILE = "*** End of File"


class PatchError(Exception):
    """The patch is malformed, or does not fit the files it changes."""


@dataclass(frozen=True)
class Chunk:
    """One `@@` section of an update: lines before and after, and where to look for them."""

    anchor: str | None
    old: tuple[str, ...]
    new: tuple[str, ...]
    at_end: bool = False


@dataclass(frozen=True)
class AddFile:
    path: str
    content: str


@dataclass(frozen=True)
class DeleteFile:
    path: str


@dataclass(frozen=True)
class UpdateFile:
    path: str
    move_to: str | None
    chunks: tuple[Chunk, ...]


Hunk = AddFile | DeleteFile | UpdateFile


@dataclass(frozen=True)
class FileChange:
    """What one hunk does to one file (absolute paths)."""

    kind: str  # "add" | "delete" | "update"
    path: Path
    diff: str  # added content, deleted content, or a unified diff
    new_content: str | None = None  # None for a deletion
    move_to: Path | None = None

    @property
    def touched(self) -> tuple[Path, ...]:
        return (self.path,) if self.move_to is None else (self.path, self.move_to)

    def wire(self) -> dict[str, object]:
        kind: dict[str, object] = {"type": self.kind}
        if self.kind == "update":
            kind["move_path"] = str(self.move_to) if self.move_to is not None else None
        return {"path": str(self.path), "kind": kind, "diff": self.diff}


# ---- parsing ---------------------------------------------------------------------------

_HEREDOC_OPEN = re.compile(r"""^<<\s*(['"]?)(\w+)\1$""")


def _strip_heredoc(lines: list[str]) -> list[str]:
    """Models sometimes wrap the patch in the heredoc they would use in a shell."""
    if len(lines) >= 2:
        opener = _HEREDOC_OPEN.match(lines[0].strip())
        if opener and lines[-1].strip() == opener.group(2):
            return lines[1:-1]
    return lines


def parse_patch(text: str) -> list[Hunk]:
    lines = _strip_heredoc(text.strip().splitlines())
    if not lines or lines[0].strip() != BEGIN:
        raise PatchError(f"a patch must start with the line `{BEGIN}`")
    if lines[-1].strip() != END:
        raise PatchError(f"a patch must end with the line `{END}`")
    body = lines[1:-1]
    hunks: list[Hunk] = []
    index = 0
    while index < len(body):
        if not body[index].strip():
            index += 1
            continue
        hunk, index = _parse_hunk(body, index)
        hunks.append(hunk)
    if not hunks:
        raise PatchError("the patch changes no files")
    return hunks


def _header(line: str, prefix: str) -> str | None:
    stripped = line.strip()
    if stripped.startswith(prefix):
        return stripped[len(prefix) :].strip() or None
    return None


def _parse_hunk(lines: list[str], index: int) -> tuple[Hunk, int]:
    line = lines[index]
    line_no = index + 2  # 1-based, after the Begin line
    if (path := _header(line, ADD)) is not None:
        content: list[str] = []
        index += 1
        while index < len(lines) and lines[index].startswith("+"):
            content.append(lines[index][1:] + "\n")
            index += 1
        return AddFile(path, "".join(content)), index
    if (path := _header(line, DELETE)) is not None:
        return DeleteFile(path), index + 1
    if (path := _header(line, UPDATE)) is not None:
        index += 1
        move_to = None
        if index < len(lines) and (target := _header(lines[index], MOVE)) is not None:
            move_to = target
            index += 1
        chunks: list[Chunk] = []
        while index < len(lines) and not lines[index].startswith("***"):
            if not lines[index].strip():  # blank lines may separate sections
                index += 1
                continue
            chunk, index = _parse_chunk(lines, index, first=not chunks)
            chunks.append(chunk)
        if not chunks:
            raise PatchError(f"the update of `{path}` (line {line_no}) has no changes")
        return UpdateFile(path, move_to, tuple(chunks)), index
    raise PatchError(
        f"line {line_no}: `{line.strip()}` is not a file header; expected `{ADD}PATH`, "
        f"`{DELETE}PATH` or `{UPDATE}PATH`"
    )


def _parse_chunk(lines: list[str], index: int, *, first: bool) -> tuple[Chunk, int]:
    anchor: str | None = None
    line = lines[index]
    if line.strip() == "@@":
        index += 1
    elif line.startswith("@@ "):
        anchor = line[3:]
        index += 1
    elif not first:
        raise PatchError(f"line {index + 2}: expected `@@` to start the next change, got `{line}`")
    old: list[str] = []
    new: list[str] = []
    at_end = False
    start = index
    while index < len(lines):
        line = lines[index]
        if line.strip() == END_OF_FILE:
            at_end = True
            index += 1
            break
        if line.startswith("@@") or line.startswith("***"):
            break
        if line == "":
            old.append("")
            new.append("")
        elif line[0] == " ":
            old.append(line[1:])
            new.append(line[1:])
        elif line[0] == "-":
            old.append(line[1:])
        elif line[0] == "+":
            new.append(line[1:])
        elif index == start:
            raise PatchError(
                f"line {index + 2}: `{line}` does not start with ' ' (context), '+' (added) "
                "or '-' (removed)"
            )
        else:
            break
        index += 1
    if index == start and not at_end:
        raise PatchError(f"line {start + 2}: a change section has no lines")
    return Chunk(anchor, tuple(old), tuple(new), at_end), index


# ---- matching ------------------------------------------------------------------------

_PUNCTUATION = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f", '"'),
        **dict.fromkeys(
            "\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000",
            " ",
        ),
    }
)

_LOOSENESS: tuple[Callable[[str], str], ...] = (
    lambda s: s,
    str.rstrip,
    str.strip,
    lambda s: s.strip().translate(_PUNCTUATION),
)


def find_lines(
    lines: Sequence[str], pattern: Sequence[str], start: int, at_end: bool = False
) -> int | None:
    """Index where `pattern` occurs in `lines` at or after `start`, matching ever more loosely."""
    if not pattern:
        return start
    if len(pattern) > len(lines):
        return None
    first = len(lines) - len(pattern) if at_end else start
    for loosen in _LOOSENESS:
        wanted = [loosen(p) for p in pattern]
        for i in range(first, len(lines) - len(pattern) + 1):
            if all(loosen(lines[i + k]) == wanted[k] for k in range(len(pattern))):
                return i
    return None


def apply_chunks(original: str, chunks: Sequence[Chunk], name: str) -> str:
    lines = original.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the split leaves an empty string after the final newline
    edits: list[tuple[int, int, list[str]]] = []
    cursor = 0
    for chunk in chunks:
        if chunk.anchor is not None:
            found = find_lines(lines, [chunk.anchor], cursor)
            if found is None:
                raise PatchError(f"cannot find the line `{chunk.anchor}` in {name}")
            cursor = found + 1
        if not chunk.old:
            edits.append((len(lines), 0, list(chunk.new)))
            continue
        old, new = list(chunk.old), list(chunk.new)
        found = find_lines(lines, old, cursor, chunk.at_end)
        if found is None and old[-1] == "":
            old = old[:-1]
            if new and new[-1] == "":
                new = new[:-1]
            found = find_lines(lines, old, cursor, chunk.at_end)
        if found is None:
            expected = "\n".join(chunk.old)
            raise PatchError(f"cannot find these lines in {name}:\n{expected}")
        edits.append((found, len(old), new))
        cursor = found + len(old)
    for start, length, new in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[start : start + length] = new
    return "\n".join(lines) + "\n"


def unified_diff(before: str, after: str) -> str:
    """A unified diff of two texts with one line of context and no file header lines."""
    diff = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), n=1, lineterm="\n"
    )
    out: list[str] = []
    for line in list(diff)[2:]:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


# ---- planning and writing ----------------------------------------------------------------

Reader = Callable[[Path], str]


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def plan_changes(hunks: Sequence[Hunk], cwd: Path, read: Reader = _read_text) -> list[FileChange]:
    """Resolves paths against `cwd` and computes every file's new content (nothing written)."""

    def resolve(path: str) -> Path:
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else cwd / candidate

    def original(path: Path, shown: str) -> str:
        try:
            return read(path)
        except FileNotFoundError:
            raise PatchError(f"{shown} does not exist") from None
        except IsADirectoryError:
            raise PatchError(f"{shown} is a directory") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PatchError(f"cannot read {shown}: {exc}") from None

    changes: list[FileChange] = []
    for hunk in hunks:
        path = resolve(hunk.path)
        if isinstance(hunk, AddFile):
            changes.append(FileChange("add", path, hunk.content, hunk.content))
        elif isinstance(hunk, DeleteFile):
            before = original(path, hunk.path)
            changes.append(FileChange("delete", path, before))
        else:
            before = original(path, hunk.path)
            after = apply_chunks(before, hunk.chunks, hunk.path)
            move_to = resolve(hunk.move_to) if hunk.move_to else None
            changes.append(FileChange("update", path, unified_diff(before, after), after, move_to))
    return changes


@dataclass
class WriteReport:
    done: list[FileChange] = field(default_factory=list)
    error: str | None = None


class FileWriter(Protocol):
    def write_text(self, path: Path, text: str) -> None: ...

    def unlink(self, path: Path) -> None: ...


class PlainFiles:
    """Writes wherever the path leads (no sandbox, or the user approved these paths)."""

    def write_text(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def unlink(self, path: Path) -> None:
        path.unlink()


def write_changes(changes: Sequence[FileChange], files: FileWriter | None = None) -> WriteReport:
    """Performs the changes in order; stops at the first failure (earlier ones stay done)."""
    files = files if files is not None else PlainFiles()
    report = WriteReport()
    for change in changes:
        try:
            if change.kind == "delete":
                if change.path.is_dir():
                    raise IsADirectoryError(f"{change.path} is a directory")
                files.unlink(change.path)
            else:
                target = change.move_to or change.path
                files.write_text(target, change.new_content or "")
                if change.move_to is not None and change.move_to != change.path:
                    files.unlink(change.path)
        except OSError as exc:
            report.error = f"cannot write {change.move_to or change.path}: {exc.strerror or exc}"
            return report
        report.done.append(change)
    return report


def summary(changes: Sequence[FileChange], cwd: Path) -> str:
    """One line per file, `A`/`M`/`D` and the path as the patch gave it (relative to cwd)."""

    def shown(path: Path) -> str:
        try:
            return str(path.relative_to(cwd))
        except ValueError:
            return str(path)

    letters = {"add": "A", "update": "M", "delete": "D"}
    rows = [f"{letters[c.kind]} {shown(c.move_to or c.path)}" for c in changes]
    return "\n".join(rows) + "\n"
