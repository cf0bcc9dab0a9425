"""The Codex app-server protocol v2 as of the reference release 0.120.0, as data and types.

* `schema/`: the reference's JSON Schema bundle, vendored unchanged (package data).
* `models`: pydantic models generated from it by ``scripts/generate_models.sh`` (never edited
  by hand); `wire.WireModel` is their base class.
* `methods`: every client request method with its params/result types and experimental gate.
* `params`: ``parse_params`` turns a request's params into a model or a `ClientError`.
* `schema_export`: writes the schema for ``parley app-server generate-json-schema``.

Nothing here does I/O on the wire or knows about connections; that is `parley.rpc`.
"""
