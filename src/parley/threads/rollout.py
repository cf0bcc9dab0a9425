"""The Codex 0.120 rollout format: the one file format of a thread's history, written and read.

A rollout is a JSONL file, one `{"timestamp", "type", "payload"}` line per record, where `type`
is `session_meta`, `response_item`, `compacted`, `turn_context` or `event_msg` (the payload of
an `event_msg` carries its own `type`, e.g. `user_message`, `task_started`). The Codex CLI writes
and reads the same files, so a thread recorded here can be resumed there and the other way round.

This module holds:

* typed builders of the lines Parley writes (`session_meta_line`, `turn_context_line`,
  `response_item_line`, `event_line`, `compacted_line`) and `RolloutWriter`, which appends lines
  to a file (opened for each write, so an idle thread holds no file descriptor) and keeps them in
  memory until the thread is *materialized* (its first turn), as the reference does;
* the reader (`read_rollout`, `read_head`): a torn last line or an unknown line type is skipped
  with a logged warning, never an error;
* `HistoryBuilder`, which rebuilds the protocol's `Turn`s and `ThreadItem`s from the lines, the
  way the reference does (turn boundaries from `task_started`/`task_complete`/`turn_aborted`,
  items numbered `item-N`), and `model_history`, the Responses input a resumed thread continues
  from.

It does no listing or path bookkeeping (`store.py`) and knows nothing of live threads.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shlex
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)

LINE_TYPES = frozenset({"session_meta", "response_item", "compacted", "turn_context", "event_msg"})

# Events the reference persists by default ("limited" mode) and the ones it adds when a thread is
# started with `persistExtendedHistory` ("extended" mode).
LIMITED_EVENTS = frozenset(
    {
        "user_message",
        "agent_message",
        "agent_reasoning",
        "agent_reasoning_raw_content",
        "token_count",
        "thread_name_updated",
        "context_compacted",
        "entered_review_mode",
        "exited_review_mode",
        "thread_rolled_back",
        "undo_completed",
        "turn_aborted",
        "task_started",
        "task_complete",
        "image_generation_end",
    }
)
EXTENDED_EVENTS = frozenset({"error", "exec_command_end", "web_search_end", "patch_apply_end"})

# A user message that begins with this marker carries the real message after it.
USER_MESSAGE_BEGIN = "## My request for Codex:"


def timestamp_now() -> str:
    """The envelope timestamp: UTC, milliseconds, `Z`."""
    return format_timestamp(dt.datetime.now(tz=dt.UTC))


def format_timestamp(when: dt.datetime) -> str:
    when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> dt.datetime | None:
    """An RFC 3339 timestamp (as found in rollouts) as an aware datetime, None if unreadable."""
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# ---- lines -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutLine:
    timestamp: str
    type: str
    payload: dict[str, Any]

    def encode(self) -> bytes:
        return orjson.dumps(
            {"timestamp": self.timestamp, "type": self.type, "payload": self.payload}
        )

    @property
    def event_type(self) -> str | None:
        """The `type` inside an `event_msg` payload."""
        if self.type != "event_msg":
            return None
        kind = self.payload.get("type")
        return kind if isinstance(kind, str) else None


def _line(kind: str, payload: dict[str, Any], timestamp: str | None) -> RolloutLine:
    return RolloutLine(timestamp or timestamp_now(), kind, payload)


@dataclass(frozen=True)
class SessionMeta:
    """The fields of a `session_meta` line that Parley reads and writes."""

    id: str
    timestamp: str
    cwd: str
    originator: str
    cli_version: str
    source: Any = "vscode"
    model_provider: str | None = None
    forked_from_id: str | None = None
    base_instructions: str | None = None
    agent_nickname: str | None = None
    agent_role: str | None = None
    git: dict[str, Any] | None = None


def session_meta_line(meta: SessionMeta) -> RolloutLine:
    payload: dict[str, Any] = {"id": meta.id}
    if meta.forked_from_id is not None:
        payload["forked_from_id"] = meta.forked_from_id
    payload |= {
        "timestamp": meta.timestamp,
        "cwd": meta.cwd,
        "originator": meta.originator,
        "cli_version": meta.cli_version,
        "source": meta.source,
    }
    if meta.agent_nickname is not None:
        payload["agent_nickname"] = meta.agent_nickname
    if meta.agent_role is not None:
        payload["agent_role"] = meta.agent_role
    payload["model_provider"] = meta.model_provider
    payload["base_instructions"] = (
        {"text": meta.base_instructions} if meta.base_instructions is not None else None
    )
    if meta.git:
        payload["git"] = {k: v for k, v in meta.git.items() if v is not None}
    return _line("session_meta", payload, meta.timestamp)


def session_meta_from(payload: dict[str, Any]) -> SessionMeta:
    base = payload.get("base_instructions")
    git = payload.get("git")
    return SessionMeta(
        id=str(payload.get("id", "")),
        timestamp=str(payload.get("timestamp", "")),
        cwd=str(payload.get("cwd", "")),
        originator=str(payload.get("originator", "")),
        cli_version=str(payload.get("cli_version", "")),
        source=payload.get("source", "vscode"),
        model_provider=payload.get("model_provider"),
        forked_from_id=payload.get("forked_from_id"),
        base_instructions=base.get("text") if isinstance(base, dict) else None,
        agent_nickname=payload.get("agent_nickname"),
        agent_role=payload.get("agent_role") or payload.get("agent_type"),
        git=git if isinstance(git, dict) else None,
    )


SANDBOX_POLICY_NAMES = {
    "read-only": "read-only",
    "workspace-write": "workspace-write",
    "danger-full-access": "danger-full-access",
}


def sandbox_policy(mode: str, network_access: bool, writable_roots: Iterable[str] = ()) -> Any:
    """A sandbox mode as the rollout's `SandboxPolicy` (kebab-case tag, snake_case fields)."""
    if mode == "danger-full-access":
        return {"type": "danger-full-access"}
    if mode == "workspace-write":
        policy: dict[str, Any] = {"type": "workspace-write"}
        roots = list(writable_roots)
        if roots:
            policy["writable_roots"] = roots
        policy |= {
            "network_access": network_access,
            "exclude_tmpdir_env_var": False,
            "exclude_slash_tmp": False,
        }
        return policy
    return {"type": "read-only"} | ({"network_access": True} if network_access else {})


