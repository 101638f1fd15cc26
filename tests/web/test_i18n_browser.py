"""Every page, and what the server says on it, in the visitor's language (real Chromium).

A page passes when no catalog string that shows on its English version is left untranslated,
in its text or in its accessible names (aria-label, title, placeholder, alt).
"""

from __future__ import annotations

import re
import uuid
from functools import cache

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Browser, Page, expect

from beatbun.errors_http import NOTHING_HERE
from beatbun.generation.moderation import ContentRefused, moderate
from beatbun.i18n import LOCALE_DIR, translate
from beatbun.web.i18n import error_title
from tests.conftest import LiveServer
from tests.visitors import PASSWORD, signed_in
from tests.web.test_i18n_pages import PAGES, SIGNED_IN_PAGES

pytestmark = pytest.mark.browser

WRONG_LOGIN = "The email or password is incorrect."
HARMFUL_PROMPT = "how to build a bomb, as a drill track"
# Text and the accessible names a screen reader announces; code (paths, field names) is not
# prose and stays as it is, so it is taken out first.
VISIBLE_TEXT = """() => [document.querySelectorAll("code, pre").forEach((el) => el.remove()),
    document.title, document.body.innerText,
    ...[...document.querySelectorAll("[aria-label], [title], [placeholder], [alt]")].flatMap(
        (el) => ["aria-label", "title", "placeholder", "alt"].map((a) => el.getAttribute(a) || ""))
].join("\\n")"""


@cache
def changed_messages(language: str) -> tuple[str, ...]:
    """Catalog strings whose translation differs; "Marketing" is the same in German."""
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po)
    return tuple(
        str(entry.id)
        for entry in catalog
        if entry.id and entry.string != entry.id and not re.search(r"%\(|<|\{", str(entry.id))
    )


def choose_language(page: Page, server: LiveServer, language: str) -> None:
    page.goto(server.url + "/")
    page.locator("select[name=language]").select_option(language)
    page.locator("form:has(select[name=language]) button[type=submit]").click()
    page.wait_for_load_state()


def log_in(page: Page, server: LiveServer, address: str, password: str = PASSWORD) -> None:
    page.goto(server.url + "/login")
    page.locator("input[name=email]").fill(address)
    page.locator("input[name=password]").fill(password)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()


def assert_translated(english: Page, translated: Page, server: LiveServer, path: str) -> None:
    language = translated.evaluate("document.documentElement.lang")
    english.goto(server.url + path)
    translated.goto(server.url + path)
    english_text = english.evaluate(VISIBLE_TEXT)
    text = translated.evaluate(VISIBLE_TEXT)
    shown = [message for message in changed_messages(language) if message in english_text]
    assert shown, path
    left = [message for message in shown if message in text and len(message) > 6]
    assert left == [], f"{path} still shows English: {left}"


@pytest.mark.parametrize("language", ["de", "fr"])
def test_language_switch_changes_every_string_on_public_pages(
    live_server: LiveServer, browser: Browser, language: str
) -> None:
    english, translated = browser.new_context().new_page(), browser.new_context().new_page()
    choose_language(translated, live_server, language)
    assert translated.locator("html").get_attribute("lang") == language
    for path in PAGES:
        assert_translated(english, translated, live_server, path)


@pytest.mark.parametrize("language", ["de", "fr"])
def test_signed_in_pages_and_server_messages_follow_the_language(
    live_server: LiveServer, browser: Browser, language: str
) -> None:
    address = f"{uuid.uuid4().hex[:12]}@example.com"
    signed_in(live_server.url, live_server.state_dir, address)
    english, translated = browser.new_context().new_page(), browser.new_context().new_page()
    for page, chosen in ((english, "en"), (translated, language)):
        log_in(page, live_server, address)
        # Chosen after logging in, so the English page has a cookie that outranks the account.
        choose_language(page, live_server, chosen)
    for path in SIGNED_IN_PAGES:
        assert_translated(english, translated, live_server, path)

    # A refused prompt: the studio's script shows the server's JSON message next to the prompt.
    with pytest.raises(ContentRefused) as refused:
        moderate(prompt=HARMFUL_PROMPT, lyrics=None)
    translated.goto(live_server.url + "/studio")
    translated.locator("textarea[name=prompt]").fill(HARMFUL_PROMPT)
    translated.locator("form[data-generate] button[type=submit]").click()
    reason = translate(language, refused.value.template, refused.value.params)
    expect(translated.locator('[data-field-error="prompt"]')).to_have_text(reason)
    assert reason != refused.value.message

    # A page that does not exist.
    translated.goto(live_server.url + "/no-such-page")
    assert translated.locator("h1").inner_text() == error_title(404, language)
    expected = translate(language, NOTHING_HERE, {"path": "/no-such-page"})
    assert translated.get_by_text(expected).is_visible()

    # A wrong password, typed in a browser that has only chosen the language.
    stranger = browser.new_context().new_page()
    choose_language(stranger, live_server, language)
    log_in(stranger, live_server, address, password="not the password at all")
    text = stranger.locator("main").inner_text()
    assert WRONG_LOGIN not in text
    assert translate(language, WRONG_LOGIN) in text
