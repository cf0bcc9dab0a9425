// Parley's single-page voice client. It speaks the app-server protocol (JSON-RPC 2.0) over a
// WebSocket to the page's own origin, authenticated with the capability token from the URL
// fragment. No framework, no build step, nothing loaded from anywhere else.

const SAMPLE_RATE = 24000;
const LOCAL_BARGE_IN_LEVEL = 0.02; // mic RMS that counts as the user speaking over the answer
const RECONNECT_MAX_MS = 5000;

const $ = (id) => document.getElementById(id);

// Measurements a test (or a curious person) can read: window.parleyStats.
const stats = {
  connected: false,
  realtime: "idle",
  chunksSent: 0,
  playedSamples: 0,
  playedPeak: 0,
  playing: false,
  bargeIns: 0,
  droppedAfterBargeIn: 0,
  underruns: 0,
  errors: [],
};
window.parleyStats = stats;

// --- small DOM helpers ------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

function setStatus(state, text) {
  const status = $("status");
  status.dataset.state = state;
  status.textContent = text;
}

function showError(message) {
  stats.errors.push(message);
  $("banner-text").textContent = message;
  $("banner").hidden = false;
}

function clearError() {
  $("banner").hidden = true;
}

// --- JSON-RPC over the page's WebSocket -------------------------------------------------------