def sandbox_mode_of(policy: Any) -> tuple[str | None, bool]:
    """(sandbox mode, network access) of a rollout `SandboxPolicy`."""
    if not isinstance(policy, dict):
        return None, False
    mode = SANDBOX_POLICY_NAMES.get(str(policy.get("type")))
    network = policy.get("network_access")
    return mode, bool(network) if isinstance(network, bool) else False


@dataclass(frozen=True)
class TurnContext:
    turn_id: str
    cwd: str
    approval_policy: str
    sandbox_mode: str
    network_access: bool
    model: str
    developer_instructions: str | None = None
    effort: str | None = None
    realtime_active: bool | None = None
    personality: str | None = None
    # `{"mode", "settings": {"model", "reasoning_effort", "developer_instructions"}}`
    collaboration_mode: dict[str, Any] | None = None


def turn_context_line(ctx: TurnContext) -> RolloutLine:
    now = dt.datetime.now().astimezone()
    payload: dict[str, Any] = {
        "turn_id": ctx.turn_id,
        "cwd": ctx.cwd,
        "current_date": now.strftime("%Y-%m-%d"),
        "timezone": _timezone_name(),
        "approval_policy": ctx.approval_policy,
        "sandbox_policy": sandbox_policy(ctx.sandbox_mode, ctx.network_access),
        "model": ctx.model,
    }
    if ctx.personality is not None:
        payload["personality"] = ctx.personality
    if ctx.collaboration_mode is not None:
        payload["collaboration_mode"] = ctx.collaboration_mode
    if ctx.realtime_active is not None:
        payload["realtime_active"] = ctx.realtime_active
    if ctx.effort is not None:
        payload["effort"] = ctx.effort
    payload["summary"] = "auto"
    if ctx.developer_instructions is not None:
        payload["developer_instructions"] = ctx.developer_instructions
    return _line("turn_context", payload, None)


