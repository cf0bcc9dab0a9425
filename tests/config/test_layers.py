"""Config layering: which file wins, profiles, trusted projects, enums and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parley.config import ConfigError, load_config
from parley.config.edit import ConfigWriteError, Edit, apply_edits
from parley.config.layers import load_layers

USER = """
model = "user-model"
profile = "work"
approval_policy = "on-request"
model_reasoning_effort = "low"

[profiles.work]
model = "profile-model"
approval_policy = "never"
model_verbosity = "high"
"""


def project(tmp_path: Path, text: str, trusted: bool = True) -> tuple[Path, str]:
    workspace = tmp_path / "workspace"
    (workspace / ".codex").mkdir(parents=True)
    (workspace / ".codex" / "config.toml").write_text(text)
    trust = "trusted" if trusted else "untrusted"
    return workspace, f'\n[projects.{json.dumps(str(workspace))}]\ntrust_level = "{trust}"\n'


def test_profile_overrides_the_user_file(tmp_path: Path) -> None:
    """The selected profile's keys win over the top-level ones; others are kept."""
    (tmp_path / "config.toml").write_text(USER)
    config = load_config(tmp_path)
    assert config.profile == "work"
    assert config.model == "profile-model"
    assert config.approval_policy == "never"
    assert config.verbosity == "high"
    assert config.reasoning_effort == "low"


def test_precedence_profile_then_project_then_flags_then_request(tmp_path: Path) -> None:
    """defaults < config.toml < profile < trusted project < -c < request params."""
    workspace, trust = project(tmp_path, 'model = "project-model"\nmodel_verbosity = "low"\n')
    (tmp_path / "config.toml").write_text(USER + trust)

    assert load_config(tmp_path, cwd=workspace).model == "project-model"
    assert load_config(tmp_path, cwd=workspace).verbosity == "low"
    flagged = load_config(tmp_path, ['model="flag-model"'], cwd=workspace)
    assert flagged.model == "flag-model"
    requested = load_config(
        tmp_path, ['model="flag-model"'], cwd=workspace, request={"model": "request-model"}
    )
    assert requested.model == "request-model"


def test_untrusted_project_is_loaded_but_disabled(tmp_path: Path) -> None:
    """An untrusted project's config is listed with the reason and changes nothing."""
    workspace, trust = project(tmp_path, 'model = "project-model"\n', trusted=False)
    (tmp_path / "config.toml").write_text('model = "user-model"\n' + trust)
    config = load_config(tmp_path, cwd=workspace)
    assert config.model == "user-model"
    disabled = config.stack.disabled_projects()
    assert len(disabled) == 1
    assert "marked as untrusted" in (disabled[0].disabled_reason or "")


def test_unknown_project_needs_trust(tmp_path: Path) -> None:
    """A project not in [projects] is disabled with a hint to trust it."""
    workspace, _ = project(tmp_path, 'model = "project-model"\n')
    config = load_config(tmp_path, cwd=workspace)
    assert config.model != "project-model"
    assert "add" in (config.stack.disabled_projects()[0].disabled_reason or "")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('model_reasoning_effort = "extreme"', "`model_reasoning_effort`: unknown value `extreme`"),
        ('model_reasoning_summary = "long"', "`model_reasoning_summary`"),
        ('model_verbosity = "loud"', "`model_verbosity`"),
        ('service_tier = "slow"', "`service_tier`"),
        ('personality = "grumpy"', "`personality`"),
        ('forced_login_method = "sso"', "`forced_login_method`"),
        ('profile = "nope"', "config profile `nope` not found"),
        ('model_provider = "corp"', "provider `corp` is not defined"),
        ('notify = "say done"', "`notify`: expected list"),
        (
            'model_provider = "x"\n[model_providers.x]\nbase_url = "http://h/v1"\n'
            'wire_api = "chat"',
            "`model_providers.x.wire_api`",
        ),
        ('[sandbox_workspace_write]\nwritable_roots = ["rel"]', "not an absolute path"),
    ],
)
def test_bad_values_are_refused_with_file_line_and_reason(
    tmp_path: Path, text: str, needle: str
) -> None:
    """Enums, missing profiles and providers are refused naming the file, key and line."""
    path = tmp_path / "config.toml"
    path.write_text("# my settings\n" + text + "\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert needle in err.value.message
    assert str(path) in err.value.message
    assert err.value.path == path
    assert err.value.range is not None and err.value.range.line >= 2


def test_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    """A TOML syntax error carries its position."""
    (tmp_path / "config.toml").write_text('model = "ok"\nsandbox_mode = \n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert err.value.range is not None
    assert err.value.range.line == 2


def test_unhonoured_keys_are_warned_about_once_each(tmp_path: Path) -> None:
    """Keys Parley does not act on become one warning each; honoured ones none."""
    (tmp_path / "config.toml").write_text(
        'model = "m"\nhide_agent_reasoning = true\n[tui]\nnotifications = true\n'
        '[shell_environment_policy]\ninherit = "core"\n[mcp_servers.x]\ncommand = "true"\n'
    )
    summaries = [w.summary for w in load_config(tmp_path).warnings]
    assert summaries == [
        "Parley ignores `hide_agent_reasoning` in the configuration",
        "Parley ignores `tui` in the configuration",
    ]


def test_origins_follow_the_layer_that_set_each_leaf(tmp_path: Path) -> None:
    """Origins name the highest layer for each leaf, array items included."""
    (tmp_path / "config.toml").write_text(
        'model = "u"\n[sandbox_workspace_write]\nwritable_roots = ["/a", "/b"]\n'
    )
    stack = load_layers(tmp_path, overrides=['sandbox_workspace_write.writable_roots=["/c"]'])
    origins = stack.origins()
    assert origins["model"]["name"]["type"] == "user"
    assert origins["sandbox_workspace_write.writable_roots.0"]["name"] == {"type": "sessionFlags"}
    assert "sandbox_workspace_write.writable_roots.1" not in origins


def test_edits_keep_comments_and_layout(tmp_path: Path) -> None:
    """A write changes only the edited values; comments and order stay."""
    path = tmp_path / "config.toml"
    path.write_text(
        '# my model\nmodel = "old"  # keep me\n\n[tui]\n# theme\nnotifications = true\n'
    )
    apply_edits(
        tmp_path, [Edit("model", "new"), Edit("sandbox_workspace_write.network_access", True)]
    )
    text = path.read_text()
    assert text.startswith('# my model\nmodel = "new"  # keep me\n\n[tui]\n# theme\n')
    assert load_config(tmp_path).network_access is True


def test_edits_are_validated_and_versioned(tmp_path: Path) -> None:
    """An invalid result or a stale version is refused and the file is left alone."""
    path = tmp_path / "config.toml"
    path.write_text('model = "old"\n')
    with pytest.raises(ConfigWriteError) as err:
        apply_edits(tmp_path, [Edit("sandbox_mode", "sideways")])
    assert err.value.code == "configValidationError"
    with pytest.raises(ConfigWriteError) as err:
        apply_edits(tmp_path, [Edit("model", "x")], expected_version="sha256:stale")
    assert err.value.code == "configVersionConflict"
    with pytest.raises(ConfigWriteError) as err:
        apply_edits(tmp_path, [Edit("model", "x")], file_path="/etc/codex/config.toml")
    assert err.value.code == "configLayerReadonly"
    assert path.read_text() == 'model = "old"\n'
