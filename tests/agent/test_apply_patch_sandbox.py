"""apply_patch obeys the sandbox: writes outside the writable roots are refused unless approved.

Runs the real app-server against the mock Responses server with approval policy `never`, so a
patch that needs the user's approval is refused outright.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer, create_final_assistant_message_sse_response
from support.sse import create_apply_patch_sse_response

from parley.agent.approval import ApprovalPolicy
from parley.agent.tools.apply_patch import decide_patch, writable
from parley.agent.tools.confined_files import ConfinedFiles, _parent_fd
from parley.tools.sandbox import SandboxMode, SandboxPolicy


def write_config(codex_home: Path, uri: str, sandbox: str) -> None:
    codex_home.mkdir(exist_ok=True)
    (codex_home / "config.toml").write_text(
        f'model = "mock-model"\napproval_policy = "never"\nsandbox_mode = "{sandbox}"\n'
        'model_provider = "mock"\n\n[model_providers.mock]\nname = "mock"\n'
        f'base_url = "{uri}/v1"\nwire_api = "responses"\nrequest_max_retries = 0\n'
        "stream_max_retries = 0\n"
    )


async def run_patch(
    codex_home: Path,
    workspace: Path,
    target: Path,
    sandbox: str,
    server: MockResponsesServer,
    spawn: SpawnAppServer,
) -> tuple[dict[str, object], str]:
    """Runs one turn that adds `target`; returns the fileChange item and the model's output."""
    patch = f"*** Begin Patch\n*** Add File: {target}\n+hello\n*** End Patch"
    return await run_patch_text(codex_home, workspace, patch, sandbox, server, spawn)


async def run_patch_text(
    codex_home: Path,
    workspace: Path,
    patch: str,
    sandbox: str,
    server: MockResponsesServer,
    spawn: SpawnAppServer,
) -> tuple[dict[str, object], str]:
    """Runs one turn applying `patch`; returns the fileChange item and the model's output."""
    server.push(
        create_apply_patch_sse_response(patch, "call-1"),
        create_final_assistant_message_sse_response("done"),
    )
    write_config(codex_home, server.uri, sandbox)
    app = await spawn(codex_home=codex_home)
    await app.initialize()
    thread = await app.start_thread({"cwd": str(workspace)})
    await app.request(
        "turn/start",
        {
            "threadId": thread["id"],
            "input": [{"type": "text", "text": "write", "text_elements": []}],
        },
    )
    while True:
        item = (await app.read_notification("item/completed"))["item"]
        if item["type"] == "fileChange":
            break
    await app.read_notification("turn/completed")
    body = server.responses_requests()[1]
    output = next(i["output"] for i in body["input"] if i.get("type") == "function_call_output")
    return item, output


