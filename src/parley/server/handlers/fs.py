"""fs/readFile, fs/writeFile, fs/createDirectory, fs/getMetadata, fs/readDirectory, fs/remove,
fs/copy, fs/watch, fs/unwatch.

Paths must be absolute (checked before anything else, with the reference's message). File
operations run in a worker thread so a slow disk never stalls the connection; watches belong to
the connection that made them and end with it.
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.server.connection_state import ConnectionState
from parley.services import fs
from parley.services.fs_watch import ConnectionWatches

if TYPE_CHECKING:
    from parley.server.session import ClientSession

_WATCHES: ConnectionState[ConnectionWatches] = ConnectionState(
    ConnectionWatches, ConnectionWatches.close_all
)


async def fs_read_file(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.FsReadFileParams, raw)
    data = await asyncio.to_thread(fs.read_file, fs.absolute_path(params.path))
    return {"dataBase64": base64.b64encode(data).decode("ascii")}


async def fs_write_file(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.FsWriteFileParams, raw)
    path = fs.absolute_path(params.path)
    data = fs.decode_file_data(params.data_base64)
    await asyncio.to_thread(fs.write_file, path, data)
    return {}


async def fs_create_directory(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.FsCreateDirectoryParams, raw)
    path = fs.absolute_path(params.path)
    recursive = params.recursive if params.recursive is not None else True
    await asyncio.to_thread(fs.create_directory, path, recursive)
    return {}


async def fs_get_metadata(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.FsGetMetadataParams, raw)
    meta = await asyncio.to_thread(fs.get_metadata, fs.absolute_path(params.path))
    return {
        "isDirectory": meta.is_directory,
        "isFile": meta.is_file,
        "createdAtMs": meta.created_at_ms,
        "modifiedAtMs": meta.modified_at_ms,
    }


async def fs_read_directory(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.FsReadDirectoryParams, raw)
    entries = await asyncio.to_thread(fs.read_directory, fs.absolute_path(params.path))
    return {
        "entries": [
            {"fileName": e.file_name, "isDirectory": e.is_directory, "isFile": e.is_file}
            for e in entries
        ]
    }


async def fs_remove(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.FsRemoveParams, raw)
    path = fs.absolute_path(params.path)
    recursive = params.recursive if params.recursive is not None else True
    force = params.force if params.force is not None else True
    await asyncio.to_thread(fs.remove, path, recursive=recursive, force=force)
    return {}


async def fs_copy(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.FsCopyParams, raw)
    source = fs.absolute_path(params.source_path)
    destination = fs.absolute_path(params.destination_path)
    await asyncio.to_thread(fs.copy, source, destination, recursive=bool(params.recursive))
    return {}


async def fs_watch(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.FsWatchParams, raw)
    path = fs.absolute_path(params.path)
    watch_id = params.watch_id

    def notify(paths: list[str]) -> None:
        session.notify("fs/changed", {"watchId": watch_id, "changedPaths": paths})

    _WATCHES.get(session).add(watch_id, path, notify)
    return {"path": str(path)}


async def fs_unwatch(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.FsUnwatchParams, raw)
    _WATCHES.get(session).remove(params.watch_id)
    return {}
