"""Unit tests of scripted realtime connections (expect/emit steps)."""

from __future__ import annotations

import orjson

from parley.simulator.script import ScriptedRealtime, Step, matches


def test_partial_matching() -> None:
    """Expectations match recursively on the keys they name; other values must be equal."""
    assert matches(
        {"type": "a", "item": {"role": "user"}}, {"type": "a", "item": {"role": "user", "x": 1}}
    )
    assert not matches({"item": {"role": "user"}}, {"item": {"role": "assistant"}})
    assert not matches({"type": "a"}, {"kind": "a"})


def test_steps_emit_in_order_and_record_mismatches() -> None:
    """Leading emit-only steps run at connect; a mismatch is recorded and does not advance."""
    script = ScriptedRealtime(
        [
            Step(emit=[{"type": "session.created"}]),
            Step({"type": "session.update"}, [{"type": "session.updated"}]),
            Step(lambda e: e.get("type") == "response.create", [{"type": "response.done"}]),
        ],
        ignore_types={"input_audio_buffer.append"},
        close_after=True,
    )
    assert script.start() == [{"type": "session.created"}]
    assert script.receive(orjson.dumps({"type": "input_audio_buffer.append"})) == []
    assert script.receive(orjson.dumps({"type": "session.update", "session": {}})) == [
        {"type": "session.updated"}
    ]
    assert script.receive(b'{"type":"response.cancel"}') == []
    assert len(script.failures) == 1 and script.failures[0].step_index == 2
    assert not script.should_close
    assert script.receive(b'{"type":"response.create"}') == [{"type": "response.done"}]
    assert script.finished and script.should_close
    script.receive(b"not json")
    assert script.failures[-1].reason == "unexpected event after the script"
    assert len(script.received) == 5
