"""Issue 8, sandbox: what an attacker tried from inside `read-only` and `workspace-write`.

Each test runs the command through Parley's real sandbox path (`run_command` with the policy a
turn gets) both as root, as on CI runners and containers, and as the unprivileged `nobody`.
Before the fix, as root, a command could remount `/` read-write, rewrite `config.toml` and
`auth.json` in a CODEX_HOME under a writable root, read `auth.json`, reach a host Unix socket
and see `PGPASSWORD`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.confined import USERS, Confined, SandboxUnavailableForUser, Scratch, run_confined

MODES = ("read-only", "workspace-write")
# An interpreter every user can run (the venv's may live under root's private home).
PROBE_PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable


@pytest.fixture(params=USERS)
def user(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "root" and os.geteuid() != 0:
        pytest.skip("the root case needs the tests to run as root")
    return name


@pytest.fixture
def scratch(user: str) -> Iterator[Scratch]:
    tree = Scratch(user)
    try:
        yield tree
    finally:
        tree.remove()


def confined(user: str, mode: str, cwd: Path, script: str, **kwargs: object) -> Confined:
    try:
        return run_confined(user, mode, cwd, script, **kwargs)  # type: ignore[arg-type]
    except SandboxUnavailableForUser as exc:
        # Only when bubblewrap cannot create namespaces for this user on this kernel at all.
        pytest.skip(f"bubblewrap cannot confine commands for {user} here: {exc}")


@pytest.mark.parametrize("mode", MODES)
def test_root_cannot_remount_or_mount(user: str, scratch: Scratch, mode: str) -> None:
    """`mount -o remount,rw /` and new mounts fail, and nothing outside is written."""
    ws = scratch.mkdir("ws")
    home = scratch.mkdir("codex-home")
    target = Path("/var/tmp") / f"parley-escape-{uuid.uuid4().hex}"
    script = (
        f"mount -o remount,rw / && touch {target}; echo remount=$?; "
        "mount -t tmpfs none /mnt; echo tmpfs=$?; "
        "unshare --user --map-root-user true; echo userns=$?; "
        "grep CapEff /proc/self/status"
    )

    result = confined(user, mode, ws, script, codex_home=home)

    assert not target.exists()
    assert "remount=0" not in result.output and "tmpfs=0" not in result.output
    assert "userns=0" not in result.output, result.output
    assert "CapEff:\t0000000000000000" in result.output, result.output


@pytest.mark.parametrize("mode", MODES)
def test_codex_home_dot_codex_and_git_stay_read_only(
    user: str, scratch: Scratch, mode: str
) -> None:
    """Config, credentials and repository metadata under writable roots cannot be rewritten."""
    ws = scratch.mkdir("ws")
    for name in (".git", ".codex", ".agents"):
        scratch.write(f"ws/{name}/config", "original\n")
    inner_home = scratch.mkdir("ws/codex-home")  # CODEX_HOME inside the workspace
    scratch.write("ws/codex-home/config.toml", 'sandbox_mode = "read-only"\n')
    script = (
        "for f in .git/config .codex/config .agents/config codex-home/config.toml; do "
        'echo evil > "$f" && echo "wrote $f"; done; '
        "touch .git/hooks-new codex-home/new.toml 2>/dev/null && echo created; "
        "echo fine > work.txt && echo wrote-work"
    )

    result = confined(user, mode, ws, script, codex_home=inner_home)

    assert "wrote ." not in result.output and "wrote codex-home" not in result.output
    assert "created" not in result.output
    for name in (".git", ".codex", ".agents"):
        assert (ws / name / "config").read_text() == "original\n"
    assert (inner_home / "config.toml").read_text() == 'sandbox_mode = "read-only"\n'
    if mode == "workspace-write":
        assert "wrote-work" in result.output, result.output  # the workspace itself stays usable


def test_codex_home_under_tmp_stays_read_only(user: str, scratch: Scratch) -> None:
    """A CODEX_HOME under /tmp (writable in workspace-write) cannot be rewritten either."""
    ws = scratch.mkdir("ws")
    home = scratch.mkdir("codex-home")
    scratch.write("codex-home/config.toml", 'sandbox_mode = "read-only"\n')
    script = (
        f"echo 'sandbox_mode = \"danger-full-access\"' > {home}/config.toml; echo config=$?; "
        f"echo '{{}}' > {home}/auth.json; echo auth=$?; "
        f"echo tmp > /tmp/{ws.parent.name}-{ws.name}-ok; echo tmp=$?"
    )

    result = confined(user, "workspace-write", ws, script, codex_home=home)

    assert "config=0" not in result.output and "auth=0" not in result.output
    assert (home / "config.toml").read_text() == 'sandbox_mode = "read-only"\n'
    assert not (home / "auth.json").exists()
    assert "tmp=0" in result.output  # /tmp itself stays writable
    Path(f"/tmp/{ws.parent.name}-{ws.name}-ok").unlink(missing_ok=True)


@pytest.mark.parametrize("mode", MODES)
def test_auth_json_and_secret_variables_do_not_reach_commands(
    user: str, scratch: Scratch, mode: str
) -> None:
    """`auth.json` reads as nothing, and credentials in the environment are filtered out."""
    ws = scratch.mkdir("ws")
    home = scratch.mkdir("codex-home")
    auth = scratch.write("codex-home/auth.json", '{"OPENAI_API_KEY": "sk-in-auth-json"}')
    auth.chmod(0o644)
    secrets = {
        "PGPASSWORD": "pg-secret",
        "OPENAI_API_KEY": "sk-env-secret",
        "GITHUB_TOKEN": "ghp-secret",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "CODEX_HOME": str(home),
        "PARLEY_HARMLESS": "visible",
    }
    script = f"cat {auth}; env"

    result = confined(user, mode, ws, script, codex_home=home, env=secrets)

    assert "sk-in-auth-json" not in result.output
    for name in ("PGPASSWORD", "OPENAI_API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY"):
        assert f"{name}=" not in result.output and secrets[name] not in result.output
    assert "CODEX_HOME=" not in result.output
    assert "PARLEY_HARMLESS=visible" in result.output


@pytest.mark.parametrize("mode", MODES)
def test_unix_socket_to_a_host_listener_is_refused(user: str, scratch: Scratch, mode: str) -> None:
    """With the network off, connecting to a host Unix socket fails with EPERM."""
    ws = scratch.mkdir("ws")
    home = scratch.mkdir("codex-home")
    path = scratch.path / "host.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    path.chmod(0o777)
    listener.listen(4)
    listener.setblocking(False)
    probe = (
        "import socket\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "try:\n"
        f"    s.connect({str(path)!r}); print('connected')\n"
        "except OSError as e:\n"
        "    print('refused', e.errno)\n"
    )
    try:
        result = confined(
            user, mode, ws, f"{_sh_quote(PROBE_PYTHON)} -c {_sh_quote(probe)}", codex_home=home
        )
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()

    assert "connected" not in result.output, result.output
    assert "refused 1" in result.output, result.output  # EPERM, as the reference


def test_network_on_still_reaches_a_tcp_listener(user: str, scratch: Scratch) -> None:
    """The filter does not break the network when the thread allows it."""
    ws = scratch.mkdir("ws")
    home = scratch.mkdir("codex-home")

    async def serve() -> Confined:
        accepted = asyncio.Event()

        def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.set()
            writer.close()

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            return await asyncio.to_thread(
                confined,
                user,
                "workspace-write",
                ws,
                f"echo hi > /dev/tcp/127.0.0.1/{port} && echo sent",
                codex_home=home,
                network=True,
            )
        finally:
            server.close()

    result = asyncio.run(serve())
    assert "sent" in result.output, result.output


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def test_workspace_inside_codex_home_stays_writable(user: str, scratch: Scratch) -> None:
    """A workspace under CODEX_HOME is writable, while CODEX_HOME's own files are not."""
    home = scratch.mkdir("codex-home")
    scratch.write("codex-home/config.toml", "model = 'x'\n")
    ws = scratch.mkdir("codex-home/projects/ws")
    script = "echo ok > mine.txt && echo wrote; echo evil > ../../config.toml; echo config=$?"

    result = confined(user, "workspace-write", ws, script, codex_home=home)

    assert "wrote" in result.output and (ws / "mine.txt").read_text() == "ok\n"
    assert "config=0" not in result.output
    assert (home / "config.toml").read_text() == "model = 'x'\n"


