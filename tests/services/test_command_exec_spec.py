"""`ExecSpec` and `OutputCap`: a `command/exec` request checked and resolved, no process started."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.protocol import models as m
from parley.rpc.errors import INVALID_PARAMS, INVALID_REQUEST, RpcError
from parley.services.command_exec import (
    DEFAULT_OUTPUT_BYTES_CAP,
    ExecSpec,
    OutputCap,
    exit_code_of,
)
from parley.tools.sandbox import SandboxMode


def spec(**params: Any) -> ExecSpec:
    params.setdefault("command", ["true"])
    return ExecSpec.from_params(
        m.CommandExecParams.model_validate(params),
        server_cwd=Path("/srv"),
        sandbox_mode="read-only",
        base_env={"KEEP": "1", "DROP": "2"},
    )


def error_of(**params: Any) -> RpcError:
    with pytest.raises(RpcError) as caught:
        spec(**params)
    return caught.value


def test_defaults_are_the_references() -> None:
    """No options: 10 s timeout, 1 MiB per stream, buffered, the configured sandbox."""
    s = spec()
    assert s.timeout_s == 10.0
    assert s.output_cap == DEFAULT_OUTPUT_BYTES_CAP
    assert (s.tty, s.stream_stdin, s.stream_output) == (False, False, False)
    assert s.policy.mode is SandboxMode.READ_ONLY
    assert s.cwd == Path("/srv")


def test_tty_implies_both_streams() -> None:
    """A terminal streams stdin and output even when the flags are left out."""
    s = spec(tty=True, processId="t")
    assert (s.stream_stdin, s.stream_output) == (True, True)


def test_env_overrides_merge_and_null_unsets() -> None:
    """`env` overrides per key; null removes an inherited variable."""
    assert spec(env={"DROP": None, "NEW": "x"}).env == {"KEEP": "1", "NEW": "x"}


def test_disable_flags_remove_limits() -> None:
    """`disableTimeout` and `disableOutputCap` lift the limits."""
    s = spec(disableTimeout=True, disableOutputCap=True)
    assert (s.timeout_s, s.output_cap) == (None, None)


def test_conflicts_are_invalid_params() -> None:
    """Contradicting options answer -32602 with the reference's wording."""
    error = error_of(timeoutMs=5, disableTimeout=True)
    assert error.code == INVALID_PARAMS
    assert error_of(size={"rows": 1, "cols": 1}).message == "command/exec size requires tty: true"
    zero = error_of(tty=True, processId="p", size={"rows": 0, "cols": 5})
    assert zero.message == "command/exec size rows and cols must be greater than 0"


def test_empty_command_and_streaming_without_id_are_invalid_requests() -> None:
    """An empty argv, or streaming without a processId, answers -32600."""
    assert error_of(command=[]).code == INVALID_REQUEST
    assert error_of(streamStdin=True).code == INVALID_REQUEST


def test_request_sandbox_policy_wins() -> None:
    """A request's `sandboxPolicy` replaces the configured mode."""
    assert spec(sandboxPolicy={"type": "dangerFullAccess"}).policy.confined is False
    workspace = spec(sandboxPolicy={"type": "workspaceWrite", "networkAccess": True}).policy
    assert workspace.mode is SandboxMode.WORKSPACE_WRITE
    assert workspace.network_access


def test_output_cap_cuts_and_flags_the_last_kept_chunk() -> None:
    """The cap keeps exactly `limit` bytes and says when it was reached."""
    cap = OutputCap(5)
    assert cap.take(b"abc") == (b"abc", False)
    assert cap.take(b"defg") == (b"de", True)
    assert cap.take(b"h") == (b"", True)
    assert OutputCap(None).take(b"x" * 10) == (b"x" * 10, False)


def test_signal_deaths_read_as_a_shell_reports_them() -> None:
    """SIGKILL reads as 137, as the reference's terminate example shows."""
    assert exit_code_of(-9) == 137
    assert exit_code_of(3) == 3
