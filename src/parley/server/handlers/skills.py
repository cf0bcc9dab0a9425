"""skills/list and skills/config/write."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError, InternalError
from parley.skills.settings import write_rule

if TYPE_CHECKING:
    from parley.server.session import ClientSession


async def skills_list(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.SkillsListParams, raw)
    cwds = [Path(c) for c in (params.cwds or [])] or [Path.cwd()]
    wanted = set(cwds)
    extra: dict[Path, list[Path]] = {}
    for entry in params.per_cwd_extra_user_roots or []:
        cwd = Path(entry.cwd)
        if cwd not in wanted:
            continue
        for root in entry.extra_user_roots:
            if not Path(root).is_absolute():
                raise ClientError(
                    "skills/list perCwdExtraUserRoots extraUserRoots paths must be absolute: "
                    f"{root}"
                )
            extra.setdefault(cwd, []).append(Path(root))
    catalog = session.server.skills
    force = bool(params.force_reload)
    return {"data": [catalog.entry(cwd, extra.get(cwd, []), force) for cwd in cwds]}


async def skills_config_write(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.SkillsConfigWriteParams, raw)
    path = params.path
    name = params.name
    if path is not None and name is None:
        selector = ("path", str(Path(path)))
    elif path is None and name is not None and name.strip():
        selector = ("name", name.strip())
    else:
        raise ClientError("skills/config/write requires exactly one of path or name")
    try:
        write_rule(session.server.config.codex_home, selector, params.enabled)
    except OSError as exc:
        raise InternalError(f"failed to update skill settings: {exc}") from None
    session.server.skills.clear()
    return {"effectiveEnabled": params.enabled}
