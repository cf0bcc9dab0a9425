"""Logging in with an API key and durable threads, through a real `parley app-server`."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path
from typing import Any

import orjson
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer
from support.sse import create_final_assistant_message_sse_response

from .helpers import (
    API_KEY,
    notifications,
    ready_server,
    start_turn,
    wait_turn_completed,
    write_config,
)

SECRET_KEY = "sk-integration-secret-0123456789"


async def test_api_key_login_is_announced_and_stored_privately(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """An API-key login answers apiKey, announces it, and stores the key in a 0600 auth.json."""
    write_config(codex_home)
    server = await spawn_app_server(codex_home=codex_home, env={"PARLEY_LOG": "debug"})
    await server.initialize()

    result = await server.request("account/login/start", {"type": "apiKey", "apiKey": SECRET_KEY})
    completed = await server.read_notification("account/login/completed")
    updated = await server.read_notification("account/updated")
    await server.start_thread()  # more traffic that could leak the key

    assert result == {"type": "apiKey"}
    assert completed == {"loginId": None, "success": True, "error": None}
    assert updated == {"authMode": "apikey", "planType": None}
    auth = codex_home / "auth.json"
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    assert orjson.loads(auth.read_bytes())["OPENAI_API_KEY"] == SECRET_KEY
    await server.close()
    assert SECRET_KEY not in server.stderr_text()
    for message in server.received_messages():
        assert SECRET_KEY not in orjson.dumps(message).decode(), f"key leaked in {message}"


async def test_account_read_and_logout(spawn_app_server: SpawnAppServer, codex_home: Path) -> None:
    """account/read shows the API-key account once logged in; logout clears it and says so."""
    write_config(codex_home, requires_openai_auth=True)
    server = await spawn_app_server(codex_home=codex_home)
    await server.initialize()

    before = await server.request("account/read", {})
    await server.login_with_api_key(SECRET_KEY)
    await server.read_notification("account/updated")
    after = await server.request("account/read", {})
    logout = await server.request("account/logout")
    logged_out = await server.read_notification("account/updated")
    final = await server.request("account/read", {})

    assert before == {"account": None, "requiresOpenaiAuth": True}
    assert after == {"account": {"type": "apiKey"}, "requiresOpenaiAuth": True}
    assert logout == {}
    assert logged_out == {"authMode": None, "planType": None}
    assert final == {"account": None, "requiresOpenaiAuth": True}
    assert not (codex_home / "auth.json").exists()
    await server.close()


async def test_account_read_with_a_provider_that_needs_no_openai_auth(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """With a provider that does not use the OpenAI account, account/read never shows one."""
    write_config(codex_home)
    server = await spawn_app_server(codex_home=codex_home)
    await server.initialize()
    before = await server.request("account/read", {})
    await server.login_with_api_key(SECRET_KEY)
    after = await server.request("account/read", {})
    assert before == after == {"account": None, "requiresOpenaiAuth": False}
    await server.close()


async def test_thread_start_announces_a_durable_thread(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """thread/start answers an idle thread and announces it; as the reference, its rollout under
    CODEX_HOME/sessions is written with the first turn, not before."""
    write_config(codex_home)
    server = await spawn_app_server(codex_home=codex_home)
    await server.initialize()

    result = await server.request("thread/start", {})
    started = await server.read_notification("thread/started")

    thread = result["thread"]
    assert started == {"thread": thread}
    assert uuid.UUID(thread["id"]).version == 7
    assert thread["sessionId"] == thread["id"]
    assert thread["status"] == {"type": "idle"}
    assert thread["turns"] == [] and thread["preview"] == "" and thread["ephemeral"] is False
    assert thread["modelProvider"] == "mock_provider"
    assert result["model"] == "mock-model"
    assert result["approvalPolicy"] == "never"
    assert result["sandbox"] == {
        "type": "readOnly",
        "access": {"type": "fullAccess"},
        "networkAccess": False,
    }
    assert_rollout_not_written_yet(thread, codex_home)
    await server.close()


def assert_rollout_not_written_yet(thread: dict[str, Any], codex_home: Path) -> None:
    path = Path(thread["path"])
    assert path.is_relative_to(codex_home.resolve() / "sessions")
    assert thread["id"] in path.name
    assert not path.exists()


async def test_thread_list_and_read_show_the_thread(
    spawn_app_server: SpawnAppServer, codex_home: Path, responses_server: MockResponsesServer
) -> None:
    """A thread shows up in thread/list once it has had a turn (as the reference); read works."""
    responses_server.push(create_final_assistant_message_sse_response("hi"))
    server, first = await ready_server(spawn_app_server, codex_home, responses_server)
    second = await server.start_thread()
    turn = await start_turn(server, first["id"], "hello")
    assert (await wait_turn_completed(server, turn["id"]))["status"] == "completed"

    listed = await server.request("thread/list", {})
    read = await server.request("thread/read", {"threadId": first["id"]})

    ids = [t["id"] for t in listed["data"]]
    assert ids == [first["id"]], "a thread without turns is not listed"
    assert listed["data"][0]["preview"] == "hello"
    assert second["id"] != first["id"]
    assert read["thread"]["id"] == first["id"]
    assert read["thread"]["path"] == first["path"]
    await server.close()


async def test_thread_history_survives_a_restart(
    spawn_app_server: SpawnAppServer, codex_home: Path, responses_server: MockResponsesServer
) -> None:
    """A thread resumed by a new server process continues with the earlier turns' history."""
    responses_server.push(
        create_final_assistant_message_sse_response("I will remember pineapple."),
        create_final_assistant_message_sse_response("The word was pineapple."),
    )
    first, thread = await ready_server(spawn_app_server, codex_home, responses_server)
    turn = await start_turn(first, thread["id"], "remember the word pineapple")
    assert (await wait_turn_completed(first, turn["id"]))["status"] == "completed"
    assert await first.close() == 0

    second = await spawn_app_server(codex_home=codex_home)
    await second.initialize()
    listed = await second.request("thread/list", {})
    resumed = await second.request("thread/resume", {"threadId": thread["id"]})
    turn2 = await start_turn(second, thread["id"], "what was the word?")
    completed = await wait_turn_completed(second, turn2["id"])

    assert thread["id"] in [t["id"] for t in listed["data"]]
    assert resumed["thread"]["id"] == thread["id"]
    assert [t["id"] for t in resumed["thread"]["turns"]] == [turn["id"]]
    earlier = resumed["thread"]["turns"][0]
    assert earlier["status"] == "completed"
    assert [i["text"] for i in earlier["items"] if i["type"] == "agentMessage"] == [
        "I will remember pineapple."
    ]
    assert completed["status"] == "completed"
    records = responses_server.responses_request_records()
    assert len(records) == 2
    assert records[1].header("authorization") == f"Bearer {API_KEY}", "the login survived too"
    later_input = orjson.dumps(records[1].body_json()["input"]).decode()
    assert "remember the word pineapple" in later_input
    assert "I will remember pineapple." in later_input
    assert later_input.index("remember the word pineapple") < later_input.index(
        "what was the word?"
    )
    agent = [
        p["item"]["text"]
        for p in notifications(second, "item/completed")
        if p["item"]["type"] == "agentMessage"
    ]
    assert agent == ["The word was pineapple."]
    await second.close()


