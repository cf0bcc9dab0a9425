"""A voice request that edits a file: the delegated background-agent turn applies a patch, the
client sees the `fileChange` item with its diff, and the result is spoken back."""

from __future__ import annotations

import asyncio

from .harness import Launch, answer_finished, item_type, spoken_text

TIMEOUT = 20.0
PATCH = "*** Begin Patch\n*** Add File: notes.txt\n+hello from voice\n*** End Patch"


async def test_delegated_turn_edits_a_file_shows_the_change_and_speaks_a_summary(
    launch: Launch,
) -> None:
    """Typed on a v2 session, "run `apply_patch …`" is delegated; the agent's patch is shown as a
    completed fileChange item (allowed by workspace-write), written, and summarised aloud."""
    voice = await launch(version="v2", sandbox="workspace-write")
    client, sim = voice.client, voice.sim
    await client.start_realtime()

    await client.type_text(f"run `apply_patch <<'EOF'\n{PATCH}\nEOF`")

    await client.next_where("thread/realtime/itemAdded", item_type("handoff_request"))
    turn = (await client.read_notification("turn/started"))["turn"]
    started = (await client.next_where("item/started", item_type("fileChange")))["item"]
    target = voice.workspace / "notes.txt"
    assert started["status"] == "inProgress"
    assert started["changes"] == [
        {"path": str(target), "kind": {"type": "add"}, "diff": "hello from voice\n"}
    ]
    completed = (await client.next_where("item/completed", item_type("fileChange")))["item"]
    assert completed["status"] == "completed"
    assert target.read_text() == "hello from voice\n"
    done = (await client.read_notification("turn/completed"))["turn"]
    assert (done["id"], done["status"]) == (turn["id"], "completed")

    conn = sim.connections[0]
    async with asyncio.timeout(TIMEOUT):
        await sim.wait_for(lambda: answer_finished(conn))
    said = await client.read_transcript("assistant", spoken_text(conn))
    assert said == spoken_text(conn)
    assert "notes.txt" in said  # the spoken summary names the changed file

    closed = await client.stop_realtime()
    assert closed["reason"] == "requested"
