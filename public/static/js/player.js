// The docked player on every signed-in page. Any page hands it a track:
//   document.dispatchEvent(new CustomEvent("beatbun:play", { detail: { trackId, title, autoplay } }))
// (with `toggle: true`, the track that is playing pauses instead: the library's play buttons).
// It draws the stored peaks on a canvas, seeks by pointer and keyboard, and reports buffering,
// stalls and downloads as `beatbun:measure` events (analytics.js sends them, with consent only).
// Pages are full loads, so the track, its position and whether it was playing are kept in
// sessionStorage when a page goes, and the next page carries on from there.

const dock = document.querySelector("[data-player]");
const audio = dock.querySelector("[data-player-audio]");
const playButton = dock.querySelector("[data-player-play]");
const resumeButton = dock.querySelector("[data-player-resume]");
const titleText = dock.querySelector("[data-player-title]");
const currentText = dock.querySelector("[data-player-current]");
const durationText = dock.querySelector("[data-player-duration]");
const wave = dock.querySelector("[data-player-wave]");
const canvas = wave.querySelector("canvas");
const volume = dock.querySelector("[data-player-volume]");
const download = dock.querySelector("[data-player-download]");
const helpButton = dock.querySelector("[data-player-help]");
const keys = dock.querySelector("[data-player-keys]");
const expandButton = dock.querySelector("[data-player-expand]");
const labels = dock.dataset;

const STATE_KEY = "beatbun.player";
const STEP_SECONDS = 5;
const BAR_WIDTH = 2;
const BAR_GAP = 1;
const MB = 1024 * 1024;

let track = null; // { id, title, duration, peaks } once loaded
let loads = 0; // the latest load wins when tracks are handed over quickly
let wantsToPlay = false; // playing, or asked to and held back by the browser's autoplay rule
let pendingTime = 0; // a position to take once the audio knows its length
let scrub = null; // the fraction under the pointer while dragging
let startAsked = null; // when play was asked for, until `playing`
let stallFrom = null; // when playback stopped for data, until `playing`
let startedOnce = false;
let shownSecond = -1;
let frame = 0;

// --- small helpers -----------------------------------------------------------------------------

