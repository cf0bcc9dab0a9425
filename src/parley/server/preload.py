"""Import, off the event loop's critical path, what a session's first requests will need.

Answering `initialize` needs only the JSON-RPC core and the configuration; the request handlers,
the ~600 generated protocol models, the agent, the Responses HTTP client (with its TLS
context), the featured-plugins client and the MCP hub are imported here, on a daemon thread
started once the `initialize` reply is on its way. A request that arrives before the thread is
done simply imports what it needs itself (Python's import lock makes the two wait for each
other, never import twice). `then` runs on the thread when the imports are done (the server
uses it to start, on its loop, the services whose modules were just imported).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def _preload(then: Callable[[], object] | None) -> None:
    try:
        # The HTTP stack first: it is small, and a turn started early (a voice session's
        # first delegation) needs it; then the handlers (and with them the models, the
        # agent, the threads), then what only background services use.
        from parley.agent.responses import warm_http_stack

        warm_http_stack()
        import parley.protocol.models
        import parley.server.handlers

        parley.protocol.models.ThreadStartParams.model_rebuild()
        import parley.mcp.hub
        import parley.plugins.featured
    except Exception:  # a failure here only means the first request imports it itself
        log.debug("background preload failed", exc_info=True)
    if then is not None:
        try:
            then()
        except RuntimeError:  # the loop already closed: the server is exiting
            log.debug("preload finished after the server stopped")


def preload_in_background(then: Callable[[], object] | None = None) -> threading.Thread:
    thread = threading.Thread(target=_preload, args=(then,), name="parley-preload", daemon=True)
    thread.start()
    return thread
