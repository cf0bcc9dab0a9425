"""Where a v2 `background_agent` call goes: into the running delegated task (steering) or into a
new delegated turn.

While a task runs, a further call steers it: the call is acknowledged at once (steering
`function_call_output` + `response.create`) and its text reaches the running turn's next
Responses request; the turn stays the same. Once the task has finished (its final output went
upstream), a call starts a new delegated turn, also while the voice model is still speaking the
previous result.

Real `parley app-server` subprocess, the hand-driven `LiveUpstream` as the Realtime API (the
test pushes each upstream event when the step before it was seen) and the mock Responses server.
"""

from __future__ import annotations

import asyncio
import base64

from spec.test_realtime_conversation import (
    V2_STEERING_ACKNOWLEDGEMENT,
    SpecEnv,
    assert_v2_function_call_output,
    assert_v2_progress_update,
    assert_v2_response_create,
    response_request_contains_text,
    v2_background_agent_tool_call,
)
from support.sse import create_final_assistant_message_sse_response

from .rig import Json, Rig, start_rig
from .upstream import LiveUpstream, UpstreamConnection

FIRST_PROMPT = "first task: list the files"
SECOND_PROMPT = "second task: show the date"
FIRST_ANSWER = "first task finished"
SECOND_ANSWER = "second task finished"


async def _first_task_done(rig: Rig, conn: UpstreamConnection) -> str:
    """Run the first delegated task to its end; returns its turn id. Frames 1-3 upstream are
    its progress update, final output and response.create."""
    await conn.send(v2_background_agent_tool_call("call_first", FIRST_PROMPT))
    turn_id = (await rig.notification("turn/started"))["turn"]["id"]
    completed = (await rig.notification("turn/completed"))["turn"]
    assert (completed["id"], completed["status"]) == (turn_id, "completed")
    frames = await conn.wait_for_frames(4)
    assert_v2_progress_update(frames[1], FIRST_ANSWER)
    assert_v2_function_call_output(frames[2], "call_first", FIRST_ANSWER)
    assert_v2_response_create(frames[3])
    return str(turn_id)


async def _second_call_starts_a_new_turn(
    rig: Rig, conn: UpstreamConnection, first_turn: str
) -> None:
    """The second call is a new delegated turn with its own final output (no steering ack);
    its `response.create` is the caller's to check (it waits for an open response to end)."""
    await conn.send(v2_background_agent_tool_call("call_second", SECOND_PROMPT))
    second_turn = (await rig.notification("turn/started"))["turn"]["id"]
    assert second_turn != first_turn
    completed = (await rig.notification("turn/completed"))["turn"]
    assert (completed["id"], completed["status"]) == (second_turn, "completed")
    requests = rig.responses.responses_requests()
    assert len(requests) == 2
    assert response_request_contains_text(requests[1], SECOND_PROMPT)
    frames = await conn.wait_for_frames(6)
    assert_v2_progress_update(frames[4], SECOND_ANSWER)
    assert_v2_function_call_output(frames[5], "call_second", SECOND_ANSWER)
    acks = [
        f
        for f in conn.frames
        if f.get("item", {}).get("output", "").endswith(V2_STEERING_ACKNOWLEDGEMENT)
    ]
    assert acks == []


async def _two_answers_rig(env: SpecEnv, upstream: LiveUpstream) -> tuple[Rig, UpstreamConnection]:
    responses = await env.create_mock_responses_server_sequence_unchecked(
        [
            create_final_assistant_message_sse_response(FIRST_ANSWER),
            create_final_assistant_message_sse_response(SECOND_ANSWER),
        ]
    )
    rig = await start_rig(env, upstream.uri, responses=responses)
    await rig.start_realtime()
    await rig.notification("thread/realtime/started")
    conn = await upstream.wait_for_connection(0)
    await conn.wait_for_frames(1)
    return rig, conn


def _response_event(kind: str, response_id: str) -> Json:
    return {"type": kind, "response": {"id": response_id, "status": "completed"}}


