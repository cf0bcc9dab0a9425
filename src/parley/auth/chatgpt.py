"""A ChatGPT sign-in stored in `auth.json`, read only (Parley cannot sign in with ChatGPT itself).

A Codex user signed in with ChatGPT has `tokens` in `auth.json`: an access token, the account
id and an ID token (a JWT whose `https://api.openai.com/auth` claims name the ChatGPT user and
account). Apps (ChatGPT connectors) are offered only to such a user; the access token and the
account id are the credentials their backend asks for. The file is read afresh each time, so a
sign-in written by another tool is seen at once. Tokens never reach a log: `__repr__` hides them.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

AUTH_CLAIMS = "https://api.openai.com/auth"


@dataclass(frozen=True)
class ChatGptSignIn:
    access_token: str = field(repr=False)
    account_id: str | None
    user_id: str | None
    plan_type: str | None

    @property
    def is_workspace_account(self) -> bool:
        return self.plan_type in ("team", "business", "enterprise", "edu", "education")

    def headers(self) -> dict[str, str]:
        """What the ChatGPT backend asks for: the bearer token and the account."""
        headers = {"Authorization": f"Bearer {self.access_token}"}
        if self.account_id:
            headers["ChatGPT-Account-ID"] = self.account_id
        return headers


def _jwt_claims(token: Any) -> dict[str, Any]:
    if not isinstance(token, str) or token.count(".") != 2:
        return {}
    payload = token.split(".")[1]
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return {}
    claims = decoded.get(AUTH_CLAIMS) if isinstance(decoded, dict) else None
    return claims if isinstance(claims, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def uses_api_key(codex_home: Path) -> bool:
    """Whether `auth.json` holds an API-key login."""
    try:
        data = orjson.loads((codex_home / "auth.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(data, dict) and (
        data.get("auth_mode") == "apikey" or bool(data.get("OPENAI_API_KEY"))
    )


def read_chatgpt_sign_in(codex_home: Path) -> ChatGptSignIn | None:
    """The ChatGPT sign-in in `<codex_home>/auth.json`, or None (no file, an API key, no
    tokens)."""
    try:
        data = orjson.loads((codex_home / "auth.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("auth_mode") == "apikey":
        return None
    tokens = data.get("tokens")
    if not isinstance(tokens, dict):
        return None
    access_token = _text(tokens.get("access_token"))
    if access_token is None:
        return None
    claims = _jwt_claims(tokens.get("id_token"))
    return ChatGptSignIn(
        access_token=access_token.strip(),
        account_id=_text(tokens.get("account_id")) or _text(claims.get("chatgpt_account_id")),
        user_id=_text(claims.get("chatgpt_user_id")),
        plan_type=_text(claims.get("chatgpt_plan_type")),
    )