class Rpc {
  constructor(token, handlers) {
    this.token = token;
    this.handlers = handlers; // {onNotification, onRequest, onOpen, onClose}
    this.nextId = 1;
    this.pending = new Map();
    this.ws = null;
    this.attempt = 0;
    this.stopped = false;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/rpc`, [
      "parley",
      `parley-token.${this.token}`,
    ]);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.handlers.onOpen();
    };
    ws.onmessage = (event) => this.receive(event.data);
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      for (const { reject, method } of this.pending.values()) {
        reject(new Error(`connection lost before ${method} was answered`));
      }
      this.pending.clear();
      this.handlers.onClose(event);
      if (!this.stopped) {
        const delay = Math.min(RECONNECT_MAX_MS, 500 * 2 ** this.attempt);
        this.attempt += 1;
        setTimeout(() => this.connect(), delay);
      }
    };
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.method && message.id !== undefined) {
      Promise.resolve(this.handlers.onRequest(message.method, message.params || {}, message.id))
        .then((result) => this.send({ id: message.id, result }))
        .catch((error) =>
          this.send({ id: message.id, error: { code: -32601, message: String(error.message || error) } }),
        );
    } else if (message.method) {
      this.handlers.onNotification(message.method, message.params || {});
    } else if (message.id !== undefined) {
      const entry = this.pending.get(message.id);
      if (!entry) return;
      this.pending.delete(message.id);
      if (message.error) {
        const error = new Error(message.error.message || "request failed");
        error.code = message.error.code;
        entry.reject(error);
      } else {
        entry.resolve(message.result);
      }
    }
  }

  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) throw new Error("not connected to Parley");
    this.ws.send(JSON.stringify(message));
  }

  request(method, params = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      try {
        this.send({ id, method, params });
      } catch (error) {
        this.pending.delete(id);
        reject(error);
      }
    });
  }

  notify(method, params) {
    this.send(params === undefined ? { method } : { method, params });
  }
}

// --- audio ------------------------------------------------------------------------------------

function base64ToFloat32(data) {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const pcm = new Int16Array(bytes.buffer, 0, bytes.length >> 1);
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i] / 0x8000;
  return out;
}

function int16ToBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function resampleLinear(samples, from, to) {
  if (from === to) return samples;
  const count = Math.max(1, Math.round((samples.length * to) / from));
  const out = new Float32Array(count);
  const step = from / to;
  for (let i = 0; i < count; i++) {
    const pos = i * step;
    const left = Math.min(Math.floor(pos), samples.length - 1);
    const right = Math.min(left + 1, samples.length - 1);
    out[i] = samples[left] + (samples[right] - samples[left]) * (pos - left);
  }
  return out;
}

class Audio {
  constructor() {
    this.context = null;
    this.relayPlayed = 0;
    this.player = null;
    this.capture = null;
    this.micStream = null;
    this.source = null;
    this.onChunk = () => {};
    this.onLevel = () => {};
  }

  async ensureContext() {
    if (this.context) {
      if (this.context.state === "suspended") await this.context.resume();
      return this.context;
    }
    try {
      this.context = new AudioContext({ sampleRate: SAMPLE_RATE, latencyHint: "interactive" });
    } catch {
      this.context = new AudioContext({ latencyHint: "interactive" });
    }
    await this.context.audioWorklet.addModule("/static/audio-worklets.js");
    this.player = new AudioWorkletNode(this.context, "parley-playback", { outputChannelCount: [1] });
    this.player.port.onmessage = (event) => {
      const m = event.data;
      stats.playedSamples += m.played - this.relayPlayed;
      this.relayPlayed = m.played;
      stats.playedPeak = Math.max(stats.playedPeak, m.peak);
      stats.playing = m.playing;
      stats.buffered = m.buffered;
      stats.playerReports = (stats.playerReports || 0) + 1;
      stats.underruns = m.underruns;
      updateSpeaking(m.playing);
    };
    this.player.connect(this.context.destination);
    if (this.context.state === "suspended") await this.context.resume();
    return this.context;
  }

  play(samples, rate) {
    if (!this.player) return;
    const resampled = resampleLinear(samples, rate, this.context.sampleRate);
    this.player.port.postMessage({ type: "audio", samples: resampled }, [resampled.buffer]);
  }

  stopPlayback() {
    if (this.player) this.player.port.postMessage({ type: "clear" });
  }

  async openMic() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new MicError("this browser gives no microphone access here (it needs http://127.0.0.1 or https)");
    }
    try {
      this.micStream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: false },
      });
    } catch (error) {
      if (error.name === "NotAllowedError" || error.name === "SecurityError") {
        throw new MicError("microphone permission was denied: allow it in the browser's site settings, or type below");
      }
      if (error.name === "NotFoundError") throw new MicError("no microphone was found: connect one, or type below");
      throw new MicError(`cannot open the microphone (${error.name}): ${error.message}`);
    }
    return this.micStream;
  }

  async startCapture() {
    const context = await this.ensureContext();
    const stream = this.micStream || (await this.openMic());
    this.source = context.createMediaStreamSource(stream);
    this.capture = new AudioWorkletNode(context, "parley-capture", { numberOfOutputs: 0 });
    this.capture.port.onmessage = (event) => {
      const m = event.data;
      if (m.type === "chunk") this.onChunk(m.pcm);
      else if (m.type === "level") this.onLevel(m.rms);
    };
    this.source.connect(this.capture);
  }

  playRemote(stream, receiver) {
    // The media element plays the call's audio. What it played is measured from the receiver's
    // playout statistics (Chrome gives Web Audio no samples of a remote WebRTC track).
    const element = $("remote-audio");
    element.srcObject = stream;
    element.play().catch((error) => showError(`Cannot play the call's audio: ${error.message}`));
    let last = null;
    const poll = setInterval(async () => {
      const report = await receiver.getStats().catch(() => null);
      report?.forEach((entry) => {
        if (entry.type !== "inbound-rtp" || entry.kind !== "audio") return;
        if (last && entry.totalSamplesDuration > last.totalSamplesDuration) {
          const seconds = entry.totalSamplesDuration - last.totalSamplesDuration;
          const energy = entry.totalAudioEnergy - last.totalAudioEnergy;
          const level = Math.sqrt(Math.max(0, energy) / seconds);
          if (level > 0.003) stats.playedSamples += Math.round(seconds * SAMPLE_RATE);
          stats.playedPeak = Math.max(stats.playedPeak, entry.audioLevel || 0, level);
          stats.playing = level > 0.003;
        }
        last = entry;
      });
    }, 100);
    this.remote = { element, poll };
  }

