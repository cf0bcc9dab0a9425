"""Which credential a model provider gets: its own, and only its own.

As the reference decides it:

* a provider with `env_key` gets that environment variable's value, nothing else (never the
  login key; with the variable unset it gets no credential and the provider says 401);
* else a provider with `experimental_bearer_token` gets that token;
* else the login stored in `auth.json` (the account the user signed in with) is used;
* the built-in `openai` provider alone also falls back to `OPENAI_API_KEY`, OpenAI's own key.
  A custom provider never receives `OPENAI_API_KEY` unless it names it as its `env_key`.
"""

from __future__ import annotations

import logging
import os

from parley.auth.store import AuthStore
from parley.config import ModelProvider

log = logging.getLogger(__name__)

OPENAI_ENV_KEY = "OPENAI_API_KEY"


def credential_for(provider: ModelProvider, store: AuthStore) -> str | None:
    if provider.env_key:
        value = os.environ.get(provider.env_key, "").strip()
        if not value:
            hint = f" {provider.env_key_instructions}" if provider.env_key_instructions else ""
            log.warning(
                "provider `%s`: environment variable `%s` is not set; sending no credential.%s",
                provider.id,
                provider.env_key,
                hint,
            )
        return value or None
    if provider.bearer_token:
        return provider.bearer_token
    if store.stored_key:
        return store.stored_key
    if provider.id == "openai":
        return os.environ.get(OPENAI_ENV_KEY, "").strip() or None
    return None