def _timezone_name() -> str:
    tz = os.environ.get("TZ")
    if tz:
        return tz
    try:
        return Path("/etc/timezone").read_text().strip() or "UTC"
    except OSError:
        return "UTC"


def response_item_line(item: dict[str, Any]) -> RolloutLine:
    return _line("response_item", item, None)


def compacted_line(message: str, replacement_history: list[dict[str, Any]] | None) -> RolloutLine:
    payload: dict[str, Any] = {"message": message}
    if replacement_history is not None:
        payload["replacement_history"] = replacement_history
    return _line("compacted", payload, None)


def event_line(kind: str, **fields: Any) -> RolloutLine:
    return _line("event_msg", {"type": kind, **fields}, None)


def task_started(turn_id: str, started_at: int) -> RolloutLine:
    return event_line(
        "task_started",
        turn_id=turn_id,
        started_at=started_at,
        model_context_window=None,
        collaboration_mode_kind="default",
    )


def task_complete(
    turn_id: str, last_agent_message: str | None, completed_at: int, duration_ms: int
) -> RolloutLine:
    return event_line(
        "task_complete",
        turn_id=turn_id,
        last_agent_message=last_agent_message,
        completed_at=completed_at,
        duration_ms=duration_ms,
    )


def turn_aborted(turn_id: str, completed_at: int, duration_ms: int) -> RolloutLine:
    return event_line(
        "turn_aborted",
        turn_id=turn_id,
        reason="interrupted",
        completed_at=completed_at,
        duration_ms=duration_ms,
    )


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _rename_keys(value: Any, rename: Any) -> Any:
    if isinstance(value, dict):
        return {rename(k): _rename_keys(v, rename) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename_keys(v, rename) for v in value]
    if isinstance(value, str):
        return rename(value)
    return value


def error_event(error: dict[str, Any]) -> RolloutLine:
    """A v2 `TurnError` as the rollout's `error` event (snake_case error info)."""
    info = error.get("codexErrorInfo")
    return event_line(
        "error",
        message=str(error.get("message", "")),
        codex_error_info=_rename_keys(info, _snake) if info is not None else None,
    )


def text_elements_to_rollout(elements: Any) -> list[dict[str, Any]]:
    out = []
    for element in elements if isinstance(elements, list) else []:
        if isinstance(element, dict):
            out.append(
                {
                    "byte_range": element.get("byteRange") or element.get("byte_range"),
                    "placeholder": element.get("placeholder"),
                }
            )
    return out


def text_elements_from_rollout(elements: Any) -> list[dict[str, Any]]:
    out = []
    for element in elements if isinstance(elements, list) else []:
        if isinstance(element, dict):
            out.append(
                {
                    "byteRange": element.get("byte_range") or element.get("byteRange"),
                    "placeholder": element.get("placeholder"),
                }
            )
    return out


