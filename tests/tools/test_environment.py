"""`shell_environment_policy`: parsing (refused as the reference refuses) and the environment."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from integration.helpers import API_KEY, config_toml, items, start_turn, wait_turn_completed
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer
from support.sse import (
    create_final_assistant_message_sse_response,
    ev_completed,
    ev_function_call,
    ev_response_created,
    sse,
)

from parley.config import ConfigError, load_config
from parley.config.shell_environment import Inherit, ShellEnvironmentPolicy
from parley.tools.environment import command_environment, name_matches

SERVER_ENV = {
    "PATH": "/usr/bin",
    "HOME": "/home/u",
    "LANG": "C.UTF-8",
    "OPENAI_API_KEY": "sk-1",
    "GITHUB_TOKEN": "ghp",
    "AWS_SECRET_ACCESS_KEY": "aws",
    "PGPASSWORD": "pg",
    "CODEX_HOME": "/home/u/.codex",
    "EDITOR": "vim",
    "NODE_OPTIONS": "--x",
}


def load(codex_home: Path, text: str) -> ShellEnvironmentPolicy:
    (codex_home / "config.toml").write_text(text)
    return load_config(codex_home).shell_environment_policy


def test_defaults_drop_credentials_and_codex_home() -> None:
    """By default all is inherited but secret-shaped names and CODEX_HOME."""
    env = command_environment(ShellEnvironmentPolicy(), SERVER_ENV, "thread-1")
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "LANG": "C.UTF-8",
        "EDITOR": "vim",
        "NODE_OPTIONS": "--x",
        "CODEX_THREAD_ID": "thread-1",
    }


def test_inherit_core_and_none() -> None:
    """`core` keeps only the platform's core variables; `none` keeps nothing."""
    core = command_environment(ShellEnvironmentPolicy(inherit=Inherit.CORE), SERVER_ENV)
    assert core == {"PATH": "/usr/bin", "HOME": "/home/u", "LANG": "C.UTF-8"}
    assert command_environment(ShellEnvironmentPolicy(inherit=Inherit.NONE), SERVER_ENV) == {}


def test_exclude_set_and_include_only_in_the_reference_order() -> None:
    """exclude drops, set adds (after excludes), include_only filters last (even set values)."""
    policy = ShellEnvironmentPolicy(
        ignore_default_excludes=True,
        exclude=("node_*",),
        set={"MY_TOKEN": "explicit", "EXTRA": "1"},
        include_only=("PATH", "*TOKEN*", "extra"),
    )
    env = command_environment(policy, SERVER_ENV)
    assert env == {"PATH": "/usr/bin", "GITHUB_TOKEN": "ghp", "MY_TOKEN": "explicit", "EXTRA": "1"}


def test_ignore_default_excludes_passes_credentials_through() -> None:
    """With ignore_default_excludes the user opts into passing credentials on."""
    policy = ShellEnvironmentPolicy(ignore_default_excludes=True)
    env = command_environment(policy, SERVER_ENV)
    assert env["OPENAI_API_KEY"] == "sk-1" and env["PGPASSWORD"] == "pg"
    assert "CODEX_HOME" not in env


def test_patterns_are_case_insensitive_globs() -> None:
    """`*` is any run, `?` one character, other characters literal, case ignored."""
    assert name_matches("openai_api_key", ["*KEY*"])
    assert name_matches("AB", ["a?"]) and not name_matches("ABC", ["a?"])
    assert not name_matches("A.B", ["A[.]B"]) and name_matches("A[.]B", ["A[.]B"])


def test_config_table_is_parsed(codex_home: Path) -> None:
    """Every key of the table reaches the policy."""
    policy = load(
        codex_home,
        "[shell_environment_policy]\n"
        'inherit = "core"\n'
        "ignore_default_excludes = true\n"
        'exclude = ["FOO*"]\n'
        'set = { A = "1" }\n'
        'include_only = ["PATH", "A"]\n'
        "experimental_use_profile = false\n",
    )
    assert policy == ShellEnvironmentPolicy(
        inherit=Inherit.CORE,
        ignore_default_excludes=True,
        exclude=("FOO*",),
        set={"A": "1"},
        include_only=("PATH", "A"),
    )
    assert load(codex_home, "") == ShellEnvironmentPolicy()


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ('inherit = "some"', "shell_environment_policy.inherit", "unknown variant `some`"),
        ("inherit = 1", "shell_environment_policy.inherit", "expected a string"),
        ('exclude = "KEY"', "shell_environment_policy.exclude", "expected a sequence"),
        ("include_only = [1]", "shell_environment_policy.include_only", "expected a string"),
        ("set = { A = 1 }", "shell_environment_policy.set.A", "expected a string"),
        ('ignore_default_excludes = "yes"', "ignore_default_excludes", "expected a boolean"),
    ],
)
def test_bad_values_are_refused(codex_home: Path, text: str, key: str, reason: str) -> None:
    """Values the reference refuses are a ConfigError naming the key and the reason."""
    with pytest.raises(ConfigError) as caught:
        load(codex_home, f"[shell_environment_policy]\n{text}\n")
    assert key in str(caught.value) and reason in str(caught.value)


def test_override_and_unknown_key(codex_home: Path) -> None:
    """`-c shell_environment_policy.inherit=none` applies; an unknown key is a warning."""
    (codex_home / "config.toml").write_text("[shell_environment_policy]\nbogus = 1\n")
    config = load_config(codex_home, ["shell_environment_policy.inherit=none"])
    assert config.shell_environment_policy.inherit is Inherit.NONE
    assert any("shell_environment_policy.bogus" in w.summary for w in config.warnings)


async def test_configured_policy_reaches_commands_on_the_wire(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    tmp_path: Path,
) -> None:
    """Through the real server, a turn's command and `command/exec` both get the environment
    the configured policy builds."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    policy = (
        "\n[shell_environment_policy]\n"
        'inherit = "core"\n'
        'set = { FROM_POLICY = "yes", DB_PASSWORD = "explicitly-set" }\n'
        'exclude = ["LANG"]\n'
    )
    (codex_home / "config.toml").write_text(
        config_toml(responses_server.uri, sandbox="danger-full-access") + policy
    )
    script = "env | sort"
    responses_server.push(
        sse(
            [
                ev_response_created("resp-1"),
                ev_function_call(
                    "call-1", "shell_command", orjson.dumps({"command": script}).decode()
                ),
                ev_completed("resp-1"),
            ]
        ),
        create_final_assistant_message_sse_response("done"),
    )
    server = await spawn_app_server(
        codex_home=codex_home,
        env={"EDITOR": "vim", "PGPASSWORD": "pg-secret", "LANG": "C.UTF-8", "SHELL": "/bin/bash"},
    )
    await server.initialize()
    await server.login_with_api_key(API_KEY)
    thread = await server.start_thread({"cwd": str(workspace)})

    turn = await start_turn(server, thread["id"], "show the environment")
    await wait_turn_completed(server, turn["id"])
    (done,) = items(server, "item/completed", "commandExecution")
    exec_reply = await server.request(
        "command/exec", {"command": ["/usr/bin/env"], "cwd": str(workspace)}
    )

    for output in (done["item"]["aggregatedOutput"], exec_reply["stdout"]):
        names = {line.split("=", 1)[0] for line in output.splitlines() if "=" in line}
        assert "FROM_POLICY=yes" in output and "DB_PASSWORD=explicitly-set" in output
        assert {"EDITOR", "PGPASSWORD", "LANG"}.isdisjoint(names), output
        assert "PATH" in names
    await server.close()
