"""Apps (ChatGPT connectors) as `app/list` shows them: pure functions, no I/O.

Two lists make the answer. The directory (`/connectors/directory/list` on the ChatGPT backend)
names every app the account could use; the built-in `codex_apps` MCP server's tools, each
tagged in `_meta` with its `connector_id` and `connector_name`, tell which apps the account has
already connected ("accessible"). They are merged as the reference merges them: accessible
apps first, then by name and id; the directory's details win, a tool's connector name replaces
a name that is only the id; each app gets its ChatGPT install link. `[apps.<id>] enabled`
(and `[apps._default]`) in the config decides `isEnabled`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from parley.rpc.errors import ClientError

App = dict[str, Any]

CODEX_APPS_SERVER = "codex_apps"
INSTALL_URL_BASE = "https://chatgpt.com/apps"
# Connectors the reference never offers.
_DISALLOWED_IDS = frozenset(
    {
        "asdk_app_6938a94a61d881918ef32cb999ff937c",
        "connector_2b0a9009c9c64bf9933a3dae3f2b1254",
        "connector_3f8d1a79f27c4c7ba1a897ab13bf37dc",
        "connector_68de829bf7648191acd70a907364c67c",
        "connector_68e004f14af881919eb50893d3d9f523",
        "connector_69272cb413a081919685ec3c88d1744e",
    }
)
_DISALLOWED_PREFIX = "connector_openai_"
# Directory fields (snake_case or camelCase on the wire) -> AppInfo field.
_DIRECTORY_FIELDS = {
    "description": "description",
    "logo_url": "logoUrl",
    "logoUrl": "logoUrl",
    "logo_url_dark": "logoUrlDark",
    "logoUrlDark": "logoUrlDark",
    "distribution_channel": "distributionChannel",
    "distributionChannel": "distributionChannel",
    "labels": "labels",
}
_BRANDING_FIELDS = {
    "category": "category",
    "developer": "developer",
    "website": "website",
    "privacy_policy": "privacyPolicy",
    "terms_of_service": "termsOfService",
    "is_discoverable_app": "isDiscoverableApp",
}
_METADATA_FIELDS = {
    "review": "review",
    "categories": "categories",
    "sub_categories": "subCategories",
    "seo_description": "seoDescription",
    "screenshots": "screenshots",
    "developer": "developer",
    "version": "version",
    "version_id": "versionId",
    "version_notes": "versionNotes",
    "first_party_type": "firstPartyType",
    "first_party_requires_install": "firstPartyRequiresInstall",
    "show_in_composer_when_unlinked": "showInComposerWhenUnlinked",
}
_SCREENSHOT_FIELDS = {"url": "url", "file_id": "fileId", "user_prompt": "userPrompt"}


def blank_app(app_id: str, name: str) -> App:
    return {
        "id": app_id,
        "name": name,
        "description": None,
        "logoUrl": None,
        "logoUrlDark": None,
        "distributionChannel": None,
        "branding": None,
        "appMetadata": None,
        "labels": None,
        "installUrl": None,
        "isAccessible": False,
        "isEnabled": True,
        "pluginDisplayNames": [],
    }


def name_slug(name: str) -> str:
    slug = "".join(c.lower() if c.isascii() and c.isalnum() else "-" for c in name).strip("-")
    return slug or "app"


def install_url(name: str, app_id: str) -> str:
    return f"{INSTALL_URL_BASE}/{name_slug(name)}/{app_id}"


def allowed(app_id: str) -> bool:
    return not app_id.startswith(_DISALLOWED_PREFIX) and app_id not in _DISALLOWED_IDS


def _clean(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _camel(raw: Any, fields: Mapping[str, str]) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    shaped: dict[str, Any] = {}
    for key, value in raw.items():
        target = fields.get(key) or (key if key in fields.values() else None)
        if target is not None:
            shaped[target] = value
    return shaped


def _metadata(raw: Any) -> dict[str, Any] | None:
    shaped = _camel(raw, _METADATA_FIELDS)
    if shaped is not None and isinstance(shaped.get("screenshots"), list):
        shaped["screenshots"] = [_camel(s, _SCREENSHOT_FIELDS) for s in shaped["screenshots"]]
    return shaped


def _branding(raw: Any) -> dict[str, Any] | None:
    shaped = _camel(raw, _BRANDING_FIELDS)
    if shaped is not None:
        shaped.setdefault("isDiscoverableApp", False)
    return shaped


def _fill(existing: dict[str, Any], incoming: dict[str, Any]) -> None:
    """Set each field `existing` lacks from `incoming`."""
    for key, value in incoming.items():
        if existing.get(key) is None and value is not None:
            existing[key] = value


def directory_apps(pages: Iterable[Mapping[str, Any]]) -> list[App]:
    """The directory's apps (hidden ones left out, duplicates merged), sorted by name and id,
    each not accessible and with its install link."""
    merged: dict[str, App] = {}
    for page in pages:
        for raw in page.get("apps") or []:
            if not isinstance(raw, dict) or raw.get("visibility") == "HIDDEN":
                continue
            app_id = raw.get("id")
            if not isinstance(app_id, str):
                continue
            app = blank_app(app_id, str(raw.get("name") or ""))
            for key, target in _DIRECTORY_FIELDS.items():
                if raw.get(key) is not None:
                    app[target] = raw[key]
            app["branding"] = _branding(raw.get("branding"))
            app["appMetadata"] = _metadata(raw.get("app_metadata", raw.get("appMetadata")))
            existing = merged.get(app_id)
            if existing is None:
                merged[app_id] = app
                continue
            if not existing["name"].strip() and app["name"].strip():
                existing["name"] = app["name"]
            if _clean(app["description"]):
                existing["description"] = app["description"]
            for key in ("logoUrl", "logoUrlDark", "distributionChannel", "labels"):
                if existing[key] is None:
                    existing[key] = app[key]
            for key in ("branding", "appMetadata"):
                if existing[key] is None:
                    existing[key] = app[key]
                elif app[key] is not None:
                    _fill(existing[key], app[key])
    apps = list(merged.values())
    for app in apps:
        app["installUrl"] = app["installUrl"] or install_url(app["name"], app["id"])
        app["name"] = _clean(app["name"]) or app["id"]
        app["description"] = _clean(app["description"])
    apps.sort(key=lambda a: (a["name"], a["id"]))
    return [app for app in apps if allowed(app["id"])]


def _ordered(apps: Iterable[App]) -> list[App]:
    return sorted(apps, key=lambda a: (not a["isAccessible"], a["name"], a["id"]))


def accessible_apps(tool_metas: Iterable[Mapping[str, Any] | None]) -> list[App]:
    """The apps the account has connected, from the `_meta` of the `codex_apps` tools."""
    found: dict[str, App] = {}
    for meta in tool_metas:
        if not meta or not isinstance(meta.get("connector_id"), str):
            continue
        app_id = meta["connector_id"]
        name = _clean(meta.get("connector_name")) or app_id
        description = _clean(meta.get("connector_description"))
        existing = found.get(app_id)
        if existing is None:
            app = blank_app(app_id, name)
            app["description"] = description
            app["isAccessible"] = True
            found[app_id] = app
            continue
        if existing["name"] == app_id and name != app_id:
            existing["name"] = name
        if existing["description"] is None:
            existing["description"] = description
    for app in found.values():
        app["installUrl"] = install_url(app["name"], app["id"])
    return _ordered(app for app in found.values() if allowed(app["id"]))


def merge(directory: list[App] | None, accessible: list[App] | None) -> list[App]:
    """Both lists as one. Once the directory has loaded, a connected app it does not list is
    dropped; while it loads, the connected apps stand alone."""
    all_apps = copy.deepcopy(directory or [])
    connected = copy.deepcopy(accessible or [])
    if directory is not None:
        listed = {app["id"] for app in all_apps}
        connected = [app for app in connected if app["id"] in listed]
    merged: dict[str, App] = {}
    for app in all_apps:
        app["isAccessible"] = False
        merged[app["id"]] = app
    for app in connected:
        existing = merged.get(app["id"])
        if existing is None:
            app["isAccessible"] = True
            merged[app["id"]] = app
            continue
        existing["isAccessible"] = True
        if existing["name"] == existing["id"] and app["name"] != app["id"]:
            existing["name"] = app["name"]
        for key in ("description", "logoUrl", "logoUrlDark", "distributionChannel"):
            if existing[key] is None:
                existing[key] = app[key]
        existing["pluginDisplayNames"] = sorted(
            {*existing["pluginDisplayNames"], *app["pluginDisplayNames"]}
        )
    for app in merged.values():
        app["installUrl"] = app["installUrl"] or install_url(app["name"], app["id"])
    return _ordered(app for app in merged.values() if allowed(app["id"]))


def with_enabled_state(apps: list[App], apps_table: Mapping[str, Any]) -> list[App]:
    """`isEnabled` from `[apps]`: the app's own `enabled`, else `[apps._default] enabled`."""
    default = apps_table.get("_default")
    default_enabled = default.get("enabled") if isinstance(default, dict) else None
    for app in apps:
        entry = apps_table.get(app["id"])
        enabled = entry.get("enabled") if isinstance(entry, dict) else None
        if isinstance(enabled, bool):
            app["isEnabled"] = enabled
        elif isinstance(default_enabled, bool):
            app["isEnabled"] = default_enabled
    return apps