  stopCapture() {
    if (this.source) this.source.disconnect();
    if (this.capture) this.capture.port.onmessage = null;
    if (this.micStream) for (const track of this.micStream.getTracks()) track.stop();
    if (this.remote) {
      clearInterval(this.remote.poll);
      this.remote.element.srcObject = null;
    }
    this.source = this.capture = this.micStream = this.remote = null;
    this.stopPlayback();
  }
}

class MicError extends Error {}

// --- the page's state -------------------------------------------------------------------------

const fragment = new URLSearchParams(location.hash.slice(1));
// The token leaves the address bar at once; this tab keeps it so a reload still works.
const token = fragment.get("token") || sessionStorage.getItem("parley-token") || "";
if (fragment.get("token")) sessionStorage.setItem("parley-token", token);
const audio = new Audio();
const state = {
  threadId: null,
  initialThread: fragment.get("thread"),
  running: false, // a realtime conversation is on
  transport: "websocket",
  pc: null,
  talking: false, // push-to-talk held
  interruptedItems: new Set(),
  currentOutputItem: null,
  loudBlocks: 0,
  transcript: { role: null, node: null, text: "" },
  workNodes: new Map(), // item id -> element
  turnNodes: new Map(), // turn id -> element
  lastRequest: null, // what the voice model last asked the agent
  approvals: new Map(), // request key -> card
};
let rpc = null;

function handsFree() {
  return document.querySelector('input[name="mode"]:checked').value === "hands-free";
}

function updateSpeaking(playing) {
  if (!state.running) return;
  if (playing) setStatus("speaking", "Assistant speaking");
  else setStatus("listening", handsFree() ? "Listening" : "Ready — hold to talk");
}

// --- transcript -------------------------------------------------------------------------------

function addTranscript(role, text) {
  const list = $("transcript");
  const current = state.transcript;
  if (role === "user" && current.role === "user" && text.trim() === current.text.trim()) {
    return; // the API repeats a finished utterance whole after its deltas
  }
  if (current.role !== role || !current.node) {
    const body = el("span", { class: "text" });
    const node = el(
      "li",
      { class: `utterance ${role === "user" ? "you" : "assistant"}` },
      el("span", { class: "who", text: role === "user" ? "You" : "Assistant" }),
      body,
    );
    list.append(node);
    state.transcript = { role, node, text: "" };
  }
  state.transcript.text += text;
  state.transcript.node.querySelector(".text").textContent = state.transcript.text;
  list.scrollTop = list.scrollHeight;
}

function addNote(text) {
  $("transcript").append(el("li", { class: "utterance note", text }));
  state.transcript = { role: null, node: null, text: "" };
}

// --- the agent's work -------------------------------------------------------------------------

function workList() {
  $("work-empty").hidden = true;
  return $("work");
}

function renderDiff(diff) {
  const pre = el("pre", { class: "diff" });
  for (const line of (diff || "").split("\n")) {
    const header = line.startsWith("+++") || line.startsWith("---");
    const cls = header ? "file" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : "";
    pre.append(el("span", { class: cls, text: line + "\n" }));
  }
  return pre;
}

function itemNode(item) {
  let node = state.workNodes.get(item.id);
  if (!node) {
    node = el("li", { class: "work-item", "data-type": item.type });
    state.workNodes.set(item.id, node);
    workList().append(node);
  }
  return node;
}

function renderItem(item, done) {
  if (item.type === "commandExecution") {
    const node = itemNode(item);
    let pre = node.querySelector("pre");
    if (!node.querySelector(".title")) {
      node.append(el("div", { class: "title", text: `$ ${item.command}` }), el("div", { class: "meta" }));
      pre = el("pre", { class: "output", "aria-label": "command output" });
      node.append(pre);
    }
    if (item.aggregatedOutput != null && (done || !pre.textContent)) pre.textContent = item.aggregatedOutput;
    const status = item.status || (done ? "completed" : "inProgress");
    node.className = `work-item ${status}`;
    node.querySelector(".meta").textContent = done
      ? `${status}${item.exitCode != null ? ` · exit ${item.exitCode}` : ""}${item.durationMs != null ? ` · ${item.durationMs} ms` : ""}`
      : "running…";
  } else if (item.type === "fileChange") {
    const node = itemNode(item);
    node.replaceChildren();
    const status = item.status || (done ? "completed" : "inProgress");
    node.className = `work-item ${status}`;
    for (const change of item.changes || []) {
      const kind = (change.kind && change.kind.type) || change.kind || "update";
      node.append(el("div", { class: "title", text: `${kind}: ${change.path}` }), renderDiff(change.diff));
    }
    node.append(el("div", { class: "meta", text: done ? status : "proposed" }));
  } else if (item.type === "agentMessage") {
    const node = itemNode(item);
    if (!node.querySelector(".title")) node.append(el("div", { class: "title", text: "Agent" }), el("div", { class: "body" }));
    if (item.text) node.querySelector(".body").textContent = item.text;
  } else if (item.type === "plan") {
    const node = itemNode(item);
    node.replaceChildren(el("div", { class: "title", text: "Plan" }), el("pre", { text: item.text || "" }));
  }
}

