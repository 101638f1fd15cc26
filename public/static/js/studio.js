// The studio, enhanced: submit without leaving the page, follow the queue live, play the result.
// Without this script every form still works (plain posts, reload to see progress).

const studio = document.querySelector("[data-studio]");
const form = document.querySelector("[data-generate]");
const jobs = document.querySelector("[data-jobs]");
const connection = document.querySelector("[data-connection]");
const status = document.querySelector(".status");
const audio = document.querySelector("[data-audio]");
const wave = document.querySelector("[data-wave]");
const playerTitle = document.querySelector("[data-player-title]");

const messages = JSON.parse(document.getElementById("studio-messages").textContent);
let lastSeq = Number(studio.dataset.lastSeq || 0);
let peaks = [];

function t(name, values = {}) {
  return messages[name].replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));
}

function say(message) {
  status.textContent = message;
}

async function send(url, options) {
  let response;
  try {
    response = await fetch(url, { ...options, headers: { Accept: "application/json", ...(options.headers || {}) } });
  } catch {
    throw new Error(t("unreachable"));
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.message || t("server_error", { status: response.status }));
    error.code = body.error;
    throw error;
  }
  return body;
}

// "Not enough credits" goes to the error summary with a way out: plans and credit packs.
function showCreditsNeeded(message) {
  let summary = form.querySelector("[data-error-summary]");
  if (!summary) {
    summary = document.createElement("div");
    summary.className = "error-summary";
    summary.setAttribute("role", "alert");
    summary.tabIndex = -1;
    summary.dataset.errorSummary = "";
    form.querySelector("#studio-title").after(summary);
  }
  const text = document.createElement("p");
  text.textContent = message;
  const link = document.createElement("a");
  link.href = "/pricing";
  link.textContent = t("buy_credits");
  const more = document.createElement("p");
  more.append(link);
  summary.replaceChildren(text, more);
  summary.focus();
}

// The header's balance (shell.js) follows every spend and refund without a reload.
async function refreshBalance() {
  try {
    const { balance } = await send("/account/balance", { cache: "no-store" });
    document.dispatchEvent(new CustomEvent("beatbun:balance", { detail: { balance } }));
  } catch {
    // The next page shows it.
  }
}

// --- cost ------------------------------------------------------------------------------------

function updateCost() {
  const seconds = Math.min(Math.max(Number(form.elements.duration_seconds.value) || 30, 5), 300);
  const lyrics = form.elements.lyrics && !form.elements.lyrics.disabled && form.elements.lyrics.value.trim();
  const blocks = Math.max(1, Math.ceil(seconds / Number(studio.dataset.secondsPerCredit)));
  const cost = blocks * (lyrics ? Number(studio.dataset.lyricsMultiplier) : 1);
  form.querySelector("[data-cost]").textContent = String(cost);
}

form.addEventListener("input", updateCost);

// --- submitting ------------------------------------------------------------------------------

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const job = await send(form.action, { method: "POST", body: new FormData(form) });
    showSubmitted(job);
    refreshBalance();
    connect(); // the event stream fallback ends when the queue is idle
    form.querySelector("[data-error-summary]")?.remove();
    say(t("submitted"));
    // A new token for the next track; a resubmission of this one would return the same job.
    form.querySelector("[data-request-token]").value = crypto.randomUUID().replaceAll("-", "");
  } catch (error) {
    if (error.code === "insufficient_credits") showCreditsNeeded(error.message);
    else say(error.message);
  } finally {
    button.disabled = false;
  }
});

jobs.addEventListener("submit", async (event) => {
  const cancel = event.target.closest("[data-cancel]");
  if (!cancel) return;
  event.preventDefault();
  try {
    await send(cancel.action, { method: "POST", body: new FormData(cancel) });
  } catch (error) {
    say(error.message);
  }
});

jobs.addEventListener("click", (event) => {
  const play = event.target.closest("[data-play]");
  if (!play) return;
  event.preventDefault();
  loadTrack(play.dataset.play, true);
});

// --- the queue, live -------------------------------------------------------------------------

// Live events are pushed as the queue records them, so the job's first events may arrive before
// the answer to its submission: then the entry exists already and only its title is missing.
function showSubmitted(job) {
  const item = jobs.querySelector(`[data-job="${job.id}"]`);
  if (item) item.querySelector(".job__title").textContent = job.request.prompt;
  else upsertJob(job.id, { status: "queued", title: job.request.prompt, text: t("queued") });
}

function upsertJob(jobId, { status: jobStatus, title, text, trackId }) {
  let item = jobs.querySelector(`[data-job="${jobId}"]`);
  if (!item) {
    jobs.querySelector(".jobs__empty")?.remove();
    item = document.createElement("li");
    item.dataset.job = jobId;
    const name = document.createElement("span");
    name.className = "job__title";
    name.textContent = title || "";
    const state = document.createElement("span");
    state.className = "job__status";
    state.dataset.jobStatus = "";
    item.append(name, state);
    jobs.prepend(item);
  }
  item.className = `job job--${jobStatus}`;
  item.dataset.status = jobStatus;
  item.querySelector("[data-job-status]").textContent = text;
  if (jobStatus !== "queued") item.querySelector("[data-cancel]")?.remove();
  if (trackId && !item.querySelector("[data-play]")) {
    const play = document.createElement("a");
    play.className = "job__play";
    play.href = `/tracks/${trackId}`;
    play.dataset.play = trackId;
    play.textContent = t("play");
    item.append(play);
  }
}

