"""Answering `initialize` imports neither the agent, realtime, MCP, HTTP nor WebSocket stacks.

Clients spawn an app-server per session and wait for the `initialize` reply; everything not
needed for it is imported later (in the background, after the reply has been handed to the
transport: the follow-ups of `initialize`, such as the sandbox probe behind the start-up
warnings and the preload, must not hold the reply back either). Nor is pydantic: a well-formed
handshake is read without it. This guards that lazy
boundary so it cannot silently erode: a module-level import added in the wrong place fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Run in a fresh interpreter: this test process has imported everything already.
PROBE = r"""
import asyncio, json, sys
import parley.cli.main
from parley.cli.app_server import build_server
from parley.rpc.sender import QueuedSender

snapshot = []

async def send(line):
    # Where stdio hands the line to the pipe: the client has its reply from here on.
    if b'"id":1' in line.replace(b" ", b"") and not snapshot:
        snapshot.append(sorted(sys.modules))

async def main():
    server = build_server({"config": [], "enable": [], "disable": []})
    sender = QueuedSender(send)
    writer = asyncio.create_task(sender.run())
    session = server.connect(sender.write)
    line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                       "params": {"clientInfo": {"name": "probe", "version": "1"}}})
    await session.receive_line(line.encode())
    sender.close()
    await writer

asyncio.run(main())
print(json.dumps(snapshot[0]))
"""

FORBIDDEN_PREFIXES = (
    "parley.agent",
    "parley.realtime",
    "parley.mcp",
    "parley.threads",
    "parley.tools",
    "parley.server.handlers",
    "parley.protocol.models",
    "parley.protocol.handshake_models",
    "parley.plugins",
    "pydantic",
    "pydantic_core",
    "httpx",
    "httpcore",
    "websockets",
    "aiohttp",
    "mcp",
    "jwt",
)


def test_initialize_is_answered_before_the_heavy_stacks_are_imported(tmp_path: Path) -> None:
    """The modules loaded when the `initialize` reply is sent include none of the agent,
    realtime, MCP, thread, sandbox, handler, plugin, pydantic, HTTP or WebSocket modules."""
    env = {"CODEX_HOME": str(tmp_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    if "PYTHONPATH" in os.environ:  # a checkout run without installing it
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    early = sorted(
        name
        for name in loaded
        if any(name == p or name.startswith(p + ".") for p in FORBIDDEN_PREFIXES)
    )
    assert early == [], f"imported before the initialize reply: {early}"
    assert "parley.protocol.handshake" in loaded  # the probe did answer initialize