function renderPlan(params) {
  const key = `plan-${params.turnId}`;
  let node = state.workNodes.get(key);
  if (!node) {
    node = el("li", { class: "work-item plan-item" });
    state.workNodes.set(key, node);
    workList().append(node);
  }
  const list = el("ol", { class: "plan" });
  for (const step of params.plan || []) {
    list.append(el("li", { "data-status": step.status, text: `${step.step} (${step.status})` }));
  }
  node.replaceChildren(el("div", { class: "title", text: "Plan" }));
  if (params.explanation) node.append(el("div", { class: "meta", text: params.explanation }));
  node.append(list);
}

function renderTurn(turn, done) {
  let node = state.turnNodes.get(turn.id);
  if (!node) {
    const what = state.lastRequest ? `Working on: “${state.lastRequest}”` : "Working";
    node = el("li", { class: "work-item turn" }, el("div", { class: "title", text: what }), el("div", { class: "meta" }));
    state.turnNodes.set(turn.id, node);
    workList().append(node);
    state.lastRequest = null;
  }
  const meta = node.querySelector(".meta");
  if (!done) meta.textContent = "the background agent is working…";
  else {
    node.className = `work-item turn ${turn.status === "completed" ? "completed" : "failed"}`;
    meta.textContent = turn.status === "completed" ? "done" : `${turn.status}${turn.error ? `: ${turn.error.message}` : ""}`;
  }
}

// --- approvals --------------------------------------------------------------------------------

const DECISION_LABELS = {
  accept: "Approve",
  acceptForSession: "Approve for this session",
  decline: "Decline",
  cancel: "Cancel the task",
};

function askApproval(kind, params, requestId) {
  return new Promise((resolve) => {
    const heading = kind === "command" ? "Run this command?" : "Apply these file changes?";
    const card = el("div", { class: "approval", role: "group" });
    card.requestId = requestId;
    const headingId = `approval-${params.itemId}`;
    card.setAttribute("aria-labelledby", headingId);
    card.append(el("h3", { id: headingId, text: heading }));
    if (kind === "command" && params.command) card.append(el("pre", { text: params.command }));
    if (params.cwd) card.append(el("div", { class: "meta", text: `in ${params.cwd}` }));
    if (params.reason) card.append(el("div", { class: "meta", text: params.reason }));
    if (kind === "fileChange") {
      const changes = state.workNodes.get(params.itemId);
      if (changes) card.append(el("div", { class: "meta", text: "See the proposed diff below." }));
      if (params.grantRoot) card.append(el("div", { class: "meta", text: `and allow writes under ${params.grantRoot}` }));
    }
    const decisions = (params.availableDecisions || ["accept", "acceptForSession", "decline", "cancel"]).filter(
      (d) => typeof d === "string" && DECISION_LABELS[d],
    );
    const buttons = el("div", { class: "buttons" });
    for (const decision of decisions) {
      const button = el("button", {
        type: "button",
        class: decision.startsWith("accept") ? "accept" : "decline",
        text: DECISION_LABELS[decision],
      });
      button.addEventListener("click", () => {
        card.remove();
        state.approvals.delete(params.itemId);
        addNote(`${DECISION_LABELS[decision]}: ${kind === "command" ? params.command : "file changes"}`);
        resolve({ decision });
      });
      buttons.append(button);
    }
    card.append(buttons);
    card.cancelPending = () => {
      card.remove();
      resolve({ decision: "cancel" });
    };
    state.approvals.set(params.itemId, card);
    $("approvals").append(card);
    buttons.querySelector("button")?.focus();
  });
}