async def test_threads_can_be_named_archived_and_unsubscribed(
    spawn_app_server: SpawnAppServer, codex_home: Path, responses_server: MockResponsesServer
) -> None:
    """Naming, archiving and unsubscribing a thread work and are announced and kept."""
    responses_server.push(create_final_assistant_message_sse_response("hi"))
    server, thread = await ready_server(spawn_app_server, codex_home, responses_server)
    turn = await start_turn(server, thread["id"], "hello")
    assert (await wait_turn_completed(server, turn["id"]))["status"] == "completed"
    tid = thread["id"]

    assert (
        await server.request("thread/name/set", {"threadId": tid, "name": " Release prep "}) == {}
    )
    assert await server.read_notification("thread/name/updated") == {
        "threadId": tid,
        "threadName": "Release prep",
    }
    assert (await server.request("thread/read", {"threadId": tid}))["thread"]["name"] == (
        "Release prep"
    )
    assert await server.request("thread/loaded/list", {}) == {"data": [tid], "nextCursor": None}

    assert await server.request("thread/archive", {"threadId": tid}) == {}
    assert await server.read_notification("thread/archived") == {"threadId": tid}
    assert (await server.request("thread/list", {}))["data"] == []
    archived = await server.request("thread/list", {"archived": True})
    assert [t["id"] for t in archived["data"]] == [tid]
    unarchived = await server.request("thread/unarchive", {"threadId": tid})
    assert unarchived["thread"]["id"] == tid
    assert [t["id"] for t in (await server.request("thread/list", {}))["data"]] == [tid]
    # As the reference, archiving unloaded the thread; resuming loads it again.
    await server.request("thread/resume", {"threadId": tid})

    assert await server.request("thread/unsubscribe", {"threadId": tid}) == {
        "status": "unsubscribed"
    }
    # The last subscriber leaving unloads the thread (as the reference).
    assert await server.request("thread/unsubscribe", {"threadId": tid}) == {"status": "notLoaded"}
    unknown = "01a21751-fb18-7e71-9842-6182b96a091e"
    assert await server.request("thread/unsubscribe", {"threadId": unknown}) == {
        "status": "notLoaded"
    }
    await server.close()
