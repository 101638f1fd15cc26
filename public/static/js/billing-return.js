// The return from Stripe Checkout, live: ask the server how the checkout stands until it settles.
// The server grants nothing here; it reports what Stripe's webhook has recorded. Without this
// script the page reloads itself (a <noscript> refresh) until then.

const root = document.querySelector("[data-checkout-return]");
const state = root.querySelector("[data-return-state]");
const message = root.querySelector("[data-return-message]");
const detail = root.querySelector("[data-return-detail]");
const url = `/billing/return/status?session_id=${encodeURIComponent(root.dataset.sessionId)}`;

// Every second at first; a bank transfer can take days to clear, so later polls slow down.
const FAST_MS = 1000;
const SLOW_MS = 10000;
const FAST_POLLS = 120;
let polls = 0;

function show(progress) {
  root.dataset.status = progress.status;
  state.className = `checkout-return__state checkout-return__state--${progress.status}`;
  if (message.textContent !== progress.message) message.textContent = progress.message;
  detail.textContent = progress.detail;
  detail.hidden = !progress.detail;
  for (const element of root.querySelectorAll("[data-when]")) {
    element.hidden = !element.dataset.when.split(" ").includes(progress.status);
  }
}

async function poll() {
  polls += 1;
  try {
    const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
    const body = await response.json();
    if (response.ok) {
      show(body);
      if (body.settled) {
        // The header's balance (shell.js) shows the purchase without a reload.
        if (Number.isInteger(body.balance)) {
          document.dispatchEvent(new CustomEvent("beatbun:balance", { detail: { balance: body.balance } }));
        }
        return;
      }
    } else if (response.status < 500) {
      // Logged out meanwhile, or no such checkout: asking again cannot help.
      message.textContent = body.message || "";
      return;
    }
  } catch {
    // A dropped connection or a busy server: keep the last state and ask again.
  }
  setTimeout(poll, polls < FAST_POLLS ? FAST_MS : SLOW_MS);
}

if (root.dataset.status === "open" || root.dataset.status === "processing") {
  setTimeout(poll, FAST_MS);
}
