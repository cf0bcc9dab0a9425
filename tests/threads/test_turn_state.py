"""The turn lifecycle table: legal moves, and illegal ones refused without changing the phase."""

from __future__ import annotations

import pytest

from parley.threads.turn_state import IllegalTurnTransition, TurnEvent, TurnLifecycle, TurnPhase


def test_a_turn_runs_and_ends() -> None:
    life = TurnLifecycle()
    assert life.apply(TurnEvent.START) is TurnPhase.RUNNING
    assert life.apply(TurnEvent.END) is TurnPhase.IDLE


def test_an_interrupted_turn_winds_down_and_a_new_one_can_start_meanwhile() -> None:
    life = TurnLifecycle()
    life.apply(TurnEvent.START)
    assert life.apply(TurnEvent.INTERRUPT) is TurnPhase.INTERRUPTING
    assert life.apply(TurnEvent.INTERRUPT) is TurnPhase.INTERRUPTING
    assert life.apply(TurnEvent.START) is TurnPhase.RUNNING


@pytest.mark.parametrize(
    ("events", "illegal"),
    [
        ([], TurnEvent.END),
        ([], TurnEvent.INTERRUPT),
        ([TurnEvent.START], TurnEvent.START),
    ],
)
def test_illegal_moves_leave_the_phase_alone(events: list[TurnEvent], illegal: TurnEvent) -> None:
    life = TurnLifecycle()
    for event in events:
        life.apply(event)
    before = life.phase
    assert not life.allows(illegal)
    with pytest.raises(IllegalTurnTransition):
        life.apply(illegal)
    assert life.phase is before
