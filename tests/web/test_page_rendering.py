"""The page against a scripted app-server: what it shows for work and failures the offline
simulator never produces (file changes with diffs, plans, a high-demand error, the voice
service closing). The scripted side is a `parley.web` backend, served by the real `WebServer`
on 127.0.0.1 and driven by Debian's Chromium."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.web_page import launch_chromium, new_page, playwright_session

from parley.realtime.voices import list_voices_result
from parley.web import WebServer

# One browser at a time: two Chromiums feeding fake microphones in real time on two loaded
# cores drop audio. (With -n, xdist keeps this group on one worker.)
pytestmark = [pytest.mark.timeout(180), pytest.mark.xdist_group("chromium")]

THREAD = {"id": "th-scripted", "preview": "", "name": None, "createdAt": 0, "updatedAt": 0}
DIFF = "--- a/greet.py\n+++ b/greet.py\n@@ -1 +1 @@\n-print('hi')\n+print('hello')\n"
HIGH_DEMAND = "We're currently experiencing high demand, which may cause temporary errors."


class _ScriptedLink:
    def __init__(self, write: Callable[[bytes], None]) -> None:
        self._write = write
        self.closed = asyncio.Event()

    def _out(self, message: dict[str, Any]) -> None:
        self._write(json.dumps(message).encode() + b"\n")

    def _notify(self, method: str, params: dict[str, Any]) -> None:
        self._out({"method": method, "params": {"threadId": THREAD["id"], **params}})

    async def send(self, line: bytes) -> None:
        message = json.loads(line)
        method, request_id = message.get("method"), message.get("id")
        if request_id is None:
            return
        results: dict[str, Any] = {
            "initialize": {"userAgent": "scripted/0"},
            "thread/list": {"data": [], "nextCursor": None},
            "thread/realtime/listVoices": list_voices_result(),
            "thread/start": {"thread": THREAD},
            "thread/realtime/start": {},
        }
        self._out({"id": request_id, "result": results.get(method, {})})
        if method == "thread/realtime/start":
            self._play_script()

    def _play_script(self) -> None:
        self._notify("thread/realtime/started", {"sessionId": "s", "version": "v2"})
        self._notify("turn/started", {"turn": {"id": "t1", "status": "inProgress", "items": []}})
        change = {"path": "greet.py", "kind": {"type": "update", "move_path": None}, "diff": DIFF}
        item = {"type": "fileChange", "id": "fc1", "status": "inProgress", "changes": [change]}
        self._notify("item/started", {"turnId": "t1", "item": item})
        plan = [
            {"step": "read greet.py", "status": "completed"},
            {"step": "say hello", "status": "inProgress"},
        ]
        self._notify("turn/plan/updated", {"turnId": "t1", "explanation": None, "plan": plan})
        self._notify("thread/realtime/error", {"message": HIGH_DEMAND})
        self._notify("thread/realtime/closed", {"reason": "error"})

    async def close(self) -> None:
        self.closed.set()


class _ScriptedBackend:
    def describe(self) -> str:
        return "scripted app-server"

    async def open(self, write: Callable[[bytes], None]) -> _ScriptedLink:
        return _ScriptedLink(write)


@pytest.fixture
def scripted_page_server() -> Iterator[WebServer]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = WebServer(_ScriptedBackend())
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def test_diffs_plans_and_failures_are_shown(scripted_page_server: WebServer) -> None:
    """A file change shows its diff (added and removed lines marked), a plan shows its steps,
    and a high-demand error and the voice service closing are both reported, not swallowed."""
    with playwright_session() as playwright, launch_chromium(playwright) as browser:
        page = new_page(browser)
        page.goto(scripted_page_server.url)
        page.wait_for_selector("#start-button:not([disabled])")
        page.get_by_role("button", name="Start conversation").click()
        page.wait_for_selector("#status[data-state='ended']")
        assert page.inner_text(".work-item[data-type='fileChange'] .title") == "update: greet.py"
        assert page.inner_text("pre.diff .add").strip() == "+print('hello')"
        assert page.inner_text("pre.diff .del").strip() == "-print('hi')"
        steps = page.locator(".plan li").all_inner_texts()
        assert steps == ["read greet.py (completed)", "say hello (inProgress)"]
        errors = page.evaluate("() => window.parleyStats.errors")
        assert any("high demand" in error for error in errors), errors
        assert "ended because of an error" in page.inner_text("#banner")
        assert page.get_by_role("button", name="Start conversation").is_enabled()
        page.context.close()
