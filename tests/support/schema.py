"""Check Parley's output against the vendored 0.120 JSON Schema bundle.

`SchemaValidator` loads the combined bundle (the one that holds client requests, server
notifications *and* server requests) once per process and validates single messages:
notifications by their ``method``, responses by the method they answer, server requests by
their ``method``. The variant is looked up by method first, so a failure names the field that is
wrong instead of "not valid under any of the 52 given schemas".

Fields the schema does not list are allowed: the bundle's object schemas leave
``additionalProperties`` open (it is ``false`` only on single-key enum variants such as
``{"granular": {...}}`` and a few MCP elicitation shapes), so Parley's compatibility extras
(``Thread.sessionId``, ``startedAtMs``/``completedAtMs`` on item notifications) validate.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from parley.protocol.methods import BY_NAME
from parley.protocol.schema_export import schema_root

BUNDLE_FILE = "codex_app_server_protocol.schemas.json"
BUNDLE_URI = "urn:parley:codex-app-server-protocol:0.120.0"


class SchemaValidator:
    """Validates messages against the 0.120 bundle; every check raises AssertionError."""

    def __init__(self, bundle: dict[str, Any] | None = None) -> None:
        self.bundle: dict[str, Any] = bundle if bundle is not None else _load_bundle()
        resource = Resource.from_contents(self.bundle, default_specification=DRAFT7)
        self._registry: Registry[Any] = Registry().with_resource(BUNDLE_URI, resource)
        definitions = self.bundle["definitions"]
        self._notifications = _variants_by_method(definitions["ServerNotification"])
        self._server_requests = _variants_by_method(definitions["ServerRequest"])
        self._validators: dict[str, Draft7Validator] = {}

    # -- public checks -------------------------------------------------------------------------

    def validate_notification(self, msg: dict[str, Any]) -> None:
        """``msg`` is a valid server notification: a known ``method`` and matching ``params``."""
        method = self._method_of(msg, "notification")
        if "id" in msg:
            raise AssertionError(f"notification {method!r} must not carry an id: {msg!r}")
        variant = self._notifications.get(method)
        if variant is None:
            raise AssertionError(f"{method!r} is not a 0.120 server notification: {msg!r}")
        self._check(variant, {"method": method, "params": msg.get("params")}, f"{method} params")

    def validate_server_request(self, msg: dict[str, Any]) -> None:
        """``msg`` is a valid server-to-client request: id, known ``method``, matching params."""
        method = self._method_of(msg, "server request")
        variant = self._server_requests.get(method)
        if variant is None:
            raise AssertionError(f"{method!r} is not a 0.120 server request: {msg!r}")
        envelope = {"id": msg.get("id"), "method": method, "params": msg.get("params")}
        self._check(variant, envelope, f"{method} request")

    def validate_response(self, method: str, result: dict[str, Any]) -> None:
        """``result`` is a valid result for a request of ``method`` (e.g. ThreadStartResponse)."""
        entry = BY_NAME.get(method)
        if entry is None:
            raise AssertionError(f"{method!r} is not a 0.120 client request method")
        self._check(self._definition_ref(entry.result), result, f"{method} result")

    def validate_definition(self, name: str, value: Any) -> None:
        """``value`` is valid against one named definition of the bundle (e.g. ``Thread``)."""
        self._check(self._definition_ref(name), value, name)

    # -- internals -----------------------------------------------------------------------------

    @staticmethod
    def _method_of(msg: dict[str, Any], kind: str) -> str:
        if not isinstance(msg, dict) or not isinstance(msg.get("method"), str):
            raise AssertionError(f"a {kind} needs a string `method`: {msg!r}")
        method: str = msg["method"]
        return method

    def _definition_ref(self, name: str) -> dict[str, Any]:
        definitions = self.bundle["definitions"]
        if name in definitions and name != "v2":
            return {"$ref": f"{BUNDLE_URI}#/definitions/{name}"}
        if name in definitions["v2"]:
            return {"$ref": f"{BUNDLE_URI}#/definitions/v2/{name}"}
        raise AssertionError(f"the 0.120 bundle has no definition named {name!r}")

    def _check(self, schema: dict[str, Any], value: Any, what: str) -> None:
        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            validator = Draft7Validator(_anchored(schema), registry=self._registry)
            self._validators[key] = validator
        errors = list(validator.iter_errors(value))
        if not errors:
            return
        error = best_match(errors)
        raise AssertionError(f"{what} does not match the 0.120 schema: {_describe(error)}")


def _anchored(node: Any) -> Any:
    """Point the schema's local refs (``#/definitions/...``) at the bundle in the registry."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#"):
                out[key] = BUNDLE_URI + value
            else:
                out[key] = _anchored(value)
        return out
    if isinstance(node, list):
        return [_anchored(item) for item in node]
    return node


def _variants_by_method(union: dict[str, Any]) -> dict[str, dict[str, Any]]:
    variants: dict[str, dict[str, Any]] = {}
    for variant in union["oneOf"]:
        method = variant["properties"]["method"]["enum"][0]
        variants[method] = variant
    return variants


def _describe(error: ValidationError) -> str:
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.path)
    where = path.lstrip(".") or "(root)"
    return f"at `{where}`: {error.message}"


@cache
def _load_bundle() -> dict[str, Any]:
    text = (schema_root() / BUNDLE_FILE).read_text(encoding="utf-8")
    bundle: dict[str, Any] = json.loads(text)
    return bundle


@cache
def shared_validator() -> SchemaValidator:
    """One validator per test process (building it parses a 435 kB bundle)."""
    return SchemaValidator()