// --- notifications and server requests --------------------------------------------------------

function bargeIn(why) {
  if (!stats.playing && !state.currentOutputItem) return;
  if (state.currentOutputItem) state.interruptedItems.add(state.currentOutputItem);
  audio.stopPlayback();
  stats.playing = false;
  stats.bargeIns += 1;
  stats.lastBargeIn = why;
  updateSpeaking(false);
}

function onNotification(method, params) {
  if (params.threadId && state.threadId && params.threadId !== state.threadId) return;
  switch (method) {
    case "thread/realtime/started":
      state.running = true;
      stats.realtime = "running";
      updateConversationButtons();
      updateSpeaking(false);
      break;
    case "thread/realtime/sdp":
      if (state.pc) {
        state.pc
          .setRemoteDescription({ type: "answer", sdp: params.sdp })
          .catch((error) => showError(`WebRTC: the answer was refused by the browser: ${error.message}`));
      }
      break;
    case "thread/realtime/transcriptUpdated":
      addTranscript(params.role, params.text || "");
      break;
    case "thread/realtime/outputAudio/delta": {
      const item = params.audio.itemId || null;
      if (state.talking && item) state.interruptedItems.add(item); // push-to-talk is half-duplex
      if (state.talking || (item && state.interruptedItems.has(item))) {
        stats.droppedAfterBargeIn += 1;
        break;
      }
      state.currentOutputItem = item;
      audio.play(base64ToFloat32(params.audio.data), params.audio.sampleRate || SAMPLE_RATE);
      break;
    }
    case "thread/realtime/itemAdded": {
      const item = params.item || {};
      if (item.type === "input_audio_buffer.speech_started") bargeIn("server heard speech");
      else if (item.type === "handoff_request") {
        state.lastRequest = item.input_transcript || null;
      }
      break;
    }
    case "thread/realtime/error":
      showError(`Voice conversation error: ${params.message}`);
      break;
    case "thread/realtime/closed":
      endConversation(params.reason);
      break;
    case "turn/started":
      renderTurn(params.turn, false);
      break;
    case "turn/completed":
      renderTurn(params.turn, true);
      loadThreads(); // the thread's preview and time changed
      break;
    case "item/started":
      renderItem(params.item, false);
      break;
    case "item/completed":
      renderItem(params.item, true);
      break;
    case "item/commandExecution/outputDelta": {
      const node = state.workNodes.get(params.itemId);
      const pre = node && node.querySelector("pre");
      if (pre) pre.textContent += params.delta;
      break;
    }
    case "item/agentMessage/delta": {
      const node = state.workNodes.get(params.itemId);
      const body = node && node.querySelector(".body");
      if (body) body.textContent += params.delta;
      break;
    }
    case "turn/plan/updated":
      renderPlan(params);
      break;
    case "serverRequest/resolved":
      for (const [itemId, card] of state.approvals) {
        if (card.requestId === params.requestId) {
          card.cancelPending();
          state.approvals.delete(itemId);
        }
      }
      break;
    case "error": {
      const message = (params.error && params.error.message) || "unknown error";
      showError(params.willRetry ? `${message} (retrying…)` : message);
      break;
    }
    default:
      break;
  }
}

async function onRequest(method, params, requestId) {
  if (params.threadId && state.threadId && params.threadId !== state.threadId) {
    throw new Error("this page is showing another thread");
  }
  if (method === "item/commandExecution/requestApproval") return askApproval("command", params, requestId);
  if (method === "item/fileChange/requestApproval") return askApproval("fileChange", params, requestId);
  throw new Error(`${method} is not supported by parley web`);
}

// --- conversation lifecycle -------------------------------------------------------------------

