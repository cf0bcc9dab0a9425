"""`parley web` in a real browser: Debian's Chromium driven by Playwright, its microphone fed
with speech made by `parley.simulator.synthesize_speech`, against `parley web --simulate`.

Every wait is for a condition in the page (`window.parleyStats` or the DOM); the timeouts are
only safety nets. The conversation test also takes the README's screenshots (`docs/`).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.web_page import (
    ParleyWeb,
    launch_chromium,
    new_page,
    parley_web,
    playwright_session,
)

from parley.simulator import synthesize_speech, write_wav
from parley.simulator.audio import silence

# A browser, a simulator and an app-server share two cores with the rest of the suite.
# One browser at a time: two Chromiums feeding fake microphones in real time on two loaded
# cores drop audio. (With -n, xdist keeps this group on one worker.)
pytestmark = [pytest.mark.timeout(180), pytest.mark.xdist_group("chromium")]

DOCS = Path(__file__).resolve().parents[2] / "docs"
SPOKEN_REQUEST = "run: touch hello.txt && ls"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web-workspace")
    (root / "README.md").write_text("# A tiny project\n")
    return root


@pytest.fixture(scope="module")
def server(workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ParleyWeb]:
    home = tmp_path_factory.mktemp("web-codex-home")
    args = [
        "-c", 'approval_policy="untrusted"',
        "-c", 'sandbox_mode="danger-full-access"',
        "web", "--simulate", "--no-browser",
    ]  # fmt: skip
    with parley_web(workspace, home, args) as running:
        yield running


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    with playwright_session() as session:
        yield session


@pytest.fixture(scope="module")
def browser(playwright: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    wav = tmp_path_factory.mktemp("microphone") / "request.wav"
    # Half a second of silence first: a WebRTC call's microphone joins once the call is up.
    write_wav(wav, synthesize_speech(SPOKEN_REQUEST, lead_ms=500), 24_000)
    with launch_chromium(playwright, wav) as running:
        yield running


@pytest.fixture(scope="module")
def quiet_browser(playwright: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A browser whose microphone hears only silence: what is said into the page's microphone
    must not be a second, unplanned input of a test that types its request."""
    wav = tmp_path_factory.mktemp("quiet-microphone") / "silence.wav"
    write_wav(wav, silence(3000), 24_000)
    with launch_chromium(playwright, wav) as running:
        yield running


def _stat(page: Any, name: str) -> Any:
    return page.evaluate(f"() => window.parleyStats.{name}")


def _open_ready_page(browser: Any, server: ParleyWeb) -> Any:
    page = new_page(browser)
    page.goto(server.url)
    page.wait_for_function("() => window.parleyStats && window.parleyStats.connected")
    page.wait_for_selector("#start-button:not([disabled])")
    return page


def test_spoken_request_runs_an_approved_command_and_the_answer_is_played(
    browser: Any, server: ParleyWeb, workspace: Path
) -> None:
    """Speaking into the page shows the transcript, asks to approve the delegated command,
    runs it once approved (command and output appear) and plays the spoken answer."""
    page = _open_ready_page(browser, server)
    page.get_by_role("button", name="Start conversation").click()
    page.wait_for_function("() => window.parleyStats.realtime === 'running'")
    page.wait_for_selector(f".utterance.you:has-text('{SPOKEN_REQUEST}')")

    approval = page.wait_for_selector(".approval")
    assert "touch hello.txt" in approval.inner_text()
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "web-approval.png"))
    page.get_by_role("button", name="Approve", exact=True).click()

    command = page.wait_for_selector(".work-item.completed[data-type='commandExecution']")
    assert "touch hello.txt && ls" in command.inner_text()
    page.wait_for_selector(".work-item[data-type='commandExecution'] pre:has-text('hello.txt')")
    assert (workspace / "hello.txt").exists()

    page.wait_for_selector(".utterance.assistant:has-text('hello.txt')")
    # At least a second of audible answer went through the page's audio output.
    page.wait_for_function("() => window.parleyStats.playedSamples > 24000")
    assert _stat(page, "playedPeak") > 0.05
    page.wait_for_function("() => !window.parleyStats.playing")
    assert _stat(page, "errors") == []
    page.screenshot(path=str(DOCS / "web-conversation.png"))
    page.context.close()


def test_a_webrtc_call_carries_speech_and_answer_as_media(browser: Any, server: ParleyWeb) -> None:
    """WebRTC: the browser holds the media (the simulator answers its real offer with aiortc);
    the spoken request is heard from RTP, the command runs and the answer plays from the call."""
    pytest.importorskip("aiortc", reason="the web-rtc extra (aiortc) is not installed")
    page = _open_ready_page(browser, server)
    page.get_by_label("Audio path").select_option("webrtc")
    page.get_by_role("button", name="Start conversation").click()
    page.wait_for_function("() => window.parleyStats.webrtc === 'connected'")
    page.wait_for_selector(f".utterance.you:has-text('{SPOKEN_REQUEST}')")
    page.wait_for_selector(".approval")
    page.get_by_role("button", name="Approve", exact=True).click()
    page.wait_for_selector(".work-item.completed[data-type='commandExecution']")
    page.wait_for_selector(".utterance.assistant:has-text('hello.txt')")
    # Half a second of audible answer played out of the call's audio element.
    page.wait_for_function("() => window.parleyStats.playedSamples > 12000")
    assert _stat(page, "chunksSent") == 0  # no audio went through the relay
    assert _stat(page, "errors") == []
    page.context.close()


