"""Secrets never reach the log, whichever library writes the line."""

from __future__ import annotations

import logging

from parley.cli.main import RedactSecrets


def _render(msg: str, *args: object) -> str:
    record = logging.LogRecord("websockets.client", logging.DEBUG, __file__, 1, msg, args, None)
    assert RedactSecrets().filter(record)
    return record.getMessage()


def test_bearer_tokens_and_api_keys_are_redacted() -> None:
    """A handshake header or an error quoting the key shows `<redacted>` instead of the key."""
    assert _render("> authorization: Bearer %s", "sk-test-secret-123") == (
        "> authorization: Bearer <redacted>"
    )
    assert _render("request failed for key sk-proj-abcdef123") == (
        "request failed for key sk-<redacted>"
    )
    assert _render("plain line with %d numbers", 3) == "plain line with 3 numbers"