def events_for_item(item: dict[str, Any], turn_id: str, *, extended: bool) -> list[RolloutLine]:
    """The `event_msg` lines that record a completed v2 `ThreadItem` (empty when the reference
    records none for it, e.g. a command outside extended history)."""
    kind = item.get("type")
    if kind == "userMessage":
        content = item.get("content") or []
        texts = [p for p in content if p.get("type") == "text"]
        images = [str(p.get("url")) for p in content if p.get("type") == "image"]
        local = [str(p.get("path")) for p in content if p.get("type") == "localImage"]
        fields: dict[str, Any] = {
            "message": "".join(str(p.get("text", "")) for p in texts),
            "images": images,
            "local_images": local,
        }
        elements: list[dict[str, Any]] = []
        for part in texts:
            elements.extend(text_elements_to_rollout(part.get("text_elements")))
        fields["text_elements"] = elements
        return [event_line("user_message", **fields)]
    if kind == "agentMessage":
        text = str(item.get("text", ""))
        if not text:
            return []
        return [
            event_line(
                "agent_message",
                message=text,
                phase=item.get("phase"),
                memory_citation=None,
            )
        ]
    if kind == "reasoning":
        lines = [event_line("agent_reasoning", text=str(t)) for t in item.get("summary") or []]
        lines += [
            event_line("agent_reasoning_raw_content", text=str(t))
            for t in item.get("content") or []
        ]
        return lines
    if kind == "contextCompaction":
        return [event_line("context_compacted")]
    if kind == "commandExecution" and extended:
        command = str(item.get("command", ""))
        try:
            argv = shlex.split(command)
        except ValueError:
            argv = [command]
        duration_ms = item.get("durationMs") or 0
        output = str(item.get("aggregatedOutput") or "")
        status = str(item.get("status", "completed"))
        return [
            event_line(
                "exec_command_end",
                call_id=str(item.get("id", "")),
                turn_id=turn_id,
                command=argv,
                cwd=str(item.get("cwd", "")),
                parsed_cmd=[_action_to_rollout(a) for a in item.get("commandActions") or []],
                source=_EXEC_SOURCE_TO_ROLLOUT.get(str(item.get("source")), "agent"),
                stdout=output,
                stderr="",
                aggregated_output=output,
                exit_code=item.get("exitCode") if item.get("exitCode") is not None else -1,
                duration={"secs": duration_ms // 1000, "nanos": (duration_ms % 1000) * 1_000_000},
                formatted_output=output,
                status=status if status in ("completed", "failed", "declined") else "failed",
            )
        ]
    return []


# Command actions: wire `CommandAction` (camelCase, `command`) <-> rollout `ParsedCommand`
# (snake_case, `cmd`).
_ACTION_TO_ROLLOUT = {"read": "read", "listFiles": "list_files", "search": "search"}
_ACTION_FROM_ROLLOUT = {v: k for k, v in _ACTION_TO_ROLLOUT.items()}


def _action_to_rollout(action: Any) -> dict[str, Any]:
    if not isinstance(action, dict):
        return {"type": "unknown", "cmd": str(action)}
    kind = _ACTION_TO_ROLLOUT.get(str(action.get("type")), "unknown")
    parsed: dict[str, Any] = {"type": kind, "cmd": str(action.get("command", ""))}
    for key in ("name", "path", "query"):
        if key in action:
            parsed[key] = action[key]
    return parsed


def _action_from_rollout(parsed: Any) -> dict[str, Any]:
    if not isinstance(parsed, dict):
        return {"type": "unknown", "command": str(parsed)}
    kind = _ACTION_FROM_ROLLOUT.get(str(parsed.get("type")), "unknown")
    action: dict[str, Any] = {"type": kind, "command": str(parsed.get("cmd", ""))}
    fields = {"read": ("name", "path"), "listFiles": ("path",), "search": ("query", "path")}
    for key in fields.get(kind, ()):
        action[key] = parsed.get(key) if kind != "read" else str(parsed.get(key, ""))
    return action


# Command sources: wire (camelCase) <-> rollout (snake_case) names.
_EXEC_SOURCE_TO_ROLLOUT = {
    "agent": "agent",
    "userShell": "user_shell",
    "unifiedExecStartup": "unified_exec_startup",
    "unifiedExecInteraction": "unified_exec_interaction",
}
_EXEC_SOURCE_FROM_ROLLOUT = {v: k for k, v in _EXEC_SOURCE_TO_ROLLOUT.items()}


TURN_ABORTED_MARKER = (
    "<turn_aborted>\nThe user interrupted the previous turn before it finished; its work may "
    "be incomplete.\n</turn_aborted>"
)


def ends_mid_turn(lines: list[RolloutLine]) -> bool:
    """Whether the history stops inside a turn: nothing closed the turn of its last user
    message (no `task_complete` or `turn_aborted` after it)."""
    last_user = None
    for index, line in enumerate(lines):
        if line.event_type == "user_message":
            last_user = index
    if last_user is None:
        return False
    return not any(
        line.event_type in ("task_complete", "turn_complete", "turn_aborted")
        for line in lines[last_user + 1 :]
    )


def interrupted_boundary(turn_id: str | None = None) -> list[RolloutLine]:
    """What an interruption leaves in the history: a note for the model, a `turn_aborted`."""
    marker = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": TURN_ABORTED_MARKER}],
    }
    return [
        response_item_line(marker),
        event_line("turn_aborted", turn_id=turn_id, reason="interrupted"),
    ]


