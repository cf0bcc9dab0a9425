"""`windowsSandbox/setupStart`: answered as the reference answers it on Linux and macOS.

There is no Windows sandbox to set up here, so the request is accepted (`started: true`) and the
`windowsSandbox/setupCompleted` notification that follows reports failure with the reason; a
client that offers the setup on every platform gets a clear answer instead of an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError

if TYPE_CHECKING:
    from parley.server.session import ClientSession


async def windows_sandbox_setup_start(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.WindowsSandboxSetupStartParams, raw)
    if params.cwd is not None:
        from parley.services.fs import absolute_path

        try:
            absolute_path(params.cwd)
        except ClientError:
            raise ClientError(
                f"Invalid request: `cwd` must be an absolute path, got `{params.cwd}`"
            ) from None
    mode = params.mode
    completed = {
        "mode": mode,
        "success": False,
        "error": f"{mode} Windows sandbox setup is only available on Windows",
    }
    session.after_response(lambda: session.notify("windowsSandbox/setupCompleted", completed))
    return {"started": True}
