"""The turn engine's pure parts: stream translation, replay hiding and approval decisions."""

from __future__ import annotations

from typing import Any

from parley.agent.approval import (
    ApprovalPolicy,
    Decision,
    ExecPlan,
    looks_like_sandbox_denial,
    parse_decision,
    plan_exec,
)
from parley.agent.notifier import TurnNotifier
from parley.agent.response_events import ResponseTranslator


class _Sink:
    thread_id = "t"
    turn_id = "u"

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def emit(self, method: str, params: dict[str, Any]) -> None:
        self.sent.append((method, params))


def test_deltas_without_item_id_belong_to_the_current_message() -> None:
    """Text deltas that name no item are attributed to the message being streamed."""
    translator = ResponseTranslator()
    added = {
        "type": "response.output_item.added",
        "item": {"type": "message", "role": "assistant", "id": "m1", "content": []},
    }
    assert translator.feed(added)[0][0] == "item/started"
    notices = translator.feed({"type": "response.output_text.delta", "delta": "hi"})
    assert notices == [("item/agentMessage/delta", {"itemId": "m1", "delta": "hi"})]


def test_items_only_in_response_completed_are_still_shown() -> None:
    """A server that puts the output only in response.completed still yields messages and calls."""
    translator = ResponseTranslator()
    notices = translator.feed(
        {
            "type": "response.completed",
            "response": {
                "output": [
                    {
                        "type": "message",
                        "role": "assistant",
                        "id": "m1",
                        "content": [{"type": "output_text", "text": "hello"}],
                    },
                    {
                        "type": "function_call",
                        "call_id": "c1",
                        "name": "shell_command",
                        "arguments": "{}",
                    },
                ]
            },
        }
    )
    assert [m for m, _ in notices] == ["item/started", "item/completed"]
    outcome = translator.outcome()
    assert outcome.last_agent_message == "hello"
    assert [c.call_id for c in outcome.function_calls] == ["c1"]
    assert translator.completed


def test_retried_stream_does_not_repeat_shown_text() -> None:
    """After a retry, only text beyond what the client already saw is forwarded."""
    sink = _Sink()
    notifier = TurnNotifier(sink)
    notifier.send("item/agentMessage/delta", {"itemId": "m1", "delta": "Hel"})
    notifier.new_attempt()
    notifier.send("item/agentMessage/delta", {"itemId": "m1", "delta": "He"})
    notifier.send("item/agentMessage/delta", {"itemId": "m1", "delta": "llo"})
    assert [p["delta"] for _, p in sink.sent] == ["Hel", "lo"]
    assert all(p["threadId"] == "t" and p["turnId"] == "u" for _, p in sink.sent)


def test_items_start_and_complete_once() -> None:
    """An item replayed by a retry is started and completed only once."""
    sink = _Sink()
    notifier = TurnNotifier(sink)
    item = {"type": "agentMessage", "id": "m1", "text": "x"}
    notifier.item_completed(item)
    notifier.item_started(item)
    notifier.item_completed(item)
    assert [m for m, _ in sink.sent] == ["item/started", "item/completed"]


def test_approval_plans_per_policy() -> None:
    """Each approval policy asks (or not) and sandboxes as documented."""

    def plan(
        policy: str, confined: bool = True, command: str = "touch x", escalate: bool = False
    ) -> ExecPlan:
        return plan_exec(
            ApprovalPolicy.parse(policy),
            confined=confined,
            command=command,
            escalation_requested=escalate,
            justification=None,
            approved_for_session=False,
        )

    assert plan("never") == plan("never", escalate=True)
    assert plan("never").ask_reason is None and plan("never").sandboxed
    assert plan("on-failure").ask_reason is None and plan("on-failure").escalate_on_denial
    assert plan("on-request").ask_reason is None and plan("on-request").sandboxed
    escalated = plan("on-request", escalate=True)
    assert escalated.ask_reason is not None and not escalated.sandboxed
    assert plan("untrusted").ask_reason is not None
    assert plan("untrusted", command="ls -la && cat README.md").ask_reason is None
    assert plan("untrusted", confined=False).ask_reason is not None
    assert plan("on-failure", confined=False).ask_reason is None
    assert plan("bogus-policy").ask_reason is not None  # unknown policies ask


def test_decisions_are_read_from_the_client_answer() -> None:
    """Client answers map to accept / acceptForSession / decline / cancel; junk declines."""
    assert parse_decision({"decision": "accept"}) is Decision.ACCEPT
    assert parse_decision({"decision": "acceptForSession"}) is Decision.ACCEPT_FOR_SESSION
    assert parse_decision({"decision": "cancel"}) is Decision.CANCEL
    assert parse_decision({"decision": "whatever"}) is Decision.DECLINE
    assert parse_decision({}) is Decision.DECLINE
    amendment = {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch"]}}
    assert parse_decision({"decision": amendment}).approved


def test_sandbox_denial_heuristic() -> None:
    """Failures that look like the sandbox's doing are recognised; ordinary failures are not."""
    assert looks_like_sandbox_denial(2, "sh: 1: cannot create f.txt: Read-only file system\n")
    assert not looks_like_sandbox_denial(1, "test failed: expected 3")
    assert not looks_like_sandbox_denial(0, "Permission denied")