function fill(format, values) {
  return format.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function clock(seconds) {
  const whole = Math.max(0, Math.floor(Number.isFinite(seconds) ? seconds : 0));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

function say(message) {
  const status = document.querySelector(".status");
  if (status) status.textContent = message;
}

function measure(name, value, label = "") {
  document.dispatchEvent(new CustomEvent("beatbun:measure", { detail: { name, value: Math.round(value), label } }));
}

function sizeBucket(bytes) {
  if (bytes < MB) return "under_1mb";
  if (bytes < 10 * MB) return "1_10mb";
  if (bytes < 50 * MB) return "10_50mb";
  return "50mb_plus";
}

function duration() {
  return Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : track?.duration || 0;
}

// A position waiting for the audio's length is the position, until `loadedmetadata` takes it:
// readyState says the length is known a moment before that handler runs.
function position() {
  if (scrub !== null) return scrub * duration();
  return pendingTime || audio.currentTime;
}

// --- loading and playing -----------------------------------------------------------------------

function show() {
  dock.hidden = false;
  document.documentElement.dataset.dock = "";
  reserveHeight();
}

function hide() {
  dock.hidden = true;
  delete document.documentElement.dataset.dock;
}

async function load({ trackId, title, autoplay, time = 0, restoring = false }) {
  if (!trackId) return;
  if (track && track.id === trackId) {
    if (autoplay) play();
    return;
  }
  const attempt = ++loads;
  titleText.textContent = title || "";
  show();
  let body;
  try {
    const response = await fetch(`/tracks/${encodeURIComponent(trackId)}`, {
      headers: { Accept: "application/json" },
      cache: "no-store",
    });
    body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message || labels.labelFailed);
  } catch (error) {
    if (attempt !== loads) return;
    // A kept track that is gone (deleted, expired) leaves quietly; a requested one says why.
    if (!restoring) say(error.message || labels.labelFailed);
    if (track) titleText.textContent = track.title;
    else forget();
    return;
  }
  if (attempt !== loads) return;
  track = { id: body.id, title: body.title, duration: body.duration_seconds, peaks: body.peaks || [] };
  titleText.textContent = track.title;
  wantsToPlay = false;
  startedOnce = false;
  startAsked = stallFrom = null;
  pendingTime = Math.min(Math.max(time, 0), track.duration || 0);
  audio.src = body.audio_url;
  download.href = `${body.audio_url}?download=1`;
  showTime();
  draw();
  save();
  if (autoplay) play();
}

async function play() {
  if (!track) return;
  wantsToPlay = true;
  if (!audio.paused) return;
  startAsked = performance.now();
  try {
    await audio.play();
  } catch (error) {
    startAsked = null;
    if (error.name === "NotAllowedError") showResume();
    else if (error.name !== "AbortError") {
      wantsToPlay = false;
      say(labels.labelFailed);
    }
  }
}

function pause() {
  wantsToPlay = false;
  audio.pause();
  hideResume();
  save();
}

function toggle() {
  if (audio.paused) play();
  else pause();
}

function seek(seconds) {
  if (!track) return;
  const target = Math.min(Math.max(seconds, 0), duration());
  if (audio.readyState) {
    audio.currentTime = target;
    pendingTime = 0;
  } else pendingTime = target;
  showTime();
  draw();
}

// The browser refused to start sound without a gesture on this page: offer one. A track that
// has not begun simply waits for its play button.
function showResume() {
  if (position() < 1) {
    wantsToPlay = false;
    return;
  }
  resumeButton.textContent = fill(resumeButton.dataset.format, { time: clock(position()) });
  resumeButton.hidden = false;
  dock.dataset.state = "held";
}

function hideResume() {
  resumeButton.hidden = true;
  if (dock.dataset.state === "held") dock.dataset.state = "paused";
}

function forget() {
  track = null;
  wantsToPlay = false;
  audio.removeAttribute("src");
  audio.load();
  try {
    sessionStorage.removeItem(STATE_KEY);
  } catch {
    // Storage off: nothing was kept.
  }
  hide();
}

audio.addEventListener("loadedmetadata", () => {
  if (pendingTime) audio.currentTime = Math.min(pendingTime, audio.duration);
  pendingTime = 0;
  showTime();
  draw();
});

audio.addEventListener("play", () => {
  dock.dataset.state = "playing";
  playButton.setAttribute("aria-label", labels.labelPause);
  hideResume();
  // One sound at a time: the page's own audio controls stop when the dock plays.
  for (const other of document.querySelectorAll("audio, video")) if (other !== audio) other.pause();
  markButtons();
  animate();
  save();
  tabs?.postMessage("playing");
});

audio.addEventListener("pause", () => {
  if (dock.dataset.state !== "held") dock.dataset.state = "paused";
  playButton.setAttribute("aria-label", labels.labelPlay);
  startAsked = stallFrom = null;
  markButtons();
  draw();
});

audio.addEventListener("ended", () => {
  wantsToPlay = false;
  save();
});

audio.addEventListener("playing", () => {
  const now = performance.now();
  if (startAsked !== null) {
    measure("player_start_ms", now - startAsked, startedOnce ? "resume" : "first");
    startedOnce = true;
  } else if (stallFrom !== null) {
    measure("player_stall_ms", now - stallFrom);
  }
  startAsked = stallFrom = null;
});

// A wait after a seek is the seek's, not a stall of the stream.
audio.addEventListener("waiting", () => {
  if (startAsked === null && !audio.paused && !audio.seeking) stallFrom = performance.now();
});

audio.addEventListener("error", () => {
  if (!track) return;
  wantsToPlay = false;
  say(labels.labelFailed);
});

audio.addEventListener("timeupdate", showTime);
audio.addEventListener("seeked", save);
audio.addEventListener("volumechange", save);

// One sound across tabs too: a tab opened from this one starts where this one was, and the
// tab that plays last is the one that keeps playing.
const tabs = "BroadcastChannel" in window ? new BroadcastChannel("beatbun.player") : null;
tabs?.addEventListener("message", () => {
  if (!audio.paused) pause();
});

// Another player on the page (a shared track, a demo) takes over: the dock steps back.
document.addEventListener(
  "play",
  (event) => {
    if (event.target !== audio && event.target instanceof HTMLMediaElement) pause();
  },
  true,
);

playButton.addEventListener("click", toggle);
resumeButton.addEventListener("click", play);
volume.addEventListener("input", () => {
  audio.volume = Number(volume.value);
});

document.addEventListener("beatbun:play", (event) => {
  const { trackId, title, autoplay } = event.detail || {};
  if (event.detail?.toggle && track && track.id === String(trackId) && !audio.paused) {
    pause();
    return;
  }
  load({ trackId: trackId ? String(trackId) : "", title, autoplay: Boolean(autoplay) });
});

// The buttons that hand a track over (library.js) read "Pause" while theirs plays here.
function markButtons() {
  const playing = track && !audio.paused ? track.id : "";
  for (const button of document.querySelectorAll("[data-play-track]")) {
    button.toggleAttribute("data-playing", button.dataset.playTrack === playing);
  }
}

// --- time and waveform -------------------------------------------------------------------------

function showTime() {
  const now = position();
  const second = Math.floor(now);
  const total = duration();
  durationText.textContent = clock(total);
  wave.setAttribute("aria-valuemax", String(Math.round(total)));
  if (second === shownSecond && scrub === null) return;
  shownSecond = second;
  currentText.textContent = clock(now);
  wave.setAttribute("aria-valuenow", String(second));
  wave.setAttribute("aria-valuetext", fill(labels.labelPosition, { time: clock(now), duration: clock(total) }));
}

function animate() {
  cancelAnimationFrame(frame);
  const step = () => {
    draw();
    showTime();
    if (!audio.paused) frame = requestAnimationFrame(step);
  };
  frame = requestAnimationFrame(step);
}

// Bars of the stored (min, max) peaks, scaled so a quiet track still fills the height.
function bars(count) {
  const peaks = track?.peaks || [];
  if (!peaks.length) return [];
  let loudest = 0;
  for (const [low, high] of peaks) loudest = Math.max(loudest, Math.abs(low), Math.abs(high));
  const scale = loudest > 0 ? Math.min(1 / loudest, 4) : 1;
  const result = [];
  for (let bar = 0; bar < count; bar += 1) {
    const start = Math.floor((bar * peaks.length) / count);
    const end = Math.max(Math.floor(((bar + 1) * peaks.length) / count), start + 1);
    let low = 0;
    let high = 0;
    for (let index = start; index < end && index < peaks.length; index += 1) {
      low = Math.min(low, peaks[index][0]);
      high = Math.max(high, peaks[index][1]);
    }
    result.push([Math.max(low * scale, -1), Math.min(high * scale, 1)]);
  }
  return result;
}

function paint(context, shape, width, height, colour) {
  context.fillStyle = colour;
  if (!shape.length) {
    context.fillRect(0, height / 2 - 1, width, 2);
    return;
  }
  const middle = height / 2;
  shape.forEach(([low, high], bar) => {
    const top = middle - high * middle;
    context.fillRect(bar * (BAR_WIDTH + BAR_GAP), top, BAR_WIDTH, Math.max(middle - low * middle - top, 1));
  });
}

function draw() {
  if (dock.hidden) return;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (!width || !height) return;
  const ratio = window.devicePixelRatio || 1;
  const pixelsWide = Math.round(width * ratio);
  const pixelsHigh = Math.round(height * ratio);
  if (canvas.width !== pixelsWide || canvas.height !== pixelsHigh) {
    canvas.width = pixelsWide;
    canvas.height = pixelsHigh;
  }
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  // Colours come from the theme's custom properties, so light and dark both read.
  const style = getComputedStyle(dock);
  const shape = bars(Math.floor(width / (BAR_WIDTH + BAR_GAP)));
  const total = duration();
  const played = total ? Math.min(position() / total, 1) * width : 0;
  paint(context, shape, width, height, style.getPropertyValue("--wave-rest").trim());
  context.save();
  context.beginPath();
  context.rect(0, 0, played, height);
  context.clip();
  paint(context, shape, width, height, style.getPropertyValue("--wave-played").trim());
  context.restore();
  if (total) {
    context.fillStyle = style.getPropertyValue("--wave-head").trim();
    context.fillRect(Math.min(Math.max(played - 1, 0), width - 2), 0, 2, height);
  }
}

new ResizeObserver(() => draw()).observe(canvas);
window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", draw);
new MutationObserver(draw).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });

