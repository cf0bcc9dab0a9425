"""A tiny stand-in app-server, run as a real subprocess to exercise `AppServerProcess` itself.

It answers a handful of `stub/*` methods with scripted output (bursts of notifications, errors,
garbage lines, a server request, a non-zero exit) so the client's buffering, deadlines and checks
can be tested without depending on Parley's server. Not a fake of Parley: nothing else uses it.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

received: list[str] = []
pending_question: int | None = None


def out(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def notify(method: str, params: Any) -> None:
    out({"method": method, "params": params})


def handle(message: dict[str, Any]) -> None:
    global pending_question
    method = message.get("method")
    request_id = message.get("id")
    if method is None:
        if request_id == pending_question:
            notify("stub/answered", {"result": message.get("result")})
            out({"id": pending_question, "result": {}})
        return
    if request_id is None:
        return
    if method == "initialize":
        out(
            {
                "id": request_id,
                "result": {
                    "userAgent": "stub/0.0.0",
                    "codexHome": os.environ.get("CODEX_HOME"),
                    "platformFamily": "unix",
                    "platformOs": "linux",
                },
            }
        )
    elif method == "stub/log":
        out({"id": request_id, "result": {"lines": received[:-1]}})
    elif method == "stub/env":
        names = message["params"]["names"]
        out({"id": request_id, "result": {name: os.environ.get(name) for name in names}})
    elif method == "stub/burst":
        notify("stub/a", {"n": 1})
        notify("stub/b", {"n": 2})
        notify("stub/a", {"n": 3})
        out({"id": request_id, "result": {"done": True}})
    elif method == "stub/fail":
        out({"id": request_id, "error": {"code": -32600, "message": "nope"}})
    elif method == "stub/garbage":
        sys.stdout.write("this is not json\n")
        sys.stdout.flush()
    elif method == "stub/stderr":
        sys.stderr.write("stub says hi\n")
        sys.stderr.flush()
        notify("stub/unrelated", {"x": 1})
    elif method == "stub/ask":
        # The server's own request reuses the client's id, as a real server's counter may.
        pending_question = request_id
        out({"id": request_id, "method": "stub/approve", "params": {"q": "ok?"}})
    elif method == "stub/invalid":
        notify("account/login/completed", {"loginId": None})
        out({"id": request_id, "result": {}})
    elif method == "stub/exit":
        out({"id": request_id, "result": {}})
        sys.exit(3)


def main() -> None:
    for line in sys.stdin:
        received.append(line.rstrip("\n"))
        handle(json.loads(line))
    sys.stderr.write("stub: stdin closed\n")


if __name__ == "__main__":
    main()
