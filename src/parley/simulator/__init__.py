"""Parley's embedded offline default: a local simulator of the OpenAI Realtime and Responses APIs.

`serve(host, port)` starts it on one port (HTTP and WebSocket); point a model provider's
`base_url` at `Simulator.http_base_url` and `experimental_realtime_ws_base_url` at
`Simulator.realtime_ws_url`. The voice model (`VoiceModel`) and the coding agent
(`ResponsesAgent`) are deterministic: user speech made with `synthesize_speech(text)` is
transcribed as exactly `text`, every request is delegated to the background agent, and the
agent runs the shell command a request names. `ScriptedRealtime` replaces the voice model for
tests. It needs no network and no API key, and it is not a model: it does not understand.
"""

from __future__ import annotations

from parley.simulator.audio import (
    SAMPLE_RATE,
    decode_speech,
    duration_ms,
    read_wav,
    resample,
    rms,
    synthesize_speech,
    synthesize_voice,
    to_mono,
    write_wav,
)
from parley.simulator.calls import RealtimeCall
from parley.simulator.cli import main
from parley.simulator.realtime_policy import StreamStep, VoiceModel, VoiceModelConfig
from parley.simulator.responses_agent import ResponsesAgent, TextReply, ToolCall, decide
from parley.simulator.script import ScriptedRealtime, ScriptFailure, Step
from parley.simulator.server import (
    RealtimeConnection,
    RealtimeEndpoint,
    Simulator,
    SimulatorConfig,
    serve,
)
from parley.simulator.vad import SpeechDetector, VadSettings

__all__ = [
    "SAMPLE_RATE",
    "RealtimeCall",
    "RealtimeConnection",
    "RealtimeEndpoint",
    "ResponsesAgent",
    "ScriptFailure",
    "ScriptedRealtime",
    "Simulator",
    "SimulatorConfig",
    "SpeechDetector",
    "Step",
    "StreamStep",
    "TextReply",
    "ToolCall",
    "VadSettings",
    "VoiceModel",
    "VoiceModelConfig",
    "decide",
    "decode_speech",
    "duration_ms",
    "main",
    "read_wav",
    "resample",
    "rms",
    "serve",
    "synthesize_speech",
    "synthesize_voice",
    "to_mono",
    "write_wav",
]