// The page keeps room for the dock at its end, so the dock never covers the footer.
function reserveHeight() {
  if (!dock.hidden) document.documentElement.style.setProperty("--dock-height", `${dock.offsetHeight}px`);
}
new ResizeObserver(reserveHeight).observe(dock);

// --- seeking by pointer and keyboard -----------------------------------------------------------

function fractionAt(event) {
  const box = wave.getBoundingClientRect();
  return Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1);
}

wave.addEventListener("pointerdown", (event) => {
  if (!track || event.button !== 0) return;
  wave.setPointerCapture(event.pointerId);
  scrub = fractionAt(event);
  showTime();
  draw();
});

wave.addEventListener("pointermove", (event) => {
  if (scrub === null) return;
  scrub = fractionAt(event);
  showTime();
  draw();
});

wave.addEventListener("pointerup", (event) => {
  if (scrub === null) return;
  const fraction = fractionAt(event);
  scrub = null;
  seek(fraction * duration());
});

wave.addEventListener("pointercancel", () => {
  scrub = null;
  draw();
});

wave.addEventListener("keydown", (event) => {
  const total = duration();
  const moves = {
    ArrowLeft: -STEP_SECONDS,
    ArrowDown: -STEP_SECONDS,
    ArrowRight: STEP_SECONDS,
    ArrowUp: STEP_SECONDS,
    PageDown: -total / 10,
    PageUp: total / 10,
  };
  if (event.key in moves) seek(position() + moves[event.key]);
  else if (event.key === "Home") seek(0);
  else if (event.key === "End") seek(total);
  else return;
  event.preventDefault();
  event.stopPropagation();
});

