"""The `initialize` params, read without importing pydantic or the generated models.

Clients spawn an app-server per session and wait for the `initialize` reply; importing pydantic
and building even three models costs more than the rest of that reply. So a well-formed
handshake (only the known fields, each with its JSON type: what every client sends) is read
directly, and anything else (an unknown or misspelt key, a wrong type, a missing field, a
`null` where a value is required) goes through `parse_params` with the light pydantic models
of `handshake_models`, which accept, reject and describe it exactly as before. Tests check that
the direct reading agrees with the generated `InitializeParams` wherever it accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_TOP_KEYS = frozenset({"clientInfo", "capabilities"})
_CLIENT_KEYS = frozenset({"name", "title", "version"})
_CAPABILITY_KEYS = frozenset({"experimentalApi", "optOutNotificationMethods"})


@dataclass(frozen=True)
class Capabilities:
    experimental_api: bool | None = False
    opt_out_notification_methods: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Handshake:
    """What `initialize` says: the client's identity and capabilities (None when not sent)."""

    name: str
    version: str
    title: str | None = None
    capabilities: Capabilities | None = None

    def to_wire(self) -> dict[str, Any]:
        """As the generated model dumps it (by alias); for comparisons."""
        caps = self.capabilities
        return {
            "capabilities": None
            if caps is None
            else {
                "experimentalApi": caps.experimental_api,
                "optOutNotificationMethods": None
                if caps.opt_out_notification_methods is None
                else list(caps.opt_out_notification_methods),
            },
            "clientInfo": {"name": self.name, "title": self.title, "version": self.version},
        }


def read_initialize(params: object) -> Handshake:
    """The handshake, or `ClientError` naming the field, as for any other request."""
    direct = read_well_formed(params)
    if direct is not None:
        return direct
    from parley.protocol.handshake_models import InitializeParams
    from parley.protocol.params import parse_params

    model = parse_params(InitializeParams, params)
    info, caps = model.client_info, model.capabilities
    return Handshake(
        name=info.name,
        version=info.version,
        title=info.title,
        capabilities=None
        if caps is None
        else Capabilities(
            caps.experimental_api,
            None
            if caps.opt_out_notification_methods is None
            else tuple(caps.opt_out_notification_methods),
        ),
    )


def read_well_formed(params: object) -> Handshake | None:
    """The handshake when `params` holds only known fields of the right JSON types, else None
    (the caller then validates it in full)."""
    if not isinstance(params, dict) or not params.keys() <= _TOP_KEYS:
        return None
    info = params.get("clientInfo")
    if not isinstance(info, dict) or not info.keys() <= _CLIENT_KEYS:
        return None
    name, version, title = info.get("name"), info.get("version"), info.get("title")
    if not (isinstance(name, str) and isinstance(version, str)):
        return None
    if title is not None and not isinstance(title, str):
        return None
    caps = params.get("capabilities")
    if caps is None:  # absent, or null (a top-level null is the same as absent)
        return Handshake(name, version, title)
    if not isinstance(caps, dict) or not caps.keys() <= _CAPABILITY_KEYS:
        return None
    experimental = caps.get("experimentalApi", False)
    if experimental is not None and not isinstance(experimental, bool):
        return None
    opt_out = caps.get("optOutNotificationMethods")
    if opt_out is not None:
        if not isinstance(opt_out, list) or not all(isinstance(m, str) for m in opt_out):
            return None
        opt_out = tuple(opt_out)
    return Handshake(name, version, title, Capabilities(experimental, opt_out))
