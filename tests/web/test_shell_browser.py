"""Every page in Chromium, at desktop and phone size, light and dark: reachable, clickable, accessible.

For each page: no horizontal scrolling; every visible control (the footer's "Cookie preferences"
link included) is what the browser finds at its own centre once scrolled to, so nothing covers
it; focusing it shows a focus ring; controls that are not inline text links are at least 24 px
square (WCAG 2.2, 2.5.8); and axe-core finds no serious or critical violation. A full-page screenshot of each goes to
test-results/screenshots/shell-<page>-<size>-<theme>.png.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import LiveServer, screenshot
from tests.processes import PROJECT_ROOT
from tests.visitors import Visitor, sign_up_in_browser, signed_in

pytestmark = pytest.mark.browser

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
THEMES: tuple[Literal["light"], Literal["dark"]] = ("light", "dark")
REPORT = PROJECT_ROOT / "test-results" / "shell-findings.json"
REQUEST_TOKEN = re.compile(r'name="request_token" value="([^"]+)"')
TRACK_LINK = re.compile(r'href="/tracks/([0-9a-f]{32})"')
PUBLIC_PAGES = {
    "landing": "/",
    "pricing": "/pricing",
    "login": "/login",
    "signup": "/signup",
    "signup-sent": "/signup/sent",
    "forgot-password": "/forgot-password",
    "reset-password": "/reset-password?token=expired",
    "verify-email": "/verify-email?token=unknown",
    "privacy": "/privacy",
    "cookies": "/cookies",
    "terms": "/terms",
    "cookie-preferences": "/privacy/choices",
    "api-reference": "/docs/api",
    "not-found": "/no/such/page",
    "log-in-needed": "/account",
}
SIGNED_IN_PAGES = {
    "studio": "/studio",
    "library": "/tracks",
    "plans": "/pricing",
    "billing": "/billing",
    "account": "/account",
    "two-step": "/account/two-step",
    "sessions": "/account/sessions",
    "security-log": "/account/security-log",
    "api-keys": "/account/api-keys",
    "confirm-password": "/account/confirm-password",
    "privacy-and-data": "/account/privacy",
    "privacy-and-cookies": "/privacy/choices",
    "not-found-signed-in": "/no/such/page",
    "admin-analytics": "/admin/analytics",
}
# One script for every check: scroll each control into view, ask what is at its centre.
INSPECT = """() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary,'
    + ' [role=button], [role=switch], [tabindex]:not([tabindex="-1"])';
  const covered = [], small = [], unfocused = [];
  const name = (el) => (el.getAttribute('aria-label') || el.textContent || el.name || el.id
    || el.tagName).trim().replace(/\\s+/g, ' ').slice(0, 60);
  for (const el of document.querySelectorAll(selector)) {
    const style = getComputedStyle(el);
    if (el.closest('[hidden], .visually-hidden, .skip-link, noscript')) continue;
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    // Closed <details> content and the like are not rendered: nothing there to click.
    if (!el.getClientRects().length || !el.checkVisibility({ visibilityProperty: true })) continue;
    el.scrollIntoView({ block: 'center', inline: 'center' });
    // A link that wraps has one box per line; its first line is what a person aims at.
    const box = el.getClientRects()[0];
    if (box.width === 0 || box.height === 0) continue;
    const x = box.left + box.width / 2, y = box.top + box.height / 2;
    const found = document.elementFromPoint(x, y);
    const label = el.labels && el.labels[0];
    if (!found || !(el === found || el.contains(found) || (label && label.contains(found)))) {
      covered.push(`${name(el)} <- ${found ? found.tagName + '.' + found.className : 'nothing'}`);
    }
    // Focus as the keyboard would: the ring must show (a 2 px outline or more).
    el.focus({ preventScroll: true });
    if (document.activeElement === el && el.matches(':focus-visible')) {
      const ring = getComputedStyle(el);
      if (ring.outlineStyle === 'none' || parseFloat(ring.outlineWidth) < 2) {
        unfocused.push(name(el));
      }
    }
    el.blur();
    const inlineText = style.display === 'inline' && el.tagName === 'A';
    if (!inlineText && (box.width < 24 || box.height < 24)) {
      small.push(`${name(el)} ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  window.scrollTo(0, 0);
  return {
    covered, small, unfocused,
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
}"""


# Serious and critical violations only, summarised in the page: the full results are large.
AXE_RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'],
  });
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target).join(', ')}`);
}"""


@dataclass(frozen=True)
class Findings:
    page: str
    covered: list[str]
    small: list[str]
    unfocused: list[str]
    overflow: int
    violations: list[str]


@pytest.fixture(scope="module")
def member(shared_live_server: LiveServer) -> Visitor:
    """A signed-in person with a track in the library and an API key, as after a first week;
    an operator too, so the analytics page is in the sweep."""
    server = shared_live_server
    address = f"{uuid.uuid4().hex[:10]}@example.com"
    visitor = signed_in(server.url, server.state_dir, address)
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        db.execute("UPDATE accounts SET is_admin = 1 WHERE email = ?", (address,))
    studio = visitor.get("/studio").text
    token = REQUEST_TOKEN.search(studio)
    assert token, studio
    made = visitor.post(
        "/studio",
        {
            "prompt": "warm lo-fi piano",
            "duration_seconds": "5",
            "seed": "7",
            "request_token": token.group(1),
        },
        csrf_from="/studio",
    )
    assert made.status_code in (200, 201, 202, 303), made.text
    created = visitor.post(
        "/account/api-keys",
        {"name": "laptop script", "scopes": "read"},
        csrf_from="/account/api-keys",
    )
    assert created.status_code == 201
    deadline = time.monotonic() + 30
    while not TRACK_LINK.search(visitor.get("/tracks").text):
        assert time.monotonic() < deadline, "the track was not made in 30 s"
        time.sleep(0.2)
    return visitor


@pytest.fixture
def contexts(browser: Browser) -> Iterator[dict[tuple[str, str], BrowserContext]]:
    made: dict[tuple[str, str], BrowserContext] = {
        (size, theme): browser.new_context(
            viewport={"width": width, "height": height}, color_scheme=theme
        )
        for size, (width, height) in SIZES.items()
        for theme in THEMES
    }
    yield made
    for context in made.values():
        context.close()


def test_new_visitor_signs_up_verifies_and_lands_in_the_studio(
    shared_live_server: LiveServer, browser: Browser
) -> None:
    server, address = shared_live_server, f"{uuid.uuid4().hex[:10]}@example.com"
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url + "/pricing")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign up").click()
    page.get_by_role("button", name="Sign up").click()  # everything missing at once
    expect(page.locator(".field-error")).to_have_count(4)
    screenshot(page, "shell-journey-signup-errors-phone-dark")
    sign_up_in_browser(page, server.url, address)
    # Back where sign-up started, logged in, without typing the address again.
    expect(page).to_have_url(server.url + "/pricing")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Studio").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Studio")
    balance = page.locator("[data-balance]")
    expect(balance).to_be_visible()
    page.evaluate(
        "document.dispatchEvent(new CustomEvent('beatbun:balance', {detail: {balance: 1234}}))"
    )
    expect(balance).to_have_text("1,234")
    # Restored from the back/forward cache: the header asks the server again.
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    expect(balance).not_to_have_text("1,234")
    screenshot(page, "shell-journey-studio-phone-dark")
    assert errors == []
    context.close()


def test_every_page_is_clickable_unclipped_and_accessible(
    shared_live_server: LiveServer,
    member: Visitor,
    contexts: dict[tuple[str, str], BrowserContext],
) -> None:
    server = shared_live_server
    track = TRACK_LINK.search(member.get("/tracks").text)
    assert track
    signed_in_pages = {**SIGNED_IN_PAGES, "track": f"/tracks/{track.group(1)}"}
    findings: list[Findings] = []
    for (size, theme), context in contexts.items():
        page = context.new_page()
        for name, path in PUBLIC_PAGES.items():
            findings.append(_inspect(page, server.url + path, f"{name}-{size}-{theme}"))
        context.add_cookies(
            [
                {
                    "name": "__Host-session",
                    "value": member.cookies["__Host-session"],
                    "domain": "127.0.0.1",
                    "path": "/",
                    "secure": True,
                    "httpOnly": True,
                    "sameSite": "Lax",
                }
            ]
        )
        for name, path in signed_in_pages.items():
            findings.append(_inspect(page, server.url + path, f"{name}-{size}-{theme}"))
        page.close()
    problems = {
        f.page: {
            "covered": f.covered,
            "small": f.small,
            "unfocused": f.unfocused,
            "overflow": f.overflow,
            "axe": f.violations,
        }
        for f in findings
        if f.covered or f.small or f.unfocused or f.overflow > 0 or f.violations
    }
    REPORT.write_text(json.dumps(problems, indent=1, ensure_ascii=False))
    assert problems == {}, f"see {REPORT}"


def _inspect(page: Page, url: str, name: str) -> Findings:
    page.goto(url)
    footer_link = page.get_by_role("contentinfo").get_by_role("link", name="Cookie preferences")
    expect(footer_link).to_have_count(1)
    seen = page.evaluate(INSPECT)
    # Evaluated, not added as a <script>: the page's CSP (nonces only) refuses injected tags.
    page.evaluate(AXE.read_text())
    violations: list[str] = page.evaluate(AXE_RUN, AXE_TAGS)
    # From the bottom, so a docked bar is drawn where the page ends, above the footer.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    screenshot(page, f"shell-{name}")
    return Findings(
        page=name,
        covered=seen["covered"],
        small=seen["small"],
        unfocused=seen["unfocused"],
        overflow=seen["overflow"],
        violations=violations,
    )
