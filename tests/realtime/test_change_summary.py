"""The file-change summary the voice model is given when a delegated turn edited files."""

from __future__ import annotations

from typing import Any

import orjson

from parley.realtime.bridge import RealtimeBridge, SendFrame
from parley.realtime.change_summary import summarize_file_changes
from parley.realtime.codec import SessionSpec, codec_for

UPDATE = {
    "path": "/work/notes.txt",
    "kind": {"type": "update", "move_path": None},
    "diff": "--- a\n+++ b\n@@ -1,2 +1,3 @@\n list\n-milk\n+oat milk\n+bread\n",
}


def test_each_changed_file_is_named_with_its_line_counts() -> None:
    """Updates count +/- lines of the diff; added and deleted files count their content."""
    added = {"path": "/work/new.md", "kind": {"type": "add"}, "diff": "a\nb\nc\n"}
    deleted = {"path": "/work/old.md", "kind": {"type": "delete"}, "diff": "x\n"}
    assert summarize_file_changes([UPDATE, added, deleted]) == (
        "Files the background agent changed: updated notes.txt: 2 lines added, 1 line removed; "
        "created new.md: 3 lines added; deleted old.md: 1 line removed."
    )


def test_a_move_is_named_and_nothing_changed_means_no_summary() -> None:
    """A renamed file says where it went; no (or unreadable) changes give no summary."""
    moved = {"path": "/a/x.txt", "kind": {"type": "update", "move_path": "/a/y.txt"}, "diff": ""}
    assert summarize_file_changes([moved]) == (
        "Files the background agent changed: updated x.txt (moved to y.txt)."
    )
    assert summarize_file_changes([]) is None
    assert summarize_file_changes([{"path": 3, "kind": "update"}]) is None


def _final_output(bridge: RealtimeBridge, turn_id: str) -> Any:
    [frame, *_] = [
        a for a in bridge.turn_completed(turn_id, "completed") if isinstance(a, SendFrame)
    ]
    return orjson.loads(frame.data)["item"]["output"]


def _delegated_bridge(version: str = "v2") -> RealtimeBridge:
    bridge = RealtimeBridge(thread_id="t", session_id="t", codec=codec_for(version))
    bridge.start()
    bridge.established(SessionSpec(instructions="p", voice="marin", model="gpt-realtime-1.5"))
    call = {
        "type": "conversation.item.done",
        "item": {
            "type": "function_call",
            "name": "background_agent",
            "call_id": "c1",
            "arguments": orjson.dumps({"prompt": "edit"}).decode(),
        },
    }
    bridge.receive_text(orjson.dumps(call))
    bridge.turn_started("turn-1")
    return bridge


def test_the_handoff_answer_carries_the_summary_after_the_agents_message() -> None:
    """A completed fileChange in the handoff's turn is summarised after the final message."""
    bridge = _delegated_bridge()
    item = {"type": "fileChange", "id": "p", "status": "completed", "changes": [UPDATE]}
    assert bridge.thread_event("item/completed", {"turnId": "turn-1", "item": item}) == []
    bridge.agent_message_completed("turn-1", "Done.")
    output = _final_output(bridge, "turn-1")
    assert output.endswith(
        "Done.\n\nFiles the background agent changed: updated notes.txt: "
        "2 lines added, 1 line removed."
    )


def test_a_declined_patch_is_not_reported_and_a_silent_turn_still_answers() -> None:
    """Only applied patches count; a turn with an edit but no message still answers the call."""
    bridge = _delegated_bridge()
    declined = {"type": "fileChange", "id": "p", "status": "declined", "changes": [UPDATE]}
    bridge.thread_event("item/completed", {"turnId": "turn-1", "item": declined})
    bridge.agent_message_completed("turn-1", "I left it alone.")
    assert "notes.txt" not in _final_output(bridge, "turn-1")

    bridge = _delegated_bridge()
    applied = {"type": "fileChange", "id": "p", "status": "completed", "changes": [UPDATE]}
    bridge.thread_event("item/completed", {"turnId": "turn-1", "item": applied})
    assert "updated notes.txt" in _final_output(bridge, "turn-1")


def test_v1_hears_the_summary_as_a_handoff_update() -> None:
    """v1 has no final answer to carry it: the summary goes up as one more handoff message."""
    bridge = RealtimeBridge(thread_id="t", session_id="t", codec=codec_for("v1"))
    bridge.start()
    bridge.established(SessionSpec(instructions="p", voice="cove", model="gpt-realtime-1.5"))
    handoff = {
        "type": "conversation.handoff.requested",
        "handoff_id": "h1",
        "item_id": "i1",
        "input_transcript": "edit my notes",
    }
    bridge.receive_text(orjson.dumps(handoff))
    bridge.turn_started("turn-1")
    item = {"type": "fileChange", "id": "p", "status": "completed", "changes": [UPDATE]}
    bridge.thread_event("item/completed", {"turnId": "turn-1", "item": item})
    frames = [
        orjson.loads(a.data)
        for a in bridge.turn_completed("turn-1", "completed")
        if isinstance(a, SendFrame)
    ]
    assert [f["type"] for f in frames] == ["conversation.handoff.append"]
    assert frames[0]["handoff_id"] == "h1"
    assert "updated notes.txt" in frames[0]["output_text"]
