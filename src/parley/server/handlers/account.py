"""account/*: API-key login (as `forced_login_method` allows), the account, logout, rate limits."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError

if TYPE_CHECKING:
    from parley.server.session import ClientSession


CHATGPT_LOGIN_TYPES = ("chatgpt", "chatgptDeviceCode", "chatgptAuthTokens")


async def login_start(session: ClientSession, raw: Any) -> Any:
    forced = session.server.config.forced_login_method
    kind = raw.get("type") if isinstance(raw, dict) else None
    if forced == "api" and kind in CHATGPT_LOGIN_TYPES:
        raise ClientError("ChatGPT login is disabled. Use API key login instead.")
    if forced == "chatgpt" and kind == "apiKey":
        raise ClientError("API key login is disabled. Use ChatGPT login instead.")
    if isinstance(raw, dict) and raw.get("type") not in (None, "apiKey"):
        if kind in CHATGPT_LOGIN_TYPES:
            raise ClientError(
                f'login type `{kind}` is not supported by Parley; use {{"type": "apiKey"}}'
            )
    params = parse_params(m.LoginAccountParams, raw)
    if not isinstance(params, m.ApiKeyv2LoginAccountParams):
        raise ClientError("login types other than `apiKey` are not supported by Parley")
    api_key = params.api_key
    if not api_key.strip():
        raise ClientError("Invalid request: `apiKey` must be a non-empty string")
    session.server.auth.login(api_key.strip())

    def announce() -> None:
        session.notify("account/login/completed", {"loginId": None, "success": True, "error": None})
        session.server.broadcast("account/updated", {"authMode": "apikey", "planType": None})

    session.after_response(announce)
    return {"type": "apiKey"}


async def account_read(session: ClientSession, raw: Any) -> Any:
    server = session.server
    requires = server.config.provider.requires_openai_auth
    account = {"type": "apiKey"} if requires and server.auth.api_key else None
    return {"account": account, "requiresOpenaiAuth": requires}


async def account_logout(session: ClientSession, raw: Any) -> Any:
    session.server.auth.logout()
    session.after_response(
        lambda: session.server.broadcast("account/updated", {"authMode": None, "planType": None}),
    )
    return {}


async def login_cancel(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.CancelLoginAccountParams, raw)
    try:
        uuid.UUID(params.login_id)
    except ValueError:
        raise ClientError(f"invalid login id: {params.login_id}") from None
    # Parley runs no browser or device-code logins, so there is never one to cancel.
    return {"status": "notFound"}


async def rate_limits_read(session: ClientSession, raw: Any) -> Any:
    if session.server.auth.stored_key is None:
        raise ClientError("codex account authentication required to read rate limits")
    # Usage windows exist only for ChatGPT accounts, which Parley does not sign in.
    raise ClientError("chatgpt authentication required to read rate limits")