// Space plays or pauses and the arrows seek from anywhere on the page, except where the key
// already means something: typing, choosing, and buttons (Space presses them).
const TYPING = "input, textarea, select, [contenteditable]:not([contenteditable='false'])";
const OWN_SPACE = "button, summary, [role=button], [role=checkbox], [role=switch], [role=radio], [role=tab], [role=menuitem], [role=option]";

document.addEventListener("keydown", (event) => {
  if (!track || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
  const target = event.target instanceof Element ? event.target : document.body;
  if (target.closest(TYPING)) return;
  if (event.key === "?") {
    setHelp(keys.hidden);
  } else if (event.key === " " && !target.closest(OWN_SPACE)) {
    toggle();
  } else if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && !event.shiftKey && !target.closest("[role=slider], [role=tablist], [role=listbox]")) {
    seek(position() + (event.key === "ArrowLeft" ? -STEP_SECONDS : STEP_SECONDS));
  } else {
    return;
  }
  event.preventDefault();
});

// --- shortcut help and the phone's slim bar ----------------------------------------------------

function setHelp(open) {
  keys.hidden = !open;
  helpButton.setAttribute("aria-expanded", String(open));
}

helpButton.addEventListener("click", () => setHelp(keys.hidden));

keys.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  setHelp(false);
  helpButton.focus();
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !keys.hidden) setHelp(false);
});

document.addEventListener("pointerdown", (event) => {
  if (!keys.hidden && !keys.contains(event.target) && !helpButton.contains(event.target)) setHelp(false);
});

function setExpanded(open) {
  if (open) dock.dataset.expanded = "";
  else delete dock.dataset.expanded;
  expandButton.setAttribute("aria-expanded", String(open));
  if (!open) setHelp(false);
}

expandButton.addEventListener("click", () => setExpanded(!("expanded" in dock.dataset)));
// On a phone the slim bar opens with a tap on its title, as well as with its button.
dock.querySelector(".dock__info").addEventListener("click", () => {
  if (expandButton.getClientRects().length) setExpanded(!("expanded" in dock.dataset));
});

// --- downloads, timed ----------------------------------------------------------------------------

function fileName(disposition) {
  const match = /filename="([^"]+)"/.exec(disposition || "");
  return match ? match[1] : `${track.title}.wav`;
}

download.addEventListener("click", async (event) => {
  if (!track) return;
  event.preventDefault();
  if (download.getAttribute("aria-busy") === "true") return;
  const label = download.textContent;
  download.setAttribute("aria-busy", "true");
  download.textContent = download.dataset.busy;
  const started = performance.now();
  try {
    const response = await fetch(download.href, { cache: "no-store" });
    if (!response.ok) throw new Error(response.statusText);
    const blob = await response.blob();
    const elapsed = performance.now() - started;
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = fileName(response.headers.get("content-disposition"));
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    // The browser has taken the file by then; the memory goes back.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    measure("download_ms", elapsed, sizeBucket(blob.size));
    measure("download_bytes", blob.size, sizeBucket(blob.size));
  } catch {
    say(labels.labelDownloadFailed);
  } finally {
    download.removeAttribute("aria-busy");
    download.textContent = label;
  }
});

// --- from page to page ---------------------------------------------------------------------------

function save() {
  if (!track) return;
  const state = {
    id: track.id,
    title: track.title,
    time: position(),
    playing: wantsToPlay && !audio.ended,
    volume: audio.volume,
  };
  try {
    sessionStorage.setItem(STATE_KEY, JSON.stringify(state));
  } catch {
    // Storage off or full: the next page starts without the track.
  }
}

function saved() {
  try {
    return JSON.parse(sessionStorage.getItem(STATE_KEY) || "null");
  } catch {
    return null;
  }
}

function restore(state) {
  if (!state || typeof state.id !== "string") return;
  if (Number.isFinite(state.volume)) {
    audio.volume = Math.min(Math.max(state.volume, 0), 1);
    volume.value = String(audio.volume);
  }
  const time = Number(state.time) || 0;
  if (track && track.id === state.id) {
    seek(time);
    if (state.playing) play();
    else pause();
    return;
  }
  load({ trackId: state.id, title: state.title, autoplay: Boolean(state.playing), time, restoring: true });
}

window.addEventListener("pagehide", save);
// A page brought back by the back button resumes the track as the last page left it.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) restore(saved());
});

restore(saved());
