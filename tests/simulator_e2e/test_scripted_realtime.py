"""A `ScriptedRealtime` in place of the simulated voice model, driven by Parley for real."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson

from parley.simulator import ScriptedRealtime, Step, rms, synthesize_voice

from .harness import Launch, VoiceClient

CALL_ID = "call_scripted_1"
REQUEST = "run: echo scripted-ok"
PROGRESS_SUFFIX = "Update from background agent (task hasn't finished yet):"
ANSWER = "It printed scripted-ok."
ANSWER_PCM = synthesize_voice(ANSWER)


def progress_update(event: dict[str, Any]) -> bool:
    """A v2 progress item: user text carrying the agent's message and the progress suffix."""
    item = event.get("item") or {}
    text = "".join(part.get("text", "") for part in item.get("content") or [])
    return (
        event.get("type") == "conversation.item.create"
        and item.get("type") == "message"
        and item.get("role") == "user"
        and text.endswith(PROGRESS_SUFFIX)
        and "scripted-ok" in text
    )


def script() -> ScriptedRealtime:
    """Configure → delegate `REQUEST`; take progress, the output and a response request; speak."""
    where = {"response_id": "resp_scripted", "item_id": "item_answer", "output_index": 0}
    return ScriptedRealtime(
        [
            Step(
                expect={"type": "session.update", "session": {"type": "realtime"}},
                emit=[
                    {"type": "session.updated", "session": {"id": "sess_scripted"}},
                    {
                        "type": "conversation.item.done",
                        "item": {
                            "id": "item_call",
                            "type": "function_call",
                            "name": "background_agent",
                            "call_id": CALL_ID,
                            "arguments": orjson.dumps({"prompt": REQUEST}).decode(),
                        },
                    },
                ],
            ),
            Step(expect=progress_update),
            Step(
                expect={
                    "type": "conversation.item.create",
                    "item": {"type": "function_call_output", "call_id": CALL_ID},
                }
            ),
            Step(
                expect={"type": "response.create"},
                emit=[
                    {"type": "response.created", "response": {"id": "resp_scripted"}},
                    {"type": "response.output_audio_transcript.delta", **where, "delta": ANSWER},
                    {
                        "type": "response.output_audio.delta",
                        **where,
                        "delta": base64.b64encode(ANSWER_PCM).decode(),
                        "sample_rate": 24_000,
                        "channels": 1,
                        "samples_per_channel": len(ANSWER_PCM) // 2,
                    },
                    {"type": "response.done", "response": {"id": "resp_scripted"}},
                ],
            ),
        ]
    )


@contextlib.asynccontextmanager
async def explained_by(scripted: ScriptedRealtime) -> AsyncIterator[None]:
    """A client-side timeout usually means the script stalled: say where."""
    try:
        yield
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nscript failures: {scripted.failures}") from exc


async def delegation_round_trip(client: VoiceClient) -> None:
    """What the client sees: the handoff, the delegated turn, the spoken reply."""
    handoff = await client.next_where(
        "thread/realtime/itemAdded", lambda p: p["item"].get("type") == "handoff_request"
    )
    assert handoff["item"]["handoff_id"] == CALL_ID
    assert handoff["item"]["input_transcript"] == REQUEST
    turn = (await client.read_notification("turn/started"))["turn"]
    assert turn["id"] == "auto-compact-1"
    command = (
        await client.next_where("item/completed", lambda p: p["item"]["type"] == "commandExecution")
    )["item"]
    assert "scripted-ok" in command["aggregatedOutput"]
    assert (await client.read_notification("turn/completed"))["turn"]["status"] == "completed"

    said = await client.read_transcript("assistant", ANSWER)
    assert said == ANSWER
    pcm = await client.hear(ANSWER_PCM)
    assert pcm == ANSWER_PCM
    assert rms(pcm) > 0.01


async def test_scripted_realtime_sees_the_delegation_round_trip(launch: Launch) -> None:
    """A scripted realtime model that calls background_agent gets the agent's progress, the
    function_call_output and a response.create in order, and its spoken reply reaches the client."""
    voice = await launch()
    client, sim = voice.client, voice.sim
    scripted = script()
    sim.script_realtime(scripted)

    await client.start_realtime()
    async with explained_by(scripted):
        await delegation_round_trip(client)

    assert scripted.failures == []
    assert scripted.finished
    assert sim.connections[0].endpoint is scripted
    session = scripted.received[0]["session"]
    assert [tool["name"] for tool in session["tools"]] == ["background_agent"]
    assert [e["type"] for e in scripted.received] == [
        "session.update",
        "conversation.item.create",  # progress: the agent's message as user text
        "conversation.item.create",  # the function_call_output
        "response.create",
    ]
    assert scripted.received[2]["item"]["output"] == (
        '"Agent Final Message":\n\nI ran `echo scripted-ok`. It printed 1 line: scripted-ok'
    )

    closed = await client.stop_realtime()
    assert closed["reason"] == "requested"
    assert scripted.failures == []
