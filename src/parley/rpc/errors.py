"""Error types a request handler raises, each mapped to one JSON-RPC code in one place.

The reference answers every client-caused error with -32600 (Invalid Request), so clients
written for it see the same code from Parley. A method Parley does not implement is the one
deliberate difference (-32601), so a client can tell a missing method from a malformed request.
"""

from __future__ import annotations

from typing import Any

INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603


class RpcError(Exception):
    """An error that becomes a JSON-RPC error response."""

    code: int = INTERNAL_ERROR

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def to_wire(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class ClientError(RpcError):
    """The client sent something wrong: bad params, unknown thread, a gate not passed."""

    code = INVALID_REQUEST


class InvalidParams(ClientError):
    """Params the reference rejects with -32602: values that contradict each other
    (`command/exec` with both `timeoutMs` and `disableTimeout`, a zero terminal size) or user
    input over the size limit."""

    code = INVALID_PARAMS


class MethodNotFound(RpcError):
    """The method is not one Parley implements."""

    code = METHOD_NOT_FOUND

    def __init__(self, method: str) -> None:
        super().__init__(f"method not found: `{method}` is not implemented by Parley")


class InternalError(RpcError):
    """A bug or an unexpected failure inside Parley; never carries a traceback."""

    code = INTERNAL_ERROR
