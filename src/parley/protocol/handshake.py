"""The `initialize` params, validated without importing the ~600 generated models.

Clients spawn an app-server per session and wait for the `initialize` reply, so that reply must
not wait for `parley.protocol.models` to be built. These three models declare exactly the
fields, types, aliases and defaults of the generated `InitializeParams`, `ClientInfo` and
`InitializeCapabilities` (a test compares their JSON Schemas with the generated ones), so the
handshake is validated as strictly as every other request.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ClientInfo(_Wire):
    name: str
    title: str | None = None
    version: str


class InitializeCapabilities(_Wire):
    experimental_api: Annotated[bool | None, Field(alias="experimentalApi")] = False
    opt_out_notification_methods: Annotated[
        list[str] | None, Field(alias="optOutNotificationMethods")
    ] = None


class InitializeParams(_Wire):
    capabilities: InitializeCapabilities | None = None
    client_info: Annotated[ClientInfo, Field(alias="clientInfo")]
