"""thread/* requests: typed params in, one call on the thread registry, the wire shape out.

The registry (`threads/registry.py`) owns the threads; these handlers only translate.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.config import Config
from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError
from parley.server.handlers.wire import enum_value
from parley.server.thread_config import request_overrides
from parley.threads import rollout
from parley.threads.registry import ListQuery, ThreadNotFound
from parley.threads.runtime import ThreadRuntime, ThreadSettings
from parley.threads.store import summarize

if TYPE_CHECKING:
    from parley.server.session import ClientSession


def _sandbox_wire(mode: str, network: bool, cwd: Path, config: Config | None) -> dict[str, Any]:
    if mode == "danger-full-access":
        return {"type": "dangerFullAccess"}
    if mode == "workspace-write":
        extra = [str(root) for root in config.writable_roots] if config else []
        return {
            "type": "workspaceWrite",
            "writableRoots": [str(cwd), *[root for root in extra if root != str(cwd)]],
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


def _resolve_cwd(raw: str | None, default: Path) -> Path:
    if not raw:
        return default
    cwd = Path(raw).expanduser()
    if not cwd.is_absolute():
        cwd = (Path.cwd() / cwd).resolve()
    if not cwd.is_dir():
        raise ClientError(f"Invalid request: `cwd` {cwd} is not a directory")
    return cwd


def _settings_from(
    session: ClientSession, params: Any, base: ThreadSettings | None = None
) -> ThreadSettings:
    """Thread settings from start/resume/fork params over `base` (else the configuration of
    the thread's cwd, see `parley.server.thread_config`)."""
    server = session.server
    cwd = _resolve_cwd(params.cwd, base.cwd if base else Path.cwd())
    remembered = (
        {
            "model": base.model,
            "sandbox_mode": base.sandbox_mode,
            "approval_policy": base.approval_policy,
        }
        if base
        else {}
    )
    config = server.thread_config(cwd, remembered | request_overrides(params))
    return ThreadSettings(
        model=config.model,
        model_provider=config.provider.id,
        provider=server.provider_settings(config),
        cwd=cwd,
        sandbox_mode=config.sandbox_mode,
        approval_policy=enum_value(params.approval_policy) or config.approval_policy,
        network_access=config.network_access,
        base_instructions=params.base_instructions or (base.base_instructions if base else None),
        developer_instructions=params.developer_instructions
        or (base.developer_instructions if base else None),
        config=config,
        credential=lambda: server.credential(config.provider),
    )


def _announce_started(session: ClientSession, thread: ThreadRuntime) -> None:
    session.after_response(lambda: session.notify("thread/started", {"thread": thread.wire()}))


async def thread_start(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadStartParams, raw)
    thread = session.server.threads.create(
        _settings_from(session, params),
        ephemeral=bool(params.ephemeral),
        extended=bool(params.persist_extended_history),
    )
    thread.subscribe(session)
    _announce_started(session, thread)
    return _thread_response(thread)


def _rollout_path(raw: str | None) -> Path | None:
    return Path(raw).expanduser() if raw else None


async def thread_resume(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadResumeParams, raw)
    registry = session.server.threads
    path = _rollout_path(params.path)
    running = _loaded_or_none(session, params.thread_id)
    if running is not None and not running.is_running:
        running = None
    if params.history is not None:
        if running is not None:
            raise ClientError(f"cannot resume thread {running.id} with history while it is running")
        return _resume_from_history(session, params)
    if running is not None and path is not None and running.path != path:
        raise ClientError(
            f"cannot resume running thread {running.id} with mismatched path: "
            f"requested `{path}`, active `{running.path}`"
        )
    if path is None:
        loaded = registry.get(params.thread_id)
        if loaded is not None and not loaded.record.materialized:
            raise ThreadNotFound(f"no rollout found for thread id {loaded.id}")
    thread = registry.load(params.thread_id if path is None else None, path=path)
    if not thread.is_running:
        thread.settings = _settings_from(session, params, thread.settings)
    thread.subscribe(session)
    session.after_response(lambda: session.replay_pending_requests(thread.id))
    return _thread_response(thread, include_turns=True)


def _resume_from_history(session: ClientSession, params: Any) -> Any:
    """`history` given: a new thread that continues from those Responses items."""
    items = [
        item.model_dump(by_alias=True, exclude_none=True, mode="json") for item in params.history
    ]
    lines = [rollout.response_item_line(item) for item in items]
    for item in items:
        if item.get("type") == "message" and item.get("role") == "user":
            text = "".join(str(p.get("text", "")) for p in item.get("content") or [])
            lines.append(
                rollout.event_line("user_message", message=text, local_images=[], text_elements=[])
            )
            break
    thread = session.server.threads.create(_settings_from(session, params), history=lines)
    thread.subscribe(session)
    return _thread_response(thread, include_turns=True)


def _loaded_or_none(session: ClientSession, raw_id: str) -> ThreadRuntime | None:
    try:
        return session.server.threads.get(raw_id)
    except ClientError:
        return None


async def thread_fork(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadForkParams, raw)
    registry = session.server.threads
    path = _rollout_path(params.path) or registry.find_rollout(params.thread_id)
    stored = registry.read_stored(path)
    source = registry.get(stored.meta.id)
    base = source.settings if source is not None else registry.settings_of(stored)
    history = [line for line in stored.lines if line.type != "session_meta"]
    ephemeral = bool(params.ephemeral)
    if not ephemeral and rollout.ends_mid_turn(history):
        # As the reference: a fork of a thread caught mid-turn records that turn as interrupted.
        history += rollout.interrupted_boundary()
    thread = registry.create(
        _settings_from(session, params, base),
        ephemeral=ephemeral,
        extended=bool(params.persist_extended_history),
        forked_from=stored.meta.id,
        history=history,
    )
    thread.subscribe(session)
    response = _thread_response(thread, include_turns=True)
    started = {"thread": response["thread"]}
    session.after_response(lambda: session.notify("thread/started", started))
    return response


async def thread_read(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadReadParams, raw)
    registry = session.server.threads
    include = bool(params.include_turns)
    thread = registry.get(params.thread_id)
    if thread is not None:
        if include and not thread.record.materialized:
            raise ClientError(
                f"thread {thread.id} is not materialized yet; "
                "includeTurns is unavailable before first user message"
            )
        return {"thread": thread.wire(include_turns=include)}
    path = registry.find_rollout(params.thread_id)
    stored = registry.read_stored(path)
    summary = summarize(path, registry.store.is_archived(path))
    name = registry.store.name_of(stored.meta.id)
    if summary is not None:
        wire = summary.wire(name, {"type": "notLoaded"})
    else:
        wire = _unlisted_wire(stored, path, name)
    if include:
        wire["turns"] = rollout.build_turns(stored.lines)
    return {"thread": wire}


def _unlisted_wire(stored: Any, path: Path, name: str | None) -> dict[str, Any]:
    from parley.threads.store import ThreadSummary, mtime_of, parse_file_name

    parsed = parse_file_name(path.name)
    created = parsed[0] if parsed else mtime_of(path)
    summary = ThreadSummary(
        id=stored.meta.id,
        path=path,
        created_at=created,
        updated_at=mtime_of(path),
        meta=stored.meta,
        preview=stored.preview,
        archived=False,
    )
    return summary.wire(name, {"type": "notLoaded"})


async def thread_list(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadListParams, raw)
    query = ListQuery(
        archived=bool(params.archived),
        sort_key=enum_value(params.sort_key) or "created_at",
        cursor=params.cursor,
        limit=params.limit,
        model_providers=params.model_providers,
        source_kinds=[k for k in (enum_value(s) for s in params.source_kinds or []) if k]
        if params.source_kinds is not None
        else None,
        cwd=params.cwd,
        search_term=params.search_term,
    )
    data, next_cursor = session.server.threads.list(query)
    return {"data": data, "nextCursor": next_cursor}


async def thread_name_set(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadSetNameParams, raw)
    name = params.name.strip() or None
    thread_id = session.server.threads.set_name(params.thread_id, name)
    session.server.broadcast("thread/name/updated", {"threadId": thread_id, "threadName": name})
    return {}


async def thread_archive(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadArchiveParams, raw)
    registry = session.server.threads
    thread = registry.get(params.thread_id)
    thread_id = registry.archive(params.thread_id)
    if thread is not None:
        await _unload(session, thread, notify_closed=True)
    session.after_response(
        lambda: session.server.broadcast("thread/archived", {"threadId": thread_id})
    )
    return {}


async def thread_unarchive(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadUnarchiveParams, raw)
    registry = session.server.threads
    path = registry.unarchive(params.thread_id)
    summary = summarize(path, archived=False)
    if summary is None:
        raise ThreadNotFound(f"rollout at {path} is not a listable thread")
    wire = summary.wire(registry.store.name_of(summary.id), {"type": "notLoaded"})
    session.after_response(
        lambda: session.server.broadcast("thread/unarchived", {"threadId": summary.id})
    )
    return {"thread": wire}


async def _unload(session: ClientSession, thread: ThreadRuntime, *, notify_closed: bool) -> None:
    """Unload a thread: interrupt its turn, tell its subscribers it closed."""
    peers = list(thread.subscribers)
    await session.server.threads.close(thread)
    if notify_closed:
        for peer in peers:
            peer.notify("thread/closed", {"threadId": thread.id})
            peer.notify(
                "thread/status/changed",
                {"threadId": thread.id, "status": {"type": "notLoaded"}},
            )


async def thread_unsubscribe(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadUnsubscribeParams, raw)
    thread = session.server.threads.get(params.thread_id)
    if thread is None:
        return {"status": "notLoaded"}
    if session not in thread.subscribers:
        return {"status": "notSubscribed"}
    thread.unsubscribe(session)
    if not thread.subscribers:
        await session.server.threads.close(thread)
        session.after_response(lambda: _tell_closed(session, thread.id))
    return {"status": "unsubscribed"}


def _tell_closed(session: ClientSession, thread_id: str) -> None:
    session.notify("thread/closed", {"threadId": thread_id})
    session.notify(
        "thread/status/changed", {"threadId": thread_id, "status": {"type": "notLoaded"}}
    )


async def thread_loaded_list(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadLoadedListParams, raw)
    ids = sorted(session.server.threads.loaded_ids())
    if params.cursor is not None:
        ids = [i for i in ids if i > params.cursor]
    limit = params.limit
    if limit is not None and limit > 0 and len(ids) > limit:
        page = ids[:limit]
        return {"data": page, "nextCursor": page[-1]}
    return {"data": ids, "nextCursor": None}


async def thread_rollback(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadRollbackParams, raw)
    if params.num_turns < 1:
        raise ClientError("Invalid request: `numTurns` must be >= 1")
    thread = session.server.threads.load(params.thread_id)
    if thread.is_running:
        raise ClientError(f"cannot roll back thread {thread.id} while a turn is running")
    thread.record.rollback(params.num_turns)
    return {"thread": thread.wire(include_turns=True)}


GIT_FIELDS = (("sha", "commit_hash"), ("branch", "branch"), ("origin_url", "repository_url"))


async def thread_metadata_update(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadMetadataUpdateParams, raw)
    patch = params.git_info
    if patch is None:
        raise ClientError("Invalid request: `gitInfo` is required")
    fields = {
        wire: getattr(patch, name)
        for name, wire in (
            ("sha", "commit_hash"),
            ("branch", "branch"),
            ("origin_url", "repository_url"),
        )
        if name in patch.model_fields_set
    }
    if not fields:
        raise ClientError("gitInfo must include at least one field")
    for key, value in fields.items():
        if isinstance(value, str) and not value.strip():
            raise ClientError(f"gitInfo.{key} must not be empty")
    thread = session.server.threads.update_git(params.thread_id, fields)
    return {"thread": thread}
