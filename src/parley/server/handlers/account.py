"""account/*: API-key login, the account read and logout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError

if TYPE_CHECKING:
    from parley.server.session import ClientSession


async def login_start(session: ClientSession, raw: Any) -> Any:
    if isinstance(raw, dict) and raw.get("type") not in (None, "apiKey"):
        kind = raw.get("type")
        if kind in ("chatgpt", "chatgptDeviceCode", "chatgptAuthTokens"):
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
