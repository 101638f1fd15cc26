// The studio, enhanced: the prompt read as it is typed, the price as parameters change, submit
// without leaving the page, follow the queue live, hand finished tracks to the docked player.
// Without this script every form still works (plain posts, reload to see progress).

const studio = document.querySelector("[data-studio]");
const form = document.querySelector("[data-generate]");
const jobs = document.querySelector("[data-jobs]");
const connection = document.querySelector("[data-connection]");
const status = document.querySelector(".status");
const drawer = form.querySelector("[data-drawer]");
const prompt = form.elements.prompt;
const resolved = form.querySelector("[data-resolved]");
const formMessage = form.querySelector("[data-form-message]");
// The prompt is read as it is typed, so the button that asks for the reading is not needed.
form.querySelector("[data-check]").remove();

// The limits and every length's price, as the server computes them (generation/studio.py).
const rules = JSON.parse(document.getElementById("studio-rules").textContent);
const messages = JSON.parse(document.getElementById("studio-messages").textContent);
let lastSeq = Number(studio.dataset.lastSeq || 0);

function t(name, values = {}) {
  return messages[name].replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));
}

function say(message) {
  status.textContent = message;
}

function emit(name, detail) {
  document.dispatchEvent(new CustomEvent(name, { detail }));
}

async function send(url, options) {
  let response;
  try {
    response = await fetch(url, { ...options, headers: { Accept: "application/json", ...(options.headers || {}) } });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new Error(t("unreachable"));
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.message || t("server_error", { status: response.status }));
    error.code = body.error;
    error.field = body.field;
    throw error;
  }
  return body;
}

// The header's balance (shell.js) follows every spend and refund without a reload.
async function refreshBalance() {
  try {
    const { balance } = await send("/account/balance", { cache: "no-store" });
    emit("beatbun:balance", { balance });
  } catch {
    // The next page shows it.
  }
}

// --- messages next to what they are about ----------------------------------------------------

function controlFor(field) {
  return field ? form.querySelector(`[name="${CSS.escape(field)}"]`) : null;
}

function showFieldError(field, message) {
  const control = controlFor(field);
  const anchor = control && (control.type === "checkbox" || control.type === "radio") ? control.closest("fieldset") : control;
  if (!anchor) return false;
  let note = form.querySelector(`[data-field-error="${CSS.escape(field)}"]`);
  if (!note) {
    note = document.createElement("p");
    note.className = "field-error";
    note.id = `${field}-error`;
    note.dataset.fieldError = field;
    if (anchor.tagName === "FIELDSET") anchor.append(note);
    else anchor.after(note);
  }
  note.textContent = message;
  anchor.setAttribute("aria-describedby", note.id);
  if (anchor === control) control.setAttribute("aria-invalid", "true");
  return true;
}

function clearFieldErrors() {
  form.querySelectorAll("[data-field-error]").forEach((note) => note.remove());
  form.querySelectorAll("[aria-invalid]").forEach((control) => {
    control.removeAttribute("aria-invalid");
    if (control.getAttribute("aria-describedby")?.endsWith("-error")) control.removeAttribute("aria-describedby");
  });
  form.querySelectorAll("fieldset[aria-describedby]").forEach((set) => set.removeAttribute("aria-describedby"));
}

// Where a refusal's way out is: "not enough credits" leads to the plans, a restriction to the
// privacy page where it is lifted.
const WAY_OUT = {
  insufficient_credits: ["/pricing", "buy_credits"],
  account_restricted: ["/account/privacy#restriction", "privacy_page"],
};

// Money and whole-form messages sit beside the button, which may be below the window: the
// message is brought into view and focused, so it is seen and read out.
function showFormMessage(message, code) {
  const text = document.createElement("p");
  text.textContent = message;
  text.dataset.errorCode = code || "";
  const parts = [text];
  if (Object.hasOwn(WAY_OUT, code || "")) {
    const [href, label] = WAY_OUT[code];
    const link = document.createElement("a");
    link.href = href;
    link.textContent = t(label);
    const more = document.createElement("p");
    more.append(link);
    parts.push(more);
  }
  formMessage.replaceChildren(...parts);
  formMessage.hidden = false;
  formMessage.focus({ preventScroll: true });
  const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  formMessage.scrollIntoView({ block: "center", behavior: still ? "auto" : "smooth" });
}

function clearFormMessage() {
  formMessage.replaceChildren();
  formMessage.hidden = true;
}

function focusField(field) {
  const control = controlFor(field);
  if (!control) return;
  if (drawer.contains(control)) drawer.open = true;
  control.focus();
}

// --- the drawer: a column on wide screens, a bottom sheet on phones ---------------------------

