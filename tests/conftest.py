"""Fixtures shared by every test: a fresh CODEX_HOME, app-server processes that are always reaped,
and a started mock Responses server.

The support code lives in `tests/support/`; this file also makes sure `tests/` is importable so
tests can write `from support.app_server import AppServerProcess`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from support.app_server import AppServerProcess, SpawnAppServer  # noqa: E402
from support.mock_responses import MockResponsesServer  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _hermetic_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Run every test with an empty HOME.

    Commands run as login shells (`bash -lc`), which load the developer's profile; a profile
    that starts tools such as pyenv makes commands slow or stuck (its lock file can be left
    behind when a timed-out command is killed). An empty HOME keeps tests hermetic and never
    touches the developer's ~/.codex either. Likewise an empty system config folder stands in
    for the machine's /etc/codex (config.toml, managed_config.toml, requirements.toml).
    """
    home = tmp_path_factory.mktemp("home")
    saved = {name: os.environ.get(name) for name in ("HOME", "PARLEY_SYSTEM_CONFIG_DIR")}
    os.environ["HOME"] = str(home)
    os.environ["PARLEY_SYSTEM_CONFIG_DIR"] = str(tmp_path_factory.mktemp("etc-codex"))
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def codex_home(tmp_path: Path) -> Path:
    """An empty CODEX_HOME directory for this test."""
    home = tmp_path / "codex-home"
    home.mkdir()
    return home


@pytest.fixture
async def spawn_app_server(codex_home: Path) -> AsyncIterator[SpawnAppServer]:
    """Start `parley app-server` processes; any still running at teardown are closed (or killed).

    Call as `await spawn_app_server()` (uses `codex_home`) or with `codex_home=…` and any
    `AppServerProcess` keyword argument. Tests that care about a clean exit call `close()`
    themselves; teardown does not check.
    """
    started: list[AppServerProcess] = []

    async def spawn(codex_home: Path = codex_home, **kwargs: Any) -> AppServerProcess:
        process = await AppServerProcess.spawn(codex_home, **kwargs)
        started.append(process)
        return process

    yield spawn
    for process in started:
        await process.close(check=False)


@pytest.fixture
async def responses_server() -> AsyncIterator[MockResponsesServer]:
    """A started mock Responses server with an empty script (add answers with `push()`)."""
    async with MockResponsesServer() as server:
        yield server
