"""Import, off the event loop's critical path, what a session's first requests will need.

Answering `initialize` needs only the JSON-RPC core and the configuration; the request handlers,
the ~600 generated protocol models, the agent, the Responses HTTP client (with its TLS
context) and the rest are imported here, on a daemon thread started right after the
`initialize` reply. A request that arrives before the thread is done simply imports what it
needs itself (Python's import lock makes the two wait for each other, never import twice).
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


def _preload() -> None:
    try:
        import parley.protocol.models
        import parley.server.handlers
        from parley.agent.responses import warm_http_stack

        parley.protocol.models.ThreadStartParams.model_rebuild()
        warm_http_stack()
    except Exception:  # a failure here only means the first request imports it itself
        log.debug("background preload failed", exc_info=True)


def preload_in_background() -> threading.Thread:
    thread = threading.Thread(target=_preload, name="parley-preload", daemon=True)
    thread.start()
    return thread