const phone = window.matchMedia("(max-width: 52rem)");
studio.classList.add("studio--enhanced");

function fitDrawer() {
  // On a phone the sheet starts closed, unless a field in it needs attention.
  drawer.open = !phone.matches || Boolean(drawer.querySelector("[aria-invalid]"));
}

drawer.querySelector("summary").addEventListener("click", () => drawer.classList.add("drawer--animated"));
drawer.querySelector("[data-drawer-close]").hidden = false;
drawer.querySelector("[data-drawer-close]").addEventListener("click", () => {
  drawer.open = false;
  drawer.querySelector("summary").focus();
});
drawer.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && phone.matches && drawer.open) {
    drawer.open = false;
    drawer.querySelector("summary").focus();
  }
});
phone.addEventListener("change", fitDrawer);

// --- cost ------------------------------------------------------------------------------------

function lengthInSeconds() {
  const typed = Number(form.elements.duration_seconds.value);
  const seconds = Number.isFinite(typed) && form.elements.duration_seconds.value !== "" ? Math.ceil(typed) : rules.duration_default;
  return Math.min(Math.max(seconds, rules.duration_min), rules.duration_max);
}

function updateCost() {
  const lyrics = form.elements.lyrics;
  const withLyrics = rules.lyrics_allowed && lyrics && !lyrics.disabled && lyrics.value.trim() !== "";
  const table = withLyrics ? rules.lyrics_prices : rules.prices;
  form.querySelector("[data-cost]").textContent = String(table[lengthInSeconds() - rules.duration_min]);
}

// --- what the prompt resolves to -------------------------------------------------------------

const RESOLVE_DELAY_MS = 300;
let resolveTimer = null;
let resolving = null;

function scheduleResolve() {
  clearTimeout(resolveTimer);
  resolveTimer = setTimeout(resolvePrompt, RESOLVE_DELAY_MS);
}

async function resolvePrompt() {
  resolving?.abort();
  if (!prompt.value.trim()) {
    resolved.hidden = true;
    return;
  }
  resolving = new AbortController();
  const body = new FormData(form);
  body.delete("request_token");
  try {
    const plan = await send("/studio/resolve", { method: "POST", body, signal: resolving.signal });
    clearFieldErrors();
    showResolution(plan);
  } catch (error) {
    if (error.name === "AbortError") return;
    if (error.field) showFieldError(error.field, error.message);
  }
}

function chip(text, onPick) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "resolved__chip";
  button.textContent = text;
  button.addEventListener("click", onPick);
  item.append(button);
  return item;
}

// A chip puts its value into the matching control, so it can be changed from there.
function setControl(name, value) {
  const control = form.elements[name];
  if (control instanceof RadioNodeList) {
    for (const option of control) if (option.value === value) option.checked = true;
  } else {
    control.value = value;
  }
  const target = control instanceof RadioNodeList ? [...control].find((option) => option.checked) : control;
  if (drawer.contains(target)) drawer.open = true;
  target?.focus();
  form.dispatchEvent(new Event("input"));
}

function showResolution(plan) {
  const mode = t(plan.mode);
  const chips = [
    chip(t("chip_genre", { value: plan.genre_label }), () => {
      const tag = form.querySelector(`[data-genre-tag][value="${CSS.escape(plan.genre)}"]`);
      if (!tag) return;
      tag.checked = true;
      tag.focus();
      form.dispatchEvent(new Event("input"));
    }),
    chip(t("chip_tempo", { value: plan.bpm }), () => setControl("bpm", String(plan.bpm))),
    chip(t("chip_key", { value: `${plan.key} ${mode}` }), () => {
      setControl("mode", plan.mode);
      setControl("key", plan.key);
    }),
    chip(t("chip_mood", { value: plan.mood_label }), () => setControl("mood", plan.mood)),
    chip(t("chip_length", { value: plan.duration_seconds }), () => setControl("duration_seconds", String(plan.duration_seconds))),
  ];
  resolved.querySelector("[data-resolved-chips]").replaceChildren(...chips);
  const note = resolved.querySelector("[data-resolved-note]");
  note.textContent = plan.notes.join(" ");
  note.hidden = plan.notes.length === 0;
  const words = resolved.querySelector("[data-resolved-words]");
  const read = plan.understood.map((item) => `${item.word} (${item.label})`).join(", ");
  words.textContent = `${t("understood")} ${read}`;
  words.hidden = plan.understood.length === 0;
  resolved.hidden = false;
}

// --- measurements (sent on only with consent, by analytics.js) ------------------------------

