"""`parley simulate`: run the offline Realtime + Responses simulator until Ctrl-C.

Prints the URLs and a `config.toml` snippet that points Parley at the simulator.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys

from parley.simulator.server import Simulator, SimulatorConfig, serve


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parley simulate",
        description="Run an offline simulator of the OpenAI Realtime and Responses APIs.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="send spoken answers this many times faster than real time (0: no pacing)",
    )
    return parser


def banner(simulator: Simulator) -> str:
    """What `parley simulate` prints once it is listening."""
    return (
        f"Parley simulator listening on {simulator.base_url} (no network, no API key needed)\n"
        f"  Responses API / model provider base_url: {simulator.http_base_url}\n"
        f"  Realtime API WebSocket:                  {simulator.realtime_ws_url}\n"
        "\n"
        "Add this to $CODEX_HOME/config.toml:\n"
        "\n"
        f"{simulator.config_toml()}"
        "\n"
        "Log in with any API key (e.g. `sk-simulator`); it is accepted and never logged.\n"
        "Press Ctrl-C to stop.\n"
    )


async def _run(host: str, port: int, speed: float) -> None:
    config = SimulatorConfig(speed=speed if speed > 0 else math.inf, record=False)
    simulator = await serve(host, port, config=config)
    try:
        sys.stdout.write(banner(simulator))
        sys.stdout.flush()
        await asyncio.Event().wait()
    finally:
        await simulator.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run until interrupted; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        asyncio.run(_run(args.host, args.port, args.speed))
    except OSError as error:
        print(f"parley simulate: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            sys.stdout.write("Simulator stopped.\n")
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
