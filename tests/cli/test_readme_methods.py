"""The README's "Methods served" list names exactly the methods the server answers."""

from __future__ import annotations

import re
from pathlib import Path

from parley.server.handlers import HANDLERS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_every_served_method_and_no_other() -> None:
    text = README.read_text()
    section = text.split("### Methods served", 1)[1].split("\n### ", 1)[0]
    listed = set(re.findall(r"`([A-Za-z]+(?:/[A-Za-z_]+)*)`", section)) - {"initialize"}
    listed = {name for name in listed if "/" in name or (name[0].islower() and name in HANDLERS)}
    served = set(HANDLERS)
    assert served - listed == set(), "served but not in the README"
    notifications = {
        "command/exec/outputDelta",
        "fs/changed",
        "fuzzyFileSearch/sessionUpdated",
        "windowsSandbox/setupCompleted",
    }
    assert listed - served - notifications == set(), "in the README but not served"
