"""Twin of upstream's `write_models_cache`: a fresh `models_cache.json` of the picker-visible
models of the bundled catalogue, and the model presets the reference derives from it.

The catalogue facts are read from Parley's data file (`parley/catalog/models.json`); everything
else here (sorting, default marking, the wire shape) is re-derived independently of Parley's
code, so a twin compares Parley's answer with the reference's rules.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path
from typing import Any

from parley import PROTOCOL_VERSION


def all_model_presets() -> list[dict[str, Any]]:
    """The bundled catalogue sorted by priority (stable), first picker-visible one default."""
    text = resources.files("parley.catalog").joinpath("models.json").read_text("utf-8")
    presets = sorted(json.loads(text)["models"], key=lambda m: m["priority"])
    mark_default_by_picker_visibility(presets)
    return presets


def mark_default_by_picker_visibility(presets: list[dict[str, Any]]) -> None:
    for preset in presets:
        preset["is_default"] = False
    visible = [p for p in presets if p["visibility"] == "list"]
    target = visible[0] if visible else (presets[0] if presets else None)
    if target is not None:
        target["is_default"] = True


def model_from_preset(preset: dict[str, Any]) -> dict[str, Any]:
    """The `Model` wire object the reference lists for a preset read back from the cache."""
    upgrade = preset.get("upgrade")
    return {
        "id": preset["slug"],
        "model": preset["slug"],
        "upgrade": upgrade["model"] if upgrade else None,
        "upgradeInfo": (
            {
                "model": upgrade["model"],
                "upgradeCopy": None,
                "modelLink": None,
                "migrationMarkdown": upgrade["migration_markdown"],
            }
            if upgrade
            else None
        ),
        "availabilityNux": preset.get("availability_nux"),
        "displayName": preset["display_name"],
        "description": preset.get("description") or "",
        "hidden": preset["visibility"] != "list",
        "supportedReasoningEfforts": [
            {"reasoningEffort": level["effort"], "description": level["description"]}
            for level in preset["supported_reasoning_levels"]
        ],
        "defaultReasoningEffort": preset.get("default_reasoning_level") or "none",
        "inputModalities": preset.get("input_modalities") or ["text", "image"],
        # As upstream notes: a cache round trip loses the personality placeholders.
        "supportsPersonality": False,
        "additionalSpeedTiers": preset.get("additional_speed_tiers") or [],
        "isDefault": preset["is_default"],
    }


def expected_visible_models() -> list[dict[str, Any]]:
    presets = [p for p in all_model_presets() if p["supported_in_api"]]
    mark_default_by_picker_visibility(presets)
    return [model_from_preset(p) for p in presets if p["visibility"] == "list"]


def write_models_cache(codex_home: Path) -> Path:
    visible = [p for p in all_model_presets() if p["visibility"] == "list"]
    models = []
    for index, preset in enumerate(visible):
        upgrade = preset.get("upgrade")
        models.append(
            {
                "slug": preset["slug"],
                "display_name": preset["display_name"],
                "description": preset.get("description"),
                "default_reasoning_level": preset.get("default_reasoning_level"),
                "supported_reasoning_levels": preset["supported_reasoning_levels"],
                "shell_type": "shell_command",
                "visibility": "list",
                "supported_in_api": preset["supported_in_api"],
                "priority": index,
                "additional_speed_tiers": preset.get("additional_speed_tiers") or [],
                "upgrade": (
                    {"model": upgrade["model"], "migration_markdown": upgrade["migration_markdown"]}
                    if upgrade
                    else None
                ),
                "base_instructions": "base instructions",
                "model_messages": None,
                "supports_reasoning_summaries": False,
                "default_reasoning_summary": "auto",
                "support_verbosity": False,
                "default_verbosity": None,
                "availability_nux": None,
                "apply_patch_tool_type": None,
                "truncation_policy": {"mode": "bytes", "limit": 10_000},
                "supports_parallel_tool_calls": False,
                "supports_image_detail_original": False,
                "context_window": 272_000,
                "auto_compact_token_limit": None,
                "effective_context_window_percent": 95,
                "experimental_supported_tools": [],
                "input_modalities": ["text", "image"],
                "used_fallback_model_metadata": False,
                "supports_search_tool": False,
            }
        )
    cache = {
        "fetched_at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "etag": None,
        "client_version": PROTOCOL_VERSION,
        "models": models,
    }
    path = codex_home / "models_cache.json"
    path.write_text(json.dumps(cache, indent=2), encoding="utf-8")
    return path