def worth_announcing(apps: list[App], accessible_loaded: bool, directory_loaded: bool) -> bool:
    """An `app/list/updated` is sent once some app is known connected, or both lists are in."""
    return any(app["isAccessible"] for app in apps) or (accessible_loaded and directory_loaded)


def parse_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        start = int(cursor)
    except ValueError:
        raise ClientError(f"invalid cursor: {cursor}") from None
    if start < 0:
        raise ClientError(f"invalid cursor: {cursor}")
    return start


def page(apps: list[App], start: int, limit: int | None) -> dict[str, Any]:
    total = len(apps)
    if start > total:
        raise ClientError(f"cursor {start} exceeds total apps {total}")
    size = max(limit if limit is not None else total, 1)
    end = min(start + size, total)
    return {"data": apps[start:end], "nextCursor": str(end) if end < total else None}


def for_plugin(directory: list[App], app_ids: Iterable[str]) -> list[App]:
    """A plugin's apps: the directory's entry for each, or a bare one named by its id."""
    wanted = list(dict.fromkeys(app_ids))
    known = {app["id"]: app for app in directory}
    apps = []
    for app_id in wanted:
        app = known.get(app_id)
        if app is None:
            app = blank_app(app_id, app_id)
            app["installUrl"] = install_url(app_id, app_id)
        apps.append(app)
    return _ordered(app for app in apps if allowed(app["id"]))
