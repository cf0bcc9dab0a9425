#!/usr/bin/env bash
# Regenerate src/parley/protocol/models.py from the vendored 0.120 schema bundle.
#
# The combined bundle (codex_app_server_protocol.schemas.json) is the only one that covers
# everything Parley speaks: client requests (incl. v1 InitializeParams), server notifications
# AND server requests (approval params). It keeps v2 types nested under `definitions.v2`,
# which datamodel-codegen does not walk, so we first flatten it into one definitions map
# (`#/definitions/v2/X` -> `#/definitions/X`). The two names that exist at both levels
# (AbsolutePathBuf, RequestId) are structurally identical.
#
# Never hand-edit models.py; change this script and rerun it:
#     scripts/generate_models.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
CODEGEN="${DATAMODEL_CODEGEN:-$ROOT/.venv/bin/datamodel-codegen}"
SCHEMA="$ROOT/src/parley/protocol/schema/codex_app_server_protocol.schemas.json"
OUT="$ROOT/src/parley/protocol/models.py"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
FLAT="$WORK/codex_app_server_protocol.flat.json"

"$PY" - "$SCHEMA" "$FLAT" <<'PYEOF'
import json
import sys

source, target = sys.argv[1], sys.argv[2]
with open(source, encoding="utf-8") as fh:
    bundle = json.load(fh)

definitions = dict(bundle["definitions"])
namespaced = definitions.pop("v2")


def strip_meta(schema: dict) -> dict:
    return {k: v for k, v in schema.items() if k not in ("$schema", "title")}


flat: dict = {}
for name, schema in list(definitions.items()) + list(namespaced.items()):
    if name in flat and strip_meta(flat[name]) != strip_meta(schema):
        raise SystemExit(f"definition collision while flattening: {name}")
    flat.setdefault(name, schema)


def rewrite(node: object) -> object:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                value = value.replace("#/definitions/v2/", "#/definitions/")
            elif key == "$schema":
                continue  # only meaningful at the document root
            out[key] = rewrite(value)
        return out
    if isinstance(node, list):
        return [rewrite(item) for item in node]
    return node


result = {
    "$schema": bundle["$schema"],
    "title": "CodexAppServerProtocol",
    "type": "object",
    "definitions": rewrite(flat),
}
with open(target, "w", encoding="utf-8") as fh:
    json.dump(result, fh, indent=2, sort_keys=False)
PYEOF

"$CODEGEN" \
    --input "$FLAT" \
    --input-file-type jsonschema \
    --output "$OUT.tmp" \
    --output-model-type pydantic_v2.BaseModel \
    --target-python-version 3.11 \
    --use-annotated \
    --snake-case-field \
    --allow-population-by-field-name \
    --use-union-operator \
    --use-standard-collections \
    --enum-field-as-literal all \
    --use-title-as-name \
    --disable-timestamp \
    --extra-fields ignore \
    --formatters ruff-format

mv "$OUT.tmp" "$OUT"
echo "wrote $OUT"