def _audio_delta(item_id: str) -> Json:
    return {
        "type": "response.output_audio.delta",
        "response_id": "resp_result",
        "item_id": item_id,
        "delta": base64.b64encode(bytes(4800)).decode(),
    }


async def test_a_call_while_the_task_runs_steers_it(env: SpecEnv, upstream: LiveUpstream) -> None:
    """A call made while the delegated task waits for the model is steering: acknowledged at
    once, its text is in the same turn's next Responses request, and no second turn starts."""
    gate = asyncio.Event()
    responses = await env.create_mock_responses_server_sequence_unchecked(
        [
            create_final_assistant_message_sse_response(FIRST_ANSWER),
            create_final_assistant_message_sse_response("steered task finished"),
        ],
        gate=gate,
    )
    rig = await start_rig(env, upstream.uri, responses=responses)
    await rig.start_realtime()
    await rig.notification("thread/realtime/started")
    conn = await upstream.wait_for_connection(0)
    await conn.wait_for_frames(1)

    await conn.send(v2_background_agent_tool_call("call_first", FIRST_PROMPT))
    turn_id = (await rig.notification("turn/started"))["turn"]["id"]
    await responses.wait_for_responses_requests(1)  # the task is waiting for the model

    await conn.send(v2_background_agent_tool_call("call_steer", SECOND_PROMPT))
    frames = await conn.wait_for_frames(3)
    assert_v2_function_call_output(frames[1], "call_steer", V2_STEERING_ACKNOWLEDGEMENT)
    assert_v2_response_create(frames[2])
    # The voice model speaks the acknowledgement.
    await conn.send(_response_event("response.created", "resp_ack"))
    await conn.send(_response_event("response.done", "resp_ack"))

    gate.set()
    completed = (await rig.notification("turn/completed"))["turn"]
    assert (completed["id"], completed["status"]) == (turn_id, "completed")
    requests = responses.responses_requests()
    assert len(requests) == 2
    assert not response_request_contains_text(requests[0], SECOND_PROMPT)
    assert response_request_contains_text(requests[1], SECOND_PROMPT)
    assert response_request_contains_text(requests[1], FIRST_PROMPT)  # same conversation
    assert [p["turn"]["id"] for p in rig.all_notifications("turn/started")] == [turn_id]

    # The first call gets the steered task's final answer.
    frames = await conn.wait_for_frames(7)
    assert_v2_progress_update(frames[3], FIRST_ANSWER)
    assert_v2_progress_update(frames[4], "steered task finished")
    assert_v2_function_call_output(frames[5], "call_first", "steered task finished")
    assert_v2_response_create(frames[6])
    await rig.finish()


async def test_a_call_after_the_task_finished_starts_a_new_turn(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """Once the task finished and its result was spoken, a call starts a new delegated turn."""
    rig, conn = await _two_answers_rig(env, upstream)
    first_turn = await _first_task_done(rig, conn)
    await conn.send(_response_event("response.created", "resp_result"))
    await conn.send(_response_event("response.done", "resp_result"))

    await _second_call_starts_a_new_turn(rig, conn, first_turn)
    assert_v2_response_create((await conn.wait_for_frames(7))[6])
    await rig.finish()


async def test_a_call_during_result_playback_starts_a_new_turn(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """A call made while the voice model is still speaking the finished task's result (its
    response open, audio flowing to the client) starts a new delegated turn."""
    rig, conn = await _two_answers_rig(env, upstream)
    first_turn = await _first_task_done(rig, conn)
    await conn.send(_response_event("response.created", "resp_result"))
    await conn.send(_audio_delta("item_result"))
    await rig.notification("thread/realtime/outputAudio/delta")

    await _second_call_starts_a_new_turn(rig, conn, first_turn)
    # One response at a time: the new result is asked for once the one playing is done.
    await conn.send(_audio_delta("item_result"))
    await conn.send(_response_event("response.done", "resp_result"))
    assert_v2_response_create((await conn.wait_for_frames(7))[6])
    await rig.finish()
