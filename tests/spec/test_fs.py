"""pytest twins of upstream `app-server/tests/suite/v2/fs.rs` (14 tests, all here).

Each twin starts the real `parley app-server` over stdio with an empty CODEX_HOME (the test's
files live inside it, as upstream's do) and sends the same `fs/*` requests with the same
assertions. Upstream tolerates a missing kernel event in its watch tests ("kernel file watching
is not reliable in every sandboxed test environment"); the twins keep that shape, and
`tests/services/test_fs_watch.py` checks the watcher strictly.
"""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess, ReadTimeout, SpawnAppServer

DEFAULT_READ_TIMEOUT = 10.0
Json = Any
RELATIVE = "Invalid request: AbsolutePathBuf deserialized without a base path"


async def initialized_mcp(spawn_app_server: SpawnAppServer, codex_home: Path) -> AppServerProcess:
    mcp = await spawn_app_server(codex_home=codex_home)
    await asyncio.wait_for(mcp.initialize(), DEFAULT_READ_TIMEOUT)
    return mcp


async def expect_error_message(
    mcp: AppServerProcess, request_id: int, expected_message: str
) -> None:
    error = await mcp.read_stream_until_error_message(request_id, DEFAULT_READ_TIMEOUT)
    assert error["error"]["message"] == expected_message


def absolute_path(path: Path) -> str:
    assert path.is_absolute(), f"path must be absolute: {path}"
    return str(path)


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


async def respond(mcp: AppServerProcess, method: str, params: Json) -> Json:
    request_id = await mcp.send_request(method, params)
    message = await mcp.read_stream_until_response_message(request_id, DEFAULT_READ_TIMEOUT)
    return message["result"]


