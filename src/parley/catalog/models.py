"""The model catalogue: the bundled list, `models_cache.json`, and what `model/list` shows.

As the reference builds it: the bundled catalogue (`models.json`), overlaid by the entries of a
fresh `$CODEX_HOME/models_cache.json` (written less than five minutes ago by this client version),
sorted by priority, limited to models usable with an API key, the first picker-visible model
marked default. `model_info(slug)` finds a model's properties (context window, reasoning and
verbosity support) by exact slug, then by the longest catalogue slug the name starts with, else
the reference's fallback values for an unknown model.

Parley asks no server for `/models`: the reference only does so with ChatGPT sign-in, which
Parley does not offer.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from parley import PROTOCOL_VERSION

log = logging.getLogger(__name__)

CACHE_FILE = "models_cache.json"
CACHE_TTL = dt.timedelta(seconds=300)
FALLBACK_CONTEXT_WINDOW = 272_000
DEFAULT_CONTEXT_PERCENT = 95


@dataclass(frozen=True)
class ModelInfo:
    slug: str
    display_name: str
    description: str = ""
    default_reasoning_level: str | None = None
    supported_reasoning_levels: tuple[dict[str, Any], ...] = ()
    visible: bool = False
    supported_in_api: bool = True
    priority: int = 99
    additional_speed_tiers: tuple[str, ...] = ()
    availability_nux: Any = None
    upgrade: dict[str, Any] | None = None
    input_modalities: tuple[str, ...] = ("text", "image")
    context_window: int | None = FALLBACK_CONTEXT_WINDOW
    effective_context_window_percent: int = DEFAULT_CONTEXT_PERCENT
    supports_reasoning_summaries: bool = False
    default_reasoning_summary: str = "auto"
    support_verbosity: bool = False
    default_verbosity: str | None = None
    supports_personality: bool = False
    known: bool = field(default=True, compare=False)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ModelInfo:
        """From a catalogue entry (bundled, cached or served), unknown fields ignored."""
        upgrade = raw.get("upgrade")
        return cls(
            slug=str(raw["slug"]),
            display_name=str(raw.get("display_name") or raw["slug"]),
            description=str(raw.get("description") or ""),
            default_reasoning_level=raw.get("default_reasoning_level"),
            supported_reasoning_levels=tuple(raw.get("supported_reasoning_levels") or ()),
            visible=raw.get("visibility") == "list",
            supported_in_api=bool(raw.get("supported_in_api", True)),
            priority=int(raw.get("priority", 99)),
            additional_speed_tiers=tuple(raw.get("additional_speed_tiers") or ()),
            availability_nux=raw.get("availability_nux"),
            upgrade=upgrade if isinstance(upgrade, dict) else None,
            input_modalities=tuple(raw.get("input_modalities") or ("text", "image")),
            context_window=raw.get("context_window"),
            effective_context_window_percent=int(
                raw.get("effective_context_window_percent") or DEFAULT_CONTEXT_PERCENT
            ),
            supports_reasoning_summaries=bool(raw.get("supports_reasoning_summaries", False)),
            default_reasoning_summary=str(raw.get("default_reasoning_summary") or "auto"),
            support_verbosity=bool(raw.get("support_verbosity", False)),
            default_verbosity=raw.get("default_verbosity"),
            # A bundled entry says so; a cached or served one only when its instructions carry
            # the personality variables, which Parley does not read: false, as the reference
            # reports for the cache fixture.
            supports_personality=bool(raw.get("supports_personality", False)),
        )

    @property
    def usable_context_window(self) -> int | None:
        """The window a turn can fill (the reference's `modelContextWindow`)."""
        if self.context_window is None:
            return None
        return self.context_window * self.effective_context_window_percent // 100

    def to_wire(self, is_default: bool) -> dict[str, Any]:
        """A `Model` of `model/list`."""
        upgrade = self.upgrade
        return {
            "id": self.slug,
            "model": self.slug,
            "upgrade": upgrade["model"] if upgrade else None,
            "upgradeInfo": (
                {
                    "model": upgrade["model"],
                    "upgradeCopy": None,
                    "modelLink": None,
                    "migrationMarkdown": upgrade.get("migration_markdown"),
                }
                if upgrade
                else None
            ),
            "availabilityNux": self.availability_nux,
            "displayName": self.display_name,
            "description": self.description,
            "hidden": not self.visible,
            "supportedReasoningEfforts": [
                {"reasoningEffort": level["effort"], "description": level["description"]}
                for level in self.supported_reasoning_levels
            ],
            "defaultReasoningEffort": self.default_reasoning_level or "none",
            "inputModalities": list(self.input_modalities),
            "supportsPersonality": self.supports_personality,
            "additionalSpeedTiers": list(self.additional_speed_tiers),
            "isDefault": is_default,
        }


def fallback_model(slug: str) -> ModelInfo:
    """The reference's properties for a model it does not know."""
    return ModelInfo(slug=slug, display_name=slug, known=False)


@functools.cache
def bundled_models() -> tuple[ModelInfo, ...]:
    text = resources.files("parley.catalog").joinpath("models.json").read_text("utf-8")
    return tuple(ModelInfo.from_json(raw) for raw in json.loads(text)["models"])


def read_cache(codex_home: Path, now: dt.datetime | None = None) -> list[ModelInfo] | None:
    """The cached models when the cache is fresh and from this version, else None."""
    try:
        data = json.loads((codex_home / CACHE_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("client_version") != PROTOCOL_VERSION:
        return None
    try:
        fetched = dt.datetime.fromisoformat(str(data.get("fetched_at")).replace("Z", "+00:00"))
    except ValueError:
        return None
    if fetched.tzinfo is None:
        fetched = fetched.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    if now - fetched > CACHE_TTL:
        return None
    models = data.get("models")
    if not isinstance(models, list):
        return None
    try:
        return [ModelInfo.from_json(raw) for raw in models if isinstance(raw, dict)]
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("ignoring %s: %s", CACHE_FILE, exc)
        return None


def catalogue(codex_home: Path) -> list[ModelInfo]:
    """Bundled models with fresh cache entries replacing (or adding to) them."""
    models = list(bundled_models())
    for cached in read_cache(codex_home) or []:
        for index, existing in enumerate(models):
            if existing.slug == cached.slug:
                models[index] = cached
                break
        else:
            models.append(cached)
    return models


def available_models(codex_home: Path, include_hidden: bool) -> list[dict[str, Any]]:
    """`model/list`'s data, before paging."""
    models = sorted(catalogue(codex_home), key=lambda m: m.priority)
    models = [m for m in models if m.supported_in_api]
    default = next((m for m in models if m.visible), models[0] if models else None)
    return [m.to_wire(m is default) for m in models if include_hidden or m.visible]


def model_info(slug: str, codex_home: Path | None = None) -> ModelInfo:
    models = catalogue(codex_home) if codex_home is not None else list(bundled_models())
    for model in models:
        if model.slug == slug:
            return model
    prefixed = [m for m in models if slug.startswith(m.slug)]
    if prefixed:
        best = max(prefixed, key=lambda m: len(m.slug))
        return ModelInfo(**{**best.__dict__, "slug": slug})
    return fallback_model(slug)
