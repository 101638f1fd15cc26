"""The studio page's first load in Chromium: bytes of HTML, CSS and JS, and time to first paint.

    python bench/studio_weight_bench.py [--runs 5]

Starts the real local server, signs a person up, and opens /studio in a fresh browser context
(empty cache) at 1440x900. Prints each document, stylesheet and script the page loads with its
size on the wire (the encoded body; the local server does not compress, so this is the body)
and the total, then the median and worst first contentful paint of the runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Response, sync_playwright

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer  # noqa: E402
from tests.visitors import sign_in_browser  # noqa: E402

KINDS = {"document", "stylesheet", "script"}
FIRST_PAINT = """() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return paint ? paint.startTime : null;
}"""


def weigh(runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = LiveServer(Path(folder) / "state", Path(folder) / "server.log")
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                paints: list[float] = []
                sizes: dict[str, int] = {}
                for run in range(runs):
                    context = browser.new_context(viewport={"width": 1440, "height": 900})
                    sign_in_browser(context, server, f"weight-{run}@example.com")
                    page = context.new_page()
                    loaded: dict[str, int] = {}

                    def on_response(response: Response, loaded: dict[str, int] = loaded) -> None:
                        if response.request.resource_type in KINDS:
                            loaded[response.url.removeprefix(server.url)] = len(response.body())

                    page.on("response", on_response)
                    page.goto(f"{server.url}/studio", wait_until="networkidle")
                    paints.append(float(page.evaluate(FIRST_PAINT) or 0.0))
                    sizes = loaded
                    context.close()
                browser.close()
        finally:
            server.stop()
    for url, size in sorted(sizes.items()):
        print(f"{url:40} {size / 1024:8.1f} KB")
    print(f"{'total (HTML + CSS + JS)':40} {sum(sizes.values()) / 1024:8.1f} KB")
    print(
        f"first contentful paint: median {statistics.median(paints):.0f} ms,"
        f" worst {max(paints):.0f} ms over {runs} runs"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    weigh(parser.parse_args().runs)
