"""fuzzyFileSearch and fuzzyFileSearch/sessionStart, sessionUpdate, sessionStop.

The one-shot search runs in a worker thread and answers with the best 50 matches; a second
search with the same `cancellationToken` cancels the first (which answers with what it found).
A session walks its roots once and reports `fuzzyFileSearch/sessionUpdated` and
`…/sessionCompleted` for each query; its reports cross from the worker threads to the event
loop here, and none is sent after `sessionStop` or for a query that was replaced meanwhile.
Sessions and cancellation tokens belong to the connection.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError
from parley.server.connection_state import ConnectionState
from parley.server.deferred import DeferredReply
from parley.services.fuzzy_search import SearchSession, search

if TYPE_CHECKING:
    from parley.server.session import ClientSession


@dataclass
class _LiveSession:
    search: SearchSession | None = None
    query: str = ""
    stopped: bool = False


@dataclass
class FuzzySearches:
    """One connection's searches: pending one-shot searches by token, sessions by id."""

    pending: dict[str, threading.Event] = field(default_factory=dict)
    sessions: dict[str, _LiveSession] = field(default_factory=dict)

    def stop(self, session_id: str) -> None:
        live = self.sessions.pop(session_id, None)
        if live is not None:
            live.stopped = True
            if live.search is not None:
                live.search.stop()

    def close(self) -> None:
        for event in self.pending.values():
            event.set()
        for session_id in list(self.sessions):
            self.stop(session_id)


_SEARCHES: ConnectionState[FuzzySearches] = ConnectionState(FuzzySearches, FuzzySearches.close)


async def fuzzy_file_search(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.FuzzyFileSearchParams, raw)
    searches = _SEARCHES.get(session)
    token = params.cancellation_token
    cancelled = threading.Event()
    if token is not None:
        previous = searches.pending.get(token)
        if previous is not None:
            previous.set()
        searches.pending[token] = cancelled

    async def run() -> dict[str, Any]:
        try:
            if not params.query or not params.roots:
                files: list[dict[str, Any]] = []
            else:
                files = await asyncio.to_thread(search, params.query, params.roots, cancelled)
        finally:
            if token is not None and searches.pending.get(token) is cancelled:
                del searches.pending[token]
        return {"files": files}

    # Answered from the background, so a later search with the same token can cancel this one.
    return DeferredReply(run())


async def fuzzy_session_start(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.FuzzyFileSearchSessionStartParams, raw)
    session_id = params.session_id
    if not session_id:
        raise ClientError("sessionId must not be empty")
    searches = _SEARCHES.get(session)
    searches.stop(session_id)
    live = _LiveSession()
    loop = asyncio.get_running_loop()

    def send_updated(query: str, files: list[dict[str, Any]]) -> None:
        if not live.stopped and query == live.query:
            session.notify(
                "fuzzyFileSearch/sessionUpdated",
                {"sessionId": session_id, "query": query, "files": files},
            )

    def send_completed(query: str) -> None:
        if not live.stopped and query == live.query:
            session.notify("fuzzyFileSearch/sessionCompleted", {"sessionId": session_id})

    live.search = SearchSession(
        params.roots,
        updated=lambda query, files: loop.call_soon_threadsafe(send_updated, query, files),
        completed=lambda query: loop.call_soon_threadsafe(send_completed, query),
    )
    searches.sessions[session_id] = live
    return {}


async def fuzzy_session_update(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.FuzzyFileSearchSessionUpdateParams, raw)
    live = _SEARCHES.get(session).sessions.get(params.session_id)
    if live is None or live.search is None:
        raise ClientError(f"fuzzy file search session not found: {params.session_id}")
    live.query = params.query
    live.search.update_query(params.query)
    return {}


async def fuzzy_session_stop(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.FuzzyFileSearchSessionStopParams, raw)
    _SEARCHES.get(session).stop(params.session_id)
    return {}
