"""The patch format: parsing, matching, diffs and writing (values in, values out; tmp files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.agent.patch_grammar import (
    AddFile,
    DeleteFile,
    PatchError,
    UpdateFile,
    parse_patch,
    plan_changes,
    summary,
    write_changes,
)
from parley.agent.tools.apply_patch import shell_invocation


def apply(patch: str, cwd: Path) -> None:
    report = write_changes(plan_changes(parse_patch(patch), cwd))
    assert report.error is None


def test_parses_add_delete_update_with_move() -> None:
    """Every kind of section is read, with the move target and the change lines."""
    hunks = parse_patch(
        "*** Begin Patch\n*** Add File: a.txt\n+one\n+two\n*** Delete File: b.txt\n"
        "*** Update File: c.txt\n*** Move to: d.txt\n@@ def f():\n x\n-y\n+z\n*** End Patch"
    )
    assert hunks[0] == AddFile("a.txt", "one\ntwo\n")
    assert hunks[1] == DeleteFile("b.txt")
    update = hunks[2]
    assert isinstance(update, UpdateFile) and update.move_to == "d.txt"
    assert update.chunks[0].anchor == "def f():"
    assert update.chunks[0].old == ("x", "y") and update.chunks[0].new == ("x", "z")


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ("*** Add File: a\n+x\n*** End Patch", "must start"),
        ("*** Begin Patch\n*** Add File: a\n+x", "must end"),
        ("*** Begin Patch\n*** End Patch", "no files"),
        ("*** Begin Patch\n*** Frobnicate: a\n*** End Patch", "not a file header"),
        ("*** Begin Patch\n*** Update File: a\n*** End Patch", "has no changes"),
    ],
)
def test_malformed_patches_are_refused_with_a_reason(patch: str, message: str) -> None:
    """A malformed patch raises PatchError saying what is wrong."""
    with pytest.raises(PatchError, match=message):
        parse_patch(patch)


def test_heredoc_wrapped_patch_is_accepted() -> None:
    """A patch still wrapped in its shell heredoc markers parses as the patch inside."""
    hunks = parse_patch("<<'EOF'\n*** Begin Patch\n*** Delete File: x\n*** End Patch\nEOF")
    assert hunks == [DeleteFile("x")]


def test_update_with_several_sections_and_loose_whitespace(tmp_path: Path) -> None:
    """Sections apply in order; context matches despite trailing spaces and typographic quotes."""
    (tmp_path / "f.txt").write_text("a\nb  \nc\nd\n\u201cq\u201d\nf\n")
    apply(
        '*** Begin Patch\n*** Update File: f.txt\n@@\n a\n-b\n+B\n@@\n-"q"\n+Q\n*** End Patch',
        tmp_path,
    )
    assert (tmp_path / "f.txt").read_text() == "a\nB\nc\nd\nQ\nf\n"


def test_anchor_and_end_of_file(tmp_path: Path) -> None:
    """`@@ LINE` finds the place; `*** End of File` matches the file's last lines."""
    (tmp_path / "f.py").write_text("def a():\n    x = 1\ndef b():\n    x = 1\n")
    apply(
        "*** Begin Patch\n*** Update File: f.py\n@@ def b():\n-    x = 1\n+    x = 2\n"
        "*** End of File\n*** End Patch",
        tmp_path,
    )
    assert (tmp_path / "f.py").read_text() == "def a():\n    x = 1\ndef b():\n    x = 2\n"


def test_pure_addition_goes_at_the_end_and_newline_is_added(tmp_path: Path) -> None:
    """A section with only `+` lines appends; the result always ends with a newline."""
    (tmp_path / "f.txt").write_text("one")
    apply("*** Begin Patch\n*** Update File: f.txt\n@@\n+two\n*** End Patch", tmp_path)
    assert (tmp_path / "f.txt").read_text() == "one\ntwo\n"


def test_missing_context_is_reported_and_nothing_written(tmp_path: Path) -> None:
    """Lines that are not in the file make the plan fail before anything is written."""
    (tmp_path / "f.txt").write_text("one\n")
    with pytest.raises(PatchError, match=r"cannot find these lines in f\.txt"):
        plan_changes(
            parse_patch("*** Begin Patch\n*** Update File: f.txt\n-two\n+three\n*** End Patch"),
            tmp_path,
        )
    assert (tmp_path / "f.txt").read_text() == "one\n"


def test_move_add_delete_and_diffs(tmp_path: Path) -> None:
    """A move writes the new path and removes the old; diffs are unified, adds show content."""
    (tmp_path / "old.txt").write_text("x\ny\n")
    (tmp_path / "gone.txt").write_text("bye\n")
    changes = plan_changes(
        parse_patch(
            "*** Begin Patch\n*** Update File: old.txt\n*** Move to: sub/new.txt\n@@\n x\n-y\n+z\n"
            "*** Delete File: gone.txt\n*** Add File: add.txt\n+hi\n*** End Patch"
        ),
        tmp_path,
    )
    assert changes[0].diff == "@@ -1,2 +1,2 @@\n x\n-y\n+z\n"
    assert changes[0].wire()["kind"] == {
        "type": "update",
        "move_path": str(tmp_path / "sub/new.txt"),
    }
    assert changes[1].wire() == {
        "path": str(tmp_path / "gone.txt"),
        "kind": {"type": "delete"},
        "diff": "bye\n",
    }
    report = write_changes(changes)
    assert report.error is None
    assert not (tmp_path / "old.txt").exists() and not (tmp_path / "gone.txt").exists()
    assert (tmp_path / "sub/new.txt").read_text() == "x\nz\n"
    assert (tmp_path / "add.txt").read_text() == "hi\n"
    assert summary(report.done, tmp_path) == "M sub/new.txt\nD gone.txt\nA add.txt\n"


def test_shell_heredoc_form_is_recognised() -> None:
    """`apply_patch <<'EOF'` scripts (optionally after `cd DIR &&`) are patches; others are not."""
    found = shell_invocation("cd src && apply_patch <<'EOF'\n*** Begin Patch\n*** End Patch\nEOF\n")
    assert found is not None and found.workdir == "src"
    assert found.patch == "*** Begin Patch\n*** End Patch"
    assert shell_invocation("echo apply_patch") is None
