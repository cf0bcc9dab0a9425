"""`parley app-server`: load the config, then serve stdio or WebSocket until done."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from urllib.parse import urlsplit

from parley.config import Config, ConfigError, load_config, resolve_codex_home
from parley.server.session import AppServer


def run_app_server(listen: str, globals_: dict[str, list[str]]) -> int:
    try:
        codex_home = resolve_codex_home()
    except ConfigError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 2
    options = {
        "overrides": globals_["config"],
        "enable": globals_["enable"],
        "disable": globals_["disable"],
    }
    config_error: ConfigError | None = None
    try:
        config = load_config(
            codex_home,
            overrides=options["overrides"],
            enable=options["enable"],
            disable=options["disable"],
            cwd=Path.cwd(),
        )
    except ConfigError as exc:
        # As the reference: keep serving on the defaults, tell each client (configWarning)
        # and fail the requests that need the configuration with this reason.
        print(f"parley: invalid configuration; using defaults: {exc}", file=sys.stderr)
        config, config_error = Config(codex_home=codex_home), exc

    def make_server() -> AppServer:
        return AppServer(config, config_error=config_error, **options)

    if listen == "off":
        print("parley: --listen off: no transport, nothing to serve", file=sys.stderr)
        return 0
    if listen.startswith("stdio"):
        return asyncio.run(_serve_stdio(make_server()))
    if listen.startswith("ws://"):
        parts = urlsplit(listen)
        if parts.hostname is None or parts.port is None:
            print(f"parley: --listen {listen}: expected ws://HOST:PORT", file=sys.stderr)
            return 2
        return asyncio.run(_serve_ws(make_server(), parts.hostname, parts.port))
    print(f"parley: --listen {listen}: expected stdio://, ws://HOST:PORT or off", file=sys.stderr)
    return 2


async def _serve_stdio(server: AppServer) -> int:
    from parley.rpc.stdio import open_stdio, pump_lines

    reader, write = await open_stdio()
    session = server.connect(write)
    pump = asyncio.create_task(pump_lines(reader, session.receive_line))
    loop = asyncio.get_running_loop()
    # A supervisor's SIGTERM, a closed terminal's SIGHUP and Ctrl-C end the server the same
    # way stdin EOF does: running commands are killed, sessions closed, exit status 0.
    signals = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

    def first_signal() -> None:
        pump.cancel()
        # A second signal during a slow shutdown ends the process at once.
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, os._exit, 1)

    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, first_signal)
    try:
        await pump
    except asyncio.CancelledError:
        if not pump.cancelled():
            raise
    finally:
        session.close()
        await server.shutdown()
    return 0


async def _serve_ws(server: AppServer, host: str, port: int) -> int:
    from parley.rpc.websocket import listen_websocket

    def make_session(write):  # type: ignore[no-untyped-def]
        session = server.connect(write)
        return session.receive_line, session.close

    listener = await listen_websocket(host, port, make_session)
    bound = [s.getsockname() for s in listener.sockets]
    print(f"parley app-server listening on ws://{bound[0][0]}:{bound[0][1]}", file=sys.stderr)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    listener.close()
    await listener.wait_closed()
    await server.shutdown()
    return 0
