"""`parley web`: talk to the agent from a browser page served on 127.0.0.1.

It starts an app-server in this process (or joins a running one with `--listen-url ws://…`),
serves the single-page voice client (`parley.web`), prints the page's address — which carries
this run's access token in its fragment — and opens it in the browser unless `--no-browser`.
`--simulate` points the app-server at the built-in offline simulator, so the whole page works
with no network and no API key. Ctrl-C (or SIGTERM) stops everything.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.config import ConfigError, load_config

if TYPE_CHECKING:
    from parley.web import Backend, WebServer


def add_web_parser(sub: Any) -> None:
    """Register `parley web` on the main parser's subcommands."""
    web = sub.add_parser("web", help="talk to the agent from a browser page (127.0.0.1)")
    web.add_argument("--simulate", action="store_true", help="use the built-in offline simulator")
    web.add_argument("--port", type=int, default=0, help="port for the page (default: any free)")
    web.add_argument("--no-browser", action="store_true", help="print the address, do not open it")
    web.add_argument("--thread", help="open this thread id")
    web.add_argument("--listen-url", help="join a running parley app-server at ws://…")
    web.add_argument(
        "--ws-token-file",
        type=Path,
        metavar="PATH",
        help="with --listen-url: bearer token for a listener started with --ws-auth "
        "(default: $PARLEY_WS_TOKEN)",
    )


async def _run(args: argparse.Namespace, globals_: dict[str, list[str]]) -> int:
    # Imported here so that `parley app-server` does not pay for the web client at start-up.
    from parley.cli.voice import prepared_codex_home, simulator_settings
    from parley.client import websocket_token
    from parley.tools.sandbox import check as sandbox_check
    from parley.web import LocalBackend, RemoteBackend, WebServer

    simulator = None
    app_server = None
    page: WebServer | None = None
    try:
        overrides, enable = list(globals_["config"]), list(globals_["enable"])
        if args.simulate:
            from parley.simulator import serve

            simulator = await serve("127.0.0.1", 0)
            sim_overrides, sim_features = simulator_settings(
                simulator.http_base_url, simulator.realtime_ws_url
            )
            # The user's own -c/--enable come last, so they still win.
            overrides, enable = sim_overrides + overrides, sim_features + enable
            if not os.environ.get("OPENAI_API_KEY"):
                os.environ["OPENAI_API_KEY"] = "sk-parley-simulator"  # the simulator takes any
        backend: Backend
        if args.listen_url:
            backend = RemoteBackend(args.listen_url, websocket_token(args.ws_token_file))
        else:
            from parley.server.session import AppServer

            disable = globals_["disable"]
            config = load_config(prepared_codex_home(), overrides, enable, disable, cwd=Path.cwd())
            # The server re-reads the configuration per thread: it needs the same options.
            app_server = AppServer(config, overrides=overrides, enable=enable, disable=disable)
            backend = LocalBackend(app_server)
        label = None
        if simulator is not None:
            label = "offline simulator: type requests (it hears only synthesized speech)"
        page = WebServer(backend, thread_id=args.thread, label=label)
        await page.start(args.port)
        where = "the offline simulator" if simulator is not None else backend.describe()
        print(f"parley web: talking to {where}", flush=True)
        if app_server is not None and app_server.config.sandbox_mode != "danger-full-access":
            problem = sandbox_check()
            if problem is not None:
                print(
                    f"parley web: {problem}; sandboxed commands will fail "
                    '(-c sandbox_mode="danger-full-access" runs them unconfined)',
                    flush=True,
                )
        print(f"parley web: open {page.url}", flush=True)
        print("parley web: Ctrl-C to stop", flush=True)
        if not args.no_browser:
            # Some browsers block until closed when started from a terminal: keep it off the loop.
            import webbrowser  # only here: importing it costs every other subcommand's start

            opener = asyncio.get_running_loop().run_in_executor(None, webbrowser.open, page.url)
            opener.add_done_callback(lambda f: f.exception())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        print("parley web: stopped", flush=True)
        return 0
    except ConfigError as exc:
        print(f"parley web: invalid configuration: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"parley web: {exc}", file=sys.stderr)
        return 1
    finally:
        # Each step is bounded: Ctrl-C must end `parley web` promptly whatever is running.
        if page is not None:
            await _bounded(page.close())
        if app_server is not None:
            await _bounded(app_server.shutdown())
        if simulator is not None:
            await _bounded(simulator.close())


async def _bounded(step: Coroutine[Any, Any, None], seconds: float = 5.0) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(step, seconds)


def run_web(args: argparse.Namespace, globals_: dict[str, list[str]]) -> int:
    return asyncio.run(_run(args, globals_))
