"""API-key login (`$CODEX_HOME/auth.json`, mode 0600) and which provider gets which credential."""

from parley.auth.credentials import credential_for
from parley.auth.store import AuthStore

__all__ = ["AuthStore", "credential_for"]
