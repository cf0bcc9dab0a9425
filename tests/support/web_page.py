"""Shared steps for `parley web` tests: the real command as a subprocess, and Debian's Chromium
driven by Playwright with fake media devices.

`ParleyWeb` starts `parley … web --no-browser` and reads the page address it prints.
`launch_chromium` starts /usr/bin/chromium headless (nothing is downloaded: Playwright's own
browser builds are never used) with Chromium's fake-media flags, feeding `microphone_wav` as
the microphone once, without looping.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
# Page conditions are polled; this is only the safety net for a loaded machine.
PAGE_TIMEOUT_MS = 60_000


def require_chromium() -> None:
    """Skip where Chromium is missing, except in CI, where `.ci/run` installs it."""
    if shutil.which(CHROMIUM) is None or not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run should have installed Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")


class ParleyWeb:
    """A running `parley web` subprocess; `url` carries its access token."""

    def __init__(self, cwd: Path, codex_home: Path, args: list[str]) -> None:
        env = dict(os.environ)
        env["CODEX_HOME"] = str(codex_home)
        env.pop("OPENAI_API_KEY", None)
        codex_home.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parley", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        self._url: str | None = None
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(60) or self._url is None:
            self.stop()
            raise AssertionError("parley web printed no address:\n" + "".join(self.output))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            match = re.search(r"open (http://\S+)", line)
            if match and self._url is None:
                self._url = match.group(1)
                self._ready.set()
        self._ready.set()

    @property
    def url(self) -> str:
        assert self._url is not None
        return self._url

    @property
    def origin(self) -> str:
        return self.url.split("/#", 1)[0]

    @property
    def token(self) -> str:
        return self.url.split("#token=", 1)[1]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        return self.process.returncode


@contextmanager
def parley_web(cwd: Path, codex_home: Path, args: list[str]) -> Iterator[ParleyWeb]:
    server = ParleyWeb(cwd, codex_home, args)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def playwright_session() -> Iterator[Any]:
    """Playwright (sync API), for `launch_chromium`; one per test module."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@contextmanager
def launch_chromium(
    playwright: Any, microphone_wav: Path | None = None, *, microphone_allowed: bool = True
) -> Iterator[Any]:
    """A headless Chromium (Playwright `Browser`), fed `microphone_wav` as its microphone.
    With `microphone_allowed=False` every microphone request is refused, as a user would."""
    args = list(CHROMIUM_ARGS)
    if not microphone_allowed:
        args.remove("--use-fake-ui-for-media-stream")
        args.append("--deny-permission-prompts")
    if microphone_wav is not None:
        args.append(f"--use-file-for-fake-audio-capture={microphone_wav}%noloop")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    try:
        yield browser
    finally:
        browser.close()


def new_page(browser: Any) -> Any:
    """A page in a fresh context. `bypass_csp` only lets Playwright evaluate its own probes."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    return page
