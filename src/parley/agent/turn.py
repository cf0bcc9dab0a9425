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
the thread's `TurnExtension`s (MCP servers, skills; see `parley.agent.extensions`).
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
from parley.agent.command_call import CallOutcome, CommandCallRunner, SessionApprovals
from parley.agent.extensions import ExtensionCall, TurnExtension
from parley.agent.notifier import TurnNotifier
from parley.agent.notify_program import TurnCompletion, notify_turn_complete, text_of_input
from parley.agent.prompt import BASE_INSTRUCTIONS, developer_message, environment_message
from parley.agent.prompt import user_message as build_user_message
from parley.agent.response_events import FunctionCall, ResponseOutcome, ResponseTranslator
from parley.agent.responses import ResponsesClient, StreamInterrupted, UpstreamError
from parley.agent.settings import ProviderSettings, TurnSettings
from parley.tools.sandbox import SandboxPolicy
from parley.tools.shell import SHELL_TOOL_NAME, shell_tool_spec, user_shell
from parley.tools.shell_snapshot import ShellSnapshotSlot

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
    approvals: SessionApprovals = field(default_factory=SessionApprovals)
    shell_snapshot: ShellSnapshotSlot = field(default_factory=ShellSnapshotSlot)


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
    if settings.options.notify and result.status == "completed":
        notify_turn_complete(
            settings.options.notify,
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
        personality = settings.options.personality_instructions
        if personality:
            settings = dataclasses.replace(
                settings, developer_context=(*settings.developer_context, personality)
            )
        self._settings = settings
        self._sleep = sleep
        state = getattr(io, "agent_state", None)
        self._state = state if isinstance(state, AgentSessionState) else AgentSessionState()
        self._notifier = TurnNotifier(io)
        self._extensions: list[TurnExtension] = list(getattr(io, "extensions", ()))
        self._extension_tools: list[dict[str, Any]] = []
        self._prior = list(io.history())
        self._turn_items: list[dict[str, Any]] = []
        self._last_agent_message: str | None = None
        self._shell = user_shell()
        self._approval_policy = ApprovalPolicy.parse(settings.approval_policy)
        self._sandbox = SandboxPolicy.for_turn(
            settings.sandbox_mode, settings.cwd, settings.network_access, settings.codex_home
        )
        if self._sandbox.writable_roots:
            self._sandbox = dataclasses.replace(
                self._sandbox,
                writable_roots=settings.options.workspace_roots.apply(self._sandbox.writable_roots),
            )
        self._commands = CommandCallRunner(
            io,
            self._notifier,
            cwd=settings.cwd,
            sandbox=self._sandbox,
            approval_policy=self._approval_policy,
            approvals=self._state.approvals,
            environment=settings.shell_environment,
            codex_home=settings.codex_home,
            snapshot=self._state.shell_snapshot,
        )

    # ---- the loop ----------------------------------------------------------------------
    async def run(self, user_input: list[dict[str, Any]]) -> TurnResult:
        self._add_user_input(user_input)
        await self._gather_extensions()
        try:
            async with ResponsesClient(
                self._settings.provider,
                self._settings.api_key,
                self._headers(),
                sleep=self._sleep,
            ) as client:
                while True:
                    outcome = await self._sample(client)
                    for item in outcome.history_items:
                        self._record(item)
                    if outcome.last_agent_message is not None:
                        self._last_agent_message = outcome.last_agent_message
                    if outcome.usage is not None:
                        self._token_usage(outcome.usage)
                    self._rate_limits()
                    if await self._run_calls(outcome.function_calls):
                        return TurnResult("interrupted", None, self._last_agent_message)
                    steering = self._io.take_steering()
                    for steer in steering:
                        self._add_user_input(steer)
                    if not outcome.function_calls and not steering:
                        return TurnResult("completed", None, self._last_agent_message)
        except UpstreamError as exc:
            log.info("turn %s failed: %s", self._io.turn_id, exc.message)
            return TurnResult("failed", exc.to_turn_error(), self._last_agent_message)

    async def _sample(self, client: ResponsesClient) -> ResponseOutcome:
        """One model response, retrying the request when the stream breaks early."""
        body = self._request_body()
        client.set_header("x-codex-turn-metadata", self._turn_metadata())
        max_retries = max(self._settings.provider.stream_max_retries, 0)
        retries = 0
        self._notifier.new_request()
        while True:
            self._notifier.new_attempt()
            translator = ResponseTranslator()
            try:
                opened = False
                async with contextlib.aclosing(client.stream(body)) as events:
                    async for event in events:
                        if not opened:
                            opened = True
                            self._rate_limits()
                        for method, params in translator.feed(event):
                            self._notifier.send(method, params)
                return translator.outcome()
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

    async def _run_calls(self, calls: list[FunctionCall]) -> bool:
        """Runs the response's tool calls in order; True when the user cancelled the turn."""
        for index, call in enumerate(calls):
            try:
                outcome = await self._run_call(call)
            except asyncio.CancelledError:
                for pending in calls[index:]:
                    self._record_output(pending.call_id, ABORTED_OUTPUT)
                raise
            self._record_output(call.call_id, outcome.output)
            if outcome.cancel_turn:
                for pending in calls[index + 1 :]:
                    self._record_output(pending.call_id, ABORTED_OUTPUT)
                return True
        return False

    async def _run_call(self, call: FunctionCall) -> CallOutcome:
        if call.name == SHELL_TOOL_NAME:
            return await self._commands.run(call.call_id, call.arguments)
        for extension in self._extensions:
            if extension.handles(call.name):
                request = ExtensionCall(call, self._io, self._notifier, self._settings)
                return CallOutcome(await extension.call(request))
        return CallOutcome(f"unsupported call: {call.name}")

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
        self._io.record(item)

    def _record_output(self, call_id: str, output: str) -> None:
        self._record({"type": "function_call_output", "call_id": call_id, "output": output})

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
        allow_escalation = self._approval_policy is ApprovalPolicy.ON_REQUEST
        return {
            "model": settings.model,
            "instructions": settings.base_instructions or BASE_INSTRUCTIONS,
            "input": [*prefix, *self._prior, *self._turn_items],
            "tools": [shell_tool_spec(allow_escalation=allow_escalation), *self._extension_tools],
            "tool_choice": "auto",
            "parallel_tool_calls": False,
            "reasoning": None,
            "store": False,
            "stream": True,
            "include": [],
            "prompt_cache_key": self._io.thread_id,
        } | settings.options.model.body_fields()

    # ---- notifications -----------------------------------------------------------------
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
                    "modelContextWindow": self._settings.options.model.context_window,
                }
            },
        )
