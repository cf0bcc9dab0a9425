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
# Choices that matter to callers:
# * --use-type-alias: enums and unions become plain type aliases (`ApprovalsReviewer` is a
#   Literal of strings, `LoginAccountParams` a union of variant models), not RootModel wrappers.
# * --base-class WireModel: every object model ignores unknown fields and builds its validator
#   lazily (import time), see src/parley/protocol/wire.py.
# * --snake-case-field + aliases taken from the schema, so snake_case wire names such as
#   `text_elements` stay as they are.
# * The flattening step also declares a discriminator on every tagged union (all branches
#   objects with one required single-value string property, e.g. `type` or `method`), so
#   pydantic selects the branch by tag and reports "unknown variant" for a bad tag.
#
# Never hand-edit models.py; change this script and rerun it:
#     scripts/generate_models.sh
# (PARLEY_MODELS_OUT=path writes elsewhere; the tests use it to check models.py is current.)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
CODEGEN="${DATAMODEL_CODEGEN:-$ROOT/.venv/bin/datamodel-codegen}"
RUFF="${RUFF:-$ROOT/.venv/bin/ruff}"
SCHEMA="$ROOT/src/parley/protocol/schema/codex_app_server_protocol.schemas.json"
OUT="${PARLEY_MODELS_OUT:-$ROOT/src/parley/protocol/models.py}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
FLAT="$WORK/codex_app_server_protocol.flat.json"

"$PY" - "$SCHEMA" "$FLAT" <<'PYEOF'
import json
import re
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


flat = rewrite(flat)


def resolve(node: object) -> object:
    while isinstance(node, dict) and "$ref" in node:
        node = flat[node["$ref"].rsplit("/", 1)[-1]]
    return node


def constant_keys(branch: object) -> set[str]:
    """Required properties that hold exactly one string: the candidate union tags."""
    branch = resolve(branch)
    if not isinstance(branch, dict) or branch.get("type") != "object":
        return set()
    required = set(branch.get("required", []))
    keys = set()
    for name, prop in branch.get("properties", {}).items():
        prop = resolve(prop)
        if (
            name in required
            and isinstance(prop, dict)
            and prop.get("type") == "string"
            and len(prop.get("enum", [])) == 1
        ):
            keys.add(name)
    return keys


def tag_value(branch: object, tag: str) -> str:
    branch = resolve(branch)
    assert isinstance(branch, dict)
    value = resolve(branch["properties"][tag])
    assert isinstance(value, dict)
    return str(value["enum"][0])


def mark_tagged_unions(node: object, where: str) -> None:
    # The bundle's tagged unions (serde `tag = "type"` / `"method"`) carry no discriminator.
    # Declaring one (with an explicit mapping, so inline branches are hoisted into named
    # definitions first) makes pydantic pick the branch by its tag: an unknown tag reads as
    # "unknown variant" and a bad field is reported against the one branch it belongs to.
    if isinstance(node, dict):
        for value in node.values():  # inner unions first, before their branch is hoisted
            mark_tagged_unions(value, where)
        for key in ("oneOf", "anyOf"):
            branches = node.get(key)
            if not (isinstance(branches, list) and len(branches) > 1):
                continue
            common = set.intersection(*(constant_keys(b) for b in branches))
            if len(common) != 1:
                continue
            tag = common.pop()
            mapping = {}
            for index, branch in enumerate(branches):
                value = tag_value(branch, tag)
                if "$ref" not in branch:
                    words = re.split(r"[^0-9A-Za-z]+", branch.get("title", ""))
                    name = "".join(word[:1].upper() + word[1:] for word in words)
                    if name in flat:
                        # `{method, params}` envelopes are titled like their params type
                        # ("thread/startedNotification" vs ThreadStartedNotification).
                        name += "Message"
                        branch["title"] = name
                    if not name or name in flat:
                        name = f"{where}{index}"
                    assert name not in flat, name
                    flat[name] = branch
                    branches[index] = {"$ref": f"#/definitions/{name}"}
                mapping[value] = branches[index]["$ref"]
            node["discriminator"] = {"propertyName": tag, "mapping": mapping}
    elif isinstance(node, list):
        for item in node:
            mark_tagged_unions(item, where)


for name in list(flat):
    mark_tagged_unions(flat[name], name)

result = {
    "$schema": bundle["$schema"],
    "title": "CodexAppServerProtocol",
    "type": "object",
    "definitions": flat,
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
    --use-type-alias \
    --base-class parley.protocol.wire.WireModel \
    --no-formatters

# Format with the project's line length wherever the output goes, so the result is reproducible.
"$RUFF" format --isolated --line-length 100 --quiet "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT"
