"""Strings the reference derives from the machine: user agent and platform family/os."""

from __future__ import annotations

import os
import platform
import sys

from parley import PROTOCOL_VERSION


def _os_description() -> str:
    try:
        with open("/etc/os-release", encoding="utf-8") as handle:
            fields = dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)
    except OSError:
        return f"{platform.system()} {platform.release()}"
    name = fields.get("NAME", platform.system()).strip('"')
    version = fields.get("VERSION_ID", "").strip('"')
    if name.startswith("Debian"):
        name = "Debian"
    if version and version.count(".") == 0:
        version = f"{version}.0.0"
    return f"{name} {version}".strip()


def user_agent(client_name: str, client_version: str) -> str:
    terminal = os.environ.get("TERM_PROGRAM") or os.environ.get("TERM") or "unknown"
    return (
        f"{client_name}/{PROTOCOL_VERSION} ({_os_description()}; {platform.machine()}) "
        f"{terminal} ({client_name}; {client_version})"
    )


def platform_family() -> str:
    return "windows" if sys.platform.startswith("win") else "unix"


def platform_os() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    return sys.platform
