"""`parley voice --input-wav` as a new user runs it: a typed line as well as the file, output
to a pipe. It must end by itself, print each transcript as it ends, name delegated work by what
it does, and never wrap lines."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from parley.simulator import synthesize_speech, write_wav

# A simulator, an app-server and the client share a loaded machine; waits are for output.
pytestmark = pytest.mark.timeout(180)


def test_a_typed_line_with_input_wav_is_answered_and_the_client_exits(tmp_path: Path) -> None:
    """Spoken file plus a typed line: both are answered, then the client exits on its own."""
    spoken = tmp_path / "request.wav"
    write_wav(spoken, synthesize_speech("where am I"), 24_000)
    env = dict(os.environ, CODEX_HOME=str(tmp_path / "codex-home"))
    env.pop("OPENAI_API_KEY", None)
    env.pop("COLUMNS", None)  # not a terminal: rich would default to 80 columns
    command = [
        sys.executable, "-m", "parley", "voice", "--simulate",
        "--input-wav", str(spoken), "--output-wav", str(tmp_path / "answer.wav"),
    ]  # fmt: skip
    done = subprocess.run(
        command,
        env=env,
        cwd=tmp_path,
        input="run: echo typed-line-check\n",
        capture_output=True,
        text=True,
        timeout=90,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    lines = out.splitlines()
    # The typed request was delegated and run, and its answer was given to the voice (which
    # may be cut short when the WAV's speech barges in: how far it got depends on timing).
    assert any("says: I ran `echo typed-line-check`" in line for line in lines), out
    assert any("assistant  “I ran `pwd`" in line for line in lines), out
    stopped = next(i for i, line in enumerate(lines) if "stopped; thread" in line)
    answers = [i for i, line in enumerate(lines) if "assistant  “I ran" in line]
    assert max(answers) < stopped, "transcripts must be printed as they end, not at exit"
    # Delegated turns are named by their request, never by an internal turn id.
    working = [line for line in lines if "working on" in line]
    assert working and all("“" in line for line in working), working
    assert "auto-compact" not in out
    assert not re.search(r"\bturn [0-9a-z-]{6,}", out), "an internal turn id was shown"
    # Nothing is wrapped: long lines stay whole.
    assert max(len(line) for line in lines) > 80
    assert not any(line.startswith(" ") and "s " not in line[:8] for line in lines), out
