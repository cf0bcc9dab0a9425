"""A live thread: its settings, history, the one running turn, subscribers and realtime session.

The thread is where agent turns and the realtime bridge meet: every notification of the thread
goes to the connections subscribed to it and then to the realtime conversation (which turns
agent messages into progress and final outputs upstream). Turn lifecycle:

    idle --start--> running --(completed | failed | interrupted)--> idle

(the table is `turn_state.py`). One turn runs at a time; `turn/steer` and realtime calls made
while it runs become steering input for it. Everything the thread records goes to its rollout
(`record.py`) as it happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from parley.agent.extensions import TurnExtension
from parley.agent.turn import (
    AgentSessionState,
    ProviderSettings,
    TurnResult,
    TurnSettings,
    run_turn,
)
from parley.config.turn_options import turn_options
from parley.rpc.errors import ClientError
from parley.threads import rollout
from parley.threads.git import collect_git_info
from parley.threads.ids import uuid7
from parley.threads.record import ThreadRecord
from parley.threads.store import git_to_wire, source_to_wire
from parley.threads.turn_state import TurnEvent, TurnLifecycle, TurnPhase

if TYPE_CHECKING:
    from parley.config import Config
    from parley.realtime.session import RealtimeConversation

log = logging.getLogger(__name__)

REALTIME_ACTIVE_CONTEXT = (
    "<realtime_conversation>\n"
    "A realtime voice conversation is active on this thread. You are the background agent "
    "behind a voice assistant: requests reach you through it, often as speech transcripts "
    "without punctuation. Do the work, then answer briefly and plainly; your final message is "
    "read aloud to the user.\n"
    "</realtime_conversation>"
)
REALTIME_ENDED_CONTEXT = (
    "<realtime_conversation>\n"
    "The realtime voice conversation on this thread has ended. Resume normal typed chat.\n"
    "Reason: inactive\n"
    "</realtime_conversation>"
)


@dataclass
class ThreadInfo:
    """What a thread is, beyond its settings: the fields of the wire `Thread` object."""

    id: str
    created_at: int
    cwd: str
    model_provider: str
    cli_version: str
    source: Any = "vscode"  # a rollout `SessionSource`
    forked_from_id: str | None = None
    preview: str = ""
    ephemeral: bool = False
    name: str | None = None
    git: dict[str, Any] | None = None
    agent_nickname: str | None = None
    agent_role: str | None = None


class ClientPeer(Protocol):
    """A connection subscribed to a thread."""

    @property
    def client_name(self) -> str: ...

    @property
    def user_agent(self) -> str: ...

    def notify(self, method: str, params: dict[str, Any]) -> None: ...

    async def request(self, method: str, params: dict[str, Any]) -> Any: ...


@dataclass
class ThreadSettings:
    model: str
    model_provider: str
    provider: ProviderSettings
    cwd: Path
    sandbox_mode: str
    approval_policy: str
    network_access: bool = False
    base_instructions: str | None = None
    developer_instructions: str | None = None
    # The thread's effective configuration (request fields, roots, notify for each turn) and
    # the credential its provider gets; None: the server's.
    config: Config | None = None
    credential: Callable[[], str | None] | None = None


@dataclass
class ActiveTurn:
    id: str
    origin: str  # "client" | "realtime"
    started_at: int
    started_monotonic: float = field(default_factory=time.monotonic)
    steering: list[list[dict[str, Any]]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    interrupted: bool = False
    # `responsesapiClientMetadata` of turn/start, replaced by a turn/steer that carries one.
    client_metadata: dict[str, str] = field(default_factory=dict)


def _now() -> int:
    return int(time.time())


def text_of(user_input: list[dict[str, Any]]) -> str:
    """The concatenated text parts of a UserInput list."""
    return "".join(str(part.get("text", "")) for part in user_input if part.get("type") == "text")


class ThreadRuntime:
    def __init__(
        self,
        *,
        info: ThreadInfo,
        settings: ThreadSettings,
        config: Config,
        record: ThreadRecord,
        api_key: Any,
    ) -> None:
        self.id: str = info.id
        self.info = info
        self.settings = settings
        self.config = config
        self.record = record
        self._api_key = api_key  # a callable returning the current key
        self.subscribers: list[ClientPeer] = []
        self.status: dict[str, Any] = {"type": "idle"}
        # The newest turn (running, or interrupted and winding down) and the thread's phase.
        self.active: ActiveTurn | None = None
        self.lifecycle = TurnLifecycle()
        self.realtime: RealtimeConversation | None = None
        self._realtime_ended_pending = False
        # The context messages last recorded in the rollout by this process (None: none yet).
        self.recorded_context: list[dict[str, Any]] | None = None
        # Delegated turns are numbered on from the ones this thread already had.
        self._auto_turns = sum(
            1 for t in record.builder.snapshot() if str(t["id"]).startswith("auto-compact-")
        )
        # Token totals and session-wide approvals carry over from turn to turn.
        self.agent_state = AgentSessionState()
        # Tools from outside the agent (MCP servers, skills), attached by the server.
        self.extensions: list[TurnExtension] = []
        self._tasks: set[asyncio.Task[None]] = set()
        # Record commands and errors in the rollout too (`persistExtendedHistory`).
        self.persist_extended = record.extended

    # ---- wire objects ------------------------------------------------------------------
    @property
    def cwd(self) -> Path:
        return self.settings.cwd

    @property
    def history(self) -> list[dict[str, Any]]:
        """The model-visible history (Responses input items) the next turn continues from."""
        return self.record.history

    @property
    def path(self) -> Path | None:
        return self.record.path

    def turns(self) -> list[dict[str, Any]]:
        """The thread's turns as the rollout rebuilds them (the running one last). A turn the
        file leaves open while nothing runs here ended without a word: it was interrupted."""
        turns = self.record.builder.snapshot()
        if not self.is_running:
            for turn in turns:
                if turn["status"] == "inProgress":
                    turn["status"] = "interrupted"
        return turns

    def wire(self, include_turns: bool = False) -> dict[str, Any]:
        info = self.info
        path = self.record.path
        return {
            "id": info.id,
            "forkedFromId": info.forked_from_id,
            "preview": info.preview,
            "ephemeral": info.ephemeral,
            "modelProvider": info.model_provider,
            "createdAt": info.created_at,
            "updatedAt": self.record.updated_at(info.created_at),
            "status": dict(self.status),
            "path": str(path) if path is not None else None,
            "cwd": info.cwd,
            "cliVersion": info.cli_version,
            "source": source_to_wire(info.source),
            "agentNickname": info.agent_nickname,
            "agentRole": info.agent_role,
            "gitInfo": git_to_wire(info.git),
            "name": info.name,
            "turns": self.turns() if include_turns else [],
            "sessionId": self.id,
        }

    @property
    def is_running(self) -> bool:
        return self.lifecycle.phase is TurnPhase.RUNNING

    @property
    def is_idle(self) -> bool:
        return self.lifecycle.phase is TurnPhase.IDLE

    # ---- fan-out -----------------------------------------------------------------------
    def subscribe(self, peer: ClientPeer) -> None:
        if peer not in self.subscribers:
            self.subscribers.append(peer)

    def unsubscribe(self, peer: ClientPeer) -> None:
        if peer in self.subscribers:
            self.subscribers.remove(peer)

    def emit_to_clients(self, method: str, params: dict[str, Any]) -> None:
        for peer in list(self.subscribers):
            peer.notify(method, params)

    def emit(self, method: str, params: dict[str, Any]) -> None:
        """Notify subscribers, then let the realtime conversation react."""
        self.emit_to_clients(method, params)
        if self.realtime is not None:
            try:
                self.realtime.on_thread_event(method, params)
            except Exception:
                log.exception("realtime bridge failed on %s", method)

    def set_status(self, status: dict[str, Any]) -> None:
        """Change the thread's status and announce it, only when it really changes."""
        if status == self.status:
            return
        self.status = status
        self.emit("thread/status/changed", {"threadId": self.id, "status": dict(status)})

    async def request_client(self, method: str, params: dict[str, Any]) -> Any:
        """Ask the thread's clients in turn until one answers (one may have just gone away)."""
        for peer in list(self.subscribers):
            try:
                return await peer.request(method, params)
            except ConnectionError:
                continue
        raise ConnectionError("no client is connected to answer the request")

    def remember_settings(self) -> None:
        """Settings changed by `turn/start` are recorded with that turn's `turn_context`."""

    def _turn_context(self, turn_id: str) -> rollout.RolloutLine:
        s = self.settings
        options = self.agent_state.options
        mode = options.collaboration_mode
        config = s.config or self.config
        configured = turn_options(config, s.model) if config is not None else None
        return rollout.turn_context_line(
            rollout.TurnContext(
                turn_id=turn_id,
                cwd=str(s.cwd),
                approval_policy=s.approval_policy,
                sandbox_mode=s.sandbox_mode,
                network_access=s.network_access,
                model=s.model,
                developer_instructions=s.developer_instructions,
                realtime_active=self.realtime is not None and self.realtime.is_running,
                personality=options.personality
                or (configured.personality if configured is not None else None),
                collaboration_mode={
                    "mode": mode.mode if mode is not None else "default",
                    "settings": {
                        "model": options.model(s.model),
                        "reasoning_effort": options.reasoning_effort(),
                        "developer_instructions": mode.developer_instructions
                        if mode is not None
                        else None,
                    },
                },
            )
        )

    # ---- turns -------------------------------------------------------------------------
    def originator(self) -> tuple[str, str]:
        for peer in self.subscribers:
            return peer.client_name, peer.user_agent
        return "parley", "parley"

    def _turn_settings(self) -> TurnSettings:
        s = self.settings
        developer: list[str] = []
        if s.developer_instructions:
            developer.append(s.developer_instructions)
        if self.realtime is not None and self.realtime.is_running:
            developer.append(self.config.realtime.start_instructions or REALTIME_ACTIVE_CONTEXT)
        elif self._realtime_ended_pending:
            developer.append(REALTIME_ENDED_CONTEXT)
            self._realtime_ended_pending = False
        name, agent = self.originator()
        return TurnSettings(
            model=s.model,
            provider=s.provider,
            api_key=s.credential() if s.credential is not None else self._api_key(),
            cwd=s.cwd,
            sandbox_mode=s.sandbox_mode,
            approval_policy=s.approval_policy,
            network_access=s.network_access,
            base_instructions=s.base_instructions,
            developer_context=tuple(developer),
            originator=name,
            user_agent=agent,
            **self._command_settings(),
        )

    def _command_settings(self) -> dict[str, Any]:
        """The config that shapes the agent's commands (none in unit tests without a config)."""
        # The thread's own configuration (its cwd's project layers, its request), else the
        # server's.
        config = self.settings.config or self.config
        if config is None:
            return {}
        return {
            "shell_environment": config.shell_environment_policy,
            "codex_home": config.codex_home,
            "features": config.features,
            "compact_prompt": config.compact_prompt,
            "auto_compact_token_limit": config.model_auto_compact_token_limit,
            "configured": turn_options(config, self.settings.model),
        }

    def start_turn(
        self,
        user_input: list[dict[str, Any]],
        *,
        origin: str = "client",
        turn_id: str | None = None,
        client_metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        previous = self.active
        if self.is_running and previous is not None:
            # As the reference: input for a busy thread joins the running turn (it reaches the
            # turn's next model request), and the client gets that turn back.
            self.steer(user_input, expected_turn_id=None, client_metadata=client_metadata)
            return self._running_turn_wire(previous)
        self.lifecycle.apply(TurnEvent.START)
        turn = ActiveTurn(id=turn_id or uuid7(), origin=origin, started_at=_now())
        turn.client_metadata = dict(client_metadata or {})
        self.active = turn
        # An interrupted turn may still be winding down: the new one starts after it ended.
        after = previous.task if previous is not None else None
        task = asyncio.get_running_loop().create_task(self._run(turn, user_input, after))
        turn.task = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if origin == "client" and self.realtime is not None and self.realtime.is_running:
            text = text_of(user_input)
            if text:
                self.realtime.mirror_user_text(text)
        # As the reference, the turn/start response carries no start time yet.
        return self._running_turn_wire(turn) | {"startedAt": None}

    @staticmethod
    def _running_turn_wire(turn: ActiveTurn) -> dict[str, Any]:
        return {
            "id": turn.id,
            "items": [],
            "status": "inProgress",
            "error": None,
            "startedAt": turn.started_at,
            "completedAt": None,
            "durationMs": None,
        }

    def steer(
        self,
        user_input: list[dict[str, Any]],
        expected_turn_id: str | None,
        client_metadata: dict[str, str] | None = None,
    ) -> str:
        turn = self.active
        if not self.is_running or turn is None:
            raise ClientError("no active turn to steer")
        if expected_turn_id is not None and expected_turn_id != turn.id:
            raise ClientError(f"expected active turn id `{expected_turn_id}` but found `{turn.id}`")
        turn.steering.append(list(user_input))
        if client_metadata is not None:
            turn.client_metadata = dict(client_metadata)
        if self.realtime is not None and self.realtime.is_running:
            text = text_of(user_input)
            if text:
                self.realtime.mirror_user_text(text)
        return turn.id

    def interrupt(self, turn_id: str) -> None:
        turn = self.active
        if turn is None or turn.id != turn_id:
            running = f"the running turn is `{turn.id}`" if turn else "no turn is running"
            raise ClientError(f"turn `{turn_id}` is not running on thread {self.id}; {running}")
        self.lifecycle.apply(TurnEvent.INTERRUPT)
        turn.interrupted = True
        if turn.task is not None:
            turn.task.cancel()

    def delegate(self, text: str) -> None:
        """A realtime call or handoff: steer the running turn, else start a delegated one."""
        user_input = [{"type": "text", "text": text, "text_elements": []}]
        if self.is_running and self.active is not None:
            self.active.steering.append(user_input)
            return
        self._auto_turns += 1
        self.start_turn(user_input, origin="realtime", turn_id=f"auto-compact-{self._auto_turns}")

    async def _run(
        self,
        turn: ActiveTurn,
        user_input: list[dict[str, Any]],
        after: asyncio.Task[None] | None = None,
    ) -> None:
        if after is not None and not after.done():
            # Wait for the interrupted turn before it; being interrupted while waiting still
            # gives this turn its started/completed pair below.
            try:
                await asyncio.wait([after])
            except asyncio.CancelledError:
                if not turn.interrupted:
                    raise  # shutting down
                # Interrupted while queued: still end after the turn before it, in order.
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()
                await asyncio.wait([after])
        if not self.record.materialized and self.record.path is not None and not self.info.git:
            # As the reference: the Git facts of the cwd go into the file when it is created.
            self.info.git = collect_git_info(self.cwd)
            self.record.set_git(self.info.git)
        self.record.materialize()
        self.record.append(
            rollout.task_started(turn.id, turn.started_at), self._turn_context(turn.id)
        )
        self.set_status({"type": "active", "activeFlags": []})
        self.emit("turn/started", {"threadId": self.id, "turn": self._running_turn_wire(turn)})
        if not self.info.preview:
            self.info.preview = text_of(user_input)
        io = _TurnIO(self, turn)
        try:
            if turn.interrupted:  # interrupted while it waited for the turn before it
                raise asyncio.CancelledError
            result = await run_turn(io, self._turn_settings(), user_input)
            # Steering accepted after the model's last answer must not be lost: it continues
            # the same turn with another request.
            while result.status == "completed" and turn.steering:
                leftover = [part for batch in io.take_steering() for part in batch]
                io.continue_turn()
                result = await run_turn(io, self._turn_settings(), leftover)
        except asyncio.CancelledError:
            if not turn.interrupted:
                self._ended(turn)
                raise
            result = TurnResult(status="interrupted", error=None, last_agent_message=None)
        except Exception as exc:  # a bug in the agent loop must not take the server down
            log.exception("turn %s failed inside Parley", turn.id)
            result = TurnResult(
                status="failed",
                error={
                    "message": f"internal error in Parley: {type(exc).__name__}",
                    "codexErrorInfo": "other",
                    "additionalDetails": None,
                },
                last_agent_message=None,
            )
        if turn.interrupted and result.status != "interrupted":
            result = TurnResult(status="interrupted", error=None, last_agent_message=None)
        self._ended(turn)
        completed_at = _now()
        duration_ms = max(int((time.monotonic() - turn.started_monotonic) * 1000), 0)
        if result.status == "interrupted":
            self.record.append(rollout.turn_aborted(turn.id, completed_at, duration_ms))
        else:
            if result.status == "failed" and result.error is not None:
                self.record.append(rollout.error_event(result.error))
            self.record.append(
                rollout.task_complete(turn.id, result.last_agent_message, completed_at, duration_ms)
            )
        if result.status == "failed" and result.error is not None:
            self.set_status({"type": "systemError"})
            self.emit(
                "error",
                {
                    "error": result.error,
                    "willRetry": False,
                    "threadId": self.id,
                    "turnId": turn.id,
                },
            )
        else:
            self.set_status({"type": "idle"})
        wire_turn: dict[str, Any] = {
            "id": turn.id,
            "items": [],
            "status": result.status,
            "error": result.error,
            "startedAt": turn.started_at,
            "completedAt": completed_at,
            "durationMs": duration_ms,
        }
        self.emit("turn/completed", {"threadId": self.id, "turn": wire_turn})

    def _ended(self, turn: ActiveTurn) -> None:
        """A turn's task is finishing; the thread goes idle unless a newer turn took over."""
        if self.active is turn:
            self.active = None
            self.lifecycle.apply(TurnEvent.END)

    # ---- realtime ----------------------------------------------------------------------
    def attach_realtime(self, conversation: RealtimeConversation) -> RealtimeConversation | None:
        """Make `conversation` the thread's realtime session; returns the one it replaces (the
        caller closes it)."""
        previous, self.realtime = self.realtime, conversation
        return previous

    def detach_realtime(self) -> RealtimeConversation | None:
        """Drop the thread's realtime session (returned for the caller to close)."""
        previous, self.realtime = self.realtime, None
        return previous

    def realtime_stopped(self) -> None:
        self._realtime_ended_pending = True

    def prior_turns(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for turn in self.turns():
            user = ""
            assistant = ""
            for item in turn["items"]:
                if item.get("type") == "userMessage":
                    user = text_of(item.get("content", []))
                elif item.get("type") == "agentMessage":
                    assistant = str(item.get("text", ""))
            if user or assistant:
                pairs.append((user, assistant))
        return pairs

    # ---- shutdown ----------------------------------------------------------------------
    async def close(self) -> None:
        if self.realtime is not None:
            with contextlib.suppress(Exception):
                await self.realtime.close_silently()
        if self.is_running and self.active is not None:
            self.lifecycle.apply(TurnEvent.INTERRUPT)
            self.active.interrupted = True
            if self.active.task is not None:
                self.active.task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(Exception):
            await self.agent_state.processes.clean()  # unified-exec processes
        for extension in self.extensions:
            with contextlib.suppress(Exception):
                await extension.close()


class _TurnIO:
    """The agent loop's view of the thread (the seam between agent and thread layers)."""

    def __init__(self, thread: ThreadRuntime, turn: ActiveTurn) -> None:
        self._thread = thread
        self._turn = turn
        self._extended = thread.persist_extended
        self._prior = rollout.without_context(thread.history)
        self.agent_state = thread.agent_state
        self.extensions = thread.extensions
        self.thread_id = thread.id
        self.turn_id = turn.id
        self._attempt_items: list[dict[str, Any]] | None = None

    def emit(self, method: str, params: dict[str, Any]) -> None:
        if method == "item/completed":
            item = params.get("item")
            if isinstance(item, dict):
                if self._attempt_items is not None:
                    self._attempt_items.append(item)
                else:
                    self._store_item(item)
        self._thread.emit(method, params)

    def _store_item(self, item: dict[str, Any]) -> None:
        lines = rollout.events_for_item(item, self.turn_id, extended=self._extended)
        self._thread.record.append(*lines)

    def attempt_started(self) -> None:
        """A model stream starts: the items it completes are kept only if it completes."""
        self._attempt_items = []

    def attempt_finished(self, completed: bool) -> None:
        """Store the attempt's items, or forget them when the stream broke and is retried
        (the model's history never gets them, so the turn and the rollout must not either)."""
        items, self._attempt_items = self._attempt_items or [], None
        if completed:
            for item in items:
                self._store_item(item)

    async def request_client(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        result = await self._thread.request_client(method, params)
        return result if isinstance(result, dict) else {}

    def history(self) -> list[dict[str, Any]]:
        return list(self._prior)

    def continue_turn(self) -> None:
        """The next `run_turn` of this turn sees what the previous one recorded."""
        self._prior = rollout.without_context(self._thread.history)

    def record(self, item: dict[str, Any]) -> None:
        self._thread.record.append(rollout.response_item_line(item))

    def record_context(self, items: list[dict[str, Any]]) -> None:
        """The context messages the turn's requests lead with, recorded (as the reference
        records its own) when they differ from the last ones this thread recorded."""
        if items == self._thread.recorded_context:
            return
        self._thread.recorded_context = list(items)
        self._thread.record.append(*(rollout.response_item_line(item) for item in items))

    def client_metadata(self) -> dict[str, str]:
        return self._turn.client_metadata

    def record_compaction(self, summary: str, replacement: list[dict[str, Any]]) -> None:
        """The model history from here on is `replacement` (a compaction's result)."""
        self._thread.record.append(rollout.compacted_line(summary, replacement))

    def take_steering(self) -> list[list[dict[str, Any]]]:
        pending = self._turn.steering[:]
        self._turn.steering.clear()
        return pending
