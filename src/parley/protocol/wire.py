"""The base class of every generated wire model in `parley.protocol.models`.

Models ignore unknown fields (clients newer than 0.120 send extra keys), accept both the wire
name and the Python name, and build their validators on first use so that importing the
~600 generated models stays cheap. This module holds no protocol knowledge of its own.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """A JSON object on the wire: camelCase aliases from the schema, unknown keys ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)
