// The library and track pages, enhanced: favourites without a reload, filters that apply as
// they change, share links copied in one click, and countdowns that tick. Every form works
// without this script.

const status = document.querySelector(".status");

function say(message) {
  if (status) status.textContent = message;
}

// --- favourites ------------------------------------------------------------------------------

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("[data-favourite]");
  if (!form) return;
  event.preventDefault();
  const value = form.querySelector("[data-favourite-value]");
  const button = form.querySelector("button");
  let response;
  try {
    response = await fetch(form.action, { method: "POST", body: new FormData(form), headers: { Accept: "application/json" } });
  } catch {
    form.submit();
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    say(body.message || response.statusText);
    return;
  }
  button.setAttribute("aria-pressed", String(body.favourite));
  button.querySelector("[aria-hidden]").textContent = body.favourite ? "★" : "☆";
  value.value = body.favourite ? "0" : "1";
});

// --- play in the docked player (player.js) -----------------------------------------------------

// Each track's own audio control stays for browsers without scripts; with them, the dock plays,
// so one sound plays at a time and it carries on from page to page.
if (document.querySelector("[data-player]")) {
  for (const button of document.querySelectorAll("[data-play-track]")) {
    button.parentElement.querySelector("[data-inline-audio]")?.setAttribute("hidden", "");
    button.hidden = false;
    button.addEventListener("click", () => {
      const detail = { trackId: button.dataset.playTrack, title: button.dataset.title, autoplay: true, toggle: true };
      document.dispatchEvent(new CustomEvent("beatbun:play", { detail }));
    });
  }
}

// --- filters apply as they change --------------------------------------------------------------

for (const control of document.querySelectorAll("[data-autosubmit]")) {
  control.addEventListener("change", () => control.form.requestSubmit());
}

// --- share links ---------------------------------------------------------------------------------

for (const button of document.querySelectorAll("[data-copy]")) {
  const field = document.querySelector("[data-share-url]");
  if (!field || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      say(button.dataset.copied);
    } catch {
      field.select();
    }
  });
}

// --- countdowns ----------------------------------------------------------------------------------

function fill(format, values) {
  return format.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function deadline(element) {
  return Date.now() + Number(element.dataset.secondsLeft) * 1000;
}

for (const element of document.querySelectorAll("[data-countdown]")) {
  const until = deadline(element);
  const tick = () => {
    const left = Math.max(0, Math.floor((until - Date.now()) / 1000));
    element.textContent = fill(element.dataset.format, {
      days: Math.floor(left / 86400),
      hours: Math.floor((left % 86400) / 3600),
      minutes: Math.floor((left % 3600) / 60),
    });
  };
  setInterval(tick, 30_000);
}

// The undo comes first for keyboards and screen readers; its countdown is not read aloud.
const undo = document.querySelector("[data-undo]");
if (undo) {
  undo.querySelector("[data-undo-button]").focus();
  const until = deadline(undo);
  const text = undo.querySelector("[data-undo-left]");
  const timer = setInterval(() => {
    const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    text.textContent = fill(text.dataset.format, { seconds: left });
    if (left === 0) {
      clearInterval(timer);
      undo.remove();
    }
  }, 1000);
}

// After a failed form, focus goes to what went wrong.
(document.querySelector("[data-error-summary]") || document.querySelector('[aria-invalid="true"]'))?.focus();
