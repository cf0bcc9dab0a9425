"""The `parley` command line.

Global flags (`-c/--config key=value`, `--enable F`, `--disable F`) are accepted on either side
of the subcommand, because real clients put them in both places.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from parley import __version__

GLOBAL_VALUE_FLAGS = {
    "-c": "config",
    "--config": "config",
    "--enable": "enable",
    "--disable": "disable",
}


def _split_globals(argv: Sequence[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Pull global flags out of argv wherever they appear."""
    found: dict[str, list[str]] = {"config": [], "enable": [], "disable": []}
    rest: list[str] = []
    i = 0
    args = list(argv)
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name, eq, value = arg.partition("=")
        if name in GLOBAL_VALUE_FLAGS and (eq or arg in GLOBAL_VALUE_FLAGS):
            key = GLOBAL_VALUE_FLAGS[name]
            if eq:
                found[key].append(value)
            else:
                if i + 1 >= len(args):
                    raise SystemExit(f"parley: {arg} needs a value")
                found[key].append(args[i + 1])
                i += 1
        else:
            rest.append(arg)
        i += 1
    return found, rest


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parley",
        description="Talk to a coding agent: a Codex-compatible app-server with realtime voice.",
        epilog="Global options (anywhere on the line): -c/--config key=value (TOML value), "
        "--enable FEATURE, --disable FEATURE.",
    )
    parser.add_argument("--version", action="version", version=f"parley {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    app = sub.add_parser("app-server", help="run the JSON-RPC app-server (stdio by default)")
    app.add_argument(
        "--listen",
        default="stdio://",
        help="stdio:// (default), ws://HOST:PORT, or off",
    )
    app.add_argument(
        "--session-source",
        default="vscode",
        metavar="SOURCE",
        help="the client's product (vscode by default): decides which plugins and skills are "
        "available, as the reference's option does",
    )
    auth = app.add_argument_group(
        "WebSocket authentication",
        "who may connect to --listen ws://… (the client sends Authorization: Bearer <token>)",
    )
    auth.add_argument(
        "--ws-auth",
        choices=["capability-token", "signed-bearer-token"],
        metavar="MODE",
        help="capability-token or signed-bearer-token (default: none)",
    )
    auth.add_argument(
        "--ws-token-file",
        type=Path,
        metavar="PATH",
        help="capability-token: file holding the token",
    )
    auth.add_argument(
        "--ws-shared-secret-file",
        type=Path,
        metavar="PATH",
        help="signed-bearer-token: file holding the HS256 secret (>= 32 bytes)",
    )
    auth.add_argument("--ws-issuer", metavar="ISSUER", help="signed-bearer-token: required iss")
    auth.add_argument("--ws-audience", metavar="AUDIENCE", help="signed-bearer-token: required aud")
    auth.add_argument(
        "--ws-max-clock-skew-seconds",
        type=int,
        metavar="SECONDS",
        help="signed-bearer-token: allowed clock skew for exp/nbf (default 30)",
    )
    app_sub = app.add_subparsers(dest="app_command", metavar="SUBCOMMAND")
    schema = app_sub.add_parser("generate-json-schema", help="write the protocol's JSON Schema")
    schema.add_argument("--out", required=True, type=Path, help="output directory")
    schema.add_argument("--experimental", action="store_true", help="include experimental methods")

    sim = sub.add_parser("simulate", help="run the offline Realtime + Responses simulator")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=0)
    sim.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="send answers this many times faster than real time",
    )

    demo = sub.add_parser("demo", help="run the offline end-to-end voice demo (no network, no key)")
    demo.add_argument(
        "--output-wav",
        type=Path,
        help="where to write the assistant's audio (default ./parley-demo-answer.wav)",
    )
    voice = sub.add_parser("voice", help="talk to the agent from the terminal")
    voice.add_argument("--simulate", action="store_true", help="use the built-in simulator")
    voice.add_argument("--input-wav", type=Path, help="send this WAV instead of the microphone")
    voice.add_argument("--output-wav", type=Path, help="write the assistant's audio here")
    voice.add_argument("--thread", help="resume this thread id")
    voice.add_argument("--listen-url", help="connect to a running parley app-server at ws://…")
    voice.add_argument(
        "--ws-token-file",
        type=Path,
        metavar="PATH",
        help="with --listen-url: bearer token for a listener started with --ws-auth "
        "(default: $PARLEY_WS_TOKEN)",
    )
    from parley.cli.web import add_web_parser

    add_web_parser(sub)
    return parser


class RedactSecrets(logging.Filter):
    """Rewrites bearer tokens and API keys in every log line, whichever library wrote it."""

    PATTERNS = (
        (re.compile(r"(?i)(bearer\s+)\S+"), r"\1<redacted>"),
        (re.compile(r"\bsk-[A-Za-z0-9_\-]{4,}"), "sk-<redacted>"),
    )

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for pattern, replacement in self.PATTERNS:
            redacted = pattern.sub(replacement, redacted)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def _setup_logging() -> None:
    level = os.environ.get("PARLEY_LOG", os.environ.get("RUST_LOG", "warning")).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        level = "WARNING"
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactSecrets())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    # Library loggers print every handshake header at DEBUG; keep them above that.
    for name in ("websockets", "httpx", "httpcore", "aiohttp"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().level))


def main(argv: Sequence[str] | None = None) -> int:
    globals_, rest = _split_globals(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(rest)
    _setup_logging()
    if args.command == "app-server":
        if args.app_command == "generate-json-schema":
            from parley.protocol.schema_export import write_json_schema

            written = write_json_schema(args.out, args.experimental)
            print(f"wrote {len(written)} schema files to {args.out}")
            return 0
        from parley.cli.app_server import run_app_server
        from parley.plugins.marketplace import set_session_source
        from parley.rpc.ws_auth import WsAuthArgs

        if not args.session_source.strip():
            _parser().error("session source must not be empty")
        set_session_source(args.session_source)

        ws_auth = WsAuthArgs(
            mode=args.ws_auth,
            token_file=args.ws_token_file,
            shared_secret_file=args.ws_shared_secret_file,
            issuer=args.ws_issuer,
            audience=args.ws_audience,
            max_clock_skew_s=args.ws_max_clock_skew_seconds,
        )
        return run_app_server(args.listen, globals_, ws_auth)
    if args.command == "simulate":
        from parley.simulator.cli import main as simulate_main

        return simulate_main(
            ["--host", args.host, "--port", str(args.port), "--speed", str(args.speed)]
        )
    if args.command == "demo":
        from parley.cli.demo import run_demo

        return asyncio.run(run_demo(args.output_wav))
    if args.command == "voice":
        from parley.cli.voice import run_voice

        return run_voice(args, globals_)
    if args.command == "web":
        from parley.cli.web import run_web

        return run_web(args, globals_)
    _parser().print_help()
    return 2
