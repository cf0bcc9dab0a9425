// Audio processors for Parley's page, run on the audio thread (AudioWorklet).
//
// parley-capture: the microphone as 16-bit PCM at 24 kHz, posted in 100 ms chunks, plus a
//   level every ~20 ms (for the meter and for barge-in).
// parley-playback: a queue of the assistant's audio played without gaps. A small jitter buffer
//   (JITTER_MS) fills before playback starts and again after a dry spell; a short tail plays
//   once no more audio arrives for a moment. "clear" drops everything at once (barge-in).

const TARGET_RATE = 24000;
const CHUNK_SAMPLES = 2400; // 100 ms at 24 kHz
const JITTER_MS = 80;
const AUDIBLE = 0.003; // |sample| above this counts as sound being played

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE;
    this.t = 0; // position of the next output sample, relative to the current block
    this.prev = 0;
    this.chunk = new Int16Array(CHUNK_SAMPLES);
    this.fill = 0;
    this.levelSum = 0;
    this.levelCount = 0;
  }

  push(value) {
    const clamped = Math.max(-1, Math.min(1, value));
    this.chunk[this.fill++] = clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff;
    this.levelSum += clamped * clamped;
    this.levelCount += 1;
    if (this.levelCount >= TARGET_RATE / 50) {
      this.port.postMessage({ type: "level", rms: Math.sqrt(this.levelSum / this.levelCount) });
      this.levelSum = 0;
      this.levelCount = 0;
    }
    if (this.fill === CHUNK_SAMPLES) {
      const out = this.chunk;
      this.port.postMessage({ type: "chunk", pcm: out.buffer }, [out.buffer]);
      this.chunk = new Int16Array(CHUNK_SAMPLES);
      this.fill = 0;
    }
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel || channel.length === 0) return true;
    if (this.step === 1) {
      for (let i = 0; i < channel.length; i++) this.push(channel[i]);
      return true;
    }
    // Linear interpolation; sample -1 is the previous block's last sample.
    let t = this.t;
    while (t < channel.length - 1) {
      const i = Math.floor(t);
      const frac = t - i;
      const a = i < 0 ? this.prev : channel[i];
      const b = channel[i + 1];
      this.push(a + (b - a) * frac);
      t += this.step;
    }
    this.t = t - channel.length;
    this.prev = channel[channel.length - 1];
    return true;
  }
}

class PlaybackProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];
    this.head = 0;
    this.buffered = 0;
    this.playing = false;
    this.prebuffer = Math.round((sampleRate * JITTER_MS) / 1000);
    this.idleBlocks = 0; // render quanta since audio last arrived
    this.played = 0;
    this.peak = 0;
    this.underruns = 0;
    this.sinceReport = 0;
    this.port.onmessage = (event) => {
      const message = event.data;
      if (message.type === "audio") {
        this.queue.push(message.samples);
        this.buffered += message.samples.length;
        this.idleBlocks = 0;
      } else if (message.type === "clear") {
        this.queue = [];
        this.head = 0;
        this.buffered = 0;
        this.setPlaying(false);
        this.report();
      }
    };
  }

  setPlaying(playing) {
    if (this.playing !== playing) {
      this.playing = playing;
      this.report();
    }
  }

  report() {
    this.sinceReport = 0;
    this.port.postMessage({
      type: "stats",
      playing: this.playing,
      played: this.played,
      peak: this.peak,
      buffered: this.buffered,
      underruns: this.underruns,
    });
  }

  process(inputs, outputs) {
    const out = outputs[0][0];
    this.idleBlocks += 1;
    if (!this.playing) {
      // The tail of an answer plays once nothing more has come for ~3 jitter buffers.
      const tail = this.buffered > 0 && this.idleBlocks * out.length > 3 * this.prebuffer;
      if (this.buffered >= this.prebuffer || tail) this.setPlaying(true);
    }
    let i = 0;
    if (this.playing) {
      while (i < out.length && this.queue.length > 0) {
        const current = this.queue[0];
        const n = Math.min(out.length - i, current.length - this.head);
        for (let k = 0; k < n; k++) {
          const value = current[this.head + k];
          out[i + k] = value;
          const magnitude = value < 0 ? -value : value;
          if (magnitude > this.peak) this.peak = magnitude;
          if (magnitude > AUDIBLE) this.played += 1;
        }
        i += n;
        this.head += n;
        this.buffered -= n;
        if (this.head >= current.length) {
          this.queue.shift();
          this.head = 0;
        }
      }
      if (i < out.length) {
        this.underruns += 1;
        this.setPlaying(false);
      }
    }
    out.fill(0, i);
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    this.sinceReport += 1;
    if (this.sinceReport >= 8) this.report();
    return true;
  }
}

registerProcessor("parley-capture", CaptureProcessor);
registerProcessor("parley-playback", PlaybackProcessor);
