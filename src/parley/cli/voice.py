"""`parley voice`: a terminal voice client for real use.

It starts a `parley app-server` subprocess (or connects to one with `--listen-url`), logs in with
`OPENAI_API_KEY` when set, starts realtime on a new or resumed thread and then relays: the
microphone (or `--input-wav`) goes up as `appendAudio`, the assistant's audio is played (or
written to `--output-wav`), transcripts and background-agent activity are shown, and each typed
line goes in as `appendText`. Ctrl-C (or end of input) stops the conversation cleanly.
`--simulate` points everything at the built-in offline simulator.

With `--input-wav`, the client exits by itself once the file was sent, every typed line was
answered and the conversation has gone quiet, which is how it runs unattended (tests, tmux,
`echo "run ls" | parley voice --input-wav …`). Each transcript is printed as soon as it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from parley.cli.conversation_view import ConversationState, ConversationView, handle_notification
from parley.client import AppServerClient, RpcCallError, websocket_token
from parley.config import resolve_codex_home
from parley.simulator import read_wav, resample, to_mono, write_wav
from parley.simulator.server import SIMULATOR_TOKEN

SAMPLE_RATE = 24_000
CHUNK_MS = 100
QUIET_EXIT_S = 2.5


class VoiceError(Exception):
    """A problem the user can fix; printed without a traceback."""


class AudioDevices:
    """Microphone in and speaker out through sounddevice (PortAudio), loaded only when needed."""

    def __init__(self, loop: asyncio.AbstractEventLoop, mic: asyncio.Queue[bytes]) -> None:
        try:
            import sounddevice  # type: ignore[import-not-found,unused-ignore]
        except (ImportError, OSError) as exc:
            raise VoiceError(
                f"no audio devices available ({exc}). Install them with "
                "`pip install 'parley[voice]'` and `apt-get install libportaudio2`, "
                "or use --input-wav FILE and --output-wav FILE."
            ) from None
        self._sd = sounddevice
        blocksize = SAMPLE_RATE * CHUNK_MS // 1000

        def on_input(data: Any, frames: int, when: Any, status: Any) -> None:
            loop.call_soon_threadsafe(mic.put_nowait, bytes(data))

        try:
            self.input = sounddevice.RawInputStream(
                samplerate=SAMPLE_RATE,
                channels=1,
                dtype="int16",
                blocksize=blocksize,
                callback=on_input,
            )
            self.output = sounddevice.RawOutputStream(
                samplerate=SAMPLE_RATE, channels=1, dtype="int16"
            )
        except Exception as exc:
            raise VoiceError(
                f"cannot open the sound card ({exc}); use --input-wav/--output-wav instead"
            ) from None
        self.input.start()
        self.output.start()

    def play(self, pcm: bytes) -> None:
        self.output.write(pcm)

    def close(self) -> None:
        for stream in (self.input, self.output):
            with contextlib.suppress(Exception):
                stream.stop()
                stream.close()


def _wav_chunks(path: Path) -> list[bytes]:
    try:
        pcm, rate, channels = read_wav(path)
    except (OSError, ValueError) as exc:
        raise VoiceError(f"cannot read {path}: {exc}") from None
    pcm = resample(to_mono(pcm, channels), rate, SAMPLE_RATE)
    size = SAMPLE_RATE * 2 * CHUNK_MS // 1000
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


async def _typed_lines(client: AppServerClient, thread_id: str, view: ConversationView) -> None:
    if not _can_type_into(sys.stdin):
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    except (ValueError, OSError):
        return
    while True:
        line = await reader.readline()
        if not line:
            return
        text = line.decode("utf-8", "replace").strip()
        if text:
            view.flush_transcripts()
            view.state.last_event_at = time.monotonic()  # its answer is still to come
            view.line("you", f"(typed) {text}", "green")
            await client.request(
                "thread/realtime/appendText", {"threadId": thread_id, "text": text}
            )


def simulator_settings(http: str, ws: str) -> tuple[list[str], list[str]]:
    """Config overrides (`key=value`) and features that point Parley at the simulator."""
    overrides = [
        'model_provider="parley_simulator"',
        'model_providers.parley_simulator.name="Parley simulator"',
        f'model_providers.parley_simulator.base_url="{http}"',
        'model_providers.parley_simulator.wire_api="responses"',
        # The simulator's own credential: a real key is never sent to it.
        f'model_providers.parley_simulator.experimental_bearer_token="{SIMULATOR_TOKEN}"',
        f'experimental_realtime_ws_base_url="{ws}"',
        'model="parley-simulated-agent"',
    ]
    return overrides, ["realtime_conversation"]


def prepared_codex_home() -> Path:
    """The app-server's home for Parley's own clients: `$CODEX_HOME` is created when missing
    (the app-server itself insists that it exists), else `~/.codex`."""
    env = os.environ.get("CODEX_HOME")
    if env:
        Path(env).expanduser().mkdir(parents=True, exist_ok=True)
    home = resolve_codex_home()
    home.mkdir(parents=True, exist_ok=True)
    return home


def _can_type_into(stream: Any) -> bool:
    """A terminal, a pipe or a socket can bring typed lines; /dev/null or a closed stdin cannot
    (and the event loop cannot watch a regular file)."""
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError):
        return False
    return bool(stream.isatty()) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def _simulator_overrides(http: str, ws: str) -> list[str]:
    overrides, features = simulator_settings(http, ws)
    args: list[str] = []
    for value in overrides:
        args += ["-c", value]
    for feature in features:
        args += ["--enable", feature]
    return args


async def _run(args: argparse.Namespace, globals_: dict[str, list[str]]) -> int:
    console = Console(highlight=False)
    state = ConversationState()
    view = ConversationView(console, state)
    simulator = None
    client = AppServerClient()
    tasks: list[asyncio.Task[Any]] = []
    devices: AudioDevices | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGINT, stop.set)
    log_dir = Path(tempfile.mkdtemp(prefix="parley-voice-"))
    try:
        extra: list[str] = []
        for value in globals_["config"]:
            extra += ["-c", value]
        for value in globals_["enable"]:
            extra += ["--enable", value]
        for value in globals_["disable"]:
            extra += ["--disable", value]
        if args.simulate:
            from parley.simulator import serve

            simulator = await serve("127.0.0.1", 0)
            extra += _simulator_overrides(simulator.http_base_url, simulator.realtime_ws_url)
            view.line("simulator", f"offline Realtime + Responses API at {simulator.base_url}")
        if args.listen_url:
            await client.connect_websocket(args.listen_url, websocket_token(args.ws_token_file))
        else:
            home = prepared_codex_home()
            if args.simulate and not os.environ.get("OPENAI_API_KEY"):
                os.environ["OPENAI_API_KEY"] = "sk-parley-simulator"  # only for the subprocess
            await client.spawn(home, extra_args=extra, stderr_path=log_dir / "app-server.log")
        tasks.append(asyncio.create_task(_pump(client, view)))
        await client.initialize("parley-voice")
        if args.thread:
            thread = (await client.request("thread/resume", {"threadId": args.thread}))["thread"]
            view.line("parley", f"resumed thread {thread['id']}", "cyan")
        else:
            thread = (await client.request("thread/start", {}))["thread"]
            view.line("parley", f"new thread {thread['id']}", "cyan")
        thread_id = thread["id"]
        await client.request("thread/realtime/start", {"threadId": thread_id})
        async with asyncio.timeout(15):
            await state.realtime_started.wait()

        mic: asyncio.Queue[bytes] = asyncio.Queue()
        if args.input_wav is None or args.output_wav is None:
            devices = AudioDevices(loop, mic)
        tasks.append(asyncio.create_task(_typed_lines(client, thread_id, view)))
        view.line("voice", "speak (or type a line and press Enter); Ctrl-C to stop", "cyan")

        if args.input_wav is not None:
            chunks = _wav_chunks(args.input_wav)
            seconds = len(chunks) * CHUNK_MS / 1000
            view.line("you", f"(sending {args.input_wav}, {seconds:.1f} s)", dim=True)
            tasks.append(
                asyncio.create_task(_send_wav(client, thread_id, chunks, view, state, stop))
            )
        else:
            tasks.append(asyncio.create_task(_relay_mic(client, thread_id, mic)))

        played = 0
        while not stop.is_set():
            if devices is not None and len(state.audio) > played:
                devices.play(bytes(state.audio[played:]))
                played = len(state.audio)
            view.flush_settled()
            if state.errors:
                raise VoiceError(state.errors[-1])
            if client.closed.is_set():
                raise VoiceError(f"the app-server went away; its log: {log_dir / 'app-server.log'}")
            await asyncio.sleep(0.05)
        if sys.stdout.isatty():
            print("\r", end="", flush=True)  # the next line overwrites the terminal's "^C"
        view.flush_transcripts()
        with contextlib.suppress(RpcCallError, ConnectionError, TimeoutError):
            await client.request("thread/realtime/stop", {"threadId": thread_id}, timeout=5)
        view.line("voice", f"stopped; thread {thread_id} keeps the conversation", "cyan")
        return 0
    except VoiceError as exc:
        view.flush_transcripts()
        console.print(f"[red]parley voice: {escape(str(exc))}[/red]", soft_wrap=True)
        return 1
    except (RpcCallError, ConnectionError, TimeoutError) as exc:
        view.flush_transcripts()
        console.print(
            f"[red]parley voice: {escape(str(exc) or type(exc).__name__)}[/red] "
            f"(app-server log: {escape(str(log_dir / 'app-server.log'))})",
            soft_wrap=True,
        )
        return 1
    finally:
        if args.output_wav is not None:
            write_wav(args.output_wav, bytes(state.audio), SAMPLE_RATE)
            seconds = len(state.audio) / 2 / SAMPLE_RATE
            view.line("voice", f"assistant audio ({seconds:.1f} s) → {args.output_wav}", "cyan")
        for task in tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if devices is not None:
            devices.close()
        await client.close()
        if simulator is not None:
            await simulator.close()


async def _pump(client: AppServerClient, view: ConversationView) -> None:
    while True:
        handle_notification(view, await client.notifications.get())


async def _send_wav(
    client: AppServerClient,
    thread_id: str,
    chunks: list[bytes],
    view: ConversationView,
    state: ConversationState,
    stop_when_quiet: asyncio.Event,
) -> None:
    """Send the file in real time, then end once the conversation is quiet."""
    for chunk in chunks:
        await client.append_audio(thread_id, chunk, SAMPLE_RATE)
        await asyncio.sleep(CHUNK_MS / 1000)
    view.line("you", "(end of input file)", dim=True)
    await _exit_when_quiet(state, stop_when_quiet)


async def _relay_mic(client: AppServerClient, thread_id: str, mic: asyncio.Queue[bytes]) -> None:
    while True:
        await client.append_audio(thread_id, await mic.get(), SAMPLE_RATE)


async def _exit_when_quiet(state: ConversationState, stop: asyncio.Event) -> None:
    """Unattended runs end once nothing has happened for a while and no turn is running."""
    while True:
        await asyncio.sleep(0.1)
        last = max(state.last_audio_at, state.last_event_at)
        if state.turns_running == 0 and time.monotonic() - last > QUIET_EXIT_S:
            stop.set()
            return


def run_voice(args: argparse.Namespace, globals_: dict[str, list[str]]) -> int:
    return asyncio.run(_run(args, globals_))
