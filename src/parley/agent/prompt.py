"""The model-facing text of a turn: system prompt, permissions, environment and user input.

Builds Responses `input` items (plain dicts) from the turn's settings and the client's UserInput
list. Wording is Parley's own; the structure (a developer message, then a user
`<environment_context>` message, then the conversation) follows the reference.
"""

from __future__ import annotations

import base64
import datetime as dt
import mimetypes
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from parley.agent.settings import TurnSettings

BASE_INSTRUCTIONS = """\
You are a coding agent working in the user's workspace on their machine. You help by reading \
code, running commands and making changes, then reporting back concisely.

How to work:
- Use the `shell_command` tool to inspect files and run programs. Prefer fast, targeted \
commands (`rg`, `ls`, `sed -n`), and set `workdir` rather than prefixing commands with `cd`.
- Keep going until the request is handled or you are blocked; say plainly what you could not do \
and why.
- Make the smallest change that solves the problem, in the style of the surrounding code. Do not \
revert or overwrite changes you did not make.
- Respect the sandbox and approval rules you are given. If a command is blocked by the sandbox, \
explain what it needed instead of trying to work around the restriction.

How to answer:
- Be brief and concrete. Lead with the result, then the details that matter (files touched, \
commands run, anything left to do).
- Use plain text or light Markdown; reference files by path.
"""

_SANDBOX_TEXT = {
    "read-only": "The sandbox is read-only: commands can read any file but cannot write "
    "anywhere, and have no network access.",
    "workspace-write": "The sandbox is workspace-write: commands can read any file and write "
    "only inside the working directory and the temporary directories ({roots}). Network "
    "access is {network}.",
    "danger-full-access": "There is no sandbox: commands run with the user's full access to "
    "files and network.",
}

_APPROVAL_TEXT = {
    "never": "Approval policy `never`: you are never able to ask the user for approval. Work "
    "within the sandbox; if something is blocked, find another way or report it.",
    "on-request": "Approval policy `on-request`: commands run in the sandbox. When one truly "
    "needs more (network, writes outside the workspace), call `shell_command` with "
    '`sandbox_permissions: "require_escalated"` and a one-sentence `justification`; the user '
    "is asked before it runs unsandboxed.",
    "on-failure": "Approval policy `on-failure`: commands run in the sandbox; if the sandbox "
    "blocks one, the user is asked whether to rerun it without the sandbox.",
    "untrusted": "Approval policy `untrusted`: commands that only read run directly; the user "
    "is asked before any other command runs.",
}


def permissions_text(settings: TurnSettings, writable_roots: tuple[Path, ...] = ()) -> str:
    sandbox = _SANDBOX_TEXT.get(settings.sandbox_mode, _SANDBOX_TEXT["read-only"]).format(
        roots=", ".join(str(r) for r in writable_roots) or str(settings.cwd),
        network="enabled" if settings.network_access else "disabled",
    )
    approval = _APPROVAL_TEXT.get(settings.approval_policy, _APPROVAL_TEXT["untrusted"])
    return f"<permissions instructions>\n{sandbox}\n{approval}\n</permissions instructions>"


def developer_message(
    settings: TurnSettings,
    writable_roots: tuple[Path, ...] = (),
    extra: Sequence[str] = (),
) -> dict[str, Any]:
    parts = [permissions_text(settings, writable_roots), *settings.developer_context, *extra]
    return {
        "type": "message",
        "role": "developer",
        "content": [{"type": "input_text", "text": text} for text in parts],
    }


def local_timezone() -> str:
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz:
        return tz
    try:
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    except OSError:
        pass
    try:
        target = os.readlink("/etc/localtime")
        marker = "zoneinfo/"
        if marker in target:
            return target.split(marker, 1)[1]
    except OSError:
        pass
    return tz or "UTC"


def shell_name(shell: str) -> str:
    return Path(shell).name or "sh"


def environment_message(cwd: Path, shell: str, today: dt.date | None = None) -> dict[str, Any]:
    date = (today or dt.date.today()).isoformat()
    text = (
        "<environment_context>\n"
        f"  <cwd>{cwd}</cwd>\n"
        f"  <shell>{shell_name(shell)}</shell>\n"
        f"  <current_date>{date}</current_date>\n"
        f"  <timezone>{local_timezone()}</timezone>\n"
        "</environment_context>"
    )
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


# Images larger than this are not inlined (the request would be rejected anyway).
MAX_LOCAL_IMAGE_BYTES = 20 * 1024 * 1024


def local_image_part(path_text: str, cwd: Path) -> dict[str, Any]:
    """A local image as an `input_image` content part (or an `input_text` saying why not)."""
    path = Path(path_text).expanduser()
    if not path.is_absolute():
        path = cwd / path
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    try:
        size = path.stat().st_size
        if size > MAX_LOCAL_IMAGE_BYTES:
            return {
                "type": "input_text",
                "text": f"[image {path} was not attached: {size} bytes is too large]",
            }
        data = base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError as exc:
        return {
            "type": "input_text",
            "text": f"[image {path} could not be read: {exc.strerror or exc}]",
        }
    return {"type": "input_image", "image_url": f"data:{mime};base64,{data}"}


def user_content(user_input: list[dict[str, Any]], cwd: Path) -> list[dict[str, Any]]:
    """UserInput (client wire form) → Responses message content parts."""
    content: list[dict[str, Any]] = []
    for part in user_input:
        kind = part.get("type")
        if kind == "text":
            content.append({"type": "input_text", "text": str(part.get("text", ""))})
        elif kind == "image":
            content.append({"type": "input_image", "image_url": str(part.get("url", ""))})
        elif kind == "localImage":
            content.append(local_image_part(str(part.get("path", "")), cwd))
        elif kind == "skill":
            name, path = part.get("name", ""), part.get("path", "")
            content.append({"type": "input_text", "text": f'<skill name="{name}" path="{path}"/>'})
        elif kind == "mention":
            content.append(
                {"type": "input_text", "text": f"@{part.get('name', '')} ({part.get('path', '')})"}
            )
    return content


def user_message(user_input: list[dict[str, Any]], cwd: Path) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": user_content(user_input, cwd)}