def test_pressing_talk_while_the_answer_plays_stops_playback_at_once(
    quiet_browser: Any, server: ParleyWeb
) -> None:
    """Barge-in: in push-to-talk mode, pressing talk during an answer silences it at once, and
    nothing more is played while talk is held. (The microphone is silent: the spoken request of
    the other tests, still playing when talk is pressed, would be a second barge-in.)"""
    page = _open_ready_page(quiet_browser, server)
    page.get_by_label("Push-to-talk").check()
    page.get_by_role("button", name="Start conversation").click()
    page.wait_for_function("() => window.parleyStats.realtime === 'running'")
    page.get_by_label("Type a message").fill("run: echo barge-in-check")
    page.get_by_role("button", name="Send").click()
    # Press the talk button in the same page task that sees the answer playing.
    page.wait_for_function(
        """() => {
            if (!window.parleyStats.playing) return false;
            document.getElementById('talk-button')
                .dispatchEvent(new PointerEvent('pointerdown', {bubbles: true}));
            window.playedAtBargeIn = window.parleyStats.playedSamples;
            window.reportsAtBargeIn = window.parleyStats.playerReports;
            return true;
        }"""
    )
    assert _stat(page, "bargeIns") == 1
    assert _stat(page, "playing") is False
    # The playback worklet reports itself empty and silent right after the press ...
    page.wait_for_function(
        """() => window.parleyStats.playerReports > window.reportsAtBargeIn + 2
                 && window.parleyStats.buffered === 0 && !window.parleyStats.playing"""
    )
    # ... and stays silent while talk is held (half a second more of playback reports),
    # whatever the voice model goes on sending.
    page.wait_for_function("() => window.parleyStats.playerReports > window.reportsAtBargeIn + 20")
    played = _stat(page, "playedSamples")
    assert played - page.evaluate("() => window.playedAtBargeIn") < 24000 * 0.2
    assert _stat(page, "playing") is False
    page.context.close()


def test_the_token_leaves_the_address_bar_and_a_reload_still_works(
    browser: Any, server: ParleyWeb
) -> None:
    """The token is not left in the address bar (or history), yet reloading the tab reconnects."""
    page = _open_ready_page(browser, server)
    assert "token" not in page.url
    page.reload()
    page.wait_for_function("() => window.parleyStats && window.parleyStats.connected")
    assert page.evaluate("() => window.parleyStats.errors") == []
    page.context.close()


def test_a_wrong_token_is_refused(browser: Any, server: ParleyWeb) -> None:
    """A link with the wrong token gets a clear refusal and no JSON-RPC connection."""
    page = new_page(browser)
    page.goto(f"{server.origin}/#token=not-the-token")
    page.wait_for_selector("#status[data-state='error']:has-text('Access refused')")
    assert "not the one of the running" in page.inner_text("#banner")
    opened = page.evaluate(
        """() => new Promise((resolve) => {
            const ws = new WebSocket(`ws://${location.host}/rpc`, ['parley', 'parley-token.wrong']);
            ws.onopen = () => resolve('opened');
            ws.onclose = () => resolve('refused');
        })"""
    )
    assert opened == "refused"
    assert _stat(page, "connected") is False
    page.context.close()


class _OtherSite(http.server.BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_page_from_another_origin_cannot_connect(browser: Any, server: ParleyWeb) -> None:
    """Even holding the right token, a page served from another origin can neither open the
    JSON-RPC socket nor read the session endpoint."""
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OtherSite)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        target = server.origin.removeprefix("http://")
        auth = f"{{headers: {{Authorization: 'Bearer {server.token}'}}}}"
        _OtherSite.page = f"""<!doctype html><script>
            window.result = {{}};
            const protocols = ['parley', 'parley-token.{server.token}'];
            const ws = new WebSocket('ws://{target}/rpc', protocols);
            ws.onopen = () => {{ window.result.socket = 'opened'; }};
            ws.onclose = () => {{ window.result.socket = window.result.socket || 'refused'; }};
            fetch('{server.origin}/api/session', {auth})
              .then(r => r.text()).then(() => {{ window.result.fetch = 'read'; }},
                                          () => {{ window.result.fetch = 'blocked'; }});
        </script>""".encode()
        page = new_page(browser)
        page.goto(f"http://127.0.0.1:{other.server_address[1]}/")
        page.wait_for_function("() => window.result.socket && window.result.fetch")
        assert page.evaluate("() => window.result") == {"socket": "refused", "fetch": "blocked"}
        page.context.close()
    finally:
        other.shutdown()


def test_a_refused_microphone_is_reported_not_ignored(playwright: Any, server: ParleyWeb) -> None:
    """When the browser refuses the microphone, the page says so and how to go on."""
    with launch_chromium(playwright, microphone_allowed=False) as refusing:
        page = _open_ready_page(refusing, server)
        page.get_by_role("button", name="Start conversation").click()
        page.wait_for_selector("#status[data-state='error']:has-text('No microphone')")
        assert "permission was denied" in page.inner_text("#banner")
        assert page.get_by_role("button", name="Start conversation").is_enabled()
        page.context.close()


def test_losing_parley_shows_reconnecting(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """When `parley web` goes away the page says it lost the connection and is reconnecting."""
    home = tmp_path_factory.mktemp("web-lost-home")
    with parley_web(home, home / "codex", ["web", "--simulate", "--no-browser"]) as doomed:
        page = _open_ready_page(browser, doomed)
        doomed.stop()
        page.wait_for_selector("#status[data-state='reconnecting']")
        assert "connection to Parley was lost" in page.inner_text("#banner")
        assert page.get_by_role("button", name="Start conversation").is_disabled()
        page.context.close()
