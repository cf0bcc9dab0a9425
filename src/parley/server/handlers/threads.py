"""thread/start, resume, read and list: creating threads and reading them back."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley import PROTOCOL_VERSION
from parley.config import Config, ConfigError
from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError
from parley.server.thread_config import thread_config
from parley.threads.ids import parse_thread_id, uuid7
from parley.threads.runtime import PRIVATE_META, ThreadRuntime, ThreadSettings
from parley.threads.store import ThreadLog

if TYPE_CHECKING:
    from parley.server.session import ClientSession


SANDBOX_WIRE = {"read-only": "readOnly", "workspace-write": "workspaceWrite"}


def _sandbox_wire(mode: str, network: bool, cwd: Path, config: Config | None) -> dict[str, Any]:
    if mode == "danger-full-access":
        return {"type": "dangerFullAccess"}
    if mode == "workspace-write":
        extra = [str(root) for root in config.writable_roots] if config else []
        return {
            "type": "workspaceWrite",
            "writableRoots": [str(cwd), *[r for r in extra if r != str(cwd)]],
            "readOnlyAccess": {"type": "fullAccess"},
            "networkAccess": network,
            "excludeTmpdirEnvVar": bool(config and config.exclude_tmpdir_env_var),
            "excludeSlashTmp": bool(config and config.exclude_slash_tmp),
        }
    return {"type": "readOnly", "access": {"type": "fullAccess"}, "networkAccess": False}


def _thread_response(thread: ThreadRuntime, include_turns: bool = False) -> dict[str, Any]:
    s = thread.settings
    return {
        "thread": thread.wire(include_turns=include_turns),
        "model": s.model,
        "modelProvider": s.model_provider,
        "serviceTier": s.config.service_tier if s.config else None,
        "cwd": str(s.cwd),
        "approvalPolicy": s.approval_policy,
        "approvalsReviewer": "user",
        "sandbox": _sandbox_wire(s.sandbox_mode, s.network_access, s.cwd, s.config),
        "reasoningEffort": s.config.reasoning_effort if s.config else None,
    }


def _settings_from(session: ClientSession, params: Any) -> ThreadSettings:
    cwd_raw = getattr(params, "cwd", None)
    cwd = Path(cwd_raw).expanduser() if cwd_raw else Path.cwd()
    if not cwd.is_absolute():
        cwd = (Path.cwd() / cwd).resolve()
    if not cwd.is_dir():
        raise ClientError(f"Invalid request: `cwd` {cwd} is not a directory")
    config = thread_config(session.server, params, cwd)
    return ThreadSettings(
        model=config.model,
        model_provider=config.provider.id,
        provider=session.server.provider_settings(config),
        cwd=cwd,
        sandbox_mode=config.sandbox_mode,
        approval_policy=config.approval_policy,
        network_access=config.network_access,
        base_instructions=getattr(params, "base_instructions", None),
        developer_instructions=getattr(params, "developer_instructions", None),
        config=config,
    )


async def thread_start(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadStartParams, raw)
    server = session.server
    settings = _settings_from(session, params)
    thread_id = uuid7()
    now = int(time.time())
    ephemeral = bool(getattr(params, "ephemeral", None))
    path = server.store.path_for(thread_id, now)
    meta = {
        "id": thread_id,
        "forkedFromId": None,
        "preview": "",
        "ephemeral": ephemeral,
        "modelProvider": settings.model_provider,
        "createdAt": now,
        "updatedAt": now,
        "path": None if ephemeral else str(path),
        "cwd": str(settings.cwd),
        "cliVersion": PROTOCOL_VERSION,
        "source": "vscode",
        "agentNickname": None,
        "agentRole": None,
        "gitInfo": None,
        "name": None,
        "model": settings.model,
        "sandboxMode": settings.sandbox_mode,
        "approvalPolicy": settings.approval_policy,
    }
    log_ = None if ephemeral else server.store.create(meta)
    thread = ThreadRuntime(
        meta=meta,
        settings=settings,
        config=server.config,
        log_=log_,
        api_key=lambda: server.credential(settings.config.provider if settings.config else None),
    )
    server.threads[thread_id] = thread
    thread.subscribe(session)
    session.after_response(
        lambda: session.notify("thread/started", {"thread": thread.wire()}),
    )
    return _thread_response(thread)


def _load_thread(session: ClientSession, raw_id: str) -> ThreadRuntime:
    server = session.server
    try:
        thread_id = parse_thread_id(raw_id)
    except ValueError as exc:
        raise ClientError(f"invalid thread id: {exc}") from None
    existing = server.threads.get(thread_id)
    if existing is not None:
        return existing
    path = server.store.find(thread_id)
    stored = server.store.load(path) if path else None
    if stored is None:
        raise ClientError(f"thread not found: {raw_id}")

    meta = stored.meta
    cwd = Path(meta.get("cwd") or os.getcwd())
    cwd = cwd if cwd.is_dir() else Path.cwd()
    remembered = {
        "model": meta.get("model"),
        "sandbox_mode": meta.get("sandboxMode"),
        "approval_policy": meta.get("approvalPolicy"),
    }
    try:
        config = server.load_config(cwd=cwd, request=remembered)
    except ConfigError:
        config = server.config  # reading a thread back must work with a broken config file
    settings = ThreadSettings(
        model=config.model,
        model_provider=config.provider.id,
        provider=server.provider_settings(config),
        cwd=cwd,
        sandbox_mode=config.sandbox_mode,
        approval_policy=config.approval_policy,
        network_access=config.network_access,
        config=config,
    )
    thread = ThreadRuntime(
        meta=meta,
        settings=settings,
        config=config,
        log_=ThreadLog(stored.path),
        api_key=lambda: server.credential(config.provider),
        history=stored.history,
        turns=stored.turns,
    )
    server.threads[thread.id] = thread
    return thread


async def thread_resume(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadResumeParams, raw)
    thread = _load_thread(session, params.thread_id)
    thread.subscribe(session)
    return _thread_response(thread, include_turns=True)


async def thread_read(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadReadParams, raw)
    thread = _load_thread(session, params.thread_id)
    include = bool(getattr(params, "include_turns", False))
    return {"thread": thread.wire(include_turns=include)}


async def thread_list(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadListParams, raw)
    server = session.server
    limit = getattr(params, "limit", None) or 50
    cursor = getattr(params, "cursor", None)
    archived = bool(getattr(params, "archived", None))
    start = int(cursor) if cursor and str(cursor).isdigit() else 0
    data: list[dict[str, Any]] = []
    listed = 0
    more = False
    for path in server.store.all_paths():
        stored = server.store.load(path)
        if stored is None or not stored.turns:
            continue  # as the reference: a thread shows up once it has had a turn
        if bool(stored.meta.get("archived")) != archived:
            continue
        listed += 1
        if listed <= start:
            continue
        if len(data) == limit:
            more = True
            break
        live = server.threads.get(stored.meta["id"])
        if live is not None:
            data.append(live.wire())
            continue
        wire = {k: v for k, v in stored.meta.items() if k not in PRIVATE_META}
        data.append(wire | {"status": {"type": "notLoaded"}, "turns": [], "sessionId": wire["id"]})
    next_cursor = str(start + limit) if more else None
    return {"data": data, "nextCursor": next_cursor}


async def thread_name_set(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadSetNameParams, raw)
    thread = _load_thread(session, params.thread_id)
    name = params.name.strip() or None
    thread.update_meta({"name": name})
    session.after_response(
        lambda: _tell(session, thread, "thread/name/updated", {"threadName": name})
    )
    return {}


async def thread_archive(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadArchiveParams, raw)
    thread = _load_thread(session, params.thread_id)
    thread.update_meta({"archived": True})
    session.after_response(lambda: _tell(session, thread, "thread/archived", {}))
    return {}


async def thread_unarchive(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadUnarchiveParams, raw)
    thread = _load_thread(session, params.thread_id)
    thread.update_meta({"archived": False})
    session.after_response(lambda: _tell(session, thread, "thread/unarchived", {}))
    return {"thread": thread.wire()}


async def thread_unsubscribe(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadUnsubscribeParams, raw)
    try:
        thread_id = parse_thread_id(params.thread_id)
    except ValueError as exc:
        raise ClientError(f"invalid thread id: {exc}") from None
    thread = session.server.threads.get(thread_id)
    if thread is None:
        return {"status": "notLoaded"}
    if session not in thread.subscribers:
        return {"status": "notSubscribed"}
    thread.unsubscribe(session)
    return {"status": "unsubscribed"}


async def thread_loaded_list(session: ClientSession, raw: Any) -> Any:
    parse_params(m.ThreadLoadedListParams, raw)
    return {"data": list(session.server.threads), "nextCursor": None}


def _tell(
    session: ClientSession, thread: ThreadRuntime, method: str, extra: dict[str, Any]
) -> None:
    """Notify the asking client and every other client on the thread, once each."""
    params = {"threadId": thread.id, **extra}
    if session not in thread.subscribers:
        session.notify(method, params)
    thread.emit_to_clients(method, params)
