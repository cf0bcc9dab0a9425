"""Audio for the offline simulator: PCM16 helpers, WAV files, a text-carrying "speech" code and
a vowel-like assistant voice.

There is no speech recogniser offline, so user speech that must be understood is made by
`synthesize_speech`, which carries its text recoverably: a frequency-shift-keyed tone sequence
(one tone per 4-bit nibble of the UTF-8 bytes, 20 ms each, framed by a marker tone, a length
and a CRC). `decode_speech` reads it back from the audio the simulator receives, also after a
browser's audio path (resampling, gain changes, and the silence a starved real-time audio
thread puts in where audio came late; audio lost outright may still break it); anything
else (a real microphone, the assistant's voice) does not decode.

The assistant's voice (`synthesize_voice`) is a different, deliberately speech-like signal: a
60 ms vowel (harmonics shaped by formants) or noise burst per character. It carries no code.

All PCM here is 16-bit signed little-endian mono at 24 kHz unless a function says otherwise.
Standard library only (no numpy). Nothing here touches the network.
"""

from __future__ import annotations

import math
import os
import sys
import wave
import zlib
from array import array
from functools import cache
from operator import mul
from typing import Final

SAMPLE_RATE: Final = 24000
_FULL_SCALE: Final = 32767

# --- PCM16 primitives -------------------------------------------------------------------------


