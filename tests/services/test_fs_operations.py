"""The fs/* operations' errors, worded as the reference words them."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.rpc.errors import INTERNAL_ERROR, INVALID_REQUEST, RpcError
from parley.services import fs


def test_relative_paths_are_refused() -> None:
    """A relative path is a client error with the reference's message."""
    with pytest.raises(RpcError) as caught:
        fs.absolute_path("relative.txt")
    assert caught.value.code == INVALID_REQUEST
    assert caught.value.message == fs.RELATIVE_PATH_MESSAGE
    assert fs.absolute_path("/a/b/../c") == Path("/a/c")


def test_a_missing_file_is_reported_with_the_system_reason(tmp_path: Path) -> None:
    """Reading a missing file fails as the reference does: -32603, the OS message."""
    with pytest.raises(RpcError) as caught:
        fs.read_file(tmp_path / "missing")
    assert caught.value.code == INTERNAL_ERROR
    assert caught.value.message == "No such file or directory (os error 2)"


def test_remove_defaults_tolerate_missing_paths(tmp_path: Path) -> None:
    """With force, removing what is not there succeeds; without, it fails."""
    fs.remove(tmp_path / "missing", recursive=True, force=True)
    with pytest.raises(RpcError):
        fs.remove(tmp_path / "missing", recursive=True, force=False)


def test_reading_a_directory_as_a_file_fails(tmp_path: Path) -> None:
    """A directory where a file is expected is the OS error."""
    with pytest.raises(RpcError) as caught:
        fs.read_file(tmp_path)
    assert caught.value.message == "Is a directory (os error 21)"