async def test_fs_get_metadata_returns_only_used_fields(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """fs/getMetadata answers exactly isDirectory, isFile, createdAtMs and modifiedAtMs."""
    file_path = codex_home / "note.txt"
    file_path.write_text("hello")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    result = await respond(mcp, "fs/getMetadata", {"path": absolute_path(file_path)})
    assert sorted(result) == ["createdAtMs", "isDirectory", "isFile", "modifiedAtMs"]
    assert result == {
        "isDirectory": False,
        "isFile": True,
        "createdAtMs": result["createdAtMs"],
        "modifiedAtMs": result["modifiedAtMs"],
    }
    assert result["modifiedAtMs"] > 0, "modifiedAtMs should be populated for existing files"


async def test_fs_methods_cover_current_fs_utils_surface(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Create, write, read, copy (file and tree), list and remove through fs/*."""
    source_dir = codex_home / "source"
    nested_dir = source_dir / "nested"
    source_file = source_dir / "root.txt"
    copied_dir = codex_home / "copied"
    copy_file_path = codex_home / "copy.txt"
    nested_file = nested_dir / "note.txt"
    mcp = await initialized_mcp(spawn_app_server, codex_home)

    await respond(mcp, "fs/createDirectory", {"path": absolute_path(nested_dir), "recursive": None})
    await respond(
        mcp,
        "fs/writeFile",
        {"path": absolute_path(nested_file), "dataBase64": b64("hello from app-server")},
    )
    await respond(
        mcp,
        "fs/writeFile",
        {"path": absolute_path(source_file), "dataBase64": b64("hello from source root")},
    )
    read_response = await respond(mcp, "fs/readFile", {"path": absolute_path(nested_file)})
    assert read_response == {"dataBase64": b64("hello from app-server")}

    await respond(
        mcp,
        "fs/copy",
        {
            "sourcePath": absolute_path(nested_file),
            "destinationPath": absolute_path(copy_file_path),
            "recursive": False,
        },
    )
    assert copy_file_path.read_text() == "hello from app-server"

    await respond(
        mcp,
        "fs/copy",
        {
            "sourcePath": absolute_path(source_dir),
            "destinationPath": absolute_path(copied_dir),
            "recursive": True,
        },
    )
    assert (copied_dir / "nested" / "note.txt").read_text() == "hello from app-server"

    readdir = await respond(mcp, "fs/readDirectory", {"path": absolute_path(source_dir)})
    entries = sorted(readdir["entries"], key=lambda e: e["fileName"])
    assert entries == [
        {"fileName": "nested", "isDirectory": True, "isFile": False},
        {"fileName": "root.txt", "isDirectory": False, "isFile": True},
    ]

    await respond(
        mcp, "fs/remove", {"path": absolute_path(copied_dir), "recursive": None, "force": None}
    )
    assert not copied_dir.exists(), (
        "fs/remove should default to recursive+force for directory trees"
    )


async def test_fs_write_file_accepts_base64_bytes(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Arbitrary bytes round-trip through fs/writeFile and fs/readFile."""
    file_path = codex_home / "blob.bin"
    data = bytes([0, 1, 2, 255])
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    await respond(mcp, "fs/writeFile", {"path": absolute_path(file_path), "dataBase64": b64(data)})
    assert file_path.read_bytes() == data
    read_response = await respond(mcp, "fs/readFile", {"path": absolute_path(file_path)})
    assert read_response == {"dataBase64": b64(data)}


async def test_fs_write_file_rejects_invalid_base64(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Data that is not base64 is refused with a message naming dataBase64."""
    file_path = codex_home / "blob.bin"
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    request_id = await mcp.send_request(
        "fs/writeFile", {"path": absolute_path(file_path), "dataBase64": "%%%"}
    )
    error = await mcp.read_stream_until_error_message(request_id, DEFAULT_READ_TIMEOUT)
    message = error["error"]["message"]
    assert message.startswith("fs/writeFile requires valid base64 dataBase64:"), (
        f"unexpected error message: {message}"
    )


async def test_fs_methods_reject_relative_paths(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Every fs/* method refuses a relative path with the reference's message."""
    absolute_file = codex_home / "absolute.txt"
    absolute_file.write_text("hello")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    requests: list[tuple[str, Json]] = [
        ("fs/readFile", {"path": "relative.txt"}),
        ("fs/writeFile", {"path": "relative.txt", "dataBase64": b64("hello")}),
        ("fs/createDirectory", {"path": "relative-dir", "recursive": None}),
        ("fs/getMetadata", {"path": "relative.txt"}),
        ("fs/readDirectory", {"path": "relative-dir"}),
        ("fs/remove", {"path": "relative.txt", "recursive": None, "force": None}),
        (
            "fs/copy",
            {
                "sourcePath": "relative.txt",
                "destinationPath": str(absolute_file),
                "recursive": False,
            },
        ),
        (
            "fs/copy",
            {
                "sourcePath": str(absolute_file),
                "destinationPath": "relative-copy.txt",
                "recursive": False,
            },
        ),
    ]
    for method, params in requests:
        request_id = await mcp.send_request(method, params)
        await expect_error_message(mcp, request_id, RELATIVE)


async def test_fs_copy_rejects_directory_without_recursive(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Copying a directory needs `recursive: true`."""
    source_dir = codex_home / "source"
    source_dir.mkdir(parents=True)
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    request_id = await mcp.send_request(
        "fs/copy",
        {
            "sourcePath": absolute_path(source_dir),
            "destinationPath": absolute_path(codex_home / "dest"),
            "recursive": False,
        },
    )
    await expect_error_message(
        mcp, request_id, "fs/copy requires recursive: true when sourcePath is a directory"
    )


async def test_fs_copy_rejects_copying_directory_into_descendant(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A directory cannot be copied into itself."""
    source_dir = codex_home / "source"
    (source_dir / "nested").mkdir(parents=True)
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    request_id = await mcp.send_request(
        "fs/copy",
        {
            "sourcePath": absolute_path(source_dir),
            "destinationPath": absolute_path(source_dir / "nested" / "copy"),
            "recursive": True,
        },
    )
    await expect_error_message(
        mcp, request_id, "fs/copy cannot copy a directory to itself or one of its descendants"
    )


async def test_fs_copy_preserves_symlinks_in_recursive_copy(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A symlink inside a copied tree is copied as the same link."""
    source_dir = codex_home / "source"
    nested_dir = source_dir / "nested"
    copied_dir = codex_home / "copied"
    nested_dir.mkdir(parents=True)
    os.symlink("nested", source_dir / "nested-link")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    await respond(
        mcp,
        "fs/copy",
        {
            "sourcePath": absolute_path(source_dir),
            "destinationPath": absolute_path(copied_dir),
            "recursive": True,
        },
    )
    copied_link = copied_dir / "nested-link"
    assert copied_link.is_symlink()
    assert os.readlink(copied_link) == "nested"


def mkfifo(path: Path) -> None:
    output = subprocess.run(["mkfifo", str(path)], capture_output=True)
    if output.returncode != 0:
        raise AssertionError(
            f"mkfifo failed: stdout={output.stdout.decode().strip()} "
            f"stderr={output.stderr.decode().strip()}"
        )


async def test_fs_copy_ignores_unknown_special_files_in_recursive_copy(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A FIFO inside a copied tree is skipped; the regular files are copied."""
    source_dir = codex_home / "source"
    copied_dir = codex_home / "copied"
    source_dir.mkdir(parents=True)
    (source_dir / "note.txt").write_text("hello")
    mkfifo(source_dir / "named-pipe")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    await respond(
        mcp,
        "fs/copy",
        {
            "sourcePath": absolute_path(source_dir),
            "destinationPath": absolute_path(copied_dir),
            "recursive": True,
        },
    )
    assert (copied_dir / "note.txt").read_text() == "hello"
    assert not (copied_dir / "named-pipe").exists()


async def test_fs_copy_rejects_standalone_fifo_source(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A FIFO as the copy source is refused."""
    fifo_path = codex_home / "named-pipe"
    mkfifo(fifo_path)
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    request_id = await mcp.send_request(
        "fs/copy",
        {
            "sourcePath": absolute_path(fifo_path),
            "destinationPath": absolute_path(codex_home / "copied"),
            "recursive": False,
        },
    )
    await expect_error_message(
        mcp, request_id, "fs/copy only supports regular files, directories, and symlinks"
    )


async def maybe_fs_changed_notification(mcp: AppServerProcess) -> Json | None:
    try:
        return await mcp.read_notification("fs/changed", DEFAULT_READ_TIMEOUT)
    except ReadTimeout:
        return None


def replace_file_atomically(path: Path, contents: str) -> None:
    temp_path = path.with_suffix(".lock")
    temp_path.write_text(contents)
    temp_path.rename(path)


async def test_fs_watch_directory_reports_changed_child_paths_and_unwatch_stops_notifications(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A watched directory reports its changed child; after fs/unwatch nothing more comes."""
    git_dir = codex_home / "repo" / ".git"
    fetch_head = git_dir / "FETCH_HEAD"
    git_dir.mkdir(parents=True)
    fetch_head.write_text("old\n")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    watch_id = "watch-git-dir"
    watch_response = await respond(
        mcp, "fs/watch", {"watchId": watch_id, "path": absolute_path(git_dir)}
    )
    assert watch_response["path"] == absolute_path(git_dir)

    fetch_head.write_text("updated\n")

    changed = await maybe_fs_changed_notification(mcp)
    if changed is not None:
        assert changed["watchId"] == watch_id
        assert changed["changedPaths"] == [absolute_path(fetch_head)]
    while True:
        try:
            await mcp.read_stream_until_notification_message("fs/changed", timeout=0.2)
        except ReadTimeout:
            break

    await respond(mcp, "fs/unwatch", {"watchId": watch_id})

    (git_dir / "packed-refs").write_text("refs\n")
    try:
        await mcp.read_stream_until_notification_message("fs/changed", timeout=1.5)
    except ReadTimeout:
        pass
    else:
        raise AssertionError("fs/unwatch should stop future change notifications")


async def test_fs_watch_file_reports_atomic_replace_events(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A watched file replaced by a rename is reported under its own path."""
    git_dir = codex_home / "repo" / ".git"
    head_path = git_dir / "HEAD"
    git_dir.mkdir(parents=True)
    head_path.write_text("ref: refs/heads/main\n")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    watch_id = "watch-head"
    watch_response = await respond(
        mcp, "fs/watch", {"watchId": watch_id, "path": absolute_path(head_path)}
    )
    assert watch_response["path"] == absolute_path(head_path)

    replace_file_atomically(head_path, "ref: refs/heads/feature\n")

    changed = await maybe_fs_changed_notification(mcp)
    if changed is not None:
        assert changed == {"watchId": watch_id, "changedPaths": [absolute_path(head_path)]}


async def test_fs_watch_allows_missing_file_targets(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A file that does not exist yet can be watched; its creation is reported."""
    git_dir = codex_home / "repo" / ".git"
    fetch_head = git_dir / "FETCH_HEAD"
    git_dir.mkdir(parents=True)
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    watch_id = "watch-fetch-head"
    watch_response = await respond(
        mcp, "fs/watch", {"watchId": watch_id, "path": absolute_path(fetch_head)}
    )
    assert watch_response["path"] == absolute_path(fetch_head)

    replace_file_atomically(fetch_head, "origin/main\n")

    changed = await maybe_fs_changed_notification(mcp)
    if changed is not None:
        assert changed == {"watchId": watch_id, "changedPaths": [absolute_path(fetch_head)]}


async def test_fs_watch_rejects_relative_paths(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """fs/watch refuses a relative path."""
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    request_id = await mcp.send_request(
        "fs/watch", {"watchId": "watch-relative", "path": "relative-path"}
    )
    await expect_error_message(mcp, request_id, RELATIVE)
