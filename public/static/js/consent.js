// Consent on the page: clear storage of withdrawn categories, wake gated scripts, keep drafts.
// The server decides and sets every cookie; this module only mirrors its decision for storage.
const state = JSON.parse(document.getElementById("consent-state")?.textContent || "{}");
const allowed = new Set(state.allowed || ["necessary"]);
const storageItems = state.storage || [];
const messages = state.messages || {};
const nonce = document.querySelector("script[nonce]")?.nonce || "";
const browserGpc = navigator.globalPrivacyControl === true;

function matches(item, name) {
  return item.prefix ? name.startsWith(item.name) : name === item.name;
}

function clearWithdrawnStorage() {
  for (const area of [window.localStorage, window.sessionStorage]) {
    for (const name of Object.keys(area)) {
      // Only the marketing partner's tag sets what the registry does not list.
      const item = storageItems.find((candidate) => matches(candidate, name));
      if (!allowed.has(item ? item.category : "marketing")) area.removeItem(name);
    }
  }
}

function wakeGatedScripts(categories) {
  for (const inert of document.querySelectorAll('script[type="text/plain"][data-category]')) {
    if (!categories.has(inert.dataset.category)) continue;
    const script = document.createElement("script");
    script.src = inert.dataset.src;
    script.nonce = nonce;
    script.async = true;
    script.dataset.category = inert.dataset.category;
    inert.replaceWith(script);
  }
}

function say(text) {
  const status = document.querySelector('[role="status"].status');
  if (status) status.textContent = text;
}

function rememberDrafts() {
  if (!allowed.has("functionality")) return;
  for (const field of document.querySelectorAll("[data-remember-draft]")) {
    const key = `beatbun.draft.${field.dataset.rememberDraft}`;
    const saved = localStorage.getItem(key);
    if (saved && !field.value) {
      field.value = saved;
      say(messages.draftRestored || "");
    }
    field.addEventListener("input", () => {
      if (field.value) localStorage.setItem(key, field.value);
      else localStorage.removeItem(key);
    });
    field.form?.addEventListener("submit", () => localStorage.removeItem(key));
  }
}

function autosubmitSwitches() {
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    const save = form.querySelector('button[value="custom"]');
    form.addEventListener("change", () => form.requestSubmit(save));
  }
}

function showGpcStatus(marketingOn) {
  const shown = new Set(["hint", marketingOn ? "overridden" : "honored"]);
  for (const notice of document.querySelectorAll("[data-gpc-status]")) {
    notice.hidden = !shown.has(notice.dataset.gpcStatus);
  }
}

async function honorBrowserGpc() {
  if (!browserGpc) return;
  // Forms cannot send Sec-GPC themselves: tell the server the choice was made under the signal.
  for (const form of document.querySelectorAll('form[action="/consent"]')) {
    const signal = document.createElement("input");
    signal.type = "hidden";
    signal.name = "gpc";
    signal.value = "1";
    form.append(signal);
  }
  if (!allowed.has("marketing")) {
    showGpcStatus(false);
    return;
  }
  const token = document.querySelector('input[name="csrf_token"]')?.value || "";
  const response = await fetch("/consent/gpc", {
    method: "POST",
    headers: { "x-csrf-token": token },
    credentials: "same-origin",
  });
  if (!response.ok) return;
  // Reload only when the signal changed something (not after a knowing opt-in).
  const { allowed: now } = await response.json();
  if (!now.includes("marketing")) {
    window.location.reload();
    return;
  }
  showGpcStatus(true);
  wakeGatedScripts(new Set(["marketing"]));
}

clearWithdrawnStorage();
// Under a browser's GPC signal the marketing tag waits until the server confirms a knowing opt-in.
wakeGatedScripts(browserGpc ? new Set([...allowed].filter((c) => c !== "marketing")) : allowed);
rememberDrafts();
autosubmitSwitches();
honorBrowserGpc();
