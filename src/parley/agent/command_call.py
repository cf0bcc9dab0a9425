"""One `shell_command` call from start to output: approval, sandbox, run, item notifications.

The call is shown to the client as a `commandExecution` item (id = the model's call id):
`item/started` (inProgress), `item/commandExecution/outputDelta` while it runs, and
`item/completed` with status completed / failed / declined. Approval requests are sent through
the thread layer (`item/commandExecution/requestApproval`); the policy decisions themselves are
in `parley.agent.approval`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from parley.agent.approval import (
    AVAILABLE_DECISIONS,
    ApprovalPolicy,
    Decision,
    looks_like_sandbox_denial,
    parse_decision,
    plan_exec,
)
from parley.agent.notifier import TurnNotifier
from parley.agent.tools.base import CallOutcome, SessionGrants
from parley.config.shell_environment import ShellEnvironmentPolicy
from parley.tools.sandbox import SandboxMode, SandboxPolicy, check
from parley.tools.shell import (
    CommandResult,
    SandboxUnavailableError,
    ShellCall,
    command_env,
    display_command,
    format_for_model,
    run_command,
    shell_argv,
    user_shell,
)
from parley.tools.shell_snapshot import ShellSnapshotSlot

log = logging.getLogger(__name__)

APPROVAL_METHOD = "item/commandExecution/requestApproval"
DECLINED_OUTPUT = "rejected by user: the command was not run"
UNCONFINED = SandboxPolicy(SandboxMode.DANGER_FULL_ACCESS)


def _resolve_workdir(cwd: Path, workdir: str | None) -> Path:
    if not workdir:
        return cwd
    path = Path(workdir).expanduser()
    return path if path.is_absolute() else cwd / path


class ApprovalChannel(Protocol):
    thread_id: str
    turn_id: str

    async def request_client(self, method: str, params: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class _Item:
    call_id: str
    command: str
    display: str
    cwd: Path
    streamed: list[str] = field(default_factory=list)  # output shown so far

    def wire(
        self,
        status: str,
        output: str | None = None,
        exit_code: int | None = None,
        duration_ms: int | None = None,
    ) -> dict[str, Any]:
        return {
            "type": "commandExecution",
            "id": self.call_id,
            "command": self.display,
            "cwd": str(self.cwd),
            "processId": None,
            "source": "agent",
            "status": status,
            "commandActions": [{"type": "unknown", "command": self.command}],
            "aggregatedOutput": output,
            "exitCode": exit_code,
            "durationMs": duration_ms,
        }


class CommandCallRunner:
    def __init__(
        self,
        channel: ApprovalChannel,
        notifier: TurnNotifier,
        *,
        cwd: Path,
        sandbox: SandboxPolicy,
        approval_policy: ApprovalPolicy,
        approvals: SessionGrants,
        environment: ShellEnvironmentPolicy | None = None,
        codex_home: Path | None = None,
        snapshot: ShellSnapshotSlot | None = None,
    ) -> None:
        self._channel = channel
        self._notifier = notifier
        self._cwd = cwd
        self.sandbox = sandbox
        self._policy = approval_policy
        self._approvals = approvals
        self._environment = environment or ShellEnvironmentPolicy()
        self._thread_id: str | None = channel.thread_id
        self._env = command_env(self._environment, self._thread_id)
        # The snapshot needs a place the sandbox keeps read-only (CODEX_HOME) for its file.
        self._snapshot = snapshot if codex_home is not None else None
        if self._snapshot is not None and codex_home is not None:
            self._snapshot.start_for(cwd, self._environment, self._thread_id, codex_home)

    async def run(self, call_id: str, arguments: str) -> CallOutcome:
        try:
            call = ShellCall.parse(arguments)
        except ValueError as exc:
            return CallOutcome(str(exc))
        cwd = _resolve_workdir(self._cwd, call.workdir)
        argv = shell_argv(user_shell(), call.command, login=call.login)
        item = _Item(call_id, call.command, display_command(argv), cwd)
        self._notifier.item_started(item.wire("inProgress"))
        try:
            return await self._run_item(item, argv, cwd, call)
        except asyncio.CancelledError:
            # Interrupted (turn/interrupt, shutdown): the item still ends, with what it printed.
            output = "".join(item.streamed) or None
            self._notifier.item_completed(item.wire("failed", output, None, None))
            raise

    async def _run_item(
        self, item: _Item, argv: list[str], cwd: Path, call: ShellCall
    ) -> CallOutcome:
        if not await asyncio.to_thread(cwd.is_dir):
            message = f"workdir {cwd} does not exist or is not a directory; the command was not run"
            self._notifier.item_completed(item.wire("failed", message, None, 0))
            return CallOutcome(message)

        plan = plan_exec(
            self._policy,
            confined=self.sandbox.confined,
            command=call.command,
            escalation_requested=call.escalation_requested,
            justification=call.justification,
            approved_for_session=call.command in self._approvals.commands,
        )
        if plan.ask_reason is not None:
            decision = await self._ask(item, plan.ask_reason)
            if not decision.approved:
                return self._declined(item, decision)
        sandboxed = plan.sandboxed
        if sandboxed:
            problem = await asyncio.to_thread(check)
            if problem is not None:
                if not plan.escalate_on_denial:
                    return self._refused(item, problem)
                decision = await self._ask(
                    item, f"the sandbox cannot run here ({problem}); run without it?"
                )
                if not decision.approved:
                    return self._declined(item, decision)
                sandboxed = False

        result = await self._execute(item, argv, cwd, call, sandboxed)
        if (
            sandboxed
            and plan.escalate_on_denial
            and not result.timed_out
            and looks_like_sandbox_denial(result.exit_code, result.output)
        ):
            if call.command in self._approvals.commands:
                decision = Decision.ACCEPT
            else:
                decision = await self._ask(
                    item, "the command failed in the sandbox; run it again without the sandbox?"
                )
            if decision is Decision.CANCEL:
                return self._finish(item, result, call, cancel_turn=True)
            if decision.approved:
                result = await self._execute(item, argv, cwd, call, sandboxed=False)
        return self._finish(item, result, call)

    async def _launch(self, call: ShellCall, cwd: Path) -> tuple[list[str], dict[str, str]]:
        """The argv and environment that run the call: through the thread's shell snapshot when
        a login shell was asked for and the snapshot fits, else the shell itself."""
        shell = user_shell()
        if call.login and self._snapshot is not None:
            snapshot = await self._snapshot.get()
            if snapshot is not None and snapshot.applies_to(shell, cwd):
                environment = snapshot.command_environment(self._environment, self._thread_id)
                return snapshot.argv(call.command), environment
        return shell_argv(shell, call.command, login=call.login), dict(self._env)

    async def _execute(
        self, item: _Item, argv: list[str], cwd: Path, call: ShellCall, sandboxed: bool
    ) -> CommandResult:
        def on_output(text: str) -> None:
            item.streamed.append(text)
            self._notifier.notify(
                "item/commandExecution/outputDelta", {"itemId": item.call_id, "delta": text}
            )

        started = time.monotonic()
        launch_argv, environment = await self._launch(call, cwd)
        try:
            return await run_command(
                launch_argv,
                cwd=cwd,
                policy=self.sandbox if sandboxed else UNCONFINED,
                timeout_s=call.timeout_s,
                on_output=on_output,
                env=environment,
            )
        except SandboxUnavailableError as exc:
            return CommandResult(1, f"sandbox unavailable: {exc}", 0.0)
        except OSError as exc:
            duration = time.monotonic() - started
            return CommandResult(127, f"failed to start {argv[0]}: {exc.strerror or exc}", duration)

    def _finish(
        self, item: _Item, result: CommandResult, call: ShellCall, *, cancel_turn: bool = False
    ) -> CallOutcome:
        status = "completed" if result.exit_code == 0 and not result.timed_out else "failed"
        self._notifier.item_completed(
            item.wire(status, result.output, result.exit_code, result.duration_ms)
        )
        return CallOutcome(format_for_model(result, call.timeout_ms), cancel_turn)

    def _refused(self, item: _Item, problem: str) -> CallOutcome:
        message = f"command refused: the sandbox is unavailable ({problem}); it was not run"
        self._notifier.item_completed(item.wire("failed", message, None, 0))
        return CallOutcome(message)

    def _declined(self, item: _Item, decision: Decision) -> CallOutcome:
        self._notifier.item_completed(item.wire("declined", None, None, None))
        return CallOutcome(DECLINED_OUTPUT, cancel_turn=decision is Decision.CANCEL)

    async def _ask(self, item: _Item, reason: str) -> Decision:
        params = {
            "threadId": self._channel.thread_id,
            "turnId": self._channel.turn_id,
            "itemId": item.call_id,
            "approvalId": None,
            "reason": reason,
            "command": item.display,
            "cwd": str(item.cwd),
            "commandActions": [{"type": "unknown", "command": item.command}],
            "availableDecisions": list(AVAILABLE_DECISIONS),
        }
        try:
            response = await self._channel.request_client(APPROVAL_METHOD, params)
        except ConnectionError:
            log.info("no client to approve command %s; declining", item.call_id)
            return Decision.DECLINE
        except Exception as exc:  # an error answer from the client declines, it does not crash
            log.info("approval request for %s failed (%s); declining", item.call_id, exc)
            return Decision.DECLINE
        decision = parse_decision(response)
        if decision is Decision.ACCEPT_FOR_SESSION:
            self._approvals.commands.add(item.command)
        return decision
