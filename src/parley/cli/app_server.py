"""`parley app-server`: load the config, then serve stdio or WebSocket until done.

Signals. stdio: SIGTERM, SIGHUP and Ctrl-C end the server the way stdin EOF does (running
commands are killed, exit status 0). WebSocket, as the reference: the first SIGINT/SIGTERM
stops accepting connections and waits for running turns to finish, then exits 0; a second one
cancels them and exits 0 at once. On both, a signal during the final clean-up exits at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from parley.config import Config, ConfigError, load_config, resolve_codex_home
from parley.config.personality_migration import migrate_personality_at_startup
from parley.rpc.ws_auth import WsAuthArgs, WsAuthConfigError, WsAuthPolicy, policy_from_args
from parley.server.session import AppServer

log = logging.getLogger(__name__)


def build_server(globals_: dict[str, list[str]]) -> AppServer:
    """The app-server for these global flags. A configuration that cannot be used is served on
    the defaults, as the reference does: each client is told (`configWarning`) and the requests
    that need the configuration fail with the reason. Raises `ConfigError` only when CODEX_HOME
    itself cannot be used."""
    codex_home = resolve_codex_home()
    options = {
        "overrides": globals_["config"],
        "enable": globals_["enable"],
        "disable": globals_["disable"],
    }
    config_error: ConfigError | None = None

    def load() -> Config:
        return load_config(
            codex_home,
            overrides=options["overrides"],
            enable=options["enable"],
            disable=options["disable"],
            cwd=Path.cwd(),
        )

    try:
        config = load()
        if migrate_personality_at_startup(codex_home, config.personality, options["overrides"]):
            config = load()
    except ConfigError as exc:
        print(f"parley: invalid configuration; using defaults: {exc}", file=sys.stderr)
        config, config_error = Config(codex_home=codex_home), exc
    return AppServer(config, config_error=config_error, **options)


def run_app_server(
    listen: str, globals_: dict[str, list[str]], ws_auth: WsAuthArgs | None = None
) -> int:
    try:
        server = build_server(globals_)
    except ConfigError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 2

    def make_server() -> AppServer:
        return server

    try:
        policy = policy_from_args(ws_auth or WsAuthArgs())
    except WsAuthConfigError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 2
    if listen == "off":
        print("parley: --listen off: no transport, nothing to serve", file=sys.stderr)
        return 0
    if listen.startswith("stdio"):
        if policy.mode is not None:
            print("parley: --ws-auth applies to --listen ws://… only", file=sys.stderr)
            return 2
        return asyncio.run(_serve_stdio(make_server()))
    if listen.startswith("ws://"):
        parts = urlsplit(listen)
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.hostname is None or port is None:
            print(f"parley: --listen {listen}: expected ws://HOST:PORT", file=sys.stderr)
            return 2
        return asyncio.run(_serve_ws(make_server(), parts.hostname, port, policy))
    print(f"parley: --listen {listen}: expected stdio://, ws://HOST:PORT or off", file=sys.stderr)
    return 2


def _on_signals(handler: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, handler)


def _exit_now_on_signal(status: int) -> None:
    """From here on a signal ends the process at once (a slow clean-up is not waited for)."""
    _on_signals(lambda: os._exit(status))


async def _serve_stdio(server: AppServer) -> int:
    from parley.rpc.stdio import MAX_LINE_BYTES, open_stdio, pump_lines

    reader, sender = await open_stdio()
    session = server.connect(sender.write)

    async def oversized(prefix: bytes) -> None:
        sender.write(session.rpc.oversized_line(prefix, MAX_LINE_BYTES))

    pump = asyncio.create_task(pump_lines(reader, session.receive_line, oversized))
    writer = asyncio.create_task(sender.run())

    def first_signal() -> None:
        pump.cancel()
        _exit_now_on_signal(1)

    _on_signals(first_signal)
    # The client stopped reading stdout long enough to overflow the queue: end as on EOF.
    writer.add_done_callback(lambda _: pump.cancel() if sender.overflowed else None)
    try:
        await pump
    except asyncio.CancelledError:
        if not pump.cancelled():
            raise
    finally:
        session.close()
        await server.shutdown()
        sender.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(writer, 5.0)
    return 1 if sender.overflowed else 0


def _is_loopback_bind(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _serve_ws(server: AppServer, host: str, port: int, policy: WsAuthPolicy) -> int:
    from websockets.frames import CloseCode

    from parley.rpc.websocket import listen_websocket
    from parley.rpc.ws_handshake import HandshakeGuard

    def make_session(
        write: Callable[[bytes], None],
    ) -> tuple[Callable[[bytes], Awaitable[None]], Callable[[], None]]:
        session = server.connect(write)
        return session.receive_line, session.close

    if not _is_loopback_bind(host) and policy.mode is None:
        log.warning(
            "starting a non-loopback websocket listener without auth: anyone who can reach "
            "%s:%d can drive this app-server; use --ws-auth capability-token or "
            "signed-bearer-token for remote use",
            host,
            port,
        )
    guard = HandshakeGuard(listen_host=host, auth=policy)
    listener = await listen_websocket(host, port, make_session, guard)
    bound = [s.getsockname() for s in listener.sockets]
    # The listener's own addresses, for the Host check (a name in --listen resolves to these).
    guard.bound_ips = tuple(str(address[0]) for address in bound)
    print(f"parley app-server listening on ws://{_show_address(bound[0])}", file=sys.stderr)
    if _is_loopback_bind(host):
        print(
            "  note: binds this machine only (use SSH port forwarding for remote access)",
            file=sys.stderr,
        )
    elif policy.mode is None:
        print("  note: no --ws-auth: configure it before real remote use", file=sys.stderr)

    stop = asyncio.Event()
    force = asyncio.Event()

    def on_signal() -> None:
        (force if stop.is_set() else stop).set()

    _on_signals(on_signal)
    await stop.wait()
    # Graceful: no new connections, running turns finish (a second signal cuts this short).
    listener.close(close_connections=False)
    forced = asyncio.create_task(force.wait())
    while not force.is_set() and (turns := _running_turns(server)):
        log.warning(
            "waiting for %d running turn(s) before exiting; signal again to stop now", len(turns)
        )
        await asyncio.wait({*turns, forced}, return_when=asyncio.FIRST_COMPLETED)
    forced.cancel()
    _exit_now_on_signal(0)
    # The listener is already closing (without its connections): close those now.
    closing = [connection.close(CloseCode.GOING_AWAY) for connection in listener.connections]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), 5.0)
        await asyncio.wait_for(listener.wait_closed(), 5.0)
    await server.shutdown()
    return 0


def _running_turns(server: AppServer) -> set[asyncio.Task[None]]:
    return {
        thread.active.task
        for thread in server.threads
        if thread.active is not None
        and thread.active.task is not None
        and not thread.active.task.done()
    }


def _show_address(address: tuple[object, ...]) -> str:
    host, port = str(address[0]), address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
