"""app/list and thread/increment_elicitation / thread/decrement_elicitation.

Apps (ChatGPT connectors) need a ChatGPT sign-in; Parley signs in with API keys only, so, as the
reference answers an API-key user, the list is empty. The elicitation counter records that a
client is showing an out-of-band elicitation for a thread (the reference pauses its timeouts
while the count is above zero; Parley's MCP calls keep their own timeouts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.mcp.thread_tools import ThreadMcp
from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError

if TYPE_CHECKING:
    from parley.server.session import ClientSession


async def app_list(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.AppsListParams, raw)
    if params.thread_id is not None:
        session.server.thread(params.thread_id)  # an unknown thread is an error
    return {"data": [], "nextCursor": None}


def _thread_mcp(session: ClientSession, thread_id: str) -> ThreadMcp:
    thread = session.server.thread(thread_id)
    tools = next((e for e in thread.extensions if isinstance(e, ThreadMcp)), None)
    if tools is None:
        raise ClientError(f"thread not found: {thread_id}")
    return tools


async def thread_increment_elicitation(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadIncrementElicitationParams, raw)
    tools = _thread_mcp(session, params.thread_id)
    tools.out_of_band_elicitations += 1
    count = tools.out_of_band_elicitations
    return {"count": count, "paused": count > 0}


async def thread_decrement_elicitation(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadDecrementElicitationParams, raw)
    tools = _thread_mcp(session, params.thread_id)
    if tools.out_of_band_elicitations == 0:
        raise ClientError("out-of-band elicitation count is already zero")
    tools.out_of_band_elicitations -= 1
    count = tools.out_of_band_elicitations
    return {"count": count, "paused": count > 0}
