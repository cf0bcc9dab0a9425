"""Plan mode's `<proposed_plan>` splitting (values in, values out)."""

from __future__ import annotations

from parley.agent.plan_mode import PlanModeFilter, ProposedPlanSplitter, split_message


def test_tags_split_across_deltas_are_recognised() -> None:
    """A tag cut between deltas is held back, never shown as message text."""
    splitter = ProposedPlanSplitter()
    pieces = []
    for delta in ["Intro <propo", "sed_plan>\n- a\n</pro", "posed_plan>\nBye"]:
        pieces += splitter.feed(delta)
    pieces += splitter.finish()
    text = "".join(t for k, t in pieces if k == "text")
    plan = "".join(t for k, t in pieces if k == "plan")
    assert (text, plan) == ("Intro Bye", "- a\n")


def test_message_without_block_is_unchanged() -> None:
    """No block: the whole text is the message and there is no plan."""
    assert split_message("just <b>text</b>") == ("just <b>text</b>", None)


def test_filter_moves_plan_to_its_own_item() -> None:
    """Deltas and the completed message lose the plan; the plan item completes first."""
    plan_filter = PlanModeFilter("t1")
    out = plan_filter.filter(
        [
            ("item/agentMessage/delta", {"itemId": "m", "delta": "A\n<proposed_plan>\nP\n"}),
            ("item/agentMessage/delta", {"itemId": "m", "delta": "</proposed_plan>\nB"}),
            (
                "item/completed",
                {
                    "item": {
                        "type": "agentMessage",
                        "id": "m",
                        "text": "A\n<proposed_plan>\nP\n</proposed_plan>\nB",
                    }
                },
            ),
        ]
    )
    methods = [m for m, _ in out]
    assert methods == [
        "item/agentMessage/delta",
        "item/started",
        "item/plan/delta",
        "item/agentMessage/delta",
        "item/completed",
        "item/completed",
    ]
    assert out[4][1]["item"] == {"type": "plan", "id": "t1-plan", "text": "P\n"}
    assert out[5][1]["item"]["text"] == "A\nB"