function updateConversationButtons() {
  const start = $("start-button");
  start.disabled = !stats.connected;
  start.textContent = state.running || stats.realtime === "starting" ? "Stop conversation" : "Start conversation";
  $("talk-button").disabled = !state.running || handsFree();
  for (const id of ["voice-select", "transport-select", "thread-select"]) $(id).disabled = state.running;
}

async function ensureThread() {
  if (state.threadId) return state.threadId;
  const chosen = $("thread-select").value;
  const result = chosen
    ? await rpc.request("thread/resume", { threadId: chosen })
    : await rpc.request("thread/start", {});
  state.threadId = result.thread.id;
  if (!chosen) {
    $("thread-select").append(el("option", { value: state.threadId, text: threadLabel(result.thread) }));
    $("thread-select").value = state.threadId;
  }
  return state.threadId;
}

async function startConversation() {
  clearError();
  stats.realtime = "starting";
  updateConversationButtons();
  setStatus("starting", "Starting conversation…");
  try {
    await audio.ensureContext();
    const threadId = await ensureThread();
    state.transport = $("transport-select").value;
    const params = { threadId };
    const voice = $("voice-select").value;
    if (voice) params.voice = voice;
    if (state.transport === "webrtc") {
      params.transport = { type: "webrtc", sdp: await makeOffer() };
    }
    if (state.transport === "websocket") {
      // The microphone opens, and its capture runs, before the conversation is asked for: a
      // refused permission is reported before anything starts, and what is said while the
      // session connects waits in `pendingAudio` instead of being lost (a microphone track
      // that nothing reads drops its audio).
      audio.onChunk = (pcm) => sendAudio(pcm);
      audio.onLevel = (rms) => onMicLevel(rms);
      await audio.startCapture();
    }
    await rpc.request("thread/realtime/start", params);
  } catch (error) {
    stats.realtime = "idle";
    audio.stopCapture();
    closePeer();
    if (error instanceof MicError) {
      setStatus("error", "No microphone");
      showError(`Microphone: ${error.message}`);
    } else {
      setStatus("error", "Could not start");
      showError(`Could not start the conversation: ${error.message}`);
    }
    updateConversationButtons();
  }
}

async function makeOffer() {
  const pc = new RTCPeerConnection({ iceServers: [] });
  state.pc = pc;
  // The microphone joins once the call is up (replaceTrack needs no new offer), so nothing
  // said while the call is still connecting is lost.
  const transceiver = pc.addTransceiver("audio", { direction: "sendrecv" });
  pc.createDataChannel("oai-events");
  pc.ontrack = (event) =>
    audio.playRemote(event.streams[0] || new MediaStream([event.track]), event.receiver);
  pc.onconnectionstatechange = () => {
    stats.webrtc = pc.connectionState;
    if (pc.connectionState === "connected" && !state.micAttached) {
      state.micAttached = true;
      attachMicToCall(transceiver.sender).catch((error) => {
        showError(error instanceof MicError ? `Microphone: ${error.message}` : `WebRTC: ${error.message}`);
      });
    } else if (pc.connectionState === "failed") {
      showError("WebRTC: the media connection failed");
    }
  };
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  if (pc.iceGatheringState !== "complete") {
    await new Promise((resolve) => {
      pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
      setTimeout(resolve, 3000); // host candidates are enough on this machine
    });
  }
  return pc.localDescription.sdp;
}

async function attachMicToCall(sender) {
  const stream = await audio.openMic();
  await sender.replaceTrack(stream.getAudioTracks()[0]);
  stats.micAttached = true;
  // Level for the meter and barge-in comes from the same microphone.
  const context = await audio.ensureContext();
  const source = context.createMediaStreamSource(stream);
  const meter = new AudioWorkletNode(context, "parley-capture", { numberOfOutputs: 0 });
  meter.port.onmessage = (event) => event.data.type === "level" && onMicLevel(event.data.rms);
  source.connect(meter);
}

function closePeer() {
  state.micAttached = false;
  if (state.pc) {
    state.pc.close();
    state.pc = null;
  }
}

const pendingAudio = []; // captured while the conversation was still starting

