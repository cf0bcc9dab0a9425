"""Barge-in through Parley: speaking over the assistant's answer cancels it mid-sentence."""

from __future__ import annotations

import asyncio

from parley.simulator import RealtimeConnection, rms
from parley.simulator.realtime_policy import spoken_text_of_output

from .harness import Launch, answer_finished, events, item_type, role, spoken_audio, spoken_text

TIMEOUT = 20.0
# Three 75-digit lines: the agent's spoken summary is ~290 characters, about 17 s of speech,
# which the simulator (4x real time) needs ~4 s to send; the user interrupts well before.
LONG_REQUEST = "run: printf '%075d\\n' 1 2 3"
SECOND_REQUEST = "run: echo second-request"
SPEED = 4.0
PLAYED_CHUNKS = 5  # 100 ms each


def speech_items(conn: RealtimeConnection) -> list[str]:
    """Ids of the assistant message items the simulator started speaking, in order."""
    return [
        e["item"]["id"]
        for e in events(conn.sent, "response.output_item.added")
        if e["item"].get("type") == "message"
    ]


async def test_speaking_over_the_answer_cancels_it_and_the_new_request_is_handled(
    launch: Launch,
) -> None:
    """Speaking while the assistant reads out a long answer relays speech_started and
    response.cancelled, stops that answer's audio at once, and the new request is answered."""
    voice = await launch(speed=SPEED)
    client, sim = voice.client, voice.sim
    await client.start_realtime()
    await client.say(LONG_REQUEST)

    first_speech = await client.next_where(
        "thread/realtime/itemAdded", item_type("input_audio_buffer.speech_started")
    )
    user = await client.next_where("thread/realtime/transcriptUpdated", role("user"))
    assert user["text"] == LONG_REQUEST
    first_handoff = await client.next_where(
        "thread/realtime/itemAdded", item_type("handoff_request")
    )
    turn = (await client.read_notification("turn/started"))["turn"]
    assert turn["id"] == "auto-compact-1"
    command = (await client.next_where("item/completed", item_type("commandExecution")))["item"]
    assert "0" * 74 + "3" in command["aggregatedOutput"]
    assert (await client.read_notification("turn/completed"))["turn"]["status"] == "completed"

    # The long answer starts playing; half a second in, the user talks over it.
    first_audio = await client.read_notification("thread/realtime/outputAudio/delta")
    answer_item = first_audio["audio"]["itemId"]
    assert answer_item is not None
    for _ in range(PLAYED_CHUNKS - 1):
        await client.read_notification("thread/realtime/outputAudio/delta")
    await client.say(SECOND_REQUEST)

    barge = await client.next_where(
        "thread/realtime/itemAdded", item_type("input_audio_buffer.speech_started")
    )
    assert barge["item"]["item_id"] != first_speech["item"]["item_id"]
    cancelled = await client.next_where(
        "thread/realtime/itemAdded", item_type("response.cancelled")
    )
    conn = sim.connections[0]
    cancelled_response = cancelled["item"]["response_id"]
    [opened] = [
        e
        for e in events(conn.sent, "response.output_item.added")
        if e["response_id"] == cancelled_response
    ]
    assert opened["item"]["id"] == answer_item  # the answer being spoken is the one cancelled

    # The new utterance is transcribed, delegated, run and answered aloud.
    user = await client.next_where("thread/realtime/transcriptUpdated", role("user"))
    assert user["text"] == SECOND_REQUEST
    second_handoff = await client.next_where(
        "thread/realtime/itemAdded", item_type("handoff_request")
    )
    assert second_handoff["item"]["handoff_id"] != first_handoff["item"]["handoff_id"]
    assert second_handoff["item"]["input_transcript"] == SECOND_REQUEST
    turn = (await client.read_notification("turn/started"))["turn"]
    assert turn["id"] == "auto-compact-2"
    command = (await client.next_where("item/completed", item_type("commandExecution")))["item"]
    assert "second-request" in command["aggregatedOutput"]
    assert (await client.read_notification("turn/completed"))["turn"]["status"] == "completed"

    def second_answer_done() -> bool:
        items = speech_items(conn)
        return len(items) == 2 and answer_finished(conn, items[1])

    async with asyncio.timeout(TIMEOUT):
        await sim.wait_for(second_answer_done)
    second_item = speech_items(conn)[1]
    expected = spoken_audio(conn, second_item)
    pcm = await client.hear(expected, item_id=second_item)
    assert pcm == expected
    assert rms(pcm) > 0.01
    assert "second-request" in spoken_text(conn, second_item)

    # The cancelled answer was cut short: only a prefix of it was said ...
    outputs = [
        e["item"]["output"]
        for e in events(conn.received, "conversation.item.create")
        if e["item"].get("type") == "function_call_output"
    ]
    full_answer = spoken_text_of_output(outputs[0])
    said = spoken_text(conn, answer_item)
    assert full_answer.startswith(said) and len(said) < len(full_answer) // 2, said
    # ... no audio of it left the simulator after the cancellation ...
    sent_types = [
        (e.get("type"), e.get("item_id"), (e.get("response") or {}).get("id"))
        for e in conn.sent
        if isinstance(e, dict)
    ]
    cancel_at = sent_types.index(("response.cancelled", None, cancelled_response))
    assert ("response.output_audio.delta", answer_item, None) not in sent_types[cancel_at:]
    # ... and the client got none after it either, but every chunk sent before it.
    received = client.received_messages()
    cancel_seen = client.index_of("thread/realtime/itemAdded", item_type("response.cancelled"))
    chunks_for = [
        i
        for i, m in enumerate(received)
        if m.get("method") == "thread/realtime/outputAudio/delta"
        and m["params"]["audio"]["itemId"] == answer_item
    ]
    assert chunks_for and max(chunks_for) < cancel_seen
    assert len(chunks_for) == len(
        [e for e in events(conn.sent, "response.output_audio.delta") if e["item_id"] == answer_item]
    )
    barge_seen = client.index_of(
        "thread/realtime/itemAdded",
        lambda p: p["item"].get("item_id") == barge["item"]["item_id"],
    )
    assert barge_seen < cancel_seen

    closed = await client.stop_realtime()
    assert closed["reason"] == "requested"
