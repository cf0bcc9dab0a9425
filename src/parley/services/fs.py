"""The `fs/*` file operations on the host's filesystem, with the reference's errors.

Every function takes absolute paths (`absolute_path` checks what a client sent) and is
blocking; the handlers run them in a worker thread. Errors are the protocol's: a request that
cannot be honoured as asked (a directory copied without `recursive`, a FIFO as a copy source,
bad base64) is a `ClientError` (-32600); a failure of the operating system (a missing file, no
permission) is reported as the reference does, as an internal error (-32603) whose message is
the system's, e.g. ``No such file or directory (os error 2)``.

Watching is not here (`parley.services.fs_watch`).
"""

from __future__ import annotations

import base64
import binascii
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from parley.rpc.errors import ClientError, InternalError

# The reference refuses to read files larger than this into one response.
MAX_READ_FILE_BYTES = 512 * 1024 * 1024
RELATIVE_PATH_MESSAGE = "Invalid request: AbsolutePathBuf deserialized without a base path"


def absolute_path(raw: str) -> Path:
    """`raw` as an absolute, lexically normalised path; relative paths are refused."""
    if not os.path.isabs(raw):
        raise ClientError(RELATIVE_PATH_MESSAGE)
    return Path(os.path.normpath(raw))


def os_error(exc: OSError) -> InternalError:
    """An operating-system failure worded as the reference words it."""
    reason = exc.strerror or str(exc)
    if exc.errno is not None:
        return InternalError(f"{reason} (os error {exc.errno})")
    return InternalError(reason)


def read_file(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_READ_FILE_BYTES:
            raise ClientError(f"file is too large to read: limit is {MAX_READ_FILE_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise os_error(exc) from None


def decode_file_data(data_base64: str) -> bytes:
    try:
        return base64.b64decode(data_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ClientError(f"fs/writeFile requires valid base64 dataBase64: {exc}") from None


def write_file(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise os_error(exc) from None


def create_directory(path: Path, recursive: bool) -> None:
    try:
        if recursive:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.mkdir()
    except OSError as exc:
        raise os_error(exc) from None


@dataclass(frozen=True)
class Metadata:
    is_directory: bool
    is_file: bool
    created_at_ms: int
    modified_at_ms: int


def get_metadata(path: Path) -> Metadata:
    """What the path resolves to (symlinks followed); a timestamp the system lacks is 0."""
    try:
        info = path.stat()
    except OSError as exc:
        raise os_error(exc) from None
    created = getattr(info, "st_birthtime", None)
    if created is None:
        created = _birth_time(path)
    return Metadata(
        is_directory=stat.S_ISDIR(info.st_mode),
        is_file=stat.S_ISREG(info.st_mode),
        created_at_ms=int(created * 1000) if created else 0,
        modified_at_ms=info.st_mtime_ns // 1_000_000,
    )


def _birth_time(path: Path) -> float | None:
    """The creation time Linux keeps (statx), where the interpreter exposes it."""
    statx = getattr(os, "statx", None)  # Python 3.15+
    if statx is None:
        return None
    try:
        result = statx(path)
    except OSError:
        return None
    birth = getattr(result, "stx_birthtime", None)
    return float(birth) if birth else None


@dataclass(frozen=True)
class DirectoryEntry:
    file_name: str
    is_directory: bool
    is_file: bool


def read_directory(path: Path) -> list[DirectoryEntry]:
    """The directory's children, each as what it resolves to (as `fs/getMetadata` would)."""
    try:
        with os.scandir(path) as entries:
            children = [(entry.name, entry.path) for entry in entries]
        result = []
        for name, child in children:
            info = os.stat(child)
            result.append(
                DirectoryEntry(name, stat.S_ISDIR(info.st_mode), stat.S_ISREG(info.st_mode))
            )
        return result
    except OSError as exc:
        raise os_error(exc) from None


def remove(path: Path, *, recursive: bool, force: bool) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        if force:
            return
        raise os_error(FileNotFoundError(2, os.strerror(2))) from None
    except OSError as exc:
        raise os_error(exc) from None
    try:
        if stat.S_ISDIR(info.st_mode):
            if recursive:
                shutil.rmtree(path)
            else:
                path.rmdir()
        else:
            path.unlink()
    except OSError as exc:
        raise os_error(exc) from None


def copy(source: Path, destination: Path, *, recursive: bool) -> None:
    """Copies a file, a symlink (as a link) or, with `recursive`, a directory tree; other
    kinds of entries inside a tree (FIFOs, sockets, devices) are skipped."""
    try:
        info = source.lstat()
        if stat.S_ISDIR(info.st_mode):
            if not recursive:
                raise ClientError("fs/copy requires recursive: true when sourcePath is a directory")
            if _is_same_or_inside(source, destination):
                raise ClientError(
                    "fs/copy cannot copy a directory to itself or one of its descendants"
                )
            _copy_tree(source, destination)
        elif stat.S_ISLNK(info.st_mode):
            _copy_symlink(source, destination)
        elif stat.S_ISREG(info.st_mode):
            shutil.copyfile(source, destination)
            shutil.copymode(source, destination)
        else:
            raise ClientError("fs/copy only supports regular files, directories, and symlinks")
    except OSError as exc:
        raise os_error(exc) from None


def _is_same_or_inside(source: Path, destination: Path) -> bool:
    real_source = Path(os.path.realpath(source))
    real_destination = Path(os.path.realpath(destination))
    return real_destination == real_source or real_source in real_destination.parents


def _copy_tree(source: Path, destination: Path) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    with os.scandir(source) as entries:
        children = list(entries)
    for entry in children:
        target = destination / entry.name
        if entry.is_symlink():
            _copy_symlink(Path(entry.path), target)
        elif entry.is_dir(follow_symlinks=False):
            _copy_tree(Path(entry.path), target)
        elif entry.is_file(follow_symlinks=False):
            shutil.copyfile(entry.path, target)
            shutil.copymode(entry.path, target)


def _copy_symlink(source: Path, destination: Path) -> None:
    os.symlink(os.readlink(source), destination)