function describe(event) {
  switch (event.type) {
    case "queued":
      return event.position ? t("queued_at", { position: event.position }) : t("queued");
    case "waiting":
      return t("waiting", { position: event.line_position });
    case "running":
      return t("running");
    case "succeeded":
      return t("ready");
    case "canceled":
      return t("canceled", { refunded: event.refunded });
    default: {
      const code = event.error ? event.error.code : "";
      return t("failed", { refunded: event.refunded, reason: messages.reasons[code] || messages.reasons[""] });
    }
  }
}

function onEvent(event) {
  if (event.seq <= lastSeq) return;
  lastSeq = event.seq;
  upsertJob(event.job_id, { status: event.status, text: describe(event), trackId: event.track_id });
  if (event.type === "succeeded") {
    say(t("done"));
    loadTrack(event.track_id, false);
  } else if (event.type === "failed") {
    say(describe(event));
  }
  if (event.refunded) refreshBalance();
}

function showConnection(message) {
  connection.hidden = !message;
  connection.textContent = message || "";
}

// The live channel: a WebSocket that the user's queue pushes to. On every (re)connection the
// client says the last event it saw and gets everything after it, so a reload, a closed tab or
// a lost network misses nothing. Without WebSockets, server-sent events carry the same events.
const live = {
  socket: null,
  source: null,
  retries: 0,
  timer: null,
  opened: false, // a socket has opened once, so WebSockets work on this network
};
const FIRST_RETRY_MS = 500;
const LONGEST_RETRY_MS = 15000;
const FAILURES_BEFORE_FALLBACK = 3;

function connect() {
  clearTimeout(live.timer);
  if (!navigator.onLine) return;
  if (!("WebSocket" in window) || (!live.opened && live.retries >= FAILURES_BEFORE_FALLBACK)) {
    follow();
    return;
  }
  if (live.socket) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/studio/live`);
  live.socket = socket;
  socket.addEventListener("open", () => {
    live.opened = true;
    live.retries = 0;
    showConnection("");
    socket.send(JSON.stringify({ after: lastSeq }));
  });
  socket.addEventListener("message", (message) => onEvent(JSON.parse(message.data)));
  socket.addEventListener("close", () => {
    if (live.socket !== socket) return; // closed on purpose
    live.socket = null;
    retry();
  });
}

function retry() {
  if (!navigator.onLine) return;
  showConnection(t("reconnecting"));
  // Exponential backoff with jitter, so a restarted server is not met by every tab at once.
  const delay = Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** live.retries) * (0.5 + Math.random() / 2);
  live.retries += 1;
  live.timer = setTimeout(connect, delay);
}

// Server-sent events: the stream ends when nothing is queued or running (and answers 204, which
// stops the browser's own reconnecting), so it is opened again whenever a job is submitted.
function follow() {
  if (live.source && live.source.readyState !== EventSource.CLOSED) return;
  // `after` covers the first connection; the browser resends Last-Event-ID on its own retries.
  const source = new EventSource(`/studio/events?after=${lastSeq}`);
  live.source = source;
  source.addEventListener("job", (message) => onEvent(JSON.parse(message.data)));
  source.addEventListener("open", () => showConnection(""));
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CONNECTING) showConnection(t("reconnecting"));
  });
}

function disconnect() {
  clearTimeout(live.timer);
  const { socket, source } = live;
  live.socket = null;
  live.source = null;
  if (socket) socket.close(1000);
  if (source) source.close();
}

window.addEventListener("offline", () => {
  disconnect();
  showConnection(t("offline"));
});
window.addEventListener("online", () => {
  live.retries = 0;
  showConnection("");
  connect();
});
// A page kept in the back/forward cache comes back without its socket.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) connect();
});
window.addEventListener("pagehide", disconnect);

// --- the player ------------------------------------------------------------------------------

async function loadTrack(trackId, autoplay) {
  try {
    const track = await send(`/tracks/${trackId}`, { method: "GET" });
    peaks = track.peaks;
    playerTitle.textContent = track.title;
    audio.src = track.audio_url;
    audio.dataset.track = trackId;
    draw();
    if (autoplay) await audio.play();
  } catch (error) {
    say(error.message);
  }
}

function draw() {
  const context = wave.getContext("2d");
  const { width, height } = wave;
  context.clearRect(0, 0, width, height);
  if (!peaks.length) return;
  const played = audio.duration ? audio.currentTime / audio.duration : 0;
  const style = getComputedStyle(document.documentElement);
  peaks.forEach(([low, high], index) => {
    const x = (index / peaks.length) * width;
    context.fillStyle = index / peaks.length < played ? style.getPropertyValue("--accent") : style.getPropertyValue("--muted");
    context.fillRect(x, ((1 - high) * height) / 2, Math.max(width / peaks.length, 1), ((high - low) * height) / 2 || 1);
  });
}

wave.addEventListener("click", (event) => {
  if (!audio.duration) return;
  const box = wave.getBoundingClientRect();
  audio.currentTime = ((event.clientX - box.left) / box.width) * audio.duration;
});
audio.addEventListener("timeupdate", draw);

if (audio.dataset.track) {
  send(`/tracks/${audio.dataset.track}`, { method: "GET" }).then((track) => {
    peaks = track.peaks;
    draw();
  }, () => {});
}

updateCost();
connect();
document.querySelector("[data-error-summary]")?.focus();
