"""pytest twins of upstream `app-server/tests/suite/v2/skills_list.rs` (5 tests).

Each runs the real `parley app-server` subprocess with its own CODEX_HOME and temporary working
directories holding `skills/<name>/SKILL.md` folders, and sends the same `skills/list` /
`thread/start` requests as the Rust test. Nothing is out of scope.
"""

from __future__ import annotations

from pathlib import Path

from support.app_server import AppServerProcess

DEFAULT_TIMEOUT = 10.0
WATCHER_TIMEOUT = 20.0


def write_skill(root: Path, name: str) -> None:
    skill_dir = root / "skills" / name
    skill_dir.mkdir(parents=True, exist_ok=True)
    content = f"---\nname: {name}\ndescription: {name} description\n---\n\n# Body\n"
    (skill_dir / "SKILL.md").write_text(content)


def temp_dir(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.mkdir()
    return path


async def skills_list(mcp: AppServerProcess, params: dict) -> list:  # type: ignore[type-arg]
    result = await mcp.request("skills/list", params, DEFAULT_TIMEOUT)
    data: list = result["data"]  # type: ignore[type-arg]
    return data


async def test_skills_list_includes_skills_from_per_cwd_extra_user_roots(tmp_path: Path) -> None:
    """Extra user roots given for a cwd are scanned for that cwd."""
    codex_home, cwd = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "cwd")
    extra_root = temp_dir(tmp_path, "extra")
    write_skill(extra_root, "extra-skill")
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        data = await skills_list(
            mcp,
            {
                "cwds": [str(cwd)],
                "forceReload": True,
                "perCwdExtraUserRoots": [{"cwd": str(cwd), "extraUserRoots": [str(extra_root)]}],
            },
        )
    assert len(data) == 1
    assert data[0]["cwd"] == str(cwd)
    assert any(skill["name"] == "extra-skill" for skill in data[0]["skills"])


async def test_skills_list_rejects_relative_extra_user_roots(tmp_path: Path) -> None:
    """A relative extra root is refused with a message saying paths must be absolute."""
    codex_home, cwd = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "cwd")
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        error = await mcp.request_error(
            "skills/list",
            {
                "cwds": [str(cwd)],
                "forceReload": True,
                "perCwdExtraUserRoots": [{"cwd": str(cwd), "extraUserRoots": ["relative/skills"]}],
            },
            DEFAULT_TIMEOUT,
        )
    assert "perCwdExtraUserRoots extraUserRoots paths must be absolute" in error["message"]


async def test_skills_list_ignores_per_cwd_extra_roots_for_unknown_cwd(tmp_path: Path) -> None:
    """Extra roots for a cwd that was not asked about are ignored."""
    codex_home = temp_dir(tmp_path, "home")
    requested_cwd, unknown_cwd = temp_dir(tmp_path, "requested"), temp_dir(tmp_path, "unknown")
    extra_root = temp_dir(tmp_path, "extra")
    write_skill(extra_root, "ignored-extra-skill")
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        data = await skills_list(
            mcp,
            {
                "cwds": [str(requested_cwd)],
                "forceReload": True,
                "perCwdExtraUserRoots": [
                    {"cwd": str(unknown_cwd), "extraUserRoots": [str(extra_root)]}
                ],
            },
        )
    assert len(data) == 1
    assert data[0]["cwd"] == str(requested_cwd)
    assert all(skill["name"] != "ignored-extra-skill" for skill in data[0]["skills"])


async def test_skills_list_uses_cached_result_until_force_reload(tmp_path: Path) -> None:
    """A cwd's listing is cached (new extra roots are not seen) until forceReload."""
    codex_home, cwd = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "cwd")
    extra_root = temp_dir(tmp_path, "extra")
    write_skill(extra_root, "late-extra-skill")
    extra = [{"cwd": str(cwd), "extraUserRoots": [str(extra_root)]}]
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        first = await skills_list(
            mcp, {"cwds": [str(cwd)], "forceReload": False, "perCwdExtraUserRoots": None}
        )
        assert len(first) == 1
        assert all(skill["name"] != "late-extra-skill" for skill in first[0]["skills"])

        second = await skills_list(
            mcp, {"cwds": [str(cwd)], "forceReload": False, "perCwdExtraUserRoots": extra}
        )
        assert len(second) == 1
        assert all(skill["name"] != "late-extra-skill" for skill in second[0]["skills"])

        third = await skills_list(
            mcp, {"cwds": [str(cwd)], "forceReload": True, "perCwdExtraUserRoots": extra}
        )
        assert len(third) == 1
        assert any(skill["name"] == "late-extra-skill" for skill in third[0]["skills"])


async def test_skills_changed_notification_is_emitted_after_skill_change(tmp_path: Path) -> None:
    """Editing a SKILL.md under CODEX_HOME/skills after a thread started sends skills/changed."""
    codex_home = temp_dir(tmp_path, "home")
    write_skill(codex_home, "demo")
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        await mcp.request(
            "thread/start",
            {
                "model": None,
                "modelProvider": None,
                "serviceTier": None,
                "cwd": None,
                "approvalPolicy": None,
                "approvalsReviewer": None,
                "sandbox": None,
                "config": None,
                "serviceName": None,
                "baseInstructions": None,
                "developerInstructions": None,
                "personality": None,
                "ephemeral": None,
                "sessionStartSource": None,
                "dynamicTools": None,
                "mockExperimentalField": None,
                "experimentalRawEvents": False,
                "persistExtendedHistory": False,
            },
            DEFAULT_TIMEOUT,
        )
        skill_path = codex_home / "skills" / "demo" / "SKILL.md"
        skill_path.write_text("---\nname: demo\ndescription: updated\n---\n\n# Updated\n")
        params = await mcp.read_notification("skills/changed", WATCHER_TIMEOUT)
    assert params == {}
