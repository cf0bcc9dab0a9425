"""Walking, ranking and the streaming session of the fuzzy file search (real directories)."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from parley.services.fuzzy_search import SearchSession, search, walk


def tree(root: Path, *files: str) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")


def paths(root: Path) -> set[str]:
    return {entry.path for entry in walk([root])}


def test_gitignore_counts_inside_a_repository(tmp_path: Path) -> None:
    """In a git repository, ignored files and directories are left out, `!` re-includes."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    tree(tmp_path, "keep.py", "debug.log", "important.log", "build/out.o", "src/a.py")
    (tmp_path / ".gitignore").write_text("*.log\n!important.log\nbuild/\n")
    (tmp_path / "src" / ".gitignore").write_text("a.py\n")
    found = paths(tmp_path)
    assert "keep.py" in found and "important.log" in found and "src" in found
    assert not {"debug.log", "build", "build/out.o", "src/a.py"} & found
    assert not any(p == ".git" or p.startswith(".git/") for p in found)
    assert ".gitignore" in found  # hidden files are listed


def test_gitignore_is_ignored_outside_a_repository(tmp_path: Path) -> None:
    """Without a repository, .gitignore has no effect (as in the reference)."""
    tree(tmp_path, "debug.log")
    (tmp_path / ".gitignore").write_text("*.log\n")
    assert "debug.log" in paths(tmp_path)


def test_symlink_loops_are_walked_once(tmp_path: Path) -> None:
    """A symlink to an ancestor does not make the walk loop."""
    tree(tmp_path, "a/file.txt")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    found = paths(tmp_path)
    assert "a/file.txt" in found and "a/loop" in found
    assert not any(p.startswith("a/loop/") for p in found)


def test_results_are_best_first_then_by_path(tmp_path: Path) -> None:
    """Equal scores are ordered by path; the limit keeps the best 50."""
    tree(tmp_path, *(f"dir/alpha{i:03}.txt" for i in range(80)))
    files = search("alpha", [str(tmp_path)])
    assert len(files) == 50
    assert [f["path"] for f in files] == sorted(f["path"] for f in files)
    assert files[0]["file_name"] == "alpha000.txt"


def test_a_cancelled_search_stops_early(tmp_path: Path) -> None:
    """A search whose cancellation is already set returns without walking everything."""
    tree(tmp_path, *(f"d{i}/f{j}.txt" for i in range(20) for j in range(5)))
    cancelled = threading.Event()
    cancelled.set()
    assert search("f", [str(tmp_path)], cancelled) == []


def test_session_reports_each_query_and_completes(tmp_path: Path) -> None:
    """Every query gets an update and a completion; the last query's results are right."""
    tree(tmp_path, "alpha.txt", "beta.txt")
    reports: list[tuple[str, object]] = []
    done = threading.Event()

    def updated(query: str, files: list[dict[str, object]]) -> None:
        reports.append(("updated", (query, [f["path"] for f in files])))

    def completed(query: str) -> None:
        reports.append(("completed", query))
        if query == "bet":
            done.set()

    session = SearchSession([str(tmp_path)], updated, completed)
    try:
        session.update_query("alp")
        session.update_query("bet")
        assert done.wait(10)
    finally:
        session.stop()
    assert ("updated", ("bet", ["beta.txt"])) in reports
    assert reports[-1] == ("completed", "bet")