def pcm16_to_samples(pcm16: bytes) -> array[int]:
    """Little-endian PCM16 bytes as an int array (a trailing odd byte is dropped)."""
    samples = array("h")
    samples.frombytes(pcm16[: len(pcm16) - (len(pcm16) % 2)])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def samples_to_pcm16(samples: array[int]) -> bytes:
    """An int16 array as little-endian PCM16 bytes."""
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def duration_ms(pcm16: bytes, sample_rate: int = SAMPLE_RATE, channels: int = 1) -> float:
    """How long PCM16 audio plays, in milliseconds."""
    return (len(pcm16) // (2 * channels)) * 1000.0 / sample_rate


def rms(pcm16: bytes) -> float:
    """Root-mean-square level as a fraction of full scale (0.0 for silence or no audio)."""
    samples = pcm16_to_samples(pcm16)
    if not samples:
        return 0.0
    return math.sqrt(sum(map(mul, samples, samples)) / len(samples)) / _FULL_SCALE


def silence(ms: float, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Digital silence of the given length."""
    return bytes(2 * round(ms * sample_rate / 1000))


def to_mono(pcm16: bytes, channels: int) -> bytes:
    """Average interleaved channels into one."""
    if channels == 1:
        return pcm16
    samples = pcm16_to_samples(pcm16)
    frames = len(samples) // channels
    mono = array(
        "h", (sum(samples[i * channels : (i + 1) * channels]) // channels for i in range(frames))
    )
    return samples_to_pcm16(mono)


def resample(pcm16: bytes, from_rate: int, to_rate: int) -> bytes:
    """Linear-interpolation resampling of mono PCM16 (good enough for playback, not for codes)."""
    if from_rate == to_rate:
        return pcm16
    samples = pcm16_to_samples(pcm16)
    if not samples:
        return b""
    count = max(1, round(len(samples) * to_rate / from_rate))
    step = from_rate / to_rate
    last = len(samples) - 1
    out = array("h", bytes(2 * count))
    for i in range(count):
        pos = i * step
        left = min(int(pos), last)
        right = min(left + 1, last)
        frac = pos - left
        out[i] = round(samples[left] + (samples[right] - samples[left]) * frac)
    return samples_to_pcm16(out)


# --- WAV files --------------------------------------------------------------------------------


def write_wav(
    path: str | os.PathLike[str], pcm16: bytes, rate: int = SAMPLE_RATE, channels: int = 1
) -> None:
    """Write PCM16 audio as a standard WAV file."""
    with wave.open(os.fspath(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm16)


def read_wav(path: str | os.PathLike[str]) -> tuple[bytes, int, int]:
    """Read a 16-bit PCM WAV file: `(pcm16 bytes, sample rate, channels)`."""
    with wave.open(os.fspath(path), "rb") as source:
        if source.getsampwidth() != 2:
            raise ValueError(f"{os.fspath(path)}: only 16-bit PCM WAV files are supported")
        return source.readframes(source.getnframes()), source.getframerate(), source.getnchannels()


# --- The text-carrying speech code ------------------------------------------------------------

SYMBOL_SAMPLES: Final = 480  # 20 ms at 24 kHz; every tone below completes whole cycles in it
_DATA_TONES: Final = tuple(600.0 + 100.0 * k for k in range(16))  # one per nibble value
_MARKER_TONE: Final = 2500.0
_MARKER: Final = 16  # symbol index of the marker tone
_TONES: Final = (*_DATA_TONES, _MARKER_TONE)
_CODE_AMPLITUDE: Final = 0.3
_MAX_TEXT_BYTES: Final = 0xFFFF
# A symbol is accepted only when its tone clearly dominates the others in the window.
_DOMINANCE: Final = 4.0
_ONSET_LEVEL: Final = 1000  # |sample| that marks where a code starts
# A dropout: this many samples in a row below _DROPOUT_LEVEL. The code's tones cross zero in
# a sample or two, so only a gap in the audio stays this quiet for this long.
_DROPOUT_SAMPLES: Final = 12
_DROPOUT_LEVEL: Final = 300
# How far (in samples, either way) a symbol is looked for when it is not where expected, and
# in what steps: half a symbol covers any gap or loss shorter than one.
_RESYNC_RANGE: Final = SYMBOL_SAMPLES // 2
_RESYNC_STEP: Final = 8


@cache
def _tone(index: int) -> array[int]:
    freq = _TONES[index]
    amp = _CODE_AMPLITUDE * _FULL_SCALE
    return array(
        "h",
        (
            round(amp * math.sin(2 * math.pi * freq * n / SAMPLE_RATE))
            for n in range(SYMBOL_SAMPLES)
        ),
    )


@cache
def _correlators() -> tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]:
    return tuple(
        (
            tuple(math.cos(2 * math.pi * f * n / SAMPLE_RATE) for n in range(SYMBOL_SAMPLES)),
            tuple(math.sin(2 * math.pi * f * n / SAMPLE_RATE) for n in range(SYMBOL_SAMPLES)),
        )
        for f in _TONES
    )


def _nibbles(value: int, count: int) -> list[int]:
    return [(value >> (4 * (count - 1 - i))) & 0xF for i in range(count)]


def _checksum(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFF


def synthesize_speech(text: str, *, lead_ms: float = 100.0, tail_ms: float = 700.0) -> bytes:
    """Audio (PCM16, 24 kHz mono) of a user "saying" `text`, decodable by `decode_speech`.

    The tone sequence lasts 40 ms per UTF-8 byte plus 200 ms of framing and is continuous, so a
    voice-activity detector hears one utterance. `tail_ms` of trailing silence (longer than the
    simulator's default 500 ms end-of-speech silence) makes one call one complete turn.
    """
    data = text.encode("utf-8")
    if len(data) > _MAX_TEXT_BYTES:
        raise ValueError(f"text too long for one utterance ({len(data)} bytes)")
    symbols = [_MARKER, _MARKER, *_nibbles(len(data), 4)]
    for byte in data:
        symbols.extend(_nibbles(byte, 2))
    symbols.extend(_nibbles(_checksum(data), 4))
    body = array("h")
    for symbol in symbols:
        body.extend(_tone(symbol))
    # Fade the last few milliseconds so the code ends without a click.
    fade = min(48, len(body))
    for i in range(fade):
        body[len(body) - fade + i] = body[len(body) - fade + i] * (fade - i - 1) // fade
    return silence(lead_ms) + samples_to_pcm16(body) + silence(tail_ms)


def _powers(window: array[int]) -> list[float]:
    return [
        sum(map(mul, window, cos_table)) ** 2 + sum(map(mul, window, sin_table)) ** 2
        for cos_table, sin_table in _correlators()
    ]


def _classify(window: array[int]) -> int | None:
    powers = _powers(window)
    ranked = sorted(range(len(powers)), key=powers.__getitem__, reverse=True)
    best, second = powers[ranked[0]], powers[ranked[1]]
    if best <= 0 or best < _DOMINANCE * second:
        return None
    return ranked[0]


def _purity(window: array[int]) -> float:
    """How much of the window's tone power is its strongest tone (1.0: one tone only)."""
    powers = _powers(window)
    total = sum(powers)
    return max(powers) / total if total > 0 else 0.0


def _without_dropouts(samples: array[int], start: int, symbols: int) -> array[int]:
    """About `symbols` symbols of samples from `start` on, with the gaps a starved audio thread
    fills with silence cut out (the code itself is never quiet for long, `_DROPOUT_SAMPLES`)."""
    out = array("h")
    quiet_from: int | None = None
    # Room for symbols looked for past the last one, and for a gap still open at the end.
    limit = (symbols + 4) * SYMBOL_SAMPLES
    stop = len(samples)
    for index in range(start, stop):
        if -_DROPOUT_LEVEL < samples[index] < _DROPOUT_LEVEL:
            if quiet_from is None:
                quiet_from = index
            continue
        if quiet_from is not None:
            if index - quiet_from < _DROPOUT_SAMPLES:
                out.extend(samples[quiet_from:index])
            quiet_from = None
        out.append(samples[index])
        if len(out) >= limit:
            stop = index + 1
            break
    if quiet_from is not None:  # the silence after the code is kept, it is not a gap
        out.extend(samples[quiet_from:stop])
    return out


def _resync(samples: array[int], position: int) -> int | None:
    """Where the symbol expected at `position` really starts, after audio was lost (earlier)
    or put in (later): the nearby window holding the purest single tone."""
    best: tuple[float, int | None] = (0.0, None)
    for shift in sorted(range(-_RESYNC_RANGE, _RESYNC_RANGE + 1, _RESYNC_STEP), key=abs):
        start = position + shift
        if 0 <= start <= len(samples) - SYMBOL_SAMPLES:
            purity = _purity(samples[start : start + SYMBOL_SAMPLES])
            if purity > best[0]:
                best = (purity, start)
    return best[1]


def _decode_at(samples: array[int], start: int) -> str | None:
    # Gaps are cut out only as far as the code can reach: first its header (two markers and
    # the length), then, once the length is known, the rest.
    clean = _without_dropouts(samples, start, 6)
    position = 0

    def read(count: int, *, resync: bool = True) -> list[int] | None:
        nonlocal position
        out: list[int] = []
        for _ in range(count):
            window = clean[position : position + SYMBOL_SAMPLES]
            if len(window) < SYMBOL_SAMPLES:
                return None
            symbol = _classify(window)
            if symbol is None and not resync:
                return None
            if symbol is None:
                # Part of this window is the symbol before or after: audio was put in or
                # lost here. Find the symbol nearby and go on from there.
                moved = _resync(clean, position)
                if moved is None:
                    return None
                position = moved
                symbol = _classify(clean[position : position + SYMBOL_SAMPLES])
                if symbol is None:
                    return None
            out.append(symbol)
            position += SYMBOL_SAMPLES
        return out

    def value(nibbles: list[int] | None) -> int | None:
        if nibbles is None or any(n == _MARKER for n in nibbles):
            return None
        result = 0
        for n in nibbles:
            result = (result << 4) | n
        return result

    # Other sounds fail here at once: no looking around before the code has begun.
    if read(2, resync=False) != [_MARKER, _MARKER]:
        return None
    length = value(read(4))
    if length is None:
        return None
    clean = _without_dropouts(samples, start, 6 + 2 * length + 4)
    data = bytearray()
    for _ in range(length):
        byte = value(read(2))
        if byte is None:
            return None
        data.append(byte)
    if value(read(4)) != _checksum(bytes(data)):
        return None
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return None


def decode_speech(pcm16: bytes) -> str | None:
    """The text `synthesize_speech` put into this audio, or None if it carries no valid code.

    The audio may start with silence or noise before the code; a few onsets are tried.
    """
    samples = pcm16_to_samples(pcm16)
    position = 0
    for _ in range(4):
        onset = next(
            (i for i in range(position, len(samples)) if abs(samples[i]) >= _ONSET_LEVEL), None
        )
        if onset is None:
            return None
        # The marker tone starts at phase zero, so the first loud sample is one sample late.
        text = _decode_at(samples, max(0, onset - 1))
        if text is not None:
            return text
        position = onset + SYMBOL_SAMPLES
    return None


# --- The assistant's voice --------------------------------------------------------------------

MS_PER_CHAR: Final = 60.0
_VOICE_AMPLITUDE: Final = 0.35
_FORMANTS: Final[dict[str, tuple[float, float, float]]] = {
    "a": (730.0, 1090.0, 2440.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (270.0, 2290.0, 3010.0),
    "o": (570.0, 840.0, 2410.0),
    "u": (300.0, 870.0, 2240.0),
    "schwa": (500.0, 1500.0, 2500.0),
}
_PITCHES: Final = (118.0, 128.0, 140.0, 132.0)  # a small melody, one pitch per word position
_VOWEL_OF: Final[dict[str, str]] = {
    "a": "a",
    "e": "e",
    "i": "i",
    "o": "o",
    "u": "u",
    "y": "i",
    "0": "o",
    "1": "u",
    "2": "u",
    "3": "i",
    "4": "o",
    "5": "a",
    "6": "i",
    "7": "e",
    "8": "e",
    "9": "a",
}


@cache
def _vowel_segment(vowel: str, period: int, length: int) -> bytes:
    """`length` samples of a vowel: harmonics of f0 weighted by formant resonances, enveloped."""
    f0 = SAMPLE_RATE / period
    formants = _FORMANTS[vowel]
    cycle = [0.0] * period
    harmonic = 1
    while harmonic * f0 < 4000.0:
        freq = harmonic * f0
        gain = sum(1.0 / (1.0 + ((freq - f) / 90.0) ** 2) for f in formants) / harmonic**0.5
        for n in range(period):
            cycle[n] += gain * math.sin(2 * math.pi * harmonic * n / period)
        harmonic += 1
    peak = max(abs(v) for v in cycle) or 1.0
    return _enveloped([cycle[n % period] / peak for n in range(length)], _VOICE_AMPLITUDE)


@cache
def _noise_segment(char: str, length: int) -> bytes:
    """`length` samples of a soft consonant: seeded noise, smoothed, enveloped."""
    state = (ord(char) * 2654435761) & 0xFFFFFFFF or 1
    raw: list[float] = []
    for _ in range(length):
        state = (1103515245 * state + 12345) & 0x7FFFFFFF
        raw.append(state / 0x3FFFFFFF - 1.0)
    smooth = [(raw[i] + raw[i - 1] + raw[i - 2]) / 3.0 for i in range(length)]
    return _enveloped(smooth, _VOICE_AMPLITUDE * 0.4)


def _enveloped(values: list[float], amplitude: float) -> bytes:
    length = len(values)
    ramp = max(1, min(length // 4, SAMPLE_RATE // 100))  # up to 10 ms attack and release
    scale = amplitude * _FULL_SCALE
    out = array("h", bytes(2 * length))
    for n, value in enumerate(values):
        envelope = min(1.0, n / ramp, (length - 1 - n) / ramp)
        out[n] = round(scale * envelope * value)
    return samples_to_pcm16(out)


def synthesize_voice(text: str, *, ms_per_char: float = MS_PER_CHAR, word_index: int = 0) -> bytes:
    """The assistant speaking `text`: PCM16 24 kHz mono, `ms_per_char` per character.

    Vowels and digits are voiced, letters are noise bursts, spaces and punctuation are pauses.
    Speaking a text in pieces gives the same audio as speaking it whole when `word_index`
    counts the words already spoken (the pitch follows the word position).
    """
    length = round(ms_per_char * SAMPLE_RATE / 1000)
    if length <= 0:
        return b""
    pieces: list[bytes] = []
    words = word_index
    previous_space = True
    for char in text:
        lower = char.lower()
        if char.isspace():
            if not previous_space:
                words += 1
            previous_space = True
            pieces.append(bytes(2 * length))
            continue
        previous_space = False
        period = round(SAMPLE_RATE / _PITCHES[words % len(_PITCHES)])
        if lower in _VOWEL_OF:
            pieces.append(_vowel_segment(_VOWEL_OF[lower], period, length))
        elif lower.isalpha() and lower.isascii():
            pieces.append(_noise_segment(lower, length))
        elif char.isalnum():  # letters of other scripts: a neutral vowel
            pieces.append(_vowel_segment("schwa", period, length))
        else:
            pieces.append(bytes(2 * length))
    return b"".join(pieces)
