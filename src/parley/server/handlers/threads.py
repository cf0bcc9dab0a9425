"""thread/* requests: typed params in, one call on the thread registry, the wire shape out.

The registry (`threads/registry.py`) owns the threads; these handlers only translate.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.config import Config
from parley.config.edit import Edit, apply_edits
from parley.config.layers import find_project_root, project_trust_key
from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError
from parley.server.handlers.agent_params import apply_thread_start_agent_params
from parley.server.handlers.wire import dump, enum_value
from parley.server.thread_config import request_overrides
from parley.threads.registry import ListQuery
from parley.threads.runtime import ThreadRuntime, ThreadSettings

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


# What a thread keeps of its own settings when it is loaded again (the rest comes from the
# configuration of its cwd, its trusted project `.codex/config.toml` included):
KEEP_ALL = "all"  # a thread already in memory keeps its model, sandbox and approval policy
KEEP_MODEL = "model"  # thread/resume from disk: its last model, unless the request picks one
KEEP_NOTHING = "nothing"  # thread/fork: the configuration decides, as for a new thread
_MODEL_CHOICES = ("model", "model_provider", "model_reasoning_effort")


def _remembered(
    base: ThreadSettings | None, keep: str, requested: dict[str, Any]
) -> dict[str, Any]:
    if base is None or keep == KEEP_NOTHING:
        return {}
    if keep == KEEP_MODEL:
        # As the reference: the stored model holds unless the request chooses a model, a
        # provider or an effort.
        return {} if any(key in requested for key in _MODEL_CHOICES) else {"model": base.model}
    return {
        "model": base.model,
        "sandbox_mode": base.sandbox_mode,
        "approval_policy": base.approval_policy,
    }


def _settings_from(
    session: ClientSession,
    params: Any,
    base: ThreadSettings | None = None,
    keep: str = KEEP_ALL,
) -> ThreadSettings:
    """Thread settings from start/resume/fork params over what `keep` says to keep of `base`,
    over the configuration of the thread's cwd (see `parley.server.thread_config`)."""
    server = session.server
    cwd = _resolve_cwd(params.cwd, base.cwd if base else Path.cwd())
    requested = request_overrides(params)
    config = server.thread_config(cwd, _remembered(base, keep, requested) | requested)
    return ThreadSettings(
        model=config.model,
        model_provider=config.provider.id,
        provider=server.provider_settings(config),
        cwd=cwd,
        sandbox_mode=config.sandbox_mode,
        # The request's choice is in `config`, within what requirements.toml allows.
        approval_policy=config.approval_policy,
        network_access=base.network_access if base and keep == KEEP_ALL else config.network_access,
        # An explicitly empty override means no system prompt at all (not the default one).
        # As the reference: the request, then `model_instructions_file`, then the thread's own.
        base_instructions=params.base_instructions
        if params.base_instructions is not None
        else (config.base_instructions or (base.base_instructions if base else None)),
        # The request, then the thread's own (its history carries them), then the config's.
        developer_instructions=params.developer_instructions
        or (base.developer_instructions if base else None)
        or config.developer_instructions,
        config=config,
        credential=lambda: server.credential(config.provider),
    )


def _announce_started(session: ClientSession, thread: ThreadRuntime) -> None:
    session.after_response(lambda: session.notify("thread/started", {"thread": thread.wire()}))


_ELEVATED_SANDBOXES = {"workspace-write", "danger-full-access"}


def _trust_project_for_elevated_sandbox(session: ClientSession, params: Any) -> None:
    """Starting a thread with a writable sandbox in a project with no trust decision marks the
    project (its repository root, else the cwd) trusted in the user `config.toml`; a project
    the user marked untrusted stays untrusted."""
    if params.cwd is None or enum_value(params.sandbox) not in _ELEVATED_SANDBOXES:
        return
    cwd = _resolve_cwd(params.cwd, Path.cwd())
    if session.server.thread_config(cwd, {}).trust_level is not None:
        return  # already trusted, or explicitly untrusted: the user's decision stands
    root = project_trust_key(find_project_root(cwd))
    edit = Edit("projects", {root: {"trust_level": "trusted"}}, "upsert")
    apply_edits(session.server.config.codex_home, [edit])


async def thread_start(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadStartParams, raw)
    _trust_project_for_elevated_sandbox(session, params)
    thread = session.server.threads.create(
        _settings_from(session, params),
        ephemeral=bool(params.ephemeral),
        extended=bool(params.persist_extended_history),
        originator=session.client_name,
    )
    apply_thread_start_agent_params(thread, params)
    await session.server.require_mcp_servers(thread)
    thread.subscribe(session)
    _announce_started(session, thread)
    return _thread_response(thread)


def _rollout_path(raw: str | None) -> Path | None:
    return Path(raw).expanduser() if raw else None


def _loaded(session: ClientSession, raw_id: str) -> ThreadRuntime | None:
    """The thread already in memory under `raw_id`, if any (an unparsable id: none)."""
    try:
        return session.server.threads.get(raw_id)
    except ClientError:
        return None


async def thread_resume(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadResumeParams, raw)
    registry = session.server.threads
    if params.history is not None:
        history = [dump(item) for item in params.history]
        thread = registry.resume_from_history(
            params.thread_id, history, _settings_from(session, params)
        )
    else:
        in_memory = _loaded(session, params.thread_id)
        thread = registry.resume(params.thread_id, _rollout_path(params.path))
        await session.server.require_mcp_servers(thread)
        if not thread.is_running:
            keep = KEEP_ALL if thread is in_memory else KEEP_MODEL
            thread.settings = _settings_from(session, params, thread.settings, keep)
    thread.subscribe(session)
    session.after_response(lambda: session.replay_pending_requests(thread.id))
    return _thread_response(thread, include_turns=True)


async def thread_fork(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadForkParams, raw)
    thread = session.server.threads.fork(
        params.thread_id,
        _rollout_path(params.path),
        lambda base: _settings_from(session, params, base, KEEP_NOTHING),
        ephemeral=bool(params.ephemeral),
        extended=bool(params.persist_extended_history),
        originator=session.client_name,
    )
    thread.subscribe(session)
    response = _thread_response(thread, include_turns=True)
    started = {"thread": response["thread"]}
    session.after_response(lambda: session.notify("thread/started", started))
    return response


async def thread_read(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadReadParams, raw)
    return {"thread": session.server.threads.read(params.thread_id, bool(params.include_turns))}


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
    thread = session.server.threads.unarchive(params.thread_id)
    session.after_response(
        lambda: session.server.broadcast("thread/unarchived", {"threadId": thread["id"]})
    )
    return {"thread": thread}


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
    ids, next_cursor = session.server.threads.loaded_page(params.cursor, params.limit)
    return {"data": ids, "nextCursor": next_cursor}


async def thread_rollback(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadRollbackParams, raw)
    thread = session.server.threads.rollback(params.thread_id, params.num_turns)
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
