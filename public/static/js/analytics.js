// Performance measurement. consent.js loads this only once performance is allowed; the server
// refuses everything without that consent anyway. Numbers only: no text the visitor typed.
// Pages report what they measure as `beatbun:measure` events ({name, value, label}); they are
// queued in memory (never in storage) and sent in batches, and at the latest when the page hides.
{
  const token = document.querySelector('input[name="csrf_token"]')?.value || "";
  const BATCH = 20;
  const DELAY_MS = 2000;
  const queue = [];
  let timer = 0;

  const post = (path, body) =>
    fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": token },
      body: JSON.stringify(body),
      credentials: "same-origin",
      // Survives the page being left, as sendBeacon would, and carries the CSRF header.
      keepalive: true,
    }).catch(() => {});

  const flush = () => {
    clearTimeout(timer);
    timer = 0;
    if (queue.length) post("/analytics/measurements", { measurements: queue.splice(0, BATCH) });
    if (queue.length) flush();
  };

  post("/analytics/events", { kind: "page_view", label: window.location.pathname });

  document.addEventListener("beatbun:measure", (event) => {
    const { name, value, label } = event.detail || {};
    if (typeof name !== "string" || typeof value !== "number" || !Number.isFinite(value)) return;
    queue.push({ name, value, label: typeof label === "string" ? label : "" });
    if (queue.length >= BATCH) flush();
    else if (!timer) timer = setTimeout(flush, DELAY_MS);
  });

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush();
  });
  window.addEventListener("pagehide", flush);
}
