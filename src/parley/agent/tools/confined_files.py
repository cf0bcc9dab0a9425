"""File writes that cannot leave the sandbox's writable roots, even if the tree changes meanwhile.

`apply_patch` decides whether a patch stays inside the writable roots by resolving its paths
(`os.path.realpath`), but the write happens later, possibly after the user was asked. A process
the model started could in the meantime swap a folder for a symlink leading outside. So a
confined write resolves the path again and then walks it one folder at a time from the root,
opening each with `O_NOFOLLOW` relative to the previous one (`dir_fd`): a symlink met anywhere on
the way (one that was not there when the path was resolved) fails the write instead of being
followed. Missing folders are created the same way. POSIX only, like the sandbox.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC


class OutsideRoots(OSError):
    """The path resolves outside every writable root (or into a protected folder)."""

    def __init__(self, path: Path) -> None:
        super().__init__(errno.EACCES, "outside the sandbox's writable directories", str(path))


def _locate(
    path: Path, roots: Sequence[Path], protected: frozenset[str], *, folder: bool = False
) -> tuple[Path, tuple[str, ...]]:
    """(root, parts below it) of the path as it resolves now; a `folder` may be the root."""
    real = Path(os.path.realpath(path))
    for root in roots:
        root_real = Path(os.path.realpath(root))
        if real == root_real or root_real in real.parents:
            parts = real.relative_to(root_real).parts
            if (not parts and not folder) or (parts and parts[0] in protected):
                break
            return root_real, parts
    raise OutsideRoots(path)


@contextlib.contextmanager
def _parent_fd(root: Path, folders: Sequence[str], create: bool) -> Iterator[int]:
    """An fd of `root/folders…`, each step opened without following symlinks."""
    fd = os.open(root, _DIR_FLAGS)
    try:
        for name in folders:
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o777, dir_fd=fd)
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


class ConfinedFiles:
    """Writes and deletes confined to `roots` (never into a `protected` folder of a root)."""

    def __init__(self, roots: Sequence[Path], protected: frozenset[str] = frozenset()) -> None:
        self._roots = tuple(roots)
        self._protected = protected

    def write_text(self, path: Path, text: str) -> None:
        root, parts = _locate(path, self._roots, self._protected)
        with _parent_fd(root, parts[:-1], create=True) as parent:
            fd = os.open(parts[-1], _FILE_FLAGS, 0o666, dir_fd=parent)
            with open(fd, "w", encoding="utf-8") as handle:
                handle.write(text)

    def unlink(self, path: Path) -> None:
        # Resolve the folder only: the file itself may be a symlink, which is removed, not
        # followed.
        root, parts = _locate(path.parent, self._roots, self._protected, folder=True)
        if path.name in ("", ".", ".."):
            raise OutsideRoots(path)
        if not parts and path.name in self._protected:
            raise OutsideRoots(path)
        with _parent_fd(root, parts, create=False) as parent:
            os.unlink(path.name, dir_fd=parent)
