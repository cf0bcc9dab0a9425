"""Unit tests of the simulator's audio: the text-carrying speech code, the voice, WAV files, VAD."""

from __future__ import annotations

import random
from array import array
from pathlib import Path

import pytest

from parley.simulator.audio import (
    SAMPLE_RATE,
    decode_speech,
    duration_ms,
    pcm16_to_samples,
    read_wav,
    resample,
    rms,
    samples_to_pcm16,
    silence,
    synthesize_speech,
    synthesize_voice,
    to_mono,
    write_wav,
)
from parley.simulator.vad import SpeechDetector, SpeechStarted, SpeechStopped, VadSettings


@pytest.mark.parametrize("text", ["list the files", "run `ls -la`", "héllo wörld 日本", ""])
def test_speech_code_round_trips_text(text: str) -> None:
    """Whatever text the demo speaks with synthesize_speech is read back exactly."""
    assert decode_speech(synthesize_speech(text)) == text


def test_speech_code_survives_offsets_and_low_noise() -> None:
    """The code decodes after extra leading silence and with mild added noise."""
    audio = silence(333) + synthesize_speech("run: pwd")
    noisy_rng = random.Random(7)
    samples = pcm16_to_samples(audio)
    noisy = array("h", (max(-32768, min(32767, s + noisy_rng.randint(-800, 800))) for s in samples))
    assert decode_speech(audio) == "run: pwd"
    assert decode_speech(samples_to_pcm16(noisy)) == "run: pwd"


@pytest.mark.parametrize(
    "gaps",
    [
        [(28311, 213)],  # as seen from Chromium's fake microphone on a loaded machine
        [(2, 128)],  # in the opening marker
        [(9000, 256), (20000, 480)],  # two render quanta; a whole symbol
        [(15000, 1000)],  # longer than a symbol
    ],
)
def test_speech_code_survives_silence_put_in_by_a_starved_audio_thread(
    gaps: list[tuple[int, int]],
) -> None:
    """A browser's real-time audio path fills an underrun with silence (Chromium inserts whole
    render quanta of zeros when its audio thread runs late): the code still decodes, after a
    resampling round trip too, wherever the gaps fall and however long they are."""
    text = "run: touch hello.txt && ls"
    lead = SAMPLE_RATE // 10  # synthesize_speech starts with 100 ms of silence
    samples = pcm16_to_samples(
        resample(resample(synthesize_speech(text), 24000, 48000), 48000, 24000)
    )
    for offset, length in sorted(gaps, reverse=True):
        at = lead + offset
        samples = samples[:at] + array("h", bytes(2 * length)) + samples[at:]
    assert decode_speech(samples_to_pcm16(samples)) == text


def test_other_audio_does_not_decode() -> None:
    """The assistant's voice, silence and a truncated code carry no text."""
    assert decode_speech(synthesize_voice("hello there")) is None
    assert decode_speech(silence(500)) is None
    code = synthesize_speech("list the files")
    assert decode_speech(code[: len(code) // 2]) is None


def test_speech_length_follows_text() -> None:
    """Each UTF-8 byte takes 40 ms, plus 200 ms of framing and the requested silences."""
    audio = synthesize_speech("abcd", lead_ms=0, tail_ms=0)
    assert duration_ms(audio) == pytest.approx(4 * 40 + 200)


def test_voice_is_audible_deterministic_and_paced_by_text() -> None:
    """The assistant voice is non-silent, 60 ms per character, and the same every time."""
    text = "I ran ls. It printed 3 lines."
    audio = synthesize_voice(text)
    assert duration_ms(audio) == pytest.approx(60 * len(text))
    assert rms(audio) > 0.02
    assert audio == synthesize_voice(text)


def test_voice_spoken_in_pieces_matches_whole() -> None:
    """Speaking word by word (with word positions) gives the same audio as speaking at once."""
    words = ["Two ", "files ", "here."]
    pieces = b"".join(synthesize_voice(w, word_index=i) for i, w in enumerate(words))
    assert pieces == synthesize_voice("".join(words))


def test_wav_round_trip(tmp_path: Path) -> None:
    """write_wav then read_wav returns the same PCM, rate and channel count."""
    audio = synthesize_speech("hi")
    path = tmp_path / "hi.wav"
    write_wav(path, audio, SAMPLE_RATE)
    assert read_wav(path) == (audio, SAMPLE_RATE, 1)


def test_resample_and_mono_helpers() -> None:
    """Resampling scales the length by the rate ratio; stereo is averaged to mono."""
    audio = synthesize_voice("ab")
    assert len(resample(audio, 24000, 48000)) == 2 * len(audio)
    stereo = samples_to_pcm16(array("h", [100, 300, -50, 50]))
    assert pcm16_to_samples(to_mono(stereo, 2)).tolist() == [200, 0]


def _feed(detector: SpeechDetector, audio: bytes, chunk: int) -> list[object]:
    events: list[object] = []
    for offset in range(0, len(audio), chunk):
        events.extend(detector.feed(audio[offset : offset + chunk]))
    return events


def test_vad_reports_start_and_stop_in_audio_time() -> None:
    """Speech starts where the tones start and stops after 500 ms of silence, any chunking."""
    audio = synthesize_speech("list the files")  # 100 ms lead, 760 ms code, 700 ms tail
    for chunk in (4800, 999, len(audio)):
        events = _feed(SpeechDetector(), audio, chunk)
        assert [type(e) for e in events] == [SpeechStarted, SpeechStopped]
        started, stopped = events
        assert isinstance(started, SpeechStarted) and started.audio_start_ms == 100
        assert isinstance(stopped, SpeechStopped) and stopped.audio_end_ms == 860
        assert decode_speech(stopped.audio) == "list the files"


def test_vad_ignores_silence_and_honours_silence_duration() -> None:
    """Silence never starts speech; a longer silence_duration_ms keeps the utterance open."""
    assert SpeechDetector().feed(silence(2000)) == []
    detector = SpeechDetector(VadSettings(silence_duration_ms=900))
    events = detector.feed(synthesize_speech("x", tail_ms=700))
    assert [type(e) for e in events] == [SpeechStarted]
    assert detector.speaking
    assert [type(e) for e in detector.feed(silence(300))] == [SpeechStopped]
