// The privacy page, enhanced: while an export is being built, the page asks for itself again
// every few seconds and swaps in the fresh export section once the build has finished, so the
// download link appears without a reload. Without this script a reload shows the same.

const POLL_MS = 2000;
const MAX_POLLS = 90;
const BUILDING = new Set(["pending", "building"]);
const status = document.querySelector(".status");

function exportState(root) {
  const state = root.querySelector("#export [data-export-state]");
  return state ? state.dataset.exportState : null;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function followExport() {
  for (let poll = 0; poll < MAX_POLLS; poll += 1) {
    await sleep(POLL_MS);
    let response;
    try {
      response = await fetch(window.location.pathname, { headers: { Accept: "text/html" } });
    } catch {
      continue; // offline for a moment: ask again
    }
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    if (BUILDING.has(exportState(fresh))) continue;
    const section = fresh.getElementById("export");
    const current = document.getElementById("export");
    if (!section || !current) return;
    current.replaceWith(document.adoptNode(section));
    const line = section.querySelector(".status-line");
    if (status && line) status.textContent = line.textContent.trim();
    return;
  }
}

if (BUILDING.has(exportState(document))) followExport();
