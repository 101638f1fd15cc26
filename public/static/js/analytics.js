// Performance measurement. consent.js loads this only once performance is allowed; the server
// refuses events without that consent anyway. Counts only: no text the visitor typed is sent.
{
  const token = document.querySelector('input[name="csrf_token"]')?.value || "";

  const send = (kind, label = "", value = 1) =>
    fetch("/analytics/events", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": token },
      body: JSON.stringify({ kind, label, value }),
      credentials: "same-origin",
      keepalive: true,
    });

  send("page_view", window.location.pathname);

  document.addEventListener("click", (event) => {
    // Genre tags: the studio's checkboxes (their value is the genre) or any [data-genre] link.
    const tag = event.target.closest?.("[data-genre], [data-genre-tag]");
    if (tag) send("genre_click", tag.dataset.genre || tag.value || "");
  });

  const promptBoxes = "[data-remember-draft], [data-analytics-prompt]";
  let focusedAt = 0;
  document.addEventListener("focusin", (event) => {
    if (event.target.matches?.(promptBoxes)) focusedAt = performance.now();
  });
  document.addEventListener("focusout", (event) => {
    if (!focusedAt || !event.target.matches?.(promptBoxes)) return;
    const seconds = (performance.now() - focusedAt) / 1000;
    focusedAt = 0;
    if (seconds >= 0.5) send("prompt_time", "", Math.min(seconds, 1800));
  });

  // Media events do not bubble: listen in the capture phase for every player on the page.
  document.addEventListener(
    "waiting",
    (event) => {
      if (event.target instanceof HTMLMediaElement) send("buffering", window.location.pathname);
    },
    true,
  );
}
