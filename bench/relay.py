"""Benchmark: audio relay through Parley vs. a direct WebSocket client, measured in one run.

An echo upstream (a local WebSocket server speaking the Realtime v2 wire) answers every
`input_audio_buffer.append` with a `response.output_audio.delta` carrying the same audio. We
send N chunks of 100 ms PCM16 audio and time each round trip:

  baseline: client ⇄ echo upstream directly (WebSocket only)
  parley:   client ⇄ parley app-server (stdio JSON-RPC) ⇄ echo upstream

and print throughput, latency percentiles and the ratio parley/baseline. Run on demand:

    .venv/bin/python bench/relay.py [--chunks 500]

Nothing here is a pass/fail test; it reports numbers to compare between commits.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from parley.client import AppServerClient

CHUNK = base64.b64encode(os.urandom(4800)).decode("ascii")  # 100 ms of 24 kHz PCM16


async def echo(connection: ServerConnection) -> None:
    async for message in connection:
        event = orjson.loads(message)
        if event.get("type") == "input_audio_buffer.append":
            await connection.send(
                orjson.dumps(
                    {
                        "type": "response.output_audio.delta",
                        "delta": event["audio"],
                        "sample_rate": 24000,
                        "channels": 1,
                    }
                ).decode()
            )


def summary(name: str, latencies: list[float], total: float) -> dict[str, float]:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[int(len(ordered) * 0.95) - 1] * 1000
    rate = len(ordered) / total
    print(f"{name:<9} {rate:9.0f} chunks/s   p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")
    return {"rate": rate, "p50": p50, "p95": p95}


async def baseline(url: str, chunks: int) -> dict[str, float]:
    latencies = []
    async with connect(url, compression=None) as ws:
        start = time.perf_counter()
        for _ in range(chunks):
            sent = time.perf_counter()
            await ws.send(
                orjson.dumps({"type": "input_audio_buffer.append", "audio": CHUNK}).decode()
            )
            await ws.recv()
            latencies.append(time.perf_counter() - sent)
        total = time.perf_counter() - start
    return summary("baseline", latencies, total)


async def through_parley(url: str, chunks: int) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    (home / "config.toml").write_text(
        f'experimental_realtime_ws_base_url = "{url}"\n'
        'experimental_realtime_ws_startup_context = ""\n'
        "[features]\nrealtime_conversation = true\n"
    )
    client = AppServerClient()
    await client.spawn(home)
    await client.initialize("parley-bench")
    await client.request("account/login/start", {"type": "apiKey", "apiKey": "sk-bench"})
    thread_id = (await client.request("thread/start", {}))["thread"]["id"]
    await client.request("thread/realtime/start", {"threadId": thread_id})
    while (await client.notifications.get())["method"] != "thread/realtime/started":
        pass
    latencies = []
    start = time.perf_counter()
    for _ in range(chunks):
        sent = time.perf_counter()
        await client.request(
            "thread/realtime/appendAudio",
            {
                "threadId": thread_id,
                "audio": {"data": CHUNK, "sampleRate": 24000, "numChannels": 1},
            },
        )
        while (await client.notifications.get())["method"] != "thread/realtime/outputAudio/delta":
            pass
        latencies.append(time.perf_counter() - sent)
    total = time.perf_counter() - start
    await client.close()
    return summary("parley", latencies, total)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=500)
    args = parser.parse_args()
    async with serve(echo, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        url = f"ws://127.0.0.1:{port}"
        base = await baseline(url, args.chunks)
        parley = await through_parley(url, args.chunks)
    print(
        f"ratio parley/baseline: throughput {parley['rate'] / base['rate']:.2f}x, "
        f"p50 latency {parley['p50'] / base['p50']:.1f}x, "
        f"p95 latency {parley['p95'] / base['p95']:.1f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())
