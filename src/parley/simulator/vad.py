"""Energy-based voice activity detection for the simulated Realtime API (sans-IO).

`SpeechDetector` is fed PCM16 chunks of any size and reports when speech starts and stops,
measured in audio time (samples received), never wall-clock time, so the same audio always
gives the same events. It keeps the audio of the current utterance, including a little audio
from before the onset (`prefix_padding_ms`), for transcription. It does not transcribe.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from operator import mul
from typing import Final

from parley.simulator.audio import SAMPLE_RATE, pcm16_to_samples

FRAME_MS: Final = 20


@dataclass(frozen=True, slots=True)
class VadSettings:
    """Server-VAD knobs, named as in the Realtime API's `turn_detection`."""

    threshold: float = 0.02  # RMS level (fraction of full scale) that counts as speech
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    min_speech_ms: int = 40  # this much continuous speech is needed before speech "starts"


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Speech began `audio_start_ms` after the first audio of the session."""

    audio_start_ms: int


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    """Speech ended at `audio_end_ms`; `audio` is the utterance (with its prefix padding)."""

    audio_start_ms: int
    audio_end_ms: int
    audio: bytes


VadEvent = SpeechStarted | SpeechStopped


class SpeechDetector:
    """Frames incoming audio into 20 ms blocks and tracks speech/silence by RMS level."""

    def __init__(self, settings: VadSettings | None = None) -> None:
        self.settings = settings or VadSettings()
        self._frame_bytes = 2 * SAMPLE_RATE * FRAME_MS // 1000
        self._pending = bytearray()
        self._frames_seen = 0
        self._preroll: deque[bytes] = deque()
        self._onset: list[bytes] = []  # voiced frames not yet long enough to count as speech
        self._utterance: list[bytes] | None = None
        self._start_ms = 0
        self._last_voiced_end_ms = 0
        self._silent_ms = 0
        self._buffer = bytearray()  # everything since the last commit/clear, for manual commits

    @property
    def speaking(self) -> bool:
        """Whether an utterance is in progress."""
        return self._utterance is not None

    @property
    def received_ms(self) -> int:
        """Audio time so far, in whole frames."""
        return self._frames_seen * FRAME_MS

    def feed(self, pcm16: bytes, *, detect: bool = True) -> list[VadEvent]:
        """Add audio; return the speech boundaries it completes.

        With `detect=False` (turn detection off) audio is only buffered for a manual commit.
        """
        self._buffer.extend(pcm16)
        self._pending.extend(pcm16)
        events: list[VadEvent] = []
        while len(self._pending) >= self._frame_bytes:
            frame = bytes(self._pending[: self._frame_bytes])
            del self._pending[: self._frame_bytes]
            if not detect:
                self._frames_seen += 1
                continue
            event = self._frame(frame)
            if event is not None:
                events.append(event)
        return events

    def take_buffer(self) -> bytes:
        """All audio since the last commit or clear (a manual `input_audio_buffer.commit`)."""
        audio = bytes(self._buffer)
        self.clear()
        return audio

    def clear(self) -> None:
        """Forget buffered audio and any utterance in progress (audio time keeps running)."""
        self._buffer.clear()
        self._preroll.clear()
        self._onset.clear()
        self._utterance = None
        self._silent_ms = 0

    def _voiced(self, frame: bytes) -> bool:
        samples = pcm16_to_samples(frame)
        level = math.sqrt(sum(map(mul, samples, samples)) / len(samples)) / 32767
        return level >= self.settings.threshold

    def _frame(self, frame: bytes) -> VadEvent | None:
        index = self._frames_seen
        self._frames_seen += 1
        voiced = self._voiced(frame)
        settings = self.settings
        if self._utterance is None:
            if not voiced:
                self._preroll.extend(self._onset)
                self._onset.clear()
                self._preroll.append(frame)
                while len(self._preroll) * FRAME_MS > settings.prefix_padding_ms:
                    self._preroll.popleft()
                return None
            self._onset.append(frame)
            if len(self._onset) * FRAME_MS < settings.min_speech_ms:
                return None
            self._utterance = [*self._preroll, *self._onset]
            self._start_ms = (index + 1 - len(self._onset)) * FRAME_MS
            self._last_voiced_end_ms = (index + 1) * FRAME_MS
            self._silent_ms = 0
            self._preroll.clear()
            self._onset.clear()
            return SpeechStarted(self._start_ms)
        self._utterance.append(frame)
        if voiced:
            self._silent_ms = 0
            self._last_voiced_end_ms = (index + 1) * FRAME_MS
            return None
        self._silent_ms += FRAME_MS
        if self._silent_ms < settings.silence_duration_ms:
            return None
        # Keep only the trailing silence's first frame: enough to end the utterance cleanly.
        keep = len(self._utterance) - self._silent_ms // FRAME_MS + 1
        audio = b"".join(self._utterance[:keep])
        stopped = SpeechStopped(self._start_ms, self._last_voiced_end_ms, audio)
        self._utterance = None
        self._silent_ms = 0
        self._buffer.clear()
        return stopped