let dwellMs = 0;
let focusedAt = null;
prompt.addEventListener("focus", () => {
  focusedAt = performance.now();
});
prompt.addEventListener("blur", () => {
  if (focusedAt !== null) dwellMs += performance.now() - focusedAt;
  focusedAt = null;
});

function takeDwell() {
  const now = performance.now();
  const total = dwellMs + (focusedAt !== null ? now - focusedAt : 0);
  dwellMs = 0;
  if (focusedAt !== null) focusedAt = now;
  return Math.round(total);
}

form.addEventListener("click", (event) => {
  const tag = event.target.closest("[data-genre-tag]");
  if (tag) emit("beatbun:measure", { name: "genre_tag_click", value: 1, label: tag.value });
});

form.addEventListener("input", (event) => {
  updateCost();
  if (event.target !== form.elements.seed && event.target !== form.elements.lyrics) scheduleResolve();
});
form.addEventListener("change", updateCost);

// --- submitting ------------------------------------------------------------------------------

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  // A reading asked for before this submit would clear the messages it brings.
  clearTimeout(resolveTimer);
  resolving?.abort();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  emit("beatbun:measure", { name: "prompt_dwell_ms", value: takeDwell(), label: "" });
  try {
    const job = await send(form.action, { method: "POST", body: new FormData(form) });
    clearFieldErrors();
    clearFormMessage();
    // Its live events may have come first; then they have said more than "queued" already.
    if (showSubmitted(job)) say(t("submitted"));
    refreshBalance();
    connect(); // the event stream fallback ends when the queue is idle
    resolvePrompt();
    // A new token for the next track; a resubmission of this one would return the same job.
    form.querySelector("[data-request-token]").value = crypto.randomUUID().replaceAll("-", "");
  } catch (error) {
    clearFieldErrors();
    clearFormMessage();
    if (showFieldError(error.field, error.message)) focusField(error.field);
    else showFormMessage(error.message, error.code);
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

// The docked player (player.js) plays what the studio hands it; without one, the link opens
// the track's page.
function play(trackId, title, autoplay) {
  emit("beatbun:play", { trackId, title, autoplay });
}

jobs.addEventListener("click", (event) => {
  const link = event.target.closest("[data-play]");
  if (!link || !document.querySelector("[data-player-title]")) return;
  event.preventDefault();
  play(link.dataset.play, link.closest("[data-job]").querySelector(".job__title").textContent, true);
});

// --- the queue, live -------------------------------------------------------------------------

// Live events are pushed as the queue records them, so the job's first events may arrive before
// the answer to its submission: then the entry exists already and only its title is missing.
function showSubmitted(job) {
  const item = jobs.querySelector(`[data-job="${job.id}"]`);
  if (item) {
    item.querySelector(".job__title").textContent = job.request.prompt;
    return false;
  }
  upsertJob(job.id, { status: "queued", title: job.request.prompt, text: t("queued") });
  return true;
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
  showBar(item, jobStatus);
  if (jobStatus !== "queued") item.querySelector("[data-cancel]")?.remove();
  if (trackId && !item.querySelector("[data-play]")) {
    const play = document.createElement("a");
    play.className = "job__play";
    play.href = `/tracks/${trackId}`;
    play.dataset.play = trackId;
    play.textContent = t("play");
    const derive = document.createElement("a");
    derive.className = "job__derive";
    derive.href = `/tracks/${trackId}#derive-${trackId}`;
    derive.textContent = t("derive");
    item.append(play, derive);
  }
  if (jobStatus === "failed" && !item.querySelector("[data-job-help]")) {
    const help = document.createElement("a");
    help.className = "job__help";
    help.href = `/help?job=${encodeURIComponent(jobId)}`;
    help.dataset.jobHelp = "";
    help.textContent = t("get_help");
    item.append(help);
  }
}

// The queue tells when a job waits, runs and ends, not how far a render has got: the bar moves
// without a value until the job ends, and is full when the track is ready.
function showBar(item, jobStatus) {
  let bar = item.querySelector("[data-job-bar]");
  if (jobStatus === "failed" || jobStatus === "canceled") {
    bar?.remove();
    return;
  }
  if (!bar) {
    bar = document.createElement("progress");
    bar.className = "job__bar";
    bar.dataset.jobBar = "";
    bar.setAttribute("aria-label", t("progress"));
    item.querySelector("[data-job-status]").after(bar);
  }
  if (jobStatus === "succeeded") {
    bar.max = 1;
    bar.value = 1;
  } else {
    bar.removeAttribute("value");
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
    const title = jobs.querySelector(`[data-job="${event.job_id}"] .job__title`)?.textContent || "";
    play(event.track_id, title, false);
  } else {
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

updateCost();
fitDrawer();
connect();
if (prompt.value.trim()) resolvePrompt();
