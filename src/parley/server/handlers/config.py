"""config/*, configRequirements/read and experimentalFeature/*: reading and editing settings.

`config/read` answers with the merged layers (the selected profile is not applied, as in the
reference), each leaf's origin layer and, on request, the layers themselves. Writes go to the
user's `config.toml` only, keep its comments and layout, and take effect for the next thread.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.catalog.features import RUNTIME_ENABLEMENT, all_features, enablement_problem
from parley.config import ConfigError
from parley.config.edit import ConfigWriteError, Edit, apply_edits
from parley.config.layers import load_layers
from parley.config.requirements import load_requirements
from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError, InternalError
from parley.server.handlers.paging import page
from parley.server.handlers.wire import enum_value

if TYPE_CHECKING:
    from parley.server.session import ClientSession


def _config_wire(tree: dict[str, Any]) -> dict[str, Any]:
    """The merged table as the `Config` wire object: values the reference's typed config cannot
    hold are left out (e.g. `tools.web_search = true`, which must be a table)."""
    config = copy.deepcopy(tree)
    tools = config.get("tools")
    if (
        isinstance(tools, dict)
        and "web_search" in tools
        and not isinstance(tools["web_search"], dict)
    ):
        del tools["web_search"]
    return config


async def config_read(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ConfigReadParams, raw)
    server = session.server
    cwd = Path(params.cwd) if params.cwd else None
    if cwd is not None and not cwd.is_absolute():
        raise ClientError(f"failed to resolve config cwd to an absolute path: {params.cwd}")
    try:
        stack = load_layers(server.config.codex_home, cwd=cwd, overrides=server.overrides)
        effective = server.load_config(cwd=cwd)
    except ConfigError as exc:
        raise ClientError(f"failed to load configuration: {exc.message}") from None
    config = _config_wire(stack.effective())
    features = config.setdefault("features", {})
    if not isinstance(features, dict):
        features = config["features"] = {}
    for name in RUNTIME_ENABLEMENT:
        features[name] = effective.feature_enabled(name)
    result: dict[str, Any] = {"config": config, "origins": stack.origins()}
    if params.include_layers:
        result["layers"] = stack.to_wire()
    return result


def _write(session: ClientSession, edits: list[Edit], expected: Any, file_path: Any) -> Any:
    server = session.server
    try:
        result = apply_edits(
            server.config.codex_home,
            edits,
            expected_version=expected,
            file_path=file_path,
            overrides=server.overrides,
        )
    except ConfigWriteError as exc:
        raise ClientError(exc.message, data={"config_write_error_code": exc.code}) from None
    except OSError as exc:
        raise InternalError(f"failed to persist config.toml: {exc.strerror}") from None
    server.reload_config()
    return {
        "status": "okOverridden" if result.overridden else "ok",
        "version": result.version,
        "filePath": str(result.path),
        "overriddenMetadata": result.overridden,
    }


async def config_value_write(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ConfigValueWriteParams, raw)
    edit = Edit(params.key_path, params.value, enum_value(params.merge_strategy) or "replace")
    return _write(session, [edit], params.expected_version, params.file_path)


async def config_batch_write(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ConfigBatchWriteParams, raw)
    edits = [
        Edit(e.key_path, e.value, enum_value(e.merge_strategy) or "replace") for e in params.edits
    ]
    return _write(session, edits, params.expected_version, params.file_path)


async def config_requirements_read(session: ClientSession, raw: Any) -> Any:
    """requirements.toml and a legacy managed_config.toml (no MDM or cloud requirements: those
    need device management or ChatGPT sign-in)."""
    try:
        requirements = load_requirements()
    except ConfigError as exc:
        raise ClientError(f"failed to read configuration layers: {exc.message}") from None
    return {"requirements": requirements.to_wire()}


async def experimental_feature_list(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ExperimentalFeatureListParams, raw)
    config = session.server.require_config()
    data = [spec.to_wire(config.feature_enabled(spec.name)) for spec in all_features()]
    items, next_cursor = page(data, params.cursor, params.limit, "feature flags")
    return {"data": items, "nextCursor": next_cursor}


async def experimental_feature_enablement_set(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ExperimentalFeatureEnablementSetParams, raw)
    enablement = dict(params.enablement)
    for key in enablement:
        problem = enablement_problem(key)
        if problem is not None:
            raise ClientError(problem)
    server = session.server
    server.runtime_features.update(enablement)
    server.config = server.with_runtime_features(server.config)
    if enablement.get("apps") is True:
        server.apps.refresh_after_enablement(server)
    return {"enablement": enablement}


async def mock_experimental_method(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.MockExperimentalMethodParams, raw)
    return {"echoed": params.value}