function sendAudio(pcm) {
  if (!handsFree() && !state.talking) return;
  if (!state.running || !state.threadId) {
    if (stats.realtime === "starting" && pendingAudio.length < 50) pendingAudio.push(pcm);
    return;
  }
  while (pendingAudio.length > 0) appendAudio(pendingAudio.shift());
  appendAudio(pcm);
}

function appendAudio(pcm) {
  const samples = pcm.byteLength / 2;
  stats.chunksSent += 1;
  rpc
    .request("thread/realtime/appendAudio", {
      threadId: state.threadId,
      audio: { data: int16ToBase64(pcm), sampleRate: SAMPLE_RATE, numChannels: 1, samplesPerChannel: samples },
    })
    .catch(() => {});
}

function onMicLevel(rms) {
  $("mic-level").value = Math.min(1, rms * 4);
  const speaking = rms > LOCAL_BARGE_IN_LEVEL && (handsFree() || state.talking);
  state.loudBlocks = speaking ? state.loudBlocks + 1 : 0;
  if (state.loudBlocks >= 3 && stats.playing) bargeIn("you spoke");
}

async function stopConversation() {
  if (!state.threadId) return;
  try {
    await rpc.request("thread/realtime/stop", { threadId: state.threadId });
  } catch (error) {
    endConversation("requested");
  }
}

function endConversation(reason) {
  pendingAudio.length = 0;
  const wasRunning = state.running || stats.realtime === "starting";
  state.running = false;
  stats.realtime = "closed";
  audio.stopCapture();
  closePeer();
  updateConversationButtons();
  if (!wasRunning) return;
  if (reason === "requested") {
    setStatus("ready", "Conversation ended");
    addNote("Conversation ended.");
  } else {
    const why = reason === "transport_closed" ? "the voice service closed the connection" : "of an error";
    setStatus("ended", "Conversation ended");
    showError(`The voice conversation ended because ${why}. Start it again to go on.`);
  }
}

// --- pickers ----------------------------------------------------------------------------------

function threadLabel(thread) {
  const name = thread.name || thread.preview || "(no messages yet)";
  const when = thread.updatedAt || thread.createdAt;
  const date = when ? new Date(when * 1000).toLocaleString() : "";
  return `${name.slice(0, 60)}${date ? ` — ${date}` : ""}`;
}

async function loadThreads() {
  const select = $("thread-select");
  const keep = state.threadId || select.value || state.initialThread || "";
  try {
    const result = await rpc.request("thread/list", { limit: 50 });
    select.replaceChildren(el("option", { value: "", text: "New thread" }));
    for (const thread of result.data || []) {
      select.append(el("option", { value: thread.id, text: threadLabel(thread) }));
    }
  } catch (error) {
    showError(`Could not list threads: ${error.message}`);
  }
  if (keep && ![...select.options].some((o) => o.value === keep)) {
    select.append(el("option", { value: keep, text: keep }));
  }
  select.value = keep;
}

async function loadVoices() {
  const select = $("voice-select");
  try {
    const { voices } = await rpc.request("thread/realtime/listVoices", {});
    const keep = select.value;
    select.replaceChildren(el("option", { value: "", text: `Default (${voices.defaultV2})` }));
    for (const [label, names] of [["Realtime v2", voices.v2], ["Realtime v1", voices.v1]]) {
      const group = el("optgroup", { label });
      for (const name of names || []) group.append(el("option", { value: name, text: name }));
      select.append(group);
    }
    select.value = keep;
  } catch (error) {
    showError(`Could not list voices: ${error.message}`);
  }
}

// --- connection -------------------------------------------------------------------------------

async function onOpen() {
  try {
    await rpc.request("initialize", {
      clientInfo: { name: "parley_web", title: "Parley web", version: "0.1.0" },
      capabilities: { experimentalApi: true },
    });
    rpc.notify("initialized");
    stats.connected = true;
    clearError();
    if (state.threadId) {
      // After a reconnect: subscribe again to the thread this page shows.
      await rpc.request("thread/resume", { threadId: state.threadId });
    }
    await Promise.all([loadThreads(), loadVoices()]);
    setStatus("ready", "Ready");
    updateConversationButtons();
  } catch (error) {
    setStatus("error", "Not ready");
    showError(`Parley did not accept this page: ${error.message}`);
  }
}

