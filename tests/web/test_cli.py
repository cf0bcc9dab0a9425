"""`parley web` as a command: port, thread and address, and a clean stop."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from support.web_page import parley_web

pytestmark = pytest.mark.timeout(180)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_parley_web_serves_on_the_asked_port_with_the_asked_thread(tmp_path: Path) -> None:
    """`--port N --thread ID` serves the page on 127.0.0.1:N, the link opens that thread, and
    SIGTERM stops it with status 0."""
    port = _free_port()
    args = ["web", "--simulate", "--no-browser", "--port", str(port), "--thread", "t-123"]
    with parley_web(tmp_path, tmp_path / "home", args) as server:
        assert server.url.startswith(f"http://127.0.0.1:{port}/#token=")
        session = httpx.get(
            f"{server.origin}/api/session",
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=30,
        )
        assert session.status_code == 200
        assert session.json()["thread"] == "t-123"
        assert "simulator" in session.json()["backend"]
        assert httpx.get(server.url.split("#")[0], timeout=30).status_code == 200
        assert server.stop() == 0
    assert "parley web: stopped" in "".join(server.output)
