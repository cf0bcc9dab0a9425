"""API-key login: `$CODEX_HOME/auth.json` (mode 0600) with `OPENAI_API_KEY` as a fallback."""

from parley.auth.store import AuthStore

__all__ = ["AuthStore"]
