"""The `initialize` params as light pydantic models, without the ~600 generated ones.

These three models declare exactly the fields, types, aliases and defaults of the generated
`InitializeParams`, `ClientInfo` and `InitializeCapabilities` (a test compares their JSON
Schemas with the generated ones). `parley.protocol.handshake` validates with them whatever its
direct reading does not accept, so odd or invalid handshakes are accepted, rejected and
described exactly as every other request is.
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