def test_git_worktree_pointer_and_its_git_dir_stay_read_only(user: str, scratch: Scratch) -> None:
    """A `.git` file (worktree) and the git directory it points to cannot be rewritten."""
    gitdir = scratch.mkdir("ws/.repo-git")  # inside the writable workspace
    scratch.write("ws/.repo-git/HEAD", "ref: refs/heads/main\n")
    ws = scratch.path / "ws"
    scratch.write("ws/.git", f"gitdir: {gitdir}\n")
    home = scratch.mkdir("codex-home")
    script = "echo evil > .git; echo pointer=$?; echo evil > .repo-git/HEAD; echo head=$?"

    result = confined(user, "workspace-write", ws, script, codex_home=home)

    assert "pointer=0" not in result.output and "head=0" not in result.output, result.output
    assert (ws / ".git").read_text() == f"gitdir: {gitdir}\n"
    assert (gitdir / "HEAD").read_text() == "ref: refs/heads/main\n"


def test_a_missing_dot_codex_cannot_be_created(user: str, scratch: Scratch) -> None:
    """A workspace without `.codex` cannot get one (a project config could widen a later
    session), and nothing is left behind in the workspace afterwards."""
    ws = scratch.mkdir("ws")
    home = scratch.mkdir("codex-home")
    script = (
        "mkdir -p .codex; printf 'sandbox_mode = \"danger-full-access\"' > .codex/config.toml;"
        " echo config=$?; echo fine > other.txt && echo wrote-other"
    )

    result = confined(user, "workspace-write", ws, script, codex_home=home)

    assert "config=0" not in result.output and "wrote-other" in result.output, result.output
    assert not (ws / ".codex").exists()
