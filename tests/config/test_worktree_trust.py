"""Project trust in a linked Git worktree is the main checkout's, as the reference resolves it
(`.git` is a file whose `gitdir:` points into `<main>/.git/worktrees/<name>`)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from parley.config import load_config
from parley.config.layers import trust_root

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git executable")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def main_and_worktree(tmp_path: Path) -> tuple[Path, Path]:
    main = tmp_path / "main"
    main.mkdir()
    git(main, "init", "-q")
    (main / "README").write_text("hi\n")
    git(main, "add", "README")
    git(main, "commit", "-q", "-m", "first")
    worktree = tmp_path / "linked"
    git(main, "worktree", "add", "-q", str(worktree))
    return main.resolve(), worktree.resolve()


def test_a_linked_worktree_resolves_to_the_main_checkout(tmp_path: Path) -> None:
    main, worktree = main_and_worktree(tmp_path)
    (worktree / "src").mkdir()
    assert trust_root(worktree) == main
    assert trust_root(worktree / "src") == main
    assert trust_root(main / ".") == main


def test_a_worktree_of_a_trusted_repository_loads_its_project_config(tmp_path: Path) -> None:
    main, worktree = main_and_worktree(tmp_path)
    (worktree / ".codex").mkdir()
    (worktree / ".codex" / "config.toml").write_text('model = "project-model"\n')
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'model = "user-model"\n[projects.{json.dumps(str(main))}]\ntrust_level = "trusted"\n'
    )
    assert load_config(home, cwd=worktree).model == "project-model"


def test_a_gitdir_file_outside_worktrees_is_its_own_project(tmp_path: Path) -> None:
    checkout = tmp_path / "submodule"
    checkout.mkdir()
    (tmp_path / "modules" / "sub").mkdir(parents=True)
    (checkout / ".git").write_text("gitdir: ../modules/sub\n")
    assert trust_root(checkout) == checkout
