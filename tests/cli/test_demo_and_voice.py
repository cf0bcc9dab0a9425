"""The offline commands a newcomer runs first: `parley demo` and `parley voice --simulate`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from parley.simulator import read_wav, rms, synthesize_speech, write_wav


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["CODEX_HOME"] = str(tmp_path / "codex-home")
    env.pop("OPENAI_API_KEY", None)
    env["COLUMNS"] = "200"
    return env


def _assert_audible(path: Path, min_seconds: float) -> None:
    pcm, rate, channels = read_wav(path)
    assert (rate, channels) == (24_000, 1)
    seconds = len(pcm) / 2 / rate
    assert seconds >= min_seconds, f"only {seconds:.2f} s of assistant audio"
    assert rms(pcm) > 0.01, "assistant audio is silent"


def test_demo_completes_the_voice_round_trip_offline(tmp_path: Path) -> None:
    """`parley demo` speaks and types a request, runs the delegated commands, saves the answer."""
    wav = tmp_path / "answer.wav"
    done = subprocess.run(
        [sys.executable, "-m", "parley", "demo", "--output-wav", str(wav)],
        env=_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "“where am I”" in out  # the spoken request, transcribed
    assert "$ /bin/bash -lc pwd" in out  # the delegated turn ran the command it implies
    assert "$ /bin/bash -lc ls" in out  # the typed request ran `ls`
    assert "hello.py" in out  # ... whose output shows the demo workspace
    assert out.count("assistant  “I ran") == 2  # both answers came back spoken
    assert "round trip complete" in out
    _assert_audible(wav, 2.0)


def test_voice_with_wav_files_runs_unattended(tmp_path: Path) -> None:
    """`parley voice --simulate` sends a WAV, shows the agent's work, writes the spoken answer."""
    spoken = tmp_path / "request.wav"
    write_wav(spoken, synthesize_speech("list the files"), 24_000)
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "marker-file.txt").write_text("x")
    answer = tmp_path / "answer.wav"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "parley",
            "voice",
            "--simulate",
            "--input-wav",
            str(spoken),
            "--output-wav",
            str(answer),
        ],
        env=_env(tmp_path),
        cwd=tmp_path / "work",
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "“list the files”" in out
    assert "ls -la" in out and "marker-file.txt" in out
    assert "assistant  “I ran `ls -la`" in out
    _assert_audible(answer, 1.0)


def test_voice_reports_a_missing_input_file_clearly(tmp_path: Path) -> None:
    """A wrong --input-wav path is named in a one-line error, with a non-zero exit."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "parley",
            "voice",
            "--simulate",
            "--input-wav",
            str(tmp_path / "nope.wav"),
            "--output-wav",
            str(tmp_path / "o.wav"),
        ],
        env=_env(tmp_path),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "nope.wav" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_voice_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    """Ctrl-C in the middle of a conversation stops it, saves the audio so far and exits 0."""
    spoken = tmp_path / "long-silence.wav"
    write_wav(spoken, bytes(24_000 * 2 * 20), 24_000)  # 20 s of silence: still sending at ^C
    answer = tmp_path / "answer.wav"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "parley",
            "voice",
            "--simulate",
            "--input-wav",
            str(spoken),
            "--output-wav",
            str(answer),
        ],
        env=_env(tmp_path),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:  # wait until audio is flowing
        if "sending" in line:
            break
    time.sleep(1.0)
    interrupted = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, out + err
    assert time.monotonic() - interrupted < 8, "Ctrl-C did not stop the client promptly"
    assert "stopped; thread" in out
    assert "Traceback" not in out + err
    _pcm, rate, channels = read_wav(answer)
    assert (rate, channels) == (24_000, 1)


def test_voice_without_a_sound_card_says_how_to_get_one(tmp_path: Path) -> None:
    """With no audio devices and no WAV options, the error says what to install or use instead."""
    done = subprocess.run(
        [sys.executable, "-m", "parley", "voice", "--simulate"],
        env=_env(tmp_path),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "--input-wav" in done.stdout and "--output-wav" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
