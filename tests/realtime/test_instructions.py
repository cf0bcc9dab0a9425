"""Backend prompt resolution, instruction composition and the startup context."""

from __future__ import annotations

from pathlib import Path

from parley.realtime.instructions import (
    STARTUP_CONTEXT_HEADER,
    build_startup_context,
    compose_instructions,
    default_backend_prompt,
    directory_tree,
    format_startup_context,
    resolve_backend_prompt,
)


def _default() -> str:
    return "DEFAULT"


def test_prompt_tri_state() -> None:
    """Absent prompt means the default, null or empty means none, a string is kept."""

    def resolve(prompt: str | None, present: bool) -> str:
        return resolve_backend_prompt(
            config_override=None, prompt=prompt, prompt_present=present, default=_default
        )

    assert resolve(None, False) == "DEFAULT"
    assert resolve(None, True) == ""
    assert resolve("", True) == ""
    assert resolve("x", True) == "x"


def test_config_override_wins_unless_blank() -> None:
    """A non-blank config prompt overrides every request form; a blank one is ignored."""
    for prompt, present in ((None, False), (None, True), ("", True), ("x", True)):
        assert (
            resolve_backend_prompt(
                config_override="backend prompt",
                prompt=prompt,
                prompt_present=present,
                default=_default,
            )
            == "backend prompt"
        )
    assert (
        resolve_backend_prompt(
            config_override="  \n", prompt="x", prompt_present=True, default=_default
        )
        == "x"
    )


def test_compose() -> None:
    """Non-empty parts are joined by a blank line."""
    assert compose_instructions("backend prompt", "startup context") == (
        "backend prompt\n\nstartup context"
    )
    assert compose_instructions("", "SC") == "SC"
    assert compose_instructions("backend prompt", "") == "backend prompt"
    assert compose_instructions("", "") == ""


def test_default_prompt_names_the_user() -> None:
    """The built-in prompt addresses the user by first name and keeps no placeholder."""
    prompt = default_backend_prompt("Ada")
    assert "Ada" in prompt and "{{" not in prompt and prompt == prompt.rstrip()


def test_directory_tree(tmp_path: Path) -> None:
    """Trees list directories first, skip dot and noisy entries, and cap each level."""
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "node_modules").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "README.md").write_text("x")
    (tmp_path / "src" / "main.py").write_text("x")
    many = tmp_path / "many"
    many.mkdir()
    for i in range(25):
        (many / f"f{i:02}").write_text("")
    assert directory_tree(tmp_path) == [
        "- many/",
        *[f"  - f{i:02}" for i in range(20)],
        "  - ... 5 more entries",
        "- src/",
        "  - pkg/",
        "  - main.py",
        "- README.md",
    ]


def test_startup_context(tmp_path: Path) -> None:
    """The generated context starts with the header and covers turns and the workspace."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "app.py").write_text("")
    text = build_startup_context(
        tmp_path, [("first ask", "first answer"), ("second ask", "second answer")], home=tmp_path
    )
    assert text.startswith(STARTUP_CONTEXT_HEADER + "\n")
    assert "### Prior turn 1\nUser:\nfirst ask\n\nAssistant:\nfirst answer" in text
    assert "### Latest turn\nUser:\nsecond ask" in text
    assert f"Current working directory: {tmp_path}" in text
    assert f"Git root: {tmp_path}" in text
    assert "Working directory tree:\n- app.py" in text
    assert "## Notes" in text


def test_startup_context_budget() -> None:
    """Very long context is cut to the budget."""
    text = format_startup_context([("x" * 50_000, "y")], None, budget=500)
    assert len(text) <= 500 and text.startswith(STARTUP_CONTEXT_HEADER)