function onClose(event) {
  const wasConnected = stats.connected;
  stats.connected = false;
  if (state.running || stats.realtime === "starting") endConversation("connection lost");
  updateConversationButtons();
  setStatus("reconnecting", "Reconnecting…");
  if (wasConnected) showError("The connection to Parley was lost; reconnecting…");
  else if (event.code === 1011) showError(`Parley cannot reach its app-server: ${event.reason || "connection refused"}`);
}

async function main() {
  $("banner-close").addEventListener("click", clearError);
  if (!token) {
    setStatus("error", "No access token");
    showError("This page needs the link that `parley web` printed (it carries an access token after #).");
    return;
  }
  // Clear the token from the address bar and history; it stays in this page only.
  history.replaceState(null, "", location.pathname);
  let session;
  try {
    const response = await fetch("/api/session", { headers: { Authorization: `Bearer ${token}` } });
    if (response.status === 403) {
      setStatus("error", "Access refused");
      stats.refused = true;
      sessionStorage.removeItem("parley-token");
      showError("Access refused: this link's token is not the one of the running `parley web`. Use the link it printed.");
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    session = await response.json();
  } catch (error) {
    setStatus("error", "Parley is not running");
    showError(`Cannot reach parley web (${error.message}). Is it still running?`);
    return;
  }
  $("backend").textContent = session.backend;
  if (session.thread) state.initialThread = session.thread;
  rpc = new Rpc(token, { onNotification, onRequest, onOpen, onClose });
  rpc.connect();

  $("start-button").addEventListener("click", () => {
    if (state.running || stats.realtime === "starting") stopConversation();
    else startConversation();
  });
  $("thread-refresh").addEventListener("click", loadThreads);
  $("thread-select").addEventListener("change", () => {
    state.threadId = null; // the next start resumes the chosen thread
  });
  for (const radio of document.querySelectorAll('input[name="mode"]')) {
    radio.addEventListener("change", () => {
      updateConversationButtons();
      updateSpeaking(stats.playing);
    });
  }
  const talk = $("talk-button");
  const press = () => {
    if (talk.disabled || state.talking) return;
    state.talking = true;
    talk.setAttribute("aria-pressed", "true");
    bargeIn("push-to-talk");
    setStatus("listening", "Listening (talk)");
  };
  const release = () => {
    if (!state.talking) return;
    state.talking = false;
    talk.setAttribute("aria-pressed", "false");
    updateSpeaking(stats.playing);
  };
  talk.addEventListener("pointerdown", press);
  talk.addEventListener("pointerup", release);
  talk.addEventListener("pointerleave", release);
  talk.addEventListener("keydown", (e) => (e.key === " " || e.key === "Enter") && (e.preventDefault(), press()));
  talk.addEventListener("keyup", (e) => (e.key === " " || e.key === "Enter") && release());
  document.addEventListener("keydown", (e) => {
    if (e.key === " " && !e.repeat && !e.target.closest("input, select, button, textarea")) {
      e.preventDefault();
      press();
    }
  });
  document.addEventListener("keyup", (e) => {
    if (e.key === " " && !e.target.closest("input, select, button, textarea")) release();
  });

  $("text-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("text-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    try {
      const threadId = await ensureThread();
      if (state.running) {
        addTranscript("user", `(typed) ${text}`);
        state.transcript = { role: null, node: null, text: "" };
        await rpc.request("thread/realtime/appendText", { threadId, text });
      } else {
        // No voice conversation: the text becomes an ordinary agent turn.
        addTranscript("user", text);
        state.transcript = { role: null, node: null, text: "" };
        state.lastRequest = text;
        await rpc.request("turn/start", { threadId, input: [{ type: "text", text, text_elements: [] }] });
      }
    } catch (error) {
      showError(`Could not send the message: ${error.message}`);
    }
  });
}

main();
