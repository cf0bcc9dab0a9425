"""Skills: scanning and errors (plain files), and through the app-server: skills/config/write
and the enabled skills reaching the agent's instructions."""

from __future__ import annotations

from pathlib import Path

from support.app_server import AppServerProcess
from support.mcp_servers import agent_config_toml
from support.mock_responses import MockResponsesServer
from support.sse import ev_assistant_message, ev_completed, ev_response_created, sse

from parley.skills.loader import scan, skill_roots


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_malformed_skill_files_become_errors(tmp_path: Path) -> None:
    """A SKILL.md without front matter, with bad YAML or without a description is reported with
    its path and the reason; good ones next to it still load."""
    home = tmp_path / "home"
    write(home / "skills" / "good" / "SKILL.md", "---\nname: good\ndescription: fine\n---\nbody\n")
    no_matter = write(home / "skills" / "plain" / "SKILL.md", "# just text\n")
    bad_yaml = write(home / "skills" / "yaml" / "SKILL.md", "---\nname: [oops\n---\n")
    no_desc = write(home / "skills" / "nodesc" / "SKILL.md", "---\nname: nodesc\n---\n")
    result = scan(skill_roots(home, None, tmp_path))
    assert [s.name for s in result.skills] == ["good"]
    errors = {path: message for path, message in result.errors}
    assert errors[no_matter] == "missing YAML frontmatter delimited by ---"
    assert errors[bad_yaml].startswith("invalid YAML:")
    assert errors[no_desc] == "missing field `description`"


def test_repo_skills_are_found_from_the_project_root_down(tmp_path: Path) -> None:
    """`.agents/skills` folders between the repository root and the cwd are repo-scoped."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(repo / ".agents/skills/top/SKILL.md", "---\nname: top\ndescription: t\n---\n")
    write(repo / "sub/.agents/skills/deep/SKILL.md", "---\nname: deep\ndescription: d\n---\n")
    result = scan(skill_roots(tmp_path / "home", None, repo / "sub"))
    assert {(s.name, s.scope) for s in result.skills} == {("top", "repo"), ("deep", "repo")}


async def test_disabled_skills_are_listed_off_and_hidden_from_the_agent(
    codex_home: Path, tmp_path: Path
) -> None:
    """skills/config/write turns a skill off (listed as disabled, left out of the agent's
    instructions); an enabled skill is described to the agent with its SKILL.md path."""
    write(codex_home / "skills/keep/SKILL.md", "---\nname: keep\ndescription: Keep me\n---\n")
    drop = write(codex_home / "skills/drop/SKILL.md", "---\nname: drop\ndescription: Drop\n---\n")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    answer = sse([ev_response_created("r"), ev_assistant_message("m", "ok"), ev_completed("r")])
    async with MockResponsesServer([answer]) as responses:
        (codex_home / "config.toml").write_text(agent_config_toml(responses.uri, ""))
        async with AppServerProcess(codex_home) as server:
            await server.initialize()
            await server.login_with_api_key("sk-test")
            written = await server.request(
                "skills/config/write", {"path": str(drop.resolve()), "enabled": False}
            )
            assert written == {"effectiveEnabled": False}
            listed = await server.request("skills/list", {"cwds": [str(workspace)]})
            enabled = {s["name"]: s["enabled"] for s in listed["data"][0]["skills"]}
            assert enabled == {"drop": False, "keep": True}
            error = await server.request_error("skills/config/write", {"enabled": True})
            assert error["message"] == "skills/config/write requires exactly one of path or name"

            thread = await server.start_thread({"cwd": str(workspace)})
            await server.request(
                "turn/start",
                {"threadId": thread["id"], "input": [{"type": "text", "text": "hi"}]},
            )
            await server.read_notification("turn/completed")
        body = responses.responses_requests()[0]
        developer = " ".join(
            part["text"]
            for item in body["input"]
            if item.get("role") == "developer"
            for part in item["content"]
        )
        assert "- keep: Keep me" in developer
        assert "drop" not in developer
    assert "[[skills.config]]" in (codex_home / "config.toml").read_text()


async def test_an_installed_plugins_skills_are_listed_under_its_name(
    codex_home: Path, tmp_path: Path
) -> None:
    """After plugin/install, the plugin's skills appear in skills/list as `<plugin>:<skill>`."""
    repo = tmp_path / "repo"
    write(
        repo / ".agents/plugins/marketplace.json",
        '{"name": "local", "plugins": [{"name": "helper", '
        '"source": {"source": "local", "path": "./helper"}}]}',
    )
    write(repo / "helper/.codex-plugin/plugin.json", '{"name": "helper"}')
    write(repo / "helper/skills/tidy/SKILL.md", "---\nname: tidy\ndescription: Tidy up\n---\n")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    async with AppServerProcess(codex_home) as server:
        await server.initialize()
        await server.request(
            "plugin/install",
            {
                "marketplacePath": str(repo / ".agents/plugins/marketplace.json"),
                "pluginName": "helper",
            },
        )
        listed = await server.request(
            "skills/list", {"cwds": [str(workspace)], "forceReload": True}
        )
    skills = {s["name"]: s["scope"] for s in listed["data"][0]["skills"]}
    assert skills == {"helper:tidy": "user"}
