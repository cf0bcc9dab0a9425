"""The agent turn engine: the Responses loop the app-server runs for one turn.

`run_turn` shows the user's input as a `userMessage` item, then repeatedly asks the model
(streaming), shows its messages and reasoning, runs the tool calls it makes (`shell_command`)
and feeds their output back, until the model answers without calling a tool and no steering
input is waiting. Steering input (`turn/steer`, realtime handoffs) is appended after the
in-flight response finishes and triggers another request in the same turn.

The thread layer owns everything around the turn (`turn/started`, `turn/completed`, the final
`error` notification, thread status) and the durable history; it is reached only through
`TurnIO`. Interruption is task cancellation: the HTTP stream is closed, any running command's
process tree is killed, and `CancelledError` propagates.

Optional extension of `TurnIO`: an attribute `agent_state` holding an `AgentSessionState` (one
per thread) carries the thread's cumulative token usage and the commands approved "for the
session" across turns; without it both start fresh each turn. Another, `extensions`, holds
the thread's `TurnExtension`s (MCP servers, skills; see `parley.agent.extensions`). Methods
`attempt_started()` and `attempt_finished(completed)`, when present, bracket each streamed
attempt (see `_attempt`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from parley.agent.approval import ApprovalPolicy
from parley.agent.compaction import SUMMARY_REQUEST, replacement_history
from parley.agent.extensions import ExtensionCall, TurnExtension
from parley.agent.notifier import TurnNotifier
from parley.agent.notify_program import TurnCompletion, notify_turn_complete, text_of_input
from parley.agent.pause import ElicitationPause
from parley.agent.plan_mode import PlanModeFilter
from parley.agent.prompt import BASE_INSTRUCTIONS, developer_message, environment_message
from parley.agent.prompt import user_message as build_user_message
from parley.agent.response_events import FunctionCall, ResponseOutcome, ResponseTranslator
from parley.agent.responses import ResponsesClient, StreamInterrupted, UpstreamError
from parley.agent.responses_socket import ResponsesSocketClient
from parley.agent.review import (
    REVIEW_INSTRUCTIONS,
    ReviewRequest,
    render_review,
    review_result_message,
)
from parley.agent.settings import ProviderSettings, TurnSettings
from parley.agent.tools.base import CallOutcome, Output, SessionGrants, ToolCall, ToolContext
from parley.agent.tools.processes import ProcessTable
from parley.agent.tools.registry import ToolBox, turn_tools
from parley.agent.turn_options import (
    TurnOptions,
    mode_instructions,
    personality_base_section,
    personality_instructions,
    request_fields,
)
from parley.agent.user_shell import run_user_command
from parley.tools.sandbox import SandboxPolicy
from parley.tools.shell import user_shell
from parley.tools.shell_snapshot import SHELL_SNAPSHOT_FEATURE, ShellSnapshotSlot

__all__ = [
    "AgentSessionState",
    "ProviderSettings",
    "TurnIO",
    "TurnResult",
    "TurnSettings",
    "run_turn",
]

log = logging.getLogger(__name__)

UNKNOWN_RATE_LIMITS: dict[str, Any] = {
    "limitId": "codex",
    "limitName": None,
    "primary": None,
    "secondary": None,
    "credits": None,
    "planType": None,
}

ABORTED_OUTPUT = "aborted: the turn was interrupted before this call finished"


class TurnIO(Protocol):
    thread_id: str
    turn_id: str

    def emit(self, method: str, params: dict[str, Any]) -> None: ...

    async def request_client(self, method: str, params: dict[str, Any]) -> dict[str, Any]: ...

    def history(self) -> list[dict[str, Any]]: ...

    def record(self, item: dict[str, Any]) -> None: ...

    def take_steering(self) -> list[list[dict[str, Any]]]: ...


@dataclass
class TurnResult:
    status: str  # "completed" | "failed" | "interrupted"
    error: dict[str, Any] | None  # TurnError wire object when failed
    last_agent_message: str | None


_USAGE_FIELDS = (
    "totalTokens",
    "inputTokens",
    "cachedInputTokens",
    "outputTokens",
    "reasoningOutputTokens",
)


@dataclass
class AgentSessionState:
    """Per-thread state the engine keeps across turns (see the module docstring)."""

    token_total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_USAGE_FIELDS, 0))
    approvals: SessionGrants = field(default_factory=SessionGrants)
    shell_snapshot: ShellSnapshotSlot = field(default_factory=ShellSnapshotSlot)
    options: TurnOptions = field(default_factory=TurnOptions)
    dynamic_tools: list[dict[str, Any]] = field(default_factory=list)  # from thread/start
    feature_overrides: dict[str, bool] = field(default_factory=dict)  # thread/start config
    processes: ProcessTable = field(default_factory=ProcessTable)  # unified exec
    context_tokens: int = 0  # context size the latest response reported (for auto-compaction)
    compact_next_turn: bool = False  # thread/compact/start: the next turn only compacts
    user_commands: list[str] = field(default_factory=list)  # thread/shellCommand, for the next turn
    running: TurnEngine | None = None  # the engine of the thread's running turn
    review: ReviewRequest | None = None  # review/start: the next turn is this review
    # The personality written into the base instructions: fixed by the thread's first turn
    # (its configured personality when the thread is new, none when it resumes a history).
    base_personality: str | None = None
    base_personality_fixed: bool = False
    # Mode and personality developer text last put into the history, by kind: each is added
    # once, when it changes, as the reference does (not resent with every request).
    announced: dict[str, str] = field(default_factory=dict)
    # thread/increment_elicitation: the thread's timeout clocks stand still while paused.
    elicitation_pause: ElicitationPause = field(default_factory=ElicitationPause)


def usage_breakdown(usage: dict[str, Any]) -> dict[str, int]:
    def number(value: Any) -> int:
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0

    input_details = usage.get("input_tokens_details")
    output_details = usage.get("output_tokens_details")
    cached = input_details.get("cached_tokens") if isinstance(input_details, dict) else 0
    reasoning = output_details.get("reasoning_tokens") if isinstance(output_details, dict) else 0
    input_tokens = number(usage.get("input_tokens"))
    output_tokens = number(usage.get("output_tokens"))
    total = number(usage.get("total_tokens")) or input_tokens + output_tokens
    return {
        "totalTokens": total,
        "inputTokens": input_tokens,
        "cachedInputTokens": number(cached),
        "outputTokens": output_tokens,
        "reasoningOutputTokens": number(reasoning),
    }


async def run_turn(
    io: TurnIO, settings: TurnSettings, user_input: list[dict[str, Any]]
) -> TurnResult:
    """Runs one turn to completion, failure or cancellation (which propagates); then the
    configured `notify` program hears of a completed turn."""
    result = await TurnEngine(io, settings).run(user_input)
    if settings.configured.notify and result.status == "completed":
        notify_turn_complete(
            settings.configured.notify,
            TurnCompletion(
                thread_id=io.thread_id,
                turn_id=io.turn_id,
                cwd=str(settings.cwd),
                client=settings.originator,
                input_messages=[text_of_input(user_input)],
                last_assistant_message=result.last_agent_message,
            ),
        )
    return result


class TurnEngine:
    def __init__(
        self,
        io: TurnIO,
        settings: TurnSettings,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._io = io
        state = getattr(io, "agent_state", None)
        self._state = state if isinstance(state, AgentSessionState) else AgentSessionState()
        settings = dataclasses.replace(settings, features=self._features(settings.features))
        self._settings = settings
        self._sleep = sleep
        self._notifier = TurnNotifier(io)
        self._options = self._state.options
        self._output_schema = self._options.take_output_schema()
        self._rerouted = False
        self._pending_notes: list[dict[str, Any]] = []  # user shell results for the model
        self._extensions: list[TurnExtension] = list(getattr(io, "extensions", ()))
        self._extension_tools: list[dict[str, Any]] = []
        self._prior = list(io.history())
        self._turn_items: list[dict[str, Any]] = []
        self._keep_history = True  # False while a review runs (its items stay out of history)
        self._last_agent_message: str | None = None
        self._shell = user_shell()
        self._approval_policy = ApprovalPolicy.parse(settings.approval_policy)
        self._sandbox = self._granted(
            SandboxPolicy.for_turn(
                settings.sandbox_mode, settings.cwd, settings.network_access, settings.codex_home
            )
        )
        if self._sandbox.writable_roots:
            self._sandbox = dataclasses.replace(
                self._sandbox,
                writable_roots=settings.configured.workspace_roots.apply(
                    self._sandbox.writable_roots
                ),
            )
        self.tool_context = ToolContext(
            channel=io,
            notifier=self._notifier,
            settings=settings,
            sandbox=self._sandbox,
            approval_policy=self._approval_policy,
            grants=self._state.approvals,
            plan_mode=self._options.plan_mode,
            dynamic_tools=tuple(self._state.dynamic_tools),
            processes=self._state.processes,
            shell_snapshot=self._shell_snapshot(settings.features),
            view_image=self._state.feature_overrides.get("view_image_tool", True),
            pause=self._state.elicitation_pause,
        )
        self.tools = ToolBox(turn_tools(self.tool_context))

    def _shell_snapshot(self, features: frozenset[str]) -> ShellSnapshotSlot | None:
        """The thread's snapshot slot; none with `[features] shell_snapshot = false` (each
        command then runs in a login shell)."""
        if SHELL_SNAPSHOT_FEATURE in features:
            return self._state.shell_snapshot
        self._state.shell_snapshot.close()
        return None

    def _features(self, configured: frozenset[str]) -> frozenset[str]:
        overrides = self._state.feature_overrides
        enabled = {name for name, on in overrides.items() if on}
        disabled = {name for name, on in overrides.items() if not on}
        return frozenset((configured | enabled) - disabled)

    def _granted(self, sandbox: SandboxPolicy) -> SandboxPolicy:
        """The sandbox widened by what request_permissions granted for the session."""
        grants = self._state.approvals
        if not sandbox.confined or (not grants.write_roots and not grants.network):
            return sandbox
        roots = tuple(dict.fromkeys((*sandbox.writable_roots, *sorted(grants.write_roots))))
        return dataclasses.replace(
            sandbox, writable_roots=roots, network_access=sandbox.network_access or grants.network
        )

    # ---- the loop ----------------------------------------------------------------------
    async def run(self, user_input: list[dict[str, Any]]) -> TurnResult:
        self._state.running = self
        try:
            return await self._run(user_input)
        finally:
            if self._state.running is self:
                self._state.running = None

    async def run_user_command(self, command: str) -> None:
        """thread/shellCommand during this turn: shown in it; the model sees the result at its
        next request (never between a tool call and its output)."""
        note = await run_user_command(
            command,
            self._settings.cwd,
            self._notifier.notify,
            self._settings.shell_environment,
            self._io.thread_id,
        )
        self._pending_notes.append(note)

    async def _run(self, user_input: list[dict[str, Any]]) -> TurnResult:
        review, self._state.review = self._state.review, None
        if review is not None:
            return await self._review(review)
        if not user_input and self._state.user_commands:
            commands, self._state.user_commands = self._state.user_commands, []
            for command in commands:
                await self.run_user_command(command)
            for note in self._pending_notes:
                self._record(note)
            return TurnResult("completed", None, None)
        compact_only = self._state.compact_next_turn and not user_input
        self._state.compact_next_turn = False
        if not self._state.base_personality_fixed:
            self._state.base_personality_fixed = True
            if not self._prior:
                self._state.base_personality = self._settings.configured.personality
        if not compact_only:
            self._announce_options()
            self._add_user_input(user_input)
        return await self._loop(compact_only=compact_only)

    async def _loop(self, *, compact_only: bool = False) -> TurnResult:
        """Requests, tool calls and steering until the model answers without calling a tool."""
        await self._gather_extensions()
        try:
            transport = (
                ResponsesSocketClient if self._settings.provider.websockets else ResponsesClient
            )
            async with transport(
                self._settings.provider,
                self._settings.api_key,
                self._headers(),
                sleep=self._sleep,
            ) as client:
                if compact_only or self._context_full():
                    await self._compact(client)
                    if compact_only:
                        return TurnResult("completed", None, None)
                while True:
                    outcome = await self._sample(client)
                    for item in outcome.history_items:
                        self._record(item)
                    if outcome.last_agent_message is not None:
                        self._last_agent_message = outcome.last_agent_message
                    if outcome.usage is not None:
                        self._token_usage(outcome.usage)
                        self._state.context_tokens = usage_breakdown(outcome.usage)["totalTokens"]
                    self._rate_limits()
                    if await self._run_calls(outcome.function_calls):
                        return TurnResult("interrupted", None, self._last_agent_message)
                    steering = self._io.take_steering()
                    for steer in steering:
                        self._add_user_input(steer)
                    if not outcome.function_calls and not steering:
                        return TurnResult("completed", None, self._last_agent_message)
                    if self._context_full() or self._state.compact_next_turn:
                        self._state.compact_next_turn = False
                        await self._compact(client)
        except UpstreamError as exc:
            log.info("turn %s failed: %s", self._io.turn_id, exc.message)
            return TurnResult("failed", exc.to_turn_error(), self._last_agent_message)

    # ---- review ------------------------------------------------------------------------
    async def _review(self, review: ReviewRequest) -> TurnResult:
        """A review turn: its own conversation with review instructions, bracketed by the
        entered/exited review mode items (both with the turn's id)."""
        marker = {"type": "enteredReviewMode", "id": self._io.turn_id, "review": review.hint}
        self._notifier.item_started(marker)
        self._notifier.item_completed(marker)
        # The review is its own conversation: it starts empty and is not kept in the thread's
        # history; only its result is, once it is done (as the reference).
        self._prior = []
        self._keep_history = False
        self._settings = dataclasses.replace(self._settings, base_instructions=REVIEW_INSTRUCTIONS)
        task = {"type": "input_text", "text": review.task}
        self._record({"type": "message", "role": "user", "content": [task]})
        result = await self._loop()
        self._keep_history = True
        text = render_review(result.last_agent_message or "")
        exited = {"type": "exitedReviewMode", "id": self._io.turn_id, "review": text}
        self._notifier.item_started(exited)
        self._notifier.item_completed(exited)
        if result.status == "completed":
            self._io.record(review_result_message(text))
        return result

    # ---- compaction --------------------------------------------------------------------
    def _context_full(self) -> bool:
        limit = self._settings.auto_compact_token_limit
        return limit is not None and limit > 0 and self._state.context_tokens >= limit

    async def _compact(self, client: ResponsesClient) -> None:
        """Asks the model for a summary and continues from it instead of the whole history
        (shown as a `contextCompaction` item; the thread records a `compacted` entry)."""
        item = {"type": "contextCompaction", "id": str(uuid.uuid4())}
        self._notifier.item_started(item)
        prompt = self._settings.compact_prompt or SUMMARY_REQUEST
        body = self._request_body()
        body.pop("text", None)  # a turn's output schema is for its answer, not the summary
        request = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": prompt}],
        }
        body["input"] = [*body["input"], request]
        outcome = await self._sample(client, body, show=False)
        summary = outcome.last_agent_message or ""
        replacement = replacement_history([*self._prior, *self._turn_items], summary)
        record_compaction = getattr(self._io, "record_compaction", None)
        if callable(record_compaction):
            record_compaction(summary, replacement)
        self._prior, self._turn_items = replacement, []
        self._state.context_tokens = 0
        # The summary replaced the mode and personality text too: put it back.
        self._state.announced = {}
        self._announce_options()
        self._notifier.item_completed(item)
        self._notifier.notify("thread/compacted", {})

    async def _sample(
        self, client: ResponsesClient, body: dict[str, Any] | None = None, *, show: bool = True
    ) -> ResponseOutcome:
        """One model response, retrying the request when the stream breaks early; with
        `show=False` the client sees none of it (a compaction's summary)."""
        for note in self._pending_notes:
            self._record(note)
        self._pending_notes.clear()
        body = body if body is not None else self._request_body()
        client.set_header("x-codex-turn-metadata", self._turn_metadata())
        max_retries = max(self._settings.provider.stream_max_retries, 0)
        retries = 0
        self._notifier.new_request()
        while True:
            try:
                return await self._attempt(client, body, show=show)
            except StreamInterrupted as exc:
                detail = client.redact(f"stream disconnected before completion: {exc.message}")
                if retries >= max_retries:
                    raise UpstreamError(detail, "other") from None
                retries += 1
                self._notifier.notify(
                    "error",
                    {
                        "error": {
                            "message": f"Reconnecting... {retries}/{max_retries}",
                            "codexErrorInfo": {
                                "responseStreamDisconnected": {"httpStatusCode": exc.http_status}
                            },
                            "additionalDetails": detail,
                        },
                        "willRetry": True,
                    },
                )
                await self._sleep(client.backoff(retries))

    async def _attempt(
        self, client: ResponsesClient, body: dict[str, Any], *, show: bool = True
    ) -> ResponseOutcome:
        """One streamed attempt; the items a broken stream completed are not kept. With
        `show=False` the client sees none of it (a compaction's summary)."""
        self._notifier.new_attempt()
        translator = ResponseTranslator()
        plan_filter = PlanModeFilter(self._io.turn_id) if self._options.plan_mode else None
        self._attempt_hook("attempt_started")
        kept = True
        try:
            opened = False
            async with contextlib.aclosing(client.stream(body)) as events:
                async for event in events:
                    if not opened:
                        opened = True
                        self._rate_limits()
                    self._check_reroute(client.served_model, event)
                    notices = translator.feed(event)
                    if plan_filter is not None:
                        notices = plan_filter.filter(notices)
                    for method, params in notices if show else ():
                        self._notifier.send(method, params)
            return translator.outcome()
        except StreamInterrupted:
            kept = False
            raise
        finally:
            self._attempt_hook("attempt_finished", kept)

    def _attempt_hook(self, name: str, *args: bool) -> None:
        """Optional `TurnIO` extension: `attempt_started()` / `attempt_finished(completed)`
        bracket each streamed attempt, so items of a broken, retried stream are not kept."""
        hook = getattr(self._io, name, None)
        if callable(hook):
            hook(*args)

    async def _run_calls(self, calls: list[FunctionCall]) -> bool:
        """Runs the response's tool calls in order; True when the user cancelled the turn."""
        for index, call in enumerate(calls):
            try:
                outcome = await self._run_call(call)
            except asyncio.CancelledError:
                for pending in calls[index:]:
                    self._record_output(pending, CallOutcome(ABORTED_OUTPUT))
                raise
            self._record_output(call, outcome)
            if outcome.cancel_turn:
                for pending in calls[index + 1 :]:
                    self._record_output(pending, CallOutcome(ABORTED_OUTPUT))
                return True
        return False

    async def _run_call(self, call: FunctionCall) -> CallOutcome:
        if not self.tools.has(call.name):
            for extension in self._extensions:
                if extension.handles(call.name):
                    request = ExtensionCall(call, self._io, self._notifier, self._settings)
                    return CallOutcome(await extension.call(request))
        return await self.tools.run(
            ToolCall(call.call_id, call.name, call.arguments, custom=call.custom)
        )

    async def _gather_extensions(self) -> None:
        """Tools and developer text the thread's extensions offer for this turn."""
        instructions: list[str] = []
        for extension in self._extensions:
            offer = await extension.offer(self._settings, self._io)
            self._extension_tools.extend(offer.tools)
            instructions.extend(offer.instructions)
        if instructions:
            context = (*self._settings.developer_context, *instructions)
            self._settings = dataclasses.replace(self._settings, developer_context=context)

    # ---- history -----------------------------------------------------------------------
    def _record(self, item: dict[str, Any]) -> None:
        self._turn_items.append(item)
        if self._keep_history:
            self._io.record(item)

    def _record_output(self, call: FunctionCall, outcome: CallOutcome) -> None:
        kind = "custom_tool_call_output" if call.custom else "function_call_output"
        output: Output = outcome.output
        self._record({"type": kind, "call_id": call.call_id, "output": output})

    def _add_user_input(self, user_input: list[dict[str, Any]]) -> None:
        item = {"type": "userMessage", "id": str(uuid.uuid4()), "content": list(user_input)}
        self._notifier.item_started(item)
        self._notifier.item_completed(item)
        self._record(build_user_message(user_input, self._settings.cwd))

    # ---- request -----------------------------------------------------------------------
    def _turn_metadata(self) -> str:
        """`x-codex-turn-metadata`: the client's `responsesapiClientMetadata` (as last set by
        turn/start or turn/steer) with the turn's own identifiers on top."""
        io = self._io
        client_metadata = getattr(io, "client_metadata", None)
        metadata = dict(client_metadata()) if callable(client_metadata) else {}
        metadata |= {
            "session_id": io.thread_id,
            "turn_id": io.turn_id,
            "sandbox": "seccomp" if self._sandbox.confined else "none",
        }
        return orjson.dumps(metadata).decode()

    def _headers(self) -> dict[str, str]:
        io = self._io
        return {
            "User-Agent": self._settings.user_agent,
            "originator": self._settings.originator,
            "session_id": io.thread_id,
            "x-client-request-id": io.thread_id,
            "x-codex-window-id": f"{io.thread_id}:0",
            "x-codex-turn-metadata": self._turn_metadata(),
        }

    def _request_body(self) -> dict[str, Any]:
        settings = self._settings
        prefix = [
            developer_message(settings, self._sandbox.writable_roots),
            environment_message(settings.cwd, self._shell),
        ]
        instructions = settings.base_instructions
        if instructions is None:
            instructions = BASE_INSTRUCTIONS
            if self._state.base_personality is not None:
                section = personality_base_section(self._state.base_personality)
                instructions = f"{instructions}\n\n{section}"
        body = {
            "model": self._options.model(settings.model),
            "instructions": instructions,
            "input": [*prefix, *self._prior, *self._turn_items],
            "tools": [*self.tools.specs(), *self._extension_tools],
            "tool_choice": "auto",
            "parallel_tool_calls": False,
            "reasoning": None,
            "store": False,
            "stream": True,
            "include": [],
            "prompt_cache_key": self._io.thread_id,
        }
        if not instructions:  # an explicitly empty override: no system prompt at all
            del body["instructions"]
        body.update(settings.configured.model.body_fields())
        # A turn's own choices (turn/start effort, summary, output schema) refine the
        # configured ones rather than drop them.
        for name, value in request_fields(self._options, self._output_schema).items():
            current = body.get(name)
            merged = {**current, **value} if isinstance(current, dict) else value
            body[name] = merged
        return body

    def _option_texts(self) -> dict[str, str]:
        """Developer text for the thread's collaboration mode and for a personality other than
        the one its base instructions carry, by kind."""
        texts: dict[str, str] = {}
        if self._options.collaboration_mode is not None:
            texts["mode"] = mode_instructions(
                self._options.collaboration_mode, self._settings.features
            )
        personality = self._options.personality or self._settings.configured.personality
        if personality is not None and personality != self._state.base_personality:
            texts["personality"] = personality_instructions(personality)
        return texts

    def _announce_options(self) -> None:
        """Put the mode and personality text that changed since it was last put into the
        history there, as one developer message; unchanged text is not repeated."""
        changed = {
            kind: text
            for kind, text in self._option_texts().items()
            if self._state.announced.get(kind) != text
        }
        if not changed:
            return
        self._state.announced.update(changed)
        content = [{"type": "input_text", "text": text} for text in changed.values()]
        self._record({"type": "message", "role": "developer", "content": content})

    # ---- notifications -----------------------------------------------------------------
    def _check_reroute(self, header_model: str | None, event: dict[str, Any]) -> None:
        """The provider served another model than asked for (its safety checks downgrade a
        request): tell the client once per turn with `model/rerouted`."""
        if self._rerouted:
            return
        served = header_model
        if event.get("type") == "response.created":
            response = event.get("response")
            headers = response.get("headers") if isinstance(response, dict) else None
            if isinstance(headers, dict):
                for name, value in headers.items():
                    named = name.lower() in ("openai-model", "x-openai-model")
                    if named and isinstance(value, str) and value:
                        served = value
        requested = self._options.model(self._settings.model)
        if served and served.lower() != requested.lower():
            self._rerouted = True
            self._notifier.notify(
                "model/rerouted",
                {"fromModel": requested, "toModel": served, "reason": "highRiskCyberActivity"},
            )

    def _rate_limits(self) -> None:
        """As the reference, when a response starts and when it is done. An API-key provider
        reports no usage windows, so every figure is unknown (null), never made up."""
        self._io.emit("account/rateLimits/updated", {"rateLimits": dict(UNKNOWN_RATE_LIMITS)})

    def _token_usage(self, usage: dict[str, Any]) -> None:
        last = usage_breakdown(usage)
        total = self._state.token_total
        for name in _USAGE_FIELDS:
            total[name] = total.get(name, 0) + last[name]
        self._notifier.notify(
            "thread/tokenUsage/updated",
            {
                "tokenUsage": {
                    "total": dict(total),
                    "last": last,
                    "modelContextWindow": self._settings.configured.model.context_window,
                }
            },
        )
