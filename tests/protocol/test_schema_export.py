"""generate-json-schema writes the 0.120 bundle, with or without the experimental surface."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from parley.protocol.methods import EXPERIMENTAL_METHODS
from parley.protocol.schema_export import schema_root, write_json_schema

BUNDLE = "codex_app_server_protocol.schemas.json"
FLAT_V2 = "codex_app_server_protocol.v2.schemas.json"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def methods_of(union: dict[str, Any]) -> set[str]:
    return {variant["properties"]["method"]["enum"][0] for variant in union["oneOf"]}


def test_experimental_export_is_the_vendored_bundle(tmp_path: Path) -> None:
    """With --experimental every file of the 0.120 bundle is written unchanged."""
    written = write_json_schema(tmp_path, experimental=True)
    assert len(written) == 225
    for path in written:
        relative = path.relative_to(tmp_path).as_posix()
        original = schema_root().joinpath(*relative.split("/")).read_text(encoding="utf-8")
        assert path.read_text(encoding="utf-8") == original, relative
    assert (tmp_path / "v2" / "ThreadRealtimeStartParams.json").is_file()
    assert (tmp_path / "v1" / "InitializeParams.json").is_file()


def test_stable_export_drops_experimental_methods(tmp_path: Path) -> None:
    """Without --experimental, realtime and other experimental methods are not offered."""
    write_json_schema(tmp_path, experimental=False)
    request_methods = methods_of(load(tmp_path / "ClientRequest.json"))
    assert "thread/start" in request_methods
    assert not request_methods & EXPERIMENTAL_METHODS
    assert not any(method.startswith("thread/realtime/") for method in request_methods)
    bundle = load(tmp_path / BUNDLE)
    assert not methods_of(bundle["definitions"]["ClientRequest"]) & EXPERIMENTAL_METHODS
    assert "ThreadRealtimeStartParams" not in bundle["definitions"]["v2"]
    assert "ThreadStartParams" in bundle["definitions"]["v2"]
    flat = load(tmp_path / FLAT_V2)
    assert not methods_of(flat["definitions"]["ClientRequest"]) & EXPERIMENTAL_METHODS


def test_stable_export_omits_experimental_type_files(tmp_path: Path) -> None:
    """The params and result files of experimental methods are not written."""
    stable = {p.relative_to(tmp_path).as_posix() for p in write_json_schema(tmp_path, False)}
    assert "v2/ThreadRealtimeStartParams.json" not in stable
    assert "v2/ThreadRealtimeListVoicesResponse.json" not in stable
    assert "v2/MockExperimentalMethodParams.json" not in stable
    assert "v2/ThreadStartParams.json" in stable
    assert "ServerNotification.json" in stable


def test_stable_export_drops_experimental_fields(tmp_path: Path) -> None:
    """Gated fields such as `mockExperimentalField` disappear; stable fields stay."""
    write_json_schema(tmp_path, experimental=False)
    start = load(tmp_path / "v2" / "ThreadStartParams.json")["properties"]
    assert "mockExperimentalField" not in start
    assert "dynamicTools" not in start
    assert "model" in start and "approvalsReviewer" in start
    bundle_start = load(tmp_path / BUNDLE)["definitions"]["v2"]["ThreadStartParams"]
    assert "mockExperimentalField" not in bundle_start["properties"]
    turn = load(tmp_path / FLAT_V2)["definitions"]["TurnStartParams"]["properties"]
    assert "collaborationMode" not in turn and "input" in turn


def test_stable_export_has_no_dangling_references(tmp_path: Path) -> None:
    """Every `$ref` in the stable flat bundle still points at a definition."""
    write_json_schema(tmp_path, experimental=False)
    flat = load(tmp_path / FLAT_V2)
    text = (tmp_path / FLAT_V2).read_text(encoding="utf-8")
    refs = set(re.findall(r'"#/definitions/([^"/]+)"', text))
    assert refs <= set(flat["definitions"])


def test_export_creates_the_output_directory(tmp_path: Path) -> None:
    """The output directory is created when it does not exist yet."""
    out = tmp_path / "a" / "b"
    written = write_json_schema(out, experimental=False)
    assert (out / BUNDLE) in written
    assert all(path.is_file() for path in written)
