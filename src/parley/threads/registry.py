"""The server's threads: the one place that creates, loads, looks up, lists and closes them.

Thread ids from clients are parsed here (`parse_id`) and nowhere else. A thread is *loaded*
when it is in memory (started, resumed, read or forked in this process); a stored thread is a
rollout file under `CODEX_HOME`. Loading a stored thread rebuilds its turns and model history
from the file; the file stays the only record (the listing index is a cache of it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley import PROTOCOL_VERSION
from parley.agent.turn import ProviderSettings
from parley.rpc.errors import ClientError
from parley.threads import rollout
from parley.threads.ids import uuid7
from parley.threads.index import Cursor, InvalidCursor, ThreadIndex
from parley.threads.record import LoadedRollout, RolloutUnreadable, ThreadRecord, load_rollout
from parley.threads.runtime import ThreadInfo, ThreadRuntime, ThreadSettings
from parley.threads.store import (
    ThreadStore,
    ThreadSummary,
    is_interactive,
    mtime_of,
    parse_file_name,
    source_kind_matches,
    summarize,
)

if TYPE_CHECKING:
    from parley.config import Config

log = logging.getLogger(__name__)

LIST_DEFAULT_LIMIT = 25
LIST_MAX_LIMIT = 100
ORIGINATOR = "codex_vscode"


class ThreadNotFound(ClientError):
    pass


def parse_id(text: str) -> str:
    """A client-supplied thread id, normalised; a `ClientError` naming it when malformed."""
    candidate = text
    if candidate.lower().startswith("urn:uuid:"):
        candidate = candidate[len("urn:uuid:") :]
    if not rollout.is_uuid(candidate):
        raise ClientError(f"invalid thread id: `{text}` is not a UUID")
    import uuid

    return str(uuid.UUID(candidate))


@dataclass(frozen=True)
class ListQuery:
    archived: bool = False
    sort_key: str = "created_at"
    cursor: str | None = None
    limit: int | None = None
    model_providers: list[str] | None = None
    source_kinds: list[str] | None = None
    cwd: str | None = None
    search_term: str | None = None


class ThreadRegistry:
    def __init__(
        self,
        config: Config,
        provider: Callable[[], ProviderSettings],
        api_key: Callable[[], Any],
        on_loaded: Callable[[ThreadRuntime], None] | None = None,
    ) -> None:
        self.config = config
        # Called with each thread as it is created or loaded (the server attaches its tools).
        self._on_loaded = on_loaded
        self.store = ThreadStore(config.codex_home)
        self.index = ThreadIndex(self.store)
        self._provider = provider
        self._api_key = api_key
        self._threads: dict[str, ThreadRuntime] = {}

    # ---- lookup ------------------------------------------------------------------------
    def __iter__(self) -> Iterator[ThreadRuntime]:
        return iter(list(self._threads.values()))

    def loaded_ids(self) -> list[str]:
        return list(self._threads)

    def get(self, raw_id: str) -> ThreadRuntime | None:
        """The loaded thread with this id (None if not loaded)."""
        return self._threads.get(parse_id(raw_id))

    def loaded(self, raw_id: str) -> ThreadRuntime:
        """The loaded thread with this id, else `thread not found`."""
        thread = self.get(raw_id)
        if thread is None:
            raise ThreadNotFound(f"thread not found: {raw_id}")
        return thread

    # ---- creating ----------------------------------------------------------------------
    def create(
        self,
        settings: ThreadSettings,
        *,
        ephemeral: bool = False,
        extended: bool = False,
        forked_from: str | None = None,
        history: list[rollout.RolloutLine] | None = None,
        originator: str = ORIGINATOR,
        source: Any = "vscode",
        agent_nickname: str | None = None,
        agent_role: str | None = None,
    ) -> ThreadRuntime:
        """A new thread; its rollout file appears with its first turn (or at once for a fork,
        which starts with the history it copies). `source` and the agent names are a spawned
        sub-agent's (a rollout `SessionSource`)."""
        thread_id = uuid7()
        started = dt.datetime.now(tz=dt.UTC)
        info = ThreadInfo(
            id=thread_id,
            created_at=int(started.timestamp()),
            cwd=str(settings.cwd),
            model_provider=settings.model_provider,
            cli_version=PROTOCOL_VERSION,
            forked_from_id=forked_from,
            ephemeral=ephemeral,
            source=source,
            agent_nickname=agent_nickname,
            agent_role=agent_role,
        )
        path = None if ephemeral else self.store.path_for(thread_id, started)
        meta = rollout.SessionMeta(
            id=thread_id,
            timestamp=rollout.format_timestamp(started),
            cwd=str(settings.cwd),
            originator=originator or ORIGINATOR,
            cli_version=PROTOCOL_VERSION,
            source=source,
            model_provider=settings.model_provider,
            forked_from_id=forked_from,
            base_instructions=settings.base_instructions,
            agent_nickname=agent_nickname,
            agent_role=agent_role,
        )
        record = ThreadRecord(path, materialized=False, extended=extended)
        record.append(rollout.session_meta_line(meta))
        if history:
            record.append(*history)
            record.materialize()
            info.preview = _preview_of(history)
        thread = self._runtime(info, settings, record)
        self._threads[thread_id] = thread
        return thread

    def _runtime(
        self, info: ThreadInfo, settings: ThreadSettings, record: ThreadRecord
    ) -> ThreadRuntime:
        thread = ThreadRuntime(
            info=info,
            settings=settings,
            config=self.config,
            record=record,
            api_key=self._api_key,
        )
        if self._on_loaded is not None:
            self._on_loaded(thread)
        return thread

    # ---- loading -----------------------------------------------------------------------
    def find_rollout(self, raw_id: str) -> Path:
        """The rollout file of a stored thread, else `no rollout found for thread id …`."""
        thread_id = parse_id(raw_id)
        path = self.store.find(thread_id)
        if path is None:
            raise ThreadNotFound(f"no rollout found for thread id {thread_id}")
        return path

    def read_stored(self, path: Path) -> LoadedRollout:
        try:
            return load_rollout(path)
        except FileNotFoundError:
            raise ThreadNotFound(f"no rollout found at {path}") from None
        except (OSError, RolloutUnreadable) as exc:
            raise ClientError(f"failed to load rollout `{path}`: {exc}") from None

    def load(self, raw_id: str | None = None, *, path: Path | None = None) -> ThreadRuntime:
        """The thread, loading it from its rollout when it is not loaded yet."""
        if path is None:
            if raw_id is None:
                raise ClientError("Invalid request: either `threadId` or `path` is required")
            existing = self.get(raw_id)
            if existing is not None:
                return existing
            path = self.find_rollout(raw_id)
        stored = self.read_stored(path)
        existing = self._threads.get(stored.meta.id)
        if existing is not None:
            return existing
        thread = self._from_rollout(stored)
        self._threads[thread.id] = thread
        return thread

    def _from_rollout(self, stored: LoadedRollout) -> ThreadRuntime:
        meta = stored.meta
        config = self.config
        settings = self.settings_of(stored)
        created = rollout.parse_timestamp(meta.timestamp)
        info = ThreadInfo(
            id=meta.id,
            created_at=int(created.timestamp()) if created else 0,
            cwd=meta.cwd,
            model_provider=meta.model_provider or config.provider.id,
            cli_version=meta.cli_version,
            source=meta.source,
            forked_from_id=meta.forked_from_id,
            preview=stored.preview,
            name=self.store.name_of(meta.id),
            git=stored.git,
            agent_nickname=meta.agent_nickname,
            agent_role=meta.agent_role,
        )
        record = ThreadRecord(stored.path, materialized=True, lines=stored.lines)
        return self._runtime(info, settings, record)

    def settings_of(self, stored: LoadedRollout) -> ThreadSettings:
        """The settings a stored thread continues with (its latest `turn_context`)."""
        meta = stored.meta
        config = self.config
        ctx = stored.latest_turn_context or {}
        mode, network = rollout.sandbox_mode_of(ctx.get("sandbox_policy"))
        cwd = Path(str(ctx.get("cwd") or meta.cwd or os.getcwd()))
        approval = ctx.get("approval_policy")
        return ThreadSettings(
            model=str(ctx.get("model") or config.model),
            model_provider=config.provider.id,
            provider=self._provider(),
            cwd=cwd if cwd.is_dir() else Path.cwd(),
            sandbox_mode=mode or config.sandbox_mode,
            approval_policy=approval if isinstance(approval, str) else config.approval_policy,
            network_access=network or config.network_access,
            base_instructions=meta.base_instructions,
            developer_instructions=ctx.get("developer_instructions"),
        )

    # ---- resuming, forking, reading ----------------------------------------------------
    def _running(self, raw_id: str | None) -> ThreadRuntime | None:
        try:
            thread = self.get(raw_id) if raw_id else None
        except ClientError:
            return None  # a path may stand in for an unparsable id
        return thread if thread is not None and thread.is_running else None

    def resume(self, raw_id: str | None, path: Path | None) -> ThreadRuntime:
        """The thread to resume (loading it from its rollout if needed). A running thread is
        rejoined as it is, unless the path given is not its file; a thread whose rollout does
        not exist yet cannot be resumed."""
        running = self._running(raw_id)
        if running is not None and path is not None and running.path != path:
            raise ClientError(
                f"cannot resume running thread {running.id} with mismatched path: "
                f"requested `{path}`, active `{running.path}`"
            )
        if path is None and raw_id is not None:
            loaded = self.get(raw_id)
            if loaded is not None and not loaded.record.materialized:
                raise ThreadNotFound(f"no rollout found for thread id {loaded.id}")
        return self.load(raw_id if path is None else None, path=path)

    def resume_from_history(
        self, raw_id: str | None, items: list[dict[str, Any]], settings: ThreadSettings
    ) -> ThreadRuntime:
        """A new thread continuing from the given Responses items (refused while the thread
        named is running)."""
        running = self._running(raw_id)
        if running is not None:
            raise ClientError(f"cannot resume thread {running.id} with history while it is running")
        lines = [rollout.response_item_line(item) for item in items]
        for item in items:
            if item.get("type") == "message" and item.get("role") == "user":
                text = "".join(str(p.get("text", "")) for p in item.get("content") or [])
                lines.append(
                    rollout.event_line(
                        "user_message", message=text, local_images=[], text_elements=[]
                    )
                )
                break
        return self.create(settings, history=lines)

    def fork(
        self,
        raw_id: str | None,
        path: Path | None,
        settings_for: Callable[[ThreadSettings], ThreadSettings],
        *,
        ephemeral: bool,
        extended: bool,
        originator: str = ORIGINATOR,
    ) -> ThreadRuntime:
        """A new thread with a stored thread's history; `settings_for` turns the source's
        settings into the fork's."""
        if path is None:
            if raw_id is None:
                raise ClientError("Invalid request: either `threadId` or `path` is required")
            path = self.find_rollout(raw_id)
        stored = self.read_stored(path)
        source = self.get(stored.meta.id)
        base = source.settings if source is not None else self.settings_of(stored)
        history = [line for line in stored.lines if line.type != "session_meta"]
        if not ephemeral and rollout.ends_mid_turn(history):
            # As the reference: a fork of a thread caught mid-turn records it as interrupted.
            history += rollout.interrupted_boundary()
        return self.create(
            settings_for(base),
            ephemeral=ephemeral,
            extended=extended,
            forked_from=stored.meta.id,
            history=history,
            originator=originator,
        )

    def read(self, raw_id: str, include_turns: bool) -> dict[str, Any]:
        """The wire thread, loaded or stored (a stored one is not loaded by reading it)."""
        thread = self.get(raw_id)
        if thread is not None:
            if include_turns and not thread.record.materialized:
                raise ClientError(
                    f"thread {thread.id} is not materialized yet; "
                    "includeTurns is unavailable before first user message"
                )
            return thread.wire(include_turns=include_turns)
        path = self.find_rollout(raw_id)
        stored = self.read_stored(path)
        wire = self._stored_wire(stored)
        if include_turns:
            wire["turns"] = rollout.build_turns(stored.lines)
        return wire

    def _stored_wire(self, stored: LoadedRollout) -> dict[str, Any]:
        path = stored.path
        summary = summarize(path, self.store.is_archived(path))
        if summary is None:  # no user message yet: not listable, still readable
            parsed = parse_file_name(path.name)
            summary = ThreadSummary(
                id=stored.meta.id,
                path=path,
                created_at=parsed[0] if parsed else mtime_of(path),
                updated_at=mtime_of(path),
                meta=stored.meta,
                preview=stored.preview,
                archived=self.store.is_archived(path),
            )
        return summary.wire(self.store.name_of(stored.meta.id), {"type": "notLoaded"})

    def rollback(self, raw_id: str, num_turns: int) -> ThreadRuntime:
        if num_turns < 1:
            raise ClientError("Invalid request: `numTurns` must be >= 1")
        thread = self.load(raw_id)
        if thread.is_running:
            raise ClientError(f"cannot roll back thread {thread.id} while a turn is running")
        thread.record.rollback(num_turns)
        # The mode/personality text may have gone with those turns: the next turn adds it again.
        thread.agent_state.announced.clear()
        return thread

    def loaded_page(self, cursor: str | None, limit: int | None) -> tuple[list[str], str | None]:
        """Loaded thread ids in order, after `cursor` (the last id of the previous page)."""
        ids = sorted(self._threads)
        if cursor is not None:
            ids = [i for i in ids if i > cursor]
        if limit is not None and limit > 0 and len(ids) > limit:
            page = ids[:limit]
            return page, page[-1]
        return ids, None

    # ---- listing -----------------------------------------------------------------------
    def list(self, query: ListQuery) -> tuple[list[dict[str, Any]], str | None]:
        try:
            cursor = Cursor.parse(query.cursor) if query.cursor is not None else None
        except InvalidCursor:
            raise ClientError(f"invalid cursor: {query.cursor}") from None
        limit = min(max(query.limit or LIST_DEFAULT_LIMIT, 1), LIST_MAX_LIMIT)
        providers = query.model_providers
        if providers is None:
            providers = [self.config.provider.id]
        default_provider = self.config.provider.id
        kinds = query.source_kinds or None
        search = query.search_term

        def accept(summary: ThreadSummary) -> bool:
            meta = summary.meta
            if providers and (meta.model_provider or default_provider) not in providers:
                return False
            if kinds is None:
                if not is_interactive(meta.source):
                    return False
            elif not any(source_kind_matches(meta.source, kind) for kind in kinds):
                return False
            if query.cwd is not None and meta.cwd != query.cwd:
                return False
            return not (search and search not in summary.preview)

        summaries, next_cursor = self.index.page(
            archived=query.archived,
            sort_key=query.sort_key,
            cursor=cursor,
            limit=limit,
            accept=accept,
        )
        names = self.store.names()
        data = []
        for summary in summaries:
            live = self._threads.get(summary.id)
            status = dict(live.status) if live is not None else {"type": "notLoaded"}
            data.append(summary.wire(names.get(summary.id), status))
        return data, next_cursor.encode() if next_cursor else None

    # ---- names, archive ----------------------------------------------------------------
    def set_name(self, raw_id: str, name: str | None) -> str:
        """Name a loaded or stored thread; returns its id."""
        thread = self.get(raw_id)
        if thread is None:
            self.find_rollout(raw_id)  # a stored thread must exist
            thread_id = parse_id(raw_id)
        else:
            thread_id = thread.id
            thread.info.name = name
        self.store.set_name(thread_id, name or "")
        if thread is not None and thread.record.materialized:
            thread.record.append(
                rollout.event_line("thread_name_updated", thread_id=thread_id, thread_name=name)
            )
        elif thread is None:
            path = self.find_rollout(raw_id)
            rollout.RolloutWriter(path, materialized=True).append(
                [rollout.event_line("thread_name_updated", thread_id=thread_id, thread_name=name)]
            )
        return thread_id

    def archive(self, raw_id: str) -> str:
        thread_id = parse_id(raw_id)
        path = self.store.find_live(thread_id)
        if path is None:
            raise ThreadNotFound(f"no rollout found for thread id {thread_id}")
        target = self.store.archive(path)
        thread = self._threads.get(thread_id)
        if thread is not None:
            thread.record.moved_to(target)
        return thread_id

    def unarchive(self, raw_id: str) -> dict[str, Any]:
        """Move an archived thread's rollout back under sessions/; returns the wire thread."""
        thread_id = parse_id(raw_id)
        path = self.store.find_archived(thread_id)
        if path is None:
            raise ThreadNotFound(f"no archived rollout found for thread id {thread_id}")
        target = self.store.unarchive(path)
        thread = self._threads.get(thread_id)
        if thread is not None:
            thread.record.moved_to(target)
            return thread.wire()
        return self._stored_wire(self.read_stored(target))

    def update_git(self, raw_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Patch a thread's Git metadata (`None` clears a field); returns the wire thread."""

        def patched(git: dict[str, Any] | None) -> dict[str, Any] | None:
            merged = dict(git or {}) | fields
            merged = {k: v for k, v in merged.items() if v is not None}
            return merged or None

        thread = self.get(raw_id)
        if thread is not None:
            thread.info.git = patched(thread.info.git)
            thread.record.set_git(thread.info.git)
            return thread.wire()
        path = self.find_rollout(raw_id)
        stored = self.read_stored(path)
        record = ThreadRecord(path, materialized=True, lines=stored.lines)
        record.set_git(patched(stored.git))
        return self._stored_wire(self.read_stored(path))

    # ---- closing -----------------------------------------------------------------------
    async def close(self, thread: ThreadRuntime) -> None:
        """Unload a thread (its file stays)."""
        self._threads.pop(thread.id, None)
        await thread.close()

    async def close_all(self) -> None:
        for thread in list(self._threads.values()):
            with contextlib.suppress(Exception):
                await thread.close()
        self._threads.clear()


def _preview_of(lines: list[rollout.RolloutLine]) -> str:
    for line in lines:
        if line.event_type == "user_message":
            text = rollout.strip_user_message_prefix(str(line.payload.get("message", "")))
            if text:
                return text
    return ""
