"""The seccomp filter on its own: what it names, and that it blocks escapes by itself."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from parley.tools.seccomp import (
    ESCAPE_SYSCALLS,
    NETWORK_SYSCALLS,
    FilterSpec,
    compile_filter,
    describe_filter,
    filter_fd,
)

BWRAP = shutil.which("bwrap")


def test_program_is_a_whole_number_of_bpf_instructions() -> None:
    """Each `struct sock_filter` is 8 bytes; the program is cached per spec and differs by spec."""
    offline = compile_filter(FilterSpec(network_disabled=True))
    online = compile_filter(FilterSpec(network_disabled=False))
    assert len(offline) % 8 == 0 and len(online) % 8 == 0
    assert len(offline) > len(online) > 0
    assert compile_filter(FilterSpec(network_disabled=True)) is offline


def test_escape_calls_are_denied_in_every_mode() -> None:
    """mount, ptrace, bpf, keyctl... answer EPERM; clone3 answers ENOSYS so clone is used."""
    for spec in (FilterSpec(True), FilterSpec(False)):
        text = describe_filter(spec)
        for name in ("mount", "umount2", "pivot_root", "ptrace", "kexec_load", "bpf", "keyctl"):
            assert f'syscall "{name}"' in text, name
        assert 'syscall "clone3"' in text and "ERRNO(38)" in text
        assert 'syscall "unshare"' in text  # only with CLONE_NEWUSER (checked below)
    assert "ptrace" in ESCAPE_SYSCALLS


def test_socket_calls_are_denied_only_with_the_network_off() -> None:
    """connect/bind/sendto... are in the offline filter only."""
    offline = describe_filter(FilterSpec(True))
    online = describe_filter(FilterSpec(False))
    for name in NETWORK_SYSCALLS:
        assert f'syscall "{name}"' in offline, name
        assert f'syscall "{name}"' not in online, name


def test_filter_fd_reads_back_the_program() -> None:
    """The descriptor handed to bubblewrap holds exactly the compiled program, from offset 0."""
    fd = filter_fd(FilterSpec(True))
    try:
        assert os.lseek(fd, 0, os.SEEK_CUR) == 0
        assert os.read(fd, 1 << 20) == compile_filter(FilterSpec(True))
    finally:
        os.close(fd)


def _run_under_filter_only(script: str, network_disabled: bool) -> subprocess.CompletedProcess[str]:
    """bwrap with the filter but without a user namespace or dropped capabilities."""
    assert BWRAP is not None
    fd = filter_fd(FilterSpec(network_disabled))
    try:
        return subprocess.run(
            [
                BWRAP,
                "--bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--seccomp",
                str(fd),
                "--",
                "/bin/bash",
                "-c",
                script,
            ],
            capture_output=True,
            text=True,
            pass_fds=(fd,),
            timeout=30,
            check=False,
        )
    finally:
        os.close(fd)


@pytest.mark.skipif(os.geteuid() != 0 or BWRAP is None, reason="needs root and bubblewrap")
def test_filter_alone_stops_root_from_mounting(tmp_path: Path) -> None:
    """Even with every capability, a filtered root cannot mount, unshare a user ns or ptrace."""
    script = (
        f"mount -t tmpfs none {tmp_path}; echo mount=$?; "
        "unshare --user true; echo userns=$?; "
        "unshare --mount --propagation unchanged true; echo mountns=$?"
    )
    done = _run_under_filter_only(script, network_disabled=False)
    out = done.stdout + done.stderr
    assert "mount=0" not in out and "userns=0" not in out, out
    assert "mountns=0" in out, out  # unshare without CLONE_NEWUSER is not what is filtered
    assert not os.path.ismount(tmp_path)


@pytest.mark.skipif(BWRAP is None, reason="needs bubblewrap")
def test_filter_allows_unix_socketpairs_but_no_connections(tmp_path: Path) -> None:
    """Offline: AF_UNIX socketpair (a command's own pipes) works; connect and AF_INET do not."""
    if os.geteuid() != 0:
        pytest.skip("bwrap without --unshare-user needs root")
    probe = (
        "import socket\n"
        "import os\n"
        "a, b = socket.socketpair(); os.write(a.fileno(), b'x')\n"
        "print('pair', os.read(b.fileno(), 1))\n"
        "for fam in (socket.AF_UNIX, socket.AF_INET):\n"
        "    try:\n"
        "        s = socket.socket(fam); s.connect('/nonexistent' if fam == socket.AF_UNIX"
        " else ('127.0.0.1', 9)); print('connected')\n"
        "    except OSError as e:\n"
        "        print('denied', fam, e.errno)\n"
    )
    done = _run_under_filter_only(f'python3 -c "{probe}"', network_disabled=True)
    assert "pair b'x'" in done.stdout, done.stdout + done.stderr
    assert "denied 1 1" in done.stdout and "denied 2 1" in done.stdout, done.stdout
