"""When a shell command needs the user's approval, and what their answer means.

Approval policies (the thread's `approval_policy`):

* ``never``: never ask; confined commands run in the sandbox and a sandbox refusal is final.
* ``untrusted``: ask before any command that is not known to only read (and not already
  approved for the session); run it in the sandbox; if the sandbox seems to have blocked it,
  ask again to rerun it without the sandbox.
* ``on-failure``: run everything in the sandbox without asking; when the sandbox seems to have
  blocked a command (or cannot start), ask to rerun it without the sandbox.
* ``on-request``: run in the sandbox without asking unless the model asked for escalation
  (`sandbox_permissions: "require_escalated"`), in which case ask first and, if approved, run
  it without the sandbox.

With ``danger-full-access`` nothing is confined, so only ``untrusted`` ever asks.

Pure decisions only; asking the client and running the command is `parley.agent.command_call`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from parley.tools.safe_commands import is_known_safe


class ApprovalPolicy(StrEnum):
    NEVER = "never"
    ON_REQUEST = "on-request"
    ON_FAILURE = "on-failure"
    UNTRUSTED = "untrusted"

    @classmethod
    def parse(cls, value: str) -> ApprovalPolicy:
        try:
            return cls(value)
        except ValueError:
            # Unknown policies ask the most, never the least.
            return cls.UNTRUSTED


class Decision(Enum):
    ACCEPT = "accept"
    ACCEPT_FOR_SESSION = "acceptForSession"
    DECLINE = "decline"
    CANCEL = "cancel"

    @property
    def approved(self) -> bool:
        return self in (Decision.ACCEPT, Decision.ACCEPT_FOR_SESSION)


AVAILABLE_DECISIONS = ["accept", "acceptForSession", "decline", "cancel"]


def parse_decision(response: Any) -> Decision:
    """Reads a CommandExecutionRequestApprovalResponse; anything unreadable declines."""
    decision = response.get("decision") if isinstance(response, dict) else None
    if isinstance(decision, str):
        for member in Decision:
            if member.value == decision:
                return member
        return Decision.DECLINE
    if isinstance(decision, dict):
        if "acceptWithExecpolicyAmendment" in decision:
            return Decision.ACCEPT_FOR_SESSION
        amendment = decision.get("applyNetworkPolicyAmendment")
        if isinstance(amendment, dict):
            rule = amendment.get("network_policy_amendment")
            if isinstance(rule, dict) and rule.get("action") == "allow":
                return Decision.ACCEPT
    return Decision.DECLINE


@dataclass(frozen=True)
class ExecPlan:
    """How to run one command before anything has happened."""

    ask_reason: str | None  # ask before running (None: do not ask); the text shown to the user
    sandboxed: bool  # run the (first) attempt confined
    escalate_on_denial: bool  # if the sandbox blocks it, ask to rerun unconfined


def plan_exec(
    policy: ApprovalPolicy,
    *,
    confined: bool,
    command: str,
    escalation_requested: bool,
    justification: str | None,
    approved_for_session: bool,
) -> ExecPlan:
    if not confined:
        ask = (
            policy is ApprovalPolicy.UNTRUSTED
            and not approved_for_session
            and not is_known_safe(command)
        )
        return ExecPlan("the command is not known to be read-only" if ask else None, False, False)
    if policy is ApprovalPolicy.NEVER:
        return ExecPlan(None, True, False)
    if policy is ApprovalPolicy.ON_REQUEST:
        if escalation_requested:
            if approved_for_session:
                return ExecPlan(None, False, False)
            reason = justification or "the agent asks to run this command outside the sandbox"
            return ExecPlan(reason, False, False)
        return ExecPlan(None, True, False)
    if policy is ApprovalPolicy.ON_FAILURE:
        return ExecPlan(None, True, True)
    ask = not approved_for_session and not is_known_safe(command)
    return ExecPlan("the command is not known to be read-only" if ask else None, True, True)


_DENIAL_MARKERS = (
    "read-only file system",
    "permission denied",
    "operation not permitted",
    "network is unreachable",
    "could not resolve host",
    "temporary failure in name resolution",
    "connection refused",
)


def looks_like_sandbox_denial(exit_code: int, output: str) -> bool:
    """Best-effort: did a confined command fail because the sandbox blocked it?"""
    if exit_code == 0:
        return False
    lowered = output.lower()
    return any(marker in lowered for marker in _DENIAL_MARKERS)