# ---- writing -----------------------------------------------------------------------------------


class RolloutWriter:
    """Appends lines to one rollout file.

    Until `materialize()` the lines are only kept in memory and no file exists (a thread whose
    first turn never came leaves nothing behind). The file is opened for each batch of lines and
    closed again: a thread holds no descriptor between writes, however many threads are loaded.
    """

    def __init__(self, path: Path, *, materialized: bool) -> None:
        self.path = path
        self.materialized = materialized
        self._pending: list[RolloutLine] = []

    def append(self, lines: Iterable[RolloutLine]) -> None:
        batch = list(lines)
        if not batch:
            return
        if not self.materialized:
            self._pending.extend(batch)
            return
        self._write(batch)

    def materialize(self) -> None:
        if self.materialized:
            return
        self.materialized = True
        pending, self._pending = self._pending, []
        self._write(pending)

    def replace_pending(self, old: RolloutLine, new: RolloutLine) -> None:
        self._pending = [new if line is old else line for line in self._pending]

    def _write(self, lines: list[RolloutLine]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = b"".join(line.encode() + b"\n" for line in lines)
        with self.path.open("ab+") as file:
            if file.tell() > 0:
                file.seek(-1, os.SEEK_END)
                if file.read(1) != b"\n":
                    # A torn last line (a crash mid-write): end it, so it stays one bad line
                    # that readers skip instead of swallowing the line written now.
                    data = b"\n" + data
            file.write(data)

    def moved_to(self, path: Path) -> None:
        """The file was renamed (archived / unarchived)."""
        self.path = path


def rewrite_session_meta(path: Path, meta: RolloutLine) -> None:
    """Replace the first `session_meta` line of a rollout (atomically, keeping its modification
    time: changed metadata is not activity on the thread)."""
    data = path.read_bytes().split(b"\n")
    for index, raw in enumerate(data):
        line = parse_line(raw.strip()) if raw.strip() else None
        if line is not None and line.type == "session_meta":
            data[index] = meta.encode()
            break
    else:
        return
    st = path.stat()
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(b"\n".join(data))
    os.utime(temporary, ns=(st.st_atime_ns, st.st_mtime_ns))
    temporary.replace(path)


# ---- reading -----------------------------------------------------------------------------------


def parse_line(raw: bytes) -> RolloutLine | None:
    """One line as a `RolloutLine`, or None when it is not one Parley understands."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    payload = value.get("payload")
    if kind not in LINE_TYPES or not isinstance(payload, dict):
        return None
    return RolloutLine(str(value.get("timestamp", "")), str(kind), payload)


def iter_lines(path: Path, *, limit: int | None = None) -> Iterator[RolloutLine]:
    """The readable lines of a rollout (skipping, with a warning, any that are not)."""
    with path.open("rb") as file:
        read = 0
        for number, raw in enumerate(file, 1):
            raw = raw.strip()
            if not raw:
                continue
            line = parse_line(raw)
            if line is None:
                log.warning("%s:%d: skipping a line that is not a rollout record", path, number)
                continue
            yield line
            read += 1
            if limit is not None and read >= limit:
                return


def read_rollout(path: Path) -> list[RolloutLine]:
    return list(iter_lines(path))


@dataclass
class HeadSummary:
    """What a listing needs from the start of a rollout."""

    meta: SessionMeta | None = None
    first_user_message: str | None = None
    saw_user_event: bool = False


HEAD_RECORD_LIMIT = 10
USER_EVENT_SCAN_LIMIT = 200


def strip_user_message_prefix(text: str) -> str:
    index = text.find(USER_MESSAGE_BEGIN)
    if index >= 0:
        return text[index + len(USER_MESSAGE_BEGIN) :].strip()
    return text.strip()


def read_head(path: Path) -> HeadSummary:
    """The session meta and first user message, reading no further than needed."""
    summary = HeadSummary()
    scanned = 0
    for line in iter_lines(path):
        scanned += 1
        if line.type == "session_meta" and summary.meta is None:
            summary.meta = session_meta_from(line.payload)
        elif line.event_type == "user_message":
            summary.saw_user_event = True
            message = strip_user_message_prefix(str(line.payload.get("message", "")))
            if message and summary.first_user_message is None:
                summary.first_user_message = message
        if summary.meta is not None and summary.saw_user_event:
            break
        limit = HEAD_RECORD_LIMIT + (USER_EVENT_SCAN_LIMIT if summary.meta else 0)
        if scanned >= limit:
            break
    return summary


# ---- rebuilding turns --------------------------------------------------------------------------


@dataclass
class _PendingTurn:
    id: str
    items: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    status: str = "completed"
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None
    explicit: bool = False
    saw_compaction: bool = False

    def wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "items": [dict(item) for item in self.items],
            "status": self.status,
            "error": self.error,
            "startedAt": self.started_at,
            "completedAt": self.completed_at,
            "durationMs": self.duration_ms,
        }


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class HistoryBuilder:
    """Rebuilds protocol `Turn`s from rollout lines (fed one at a time, live or on load)."""

    def __init__(self) -> None:
        self.turns: list[_PendingTurn] = []
        self.current: _PendingTurn | None = None
        self._next_item = 1

    def feed(self, lines: Iterable[RolloutLine]) -> None:
        for line in lines:
            self.handle(line)

    def snapshot(self) -> list[dict[str, Any]]:
        """Every turn so far, the one still open last."""
        turns = [t.wire() for t in self.turns]
        if self.current is not None and (
            self.current.items or self.current.explicit or self.current.saw_compaction
        ):
            turns.append(self.current.wire())
        return turns

    @property
    def turn_count(self) -> int:
        return len(self.snapshot())

    def handle(self, line: RolloutLine) -> None:
        if line.type == "compacted":
            self._ensure_turn().saw_compaction = True
            return
        kind = line.event_type
        if kind is None:
            return
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(line.payload)

    # -- events --
    def _on_user_message(self, payload: dict[str, Any]) -> None:
        turn = self.current
        if turn is not None and not turn.explicit and not (turn.saw_compaction and not turn.items):
            self._finish()
        if self.current is None:
            self.current = _PendingTurn(id=_new_turn_id())
        content: list[dict[str, Any]] = []
        message = str(payload.get("message", ""))
        if message.strip():
            content.append(
                {
                    "type": "text",
                    "text": message,
                    "text_elements": text_elements_from_rollout(payload.get("text_elements")),
                }
            )
        for url in payload.get("images") or []:
            content.append({"type": "image", "url": url})
        for path in payload.get("local_images") or []:
            content.append({"type": "localImage", "path": path})
        self.current.items.append(
            {"type": "userMessage", "id": self._item_id(), "content": content}
        )

    def _on_agent_message(self, payload: dict[str, Any]) -> None:
        text = str(payload.get("message", ""))
        if not text:
            return
        self._ensure_turn().items.append(
            {
                "type": "agentMessage",
                "id": self._item_id(),
                "text": text,
                "phase": payload.get("phase"),
                "memoryCitation": payload.get("memory_citation"),
            }
        )

    def _reasoning(self, text: str, key: str) -> None:
        if not text:
            return
        items = self._ensure_turn().items
        if items and items[-1].get("type") == "reasoning":
            items[-1][key] = [*items[-1][key], text]
            return
        item = {"type": "reasoning", "id": self._item_id(), "summary": [], "content": []}
        item[key] = [text]
        items.append(item)

    def _on_agent_reasoning(self, payload: dict[str, Any]) -> None:
        self._reasoning(str(payload.get("text", "")), "summary")

    def _on_agent_reasoning_raw_content(self, payload: dict[str, Any]) -> None:
        self._reasoning(str(payload.get("text", "")), "content")

    def _on_context_compacted(self, payload: dict[str, Any]) -> None:
        self._ensure_turn().items.append({"type": "contextCompaction", "id": self._item_id()})

    def _on_exec_command_end(self, payload: dict[str, Any]) -> None:
        command = payload.get("command") or []
        # As the reference: the argv shell-quoted back into one string.
        text = shlex.join(str(part) for part in command) if isinstance(command, list) else ""
        parsed = payload.get("parsed_cmd")
        duration = payload.get("duration")
        duration_ms = None
        if isinstance(duration, dict):
            secs = _int_or_none(duration.get("secs")) or 0
            nanos = _int_or_none(duration.get("nanos")) or 0
            duration_ms = secs * 1000 + nanos // 1_000_000
        status = payload.get("status", "completed")
        item: dict[str, Any] = {
            "type": "commandExecution",
            "id": str(payload.get("call_id", "")),
            "command": text,
            "cwd": str(payload.get("cwd", "")),
            "processId": payload.get("process_id"),
            "source": _EXEC_SOURCE_FROM_ROLLOUT.get(str(payload.get("source")), "agent"),
            "status": status if status in ("completed", "failed", "declined") else "completed",
            "commandActions": [
                _action_from_rollout(p) for p in (parsed if isinstance(parsed, list) else [])
            ],
            "aggregatedOutput": payload.get("aggregated_output") or None,
            "exitCode": _int_or_none(payload.get("exit_code")),
            "durationMs": duration_ms,
        }
        self._upsert_in_turn(str(payload.get("turn_id", "")), item)

    def _on_error(self, payload: dict[str, Any]) -> None:
        info = payload.get("codex_error_info")
        if info in ("thread_rollback_failed",) or (
            isinstance(info, dict) and "active_turn_not_steerable" in info
        ):
            return
        if self.current is None:
            return
        self.current.status = "failed"
        self.current.error = {
            "message": str(payload.get("message", "")),
            "codexErrorInfo": _rename_keys(info, _camel) if info is not None else None,
            "additionalDetails": None,
        }

    def _on_thread_rolled_back(self, payload: dict[str, Any]) -> None:
        self._finish()
        count = _int_or_none(payload.get("num_turns")) or 0
        if count >= len(self.turns):
            self.turns.clear()
        else:
            del self.turns[len(self.turns) - count :]
        self._next_item = sum(len(t.items) for t in self.turns) + 1

    def _on_turn_aborted(self, payload: dict[str, Any]) -> None:
        turn = self._find(payload.get("turn_id")) or self.current
        if turn is None:
            return
        turn.status = "interrupted"
        turn.completed_at = _int_or_none(payload.get("completed_at"))
        turn.duration_ms = _int_or_none(payload.get("duration_ms"))

    def _on_task_started(self, payload: dict[str, Any]) -> None:
        self._finish()
        self.current = _PendingTurn(
            id=str(payload.get("turn_id", "")) or _new_turn_id(),
            status="inProgress",
            started_at=_int_or_none(payload.get("started_at")),
            explicit=True,
        )

    _on_turn_started = _on_task_started

    def _on_task_complete(self, payload: dict[str, Any]) -> None:
        turn = self._find(payload.get("turn_id"))
        if turn is None:
            turn = self.current
        if turn is None:
            return
        if turn.status in ("completed", "inProgress"):
            turn.status = "completed"
        turn.completed_at = _int_or_none(payload.get("completed_at"))
        turn.duration_ms = _int_or_none(payload.get("duration_ms"))
        if turn is self.current:
            self._finish()

    _on_turn_complete = _on_task_complete

    # -- helpers --
    def _find(self, turn_id: Any) -> _PendingTurn | None:
        if not isinstance(turn_id, str):
            return None
        if self.current is not None and self.current.id == turn_id:
            return self.current
        for turn in self.turns:
            if turn.id == turn_id:
                return turn
        return None

    def _upsert_in_turn(self, turn_id: str, item: dict[str, Any]) -> None:
        turn = self._find(turn_id)
        if turn is None:
            log.warning("dropping an item for unknown turn id `%s`", turn_id)
            return
        for index, existing in enumerate(turn.items):
            if existing.get("id") == item["id"]:
                turn.items[index] = item
                return
        turn.items.append(item)

    def _ensure_turn(self) -> _PendingTurn:
        if self.current is None:
            self.current = _PendingTurn(id=_new_turn_id())
        return self.current

    def _finish(self) -> None:
        turn, self.current = self.current, None
        if turn is None:
            return
        if not turn.items and not turn.explicit and not turn.saw_compaction:
            return
        self.turns.append(turn)

    def _item_id(self) -> str:
        item_id = f"item-{self._next_item}"
        self._next_item += 1
        return item_id

    def finish(self) -> list[dict[str, Any]]:
        """The turns of a rollout read in full (an open turn becomes the last one; nothing is
        running it, so it reads as interrupted)."""
        self._finish()
        turns = [t.wire() for t in self.turns]
        for turn in turns:
            if turn["status"] == "inProgress":
                turn["status"] = "interrupted"
        return turns


def _new_turn_id() -> str:
    from parley.threads.ids import uuid7

    return uuid7()


def build_turns(lines: Iterable[RolloutLine]) -> list[dict[str, Any]]:
    builder = HistoryBuilder()
    builder.feed(lines)
    return builder.finish()


def model_history(lines: Iterable[RolloutLine]) -> list[dict[str, Any]]:
    """The Responses input items a resumed thread continues from: every recorded response item,
    with compactions replacing what came before and rollbacks dropping the last user turns."""
    history: list[dict[str, Any]] = []
    user_turn_starts: list[int] = []
    opened = False  # a `task_started` opened the turn whose user message comes next
    for line in lines:
        if line.type == "response_item":
            history.append(line.payload)
        elif line.type == "compacted":
            replacement = line.payload.get("replacement_history")
            if isinstance(replacement, list):
                history = [item for item in replacement if isinstance(item, dict)]
            else:
                history = [
                    {
                        "type": "message",
                        "role": "assistant",
                        "content": [
                            {"type": "output_text", "text": str(line.payload.get("message", ""))}
                        ],
                    }
                ]
            user_turn_starts = []
        elif line.event_type == "task_started":
            user_turn_starts.append(len(history))
            opened = True
        elif line.event_type == "user_message":
            if not opened:
                # A turn without `task_started` (older files): it began at its user message.
                last = history[-1] if history else None
                at_user = isinstance(last, dict) and last.get("role") == "user"
                user_turn_starts.append(len(history) - 1 if at_user else len(history))
            opened = False
        elif line.event_type == "thread_rolled_back":
            count = _int_or_none(line.payload.get("num_turns")) or 0
            if count > 0 and user_turn_starts:
                cut = user_turn_starts[-count] if count <= len(user_turn_starts) else 0
                history = history[:cut]
                del user_turn_starts[max(len(user_turn_starts) - count, 0) :]
    return history


# Messages that carry the context each request leads with, rather than conversation: the
# permissions developer message (the Codex CLI adds its skills and realtime text to it) and the
# user messages holding the environment and the project instructions. Other developer messages
# (a collaboration mode's or a personality's text, put in the history once) are conversation.
CONTEXT_DEVELOPER_PREFIX = "<permissions instructions>"
CONTEXT_USER_PREFIXES = ("<environment_context>", "# AGENTS.md instructions", "<user_instructions>")


def is_context_message(item: dict[str, Any]) -> bool:
    """A recorded message that gave the model its context (permissions, environment,
    instructions) as the app-server that wrote it worded them."""
    if item.get("type") != "message":
        return False
    texts = [str(p.get("text", "")) for p in item.get("content") or [] if isinstance(p, dict)]
    role = item.get("role")
    if role == "developer":
        return bool(texts) and texts[0].lstrip().startswith(CONTEXT_DEVELOPER_PREFIX)
    if role != "user":
        return False
    return bool(texts) and all(t.lstrip().startswith(CONTEXT_USER_PREFIXES) for t in texts)


def without_context(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation of a model history: Parley leads every request with its own, current
    context, so recorded context messages (its own or the Codex CLI's) are not sent again."""
    return [item for item in items if not is_context_message(item)]


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
