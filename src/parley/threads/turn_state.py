"""A thread's turn lifecycle as a state and a transition table, with no I/O.

    idle --start--> running --end--> idle
                    running --interrupt--> interrupting --end--> idle
                                           interrupting --start--> running

`interrupting` is a turn that was told to stop and is still winding down (closing its stream,
killing its command); a turn started then runs after it. `end` is the current turn's task
finishing, however it finished. "Is a turn running" is `phase is TurnPhase.RUNNING`, asked
here and nowhere else.
"""

from __future__ import annotations

import enum
from typing import Final


class TurnPhase(enum.Enum):
    IDLE = "idle"
    RUNNING = "running"
    INTERRUPTING = "interrupting"


class TurnEvent(enum.Enum):
    START = "start"
    INTERRUPT = "interrupt"
    END = "end"


_TRANSITIONS: Final[dict[TurnPhase, dict[TurnEvent, TurnPhase]]] = {
    TurnPhase.IDLE: {TurnEvent.START: TurnPhase.RUNNING},
    TurnPhase.RUNNING: {
        TurnEvent.INTERRUPT: TurnPhase.INTERRUPTING,
        TurnEvent.END: TurnPhase.IDLE,
    },
    TurnPhase.INTERRUPTING: {
        TurnEvent.START: TurnPhase.RUNNING,
        TurnEvent.INTERRUPT: TurnPhase.INTERRUPTING,
        TurnEvent.END: TurnPhase.IDLE,
    },
}


class IllegalTurnTransition(RuntimeError):
    """An event the current phase does not allow (a bug); the phase is left unchanged."""

    def __init__(self, phase: TurnPhase, event: TurnEvent) -> None:
        super().__init__(f"cannot {event.value} a turn while {phase.value}")
        self.phase = phase
        self.event = event


class TurnLifecycle:
    """The phase plus the table that guards it."""

    def __init__(self) -> None:
        self.phase = TurnPhase.IDLE

    def allows(self, event: TurnEvent) -> bool:
        return event in _TRANSITIONS[self.phase]

    def apply(self, event: TurnEvent) -> TurnPhase:
        try:
            self.phase = _TRANSITIONS[self.phase][event]
        except KeyError:
            raise IllegalTurnTransition(self.phase, event) from None
        return self.phase
