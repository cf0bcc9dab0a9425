"""Where the API key lives. The key is never logged or echoed: `__repr__` hides it."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import orjson


class AuthStore:
    def __init__(self, codex_home: Path, env_key_name: str = "OPENAI_API_KEY") -> None:
        self.path = codex_home / "auth.json"
        self._env_key_name = env_key_name
        self._stored: str | None = self._read()

    def __repr__(self) -> str:
        return f"AuthStore(path={self.path!s}, logged_in={self.api_key is not None})"

    def _read(self) -> str | None:
        try:
            data = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        key = data.get("OPENAI_API_KEY") if isinstance(data, dict) else None
        return key if isinstance(key, str) and key else None

    @property
    def stored_key(self) -> str | None:
        return self._stored

    @property
    def api_key(self) -> str | None:
        """The stored key, else the environment's."""
        if self._stored:
            return self._stored
        env = os.environ.get(self._env_key_name)
        return env or None

    def login(self, api_key: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = orjson.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": api_key})
        tmp = self.path.with_suffix(".json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, payload)
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        self._stored = api_key

    def logout(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._stored = None
