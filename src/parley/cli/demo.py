"""`parley demo`: Parley's main job end to end, offline, in a few seconds.

It starts the built-in simulator (Realtime + Responses APIs on 127.0.0.1) and a real
`parley app-server` subprocess pointed at it, opens a v2 realtime voice conversation on a new
thread, speaks one request (synthesised audio) and types another, and shows live what happens:
the user's transcript, the delegated background-agent turns with their commands and output,
and the assistant's spoken answers, whose audio is written to a WAV file. Exit status 0 means
the whole round trip completed.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from parley.cli.conversation_view import (
    ConversationState,
    ConversationView,
    handle_notification,
)
from parley.client import AppServerClient, RpcCallError
from parley.simulator import (
    SimulatorConfig,
    VoiceModelConfig,
    serve,
    synthesize_speech,
    write_wav,
)
from parley.simulator.server import SIMULATOR_TOKEN
from parley.tools.sandbox import sandbox_problem

SPOKEN_REQUEST = "where am I"
TYPED_REQUEST = "run `ls` and tell me what is here"
DEMO_TIMEOUT_S = 45.0
CHUNK_MS = 100
SAMPLE_RATE = 24_000


def _workspace() -> Path:
    root = Path(tempfile.mkdtemp(prefix="parley-demo-workspace-"))
    (root / "README.md").write_text("# A tiny project\n\nParley's demo looks around here.\n")
    (root / "hello.py").write_text('print("hello from the demo workspace")\n')
    (root / "notes").mkdir()
    (root / "notes" / "todo.txt").write_text("try parley voice\n")
    return root


def _config(sim_http: str, sim_ws: str, sandbox_mode: str) -> str:
    return (
        'model = "parley-simulated-agent"\n'
        'approval_policy = "never"\n'
        f'sandbox_mode = "{sandbox_mode}"\n'
        'model_provider = "parley_simulator"\n'
        f'experimental_realtime_ws_base_url = "{sim_ws}"\n'
        '\n[realtime]\nversion = "v2"\ntype = "conversational"\n'
        "\n[features]\nrealtime_conversation = true\n"
        "\n[model_providers.parley_simulator]\n"
        'name = "Parley simulator"\n'
        f'base_url = "{sim_http}"\n'
        'wire_api = "responses"\n'
        f'experimental_bearer_token = "{SIMULATOR_TOKEN}"\n'
        "request_max_retries = 1\n"
        "stream_max_retries = 1\n"
    )


async def _watch(client: AppServerClient, view: ConversationView) -> None:
    while True:
        message = await client.notifications.get()
        handle_notification(view, message)


async def _wait_for_answer(view: ConversationView, answers: int) -> None:
    """Wait until `answers` delegated turns completed and their answers were spoken."""
    state = view.state
    while True:
        if state.errors:
            raise RuntimeError(state.errors[0])
        quiet = time.monotonic() - state.last_audio_at
        if (
            state.turns_completed >= answers
            and state.last_audio_at > 0
            and state.awaiting_answer
            and quiet > 0.8
            and state.assistant_text
        ):
            view.flush_transcripts()
            state.awaiting_answer = False
            state.answers_spoken += 1
            if state.answers_spoken >= answers:
                return
        await asyncio.sleep(0.05)


async def _speak(client: AppServerClient, thread_id: str, text: str, speed: float) -> float:
    pcm = synthesize_speech(text)
    chunk = SAMPLE_RATE * 2 * CHUNK_MS // 1000
    for offset in range(0, len(pcm), chunk):
        await client.append_audio(thread_id, pcm[offset : offset + chunk], SAMPLE_RATE)
        await asyncio.sleep(CHUNK_MS / 1000 / speed)
    return len(pcm) / 2 / SAMPLE_RATE


async def run_demo(output_wav: Path | None = None, speed: float = 4.0) -> int:
    console = Console(highlight=False)
    state = ConversationState()
    view = ConversationView(console, state)
    output_wav = output_wav or Path.cwd() / "parley-demo-answer.wav"
    workspace = _workspace()
    codex_home = Path(tempfile.mkdtemp(prefix="parley-demo-home-"))
    problem = sandbox_problem()
    sandbox_mode = "read-only" if problem is None else "danger-full-access"
    simulator = await serve(
        "127.0.0.1",
        0,
        config=SimulatorConfig(speed=speed, voice=VoiceModelConfig(input_transcript_deltas=False)),
    )
    client = AppServerClient()
    watcher: asyncio.Task[None] | None = None
    try:
        view.line("simulator", f"offline Realtime + Responses API at {simulator.base_url}", "cyan")
        if problem is not None:
            view.line("sandbox", f"{problem}; running commands without a sandbox", "yellow")
        (codex_home / "config.toml").write_text(
            _config(simulator.http_base_url, simulator.realtime_ws_url, sandbox_mode)
        )
        # The demo's commands run as login shells; an empty HOME keeps the user's shell profile
        # (and whatever it prints) out of the demo.
        await client.spawn(
            codex_home,
            cwd=workspace,
            stderr_path=codex_home / "app-server.log",
            env_overrides={"HOME": str(codex_home)},
        )
        watcher = asyncio.create_task(_watch(client, view))
        async with asyncio.timeout(DEMO_TIMEOUT_S):
            await client.initialize("parley-demo")
            await client.request(
                "account/login/start", {"type": "apiKey", "apiKey": "sk-parley-demo-offline"}
            )
            thread = (await client.request("thread/start", {"cwd": str(workspace)}))["thread"]
            thread_id = thread["id"]
            view.line("parley", f"app-server up, thread {thread_id}, workspace {workspace}", "cyan")
            await client.request("thread/realtime/start", {"threadId": thread_id})
            await state.realtime_started.wait()

            view.line("you", f"(speaking: {SPOKEN_REQUEST})", "green", dim=True)
            await _speak(client, thread_id, SPOKEN_REQUEST, speed)
            await _wait_for_answer(view, 1)

            view.line("you", f"(typing) {TYPED_REQUEST}", "green")
            await client.request(
                "thread/realtime/appendText", {"threadId": thread_id, "text": TYPED_REQUEST}
            )
            await _wait_for_answer(view, 2)
            await client.request("thread/realtime/stop", {"threadId": thread_id})
        write_wav(output_wav, bytes(state.audio), SAMPLE_RATE)
        seconds = len(state.audio) / 2 / SAMPLE_RATE
        view.line(
            "done",
            f"round trip complete; assistant audio ({seconds:.1f} s) → {output_wav}",
            "green",
        )
        return 0
    except TimeoutError:
        view.flush_transcripts()
        console.print(
            f"[red]parley demo: no complete round trip within {DEMO_TIMEOUT_S:.0f} s[/red] "
            f"(turns completed: {state.turns_completed}, answers spoken: {state.answers_spoken}); "
            f"server log: {escape(str(codex_home / 'app-server.log'))}"
        )
        return 1
    except (RuntimeError, RpcCallError, ConnectionError, OSError) as exc:
        view.flush_transcripts()
        console.print(
            f"[red]parley demo failed: {escape(str(exc))}[/red]; "
            f"server log: {escape(str(codex_home / 'app-server.log'))}"
        )
        return 1
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(BaseException):
                await watcher
        await client.close()
        await simulator.close()
        shutil.rmtree(workspace, ignore_errors=True)
