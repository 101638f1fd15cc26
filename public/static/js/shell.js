// The header's credit balance, kept current without a reload. Pages that spend, refund or buy
// dispatch `beatbun:balance` on document with `detail: { balance }`; a page restored from the
// back/forward cache asks the server, since events fired elsewhere never reached it.
const shown = document.querySelector("[data-balance]");
const format = new Intl.NumberFormat(document.documentElement.lang || undefined);

function show(balance) {
  if (shown && Number.isInteger(balance)) shown.textContent = format.format(balance);
}

document.addEventListener("beatbun:balance", (event) => show(event.detail?.balance));

window.addEventListener("pageshow", async (event) => {
  if (!event.persisted) return;
  try {
    const response = await fetch("/account/balance", {
      headers: { Accept: "application/json" },
      cache: "no-store",
    });
    if (response.ok) show((await response.json()).balance);
  } catch {
    // Offline: the last balance stays until the next page or event.
  }
});