async def test_read_only_refuses_a_patch_in_the_workspace(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """In read-only, even the workspace is outside the writable roots: refused, not written."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    target = workspace / "README.md"
    item, output = await run_patch(
        tmp_path / "home", workspace, target, "read-only", responses_server, spawn_app_server
    )
    assert item["status"] == "declined"
    assert "refused" in output
    assert not target.exists()


async def test_workspace_write_applies_inside_and_refuses_outside(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """In workspace-write, a file outside the workspace and temp dirs is refused."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    outside = Path("/var/tmp") / f"parley-outside-{uuid.uuid4().hex}" / "x.txt"
    try:
        item, output = await run_patch(
            tmp_path / "home",
            workspace,
            outside,
            "workspace-write",
            responses_server,
            spawn_app_server,
        )
        assert item["status"] == "declined"
        assert "refused" in output
        assert not outside.exists()
    finally:
        if outside.exists():
            outside.unlink()
            outside.parent.rmdir()


async def test_workspace_write_applies_a_patch_inside_the_workspace(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """In workspace-write with `never`, a patch inside the workspace goes ahead unasked."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    target = workspace / "notes" / "a.md"
    item, output = await run_patch(
        tmp_path / "home", workspace, target, "workspace-write", responses_server, spawn_app_server
    )
    assert item["status"] == "completed"
    assert target.read_text() == "hello\n"
    assert "notes/a.md" in output


def test_writable_respects_roots_protected_dirs_and_symlinks(tmp_path: Path) -> None:
    """Only paths under a writable root count, never its `.git`, nor a symlink leading out."""
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    (root / "link").symlink_to(elsewhere)
    policy = SandboxPolicy(SandboxMode.WORKSPACE_WRITE, (root,))
    assert writable(policy, root / "a" / "b.txt")
    assert not writable(policy, root / ".git" / "config")
    assert not writable(policy, root / "link" / "x.txt")
    assert not writable(policy, elsewhere / "x.txt")
    assert not writable(SandboxPolicy(SandboxMode.READ_ONLY), root / "a.txt")
    assert writable(SandboxPolicy(SandboxMode.DANGER_FULL_ACCESS), elsewhere / "x.txt")


def test_patch_decisions_per_policy() -> None:
    """untrusted asks; inside the roots goes ahead; outside asks, or is refused under never."""
    ask = decide_patch(
        ApprovalPolicy.UNTRUSTED, within_writable_roots=True, approved_for_session=False
    )
    assert ask.ask
    inside = decide_patch(
        ApprovalPolicy.NEVER, within_writable_roots=True, approved_for_session=False
    )
    assert not inside.ask and inside.refusal is None
    outside = decide_patch(
        ApprovalPolicy.NEVER, within_writable_roots=False, approved_for_session=False
    )
    assert outside.refusal is not None
    request = decide_patch(
        ApprovalPolicy.ON_REQUEST, within_writable_roots=False, approved_for_session=False
    )
    assert request.ask
    granted = decide_patch(
        ApprovalPolicy.UNTRUSTED, within_writable_roots=False, approved_for_session=True
    )
    assert not granted.ask and granted.refusal is None


# ---- as an attacker would try it ----------------------------------------------------------


@pytest.fixture
def outside() -> Iterator[Path]:
    """A folder outside every writable root (not under /tmp, which workspace-write allows),
    holding `secret.txt`."""
    folder = Path("/var/tmp") / f"parley-escape-{uuid.uuid4().hex}"
    folder.mkdir()
    (folder / "secret.txt").write_text("keep me\n")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def escape_patches(workspace: Path, outside: Path) -> dict[str, str]:
    """Patches that each try to write outside the workspace in a different way."""
    (workspace / "to-outside").symlink_to(outside, target_is_directory=True)
    (workspace / "secret-link").symlink_to(outside / "secret.txt")
    (workspace / "dangling").symlink_to(outside / "new.txt")
    (workspace / "inside.txt").write_text("inside\n")
    dotdot = os.path.relpath(outside, workspace)
    return {
        "add through a symlinked folder": "*** Add File: to-outside/pwned.txt\n+x",
        "update through a symlinked file": "*** Update File: secret-link\n@@\n-keep me\n+owned",
        "add through a dangling symlink": "*** Add File: dangling\n+x",
        "add with ..": f"*** Add File: {dotdot}/pwned.txt\n+x",
        "add with an absolute path": f"*** Add File: {outside}/pwned.txt\n+x",
        "move out with ..": f"*** Update File: inside.txt\n*** Move to: {dotdot}/moved.txt\n"
        "@@\n-inside\n+moved",
        "delete through a symlinked folder": "*** Delete File: to-outside/secret.txt",
        "add inside .git": "*** Add File: .git/hooks/post-checkout\n+x",
    }


@pytest.mark.parametrize("sandbox", ["read-only", "workspace-write"])
async def test_no_patch_escapes_the_writable_roots(
    sandbox: str,
    outside: Path,
    tmp_path: Path,
    responses_server: MockResponsesServer,
    spawn_app_server: SpawnAppServer,
) -> None:
    """Symlinks (to a folder, a file, a missing file), `..`, absolute paths, a move out and a
    `.git` write: every one is refused, nothing outside changes, the workspace file stays."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    patches = escape_patches(workspace, outside)
    write_config(tmp_path / "home", responses_server.uri, sandbox)
    app = await spawn_app_server(codex_home=tmp_path / "home")
    await app.initialize()
    thread = await app.start_thread({"cwd": str(workspace)})
    for number, (attempt, body) in enumerate(patches.items()):
        call_id = f"call-{number}"
        responses_server.push(
            create_apply_patch_sse_response(f"*** Begin Patch\n{body}\n*** End Patch", call_id),
            create_final_assistant_message_sse_response("done"),
        )
        await app.request(
            "turn/start",
            {
                "threadId": thread["id"],
                "input": [{"type": "text", "text": attempt, "text_elements": []}],
            },
        )
        completed = await app.read_notification("turn/completed")
        assert completed["turn"]["status"] == "completed", attempt
        follow_up = responses_server.responses_requests()[-1]
        output = next(
            i["output"] for i in follow_up["input"] if i.get("call_id") == call_id and "output" in i
        )
        items = [
            m["params"]["item"]
            for m in app.received_messages()
            if m.get("method") == "item/completed"
            and m["params"]["item"].get("id") == call_id
            and m["params"]["item"]["type"] == "fileChange"
        ]
        assert [item["status"] for item in items] == ["declined"], (attempt, items, output)
        assert "refused" in output, (attempt, output)
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]  # noqa: ASYNC240
    assert (outside / "secret.txt").read_text() == "keep me\n"
    assert (workspace / "inside.txt").read_text() == "inside\n"
    assert not (workspace / ".git").exists()


def test_a_symlink_swapped_in_after_the_check_fails_the_write(tmp_path: Path) -> None:
    """The write walks the folders without following symlinks: a folder replaced by a link
    between the check and the write makes the write fail instead of leaving the root."""
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    files = ConfinedFiles((root,), frozenset({".git"}))
    files.write_text(root / "sub" / "a.txt", "ok")
    assert (root / "sub" / "a.txt").read_text() == "ok"
    # What the check saw (`root/sub` a folder) is gone by the time of the write.
    (root / "sub" / "a.txt").unlink()
    (root / "sub").rmdir()
    (root / "sub").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OSError), _parent_fd(root, ("sub",), create=True):
        pass
    with pytest.raises(OSError):
        files.write_text(root / "sub" / "b.txt", "no")  # resolves outside now: refused too
    with pytest.raises(OSError):
        files.write_text(root / ".git" / "config", "no")
    files.unlink(root / "sub")  # removing the link itself is fine: it is in the root
    assert list(elsewhere.iterdir()) == []
    assert not (root / "sub").exists()
