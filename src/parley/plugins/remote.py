"""Telling the ChatGPT plugin service about an install or uninstall (`forceRemoteSync`).

As the reference does before installing or uninstalling locally with `forceRemoteSync`, a
`POST <chatgpt_base_url>/plugins/<plugin id>/enable` (or `/uninstall`) is sent with the ChatGPT
sign-in's bearer token and account id, and the answer must name the plugin with the expected
enabled state. Without a ChatGPT sign-in the mutation is refused with the reference's reason.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from parley.auth.chatgpt import read_chatgpt_sign_in, uses_api_key

MUTATION_TIMEOUT_SEC = 30.0


class RemotePluginError(Exception):
    pass


def _signed_in_headers(codex_home: Path) -> dict[str, str]:
    sign_in = read_chatgpt_sign_in(codex_home)
    if sign_in is None:
        if uses_api_key(codex_home):
            raise RemotePluginError(
                "chatgpt authentication required for remote plugin mutation; api key auth is "
                "not supported"
            )
        raise RemotePluginError("chatgpt authentication required for remote plugin mutation")
    headers = {"Authorization": f"Bearer {sign_in.access_token}"}
    if sign_in.account_id:
        headers["chatgpt-account-id"] = sign_in.account_id
    return headers


async def mutate(codex_home: Path, base_url: str, plugin_id: str, action: str) -> None:
    """`action` ("enable" or "uninstall") on the remote plugin; raises `RemotePluginError`."""
    import httpx

    headers = _signed_in_headers(codex_home)
    url = f"{base_url.rstrip('/')}/plugins/{quote(plugin_id, safe='@')}/{action}"
    try:
        async with httpx.AsyncClient(timeout=MUTATION_TIMEOUT_SEC) as client:
            response = await client.post(url, headers=headers)
    except httpx.HTTPError as exc:
        raise RemotePluginError(
            f"failed to send remote plugin mutation request to {url}: {exc}"
        ) from None
    if response.status_code >= 400:
        raise RemotePluginError(
            f"remote plugin mutation failed with status {response.status_code} "
            f"{response.reason_phrase} from {url}: {response.text}"
        )
    try:
        data = response.json()
    except ValueError as exc:
        raise RemotePluginError(
            f"failed to parse remote plugin mutation response from {url}: {exc}"
        ) from None
    answered_id = data.get("id") if isinstance(data, dict) else None
    enabled = data.get("enabled") if isinstance(data, dict) else None
    if answered_id != plugin_id:
        raise RemotePluginError(
            "remote plugin mutation returned unexpected plugin id: expected "
            f"`{plugin_id}`, got `{answered_id}`"
        )
    expected = action == "enable"
    if enabled is not expected:
        raise RemotePluginError(
            f"remote plugin mutation returned unexpected enabled state for `{plugin_id}`: "
            f"expected {str(expected).lower()}, got {str(enabled).lower()}"
        )
