"""The seccomp filter confined commands run under, compiled to BPF for bubblewrap's `--seccomp FD`.

Bubblewrap already drops every capability and maps the command into its own user namespace;
the filter is the second wall, so that a kernel or bwrap quirk does not reopen the way out. It
answers `EPERM` to the system calls a confined command has no business making:

* changing mounts or the root (`mount`, `umount2`, `pivot_root`, `chroot`, the new mount API
  `open_tree`/`move_mount`/`fsopen`/`fsconfig`/`fsmount`/`fspick`/`mount_setattr`), joining or
  creating namespaces (`setns`, and `unshare`/`clone` with `CLONE_NEWUSER`);
* reaching into other processes or the kernel (`ptrace`, `process_vm_readv/writev`, `kexec_*`,
  `bpf`, `perf_event_open`, the module calls, `keyctl`/`add_key`/`request_key`, `userfaultfd`,
  `io_uring_*`, `open_by_handle_at`, `reboot`, `swapon`/`swapoff`, `acct`, `syslog`, ...).

`clone3` passes its flags in memory a filter cannot read, so it answers `ENOSYS`, which makes
the C library fall back to `clone`, whose flags the filter does check.

With the network off it also blocks sockets as the reference does: `socket`/`socketpair` only
for `AF_UNIX` (pipes between a command's own processes keep working), and `connect`, `bind`,
`listen`, `accept`, `sendto` and the other calls that would talk to an existing socket, so a
command cannot reach a Unix-socket listener on the host (a Docker or SSH agent socket) even
though the filesystem path is visible.

The BPF is produced by libseccomp (through `pyseccomp`): it handles the architecture checks
(a system call made through another ABI, such as 32-bit `int 0x80` on x86-64, kills the
process) and the syscall numbering. This module compiles programs; it runs nothing.
"""

from __future__ import annotations

import errno
import functools
import os
import socket
from dataclasses import dataclass
from typing import Any

# Denied in every confined mode.
ESCAPE_SYSCALLS = (
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "setns",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kexec_load",
    "kexec_file_load",
    "bpf",
    "perf_event_open",
    "init_module",
    "finit_module",
    "delete_module",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "open_by_handle_at",
    "name_to_handle_at",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "syslog",
    "quotactl",
    "lookup_dcookie",
    "iopl",
    "ioperm",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
)

# Denied (whatever their arguments) when the network is off, as the reference's filter.
NETWORK_SYSCALLS = (
    "connect",
    "accept",
    "accept4",
    "bind",
    "listen",
    "getpeername",
    "getsockname",
    "shutdown",
    "sendto",
    "sendmmsg",
    "recvmmsg",
    "getsockopt",
    "setsockopt",
)

CLONE_NEWUSER = 0x10000000


class SeccompUnavailableError(RuntimeError):
    """libseccomp (or its Python binding) is missing, so no filter can be built."""


@dataclass(frozen=True)
class FilterSpec:
    """Which rule sets a confined command gets."""

    network_disabled: bool


def _library() -> Any:
    try:
        import pyseccomp  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:  # the binding raises when libseccomp.so is absent
        raise SeccompUnavailableError(
            f"libseccomp is not available ({exc}); install libseccomp2"
        ) from None
    return pyseccomp


def _known(lib: Any, name: str) -> bool:
    """The call exists on this architecture (libseccomp gives others a negative pseudo number)."""
    try:
        number = lib.resolve_syscall(lib.system_arch(), name)
    except (OSError, ValueError):
        return False
    return isinstance(number, int) and number >= 0


def _build(lib: Any, spec: FilterSpec) -> Any:
    deny = lib.ERRNO(errno.EPERM)
    program = lib.SyscallFilter(lib.ALLOW)
    for name in ESCAPE_SYSCALLS:
        if _known(lib, name):  # e.g. `umount`, `iopl` exist on x86-64 only
            program.add_rule(deny, name)
    for name in ("unshare", "clone"):
        # unshare(flags) and clone(flags, ...): flags is the first argument on every arch.
        program.add_rule(deny, name, lib.Arg(0, lib.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
    if _known(lib, "clone3"):
        program.add_rule(lib.ERRNO(errno.ENOSYS), "clone3")
    if spec.network_disabled:
        for name in NETWORK_SYSCALLS:
            if _known(lib, name):
                program.add_rule(deny, name)
        for name in ("socket", "socketpair"):
            program.add_rule(deny, name, lib.Arg(0, lib.NE, socket.AF_UNIX))
    return program


class _Fd:
    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd


def _export(program: Any, method: str) -> bytes:
    fd = os.memfd_create("parley-seccomp", os.MFD_CLOEXEC)
    try:
        getattr(program, method)(_Fd(fd))
        size = os.lseek(fd, 0, os.SEEK_END)
        return os.pread(fd, size, 0)
    finally:
        os.close(fd)


@functools.cache
def compile_filter(spec: FilterSpec) -> bytes:
    """The BPF program (an array of `struct sock_filter`) for `spec`; built once per spec."""
    return _export(_build(_library(), spec), "export_bpf")


def describe_filter(spec: FilterSpec) -> str:
    """libseccomp's human-readable form of the same filter (for tests and debugging)."""
    return _export(_build(_library(), spec), "export_pfc").decode()


def filter_fd(spec: FilterSpec) -> int:
    """A fresh, inheritable file descriptor positioned at the start of the compiled program.

    bubblewrap reads it to the end and closes its copy; the caller closes its own after the
    child has started.
    """
    program = compile_filter(spec)
    fd = os.memfd_create("parley-seccomp", 0)
    try:
        os.write(fd, program)
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return fd
