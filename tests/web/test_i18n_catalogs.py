"""Every interface string has a German and a French translation, compiled and loadable."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from beatbun.i18n import LANGUAGES, LOCALE_DIR, choose_language

SOURCE = Path(__file__).resolve().parents[2] / "src" / "beatbun"
# The same mapping as babel.cfg, which `make catalogs` uses.
METHOD_MAP = [("web/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS_MAP = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
TRANSLATED = [code for code in LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s")


def _source_messages() -> set[tuple[str, str | None]]:
    """(msgid, context) of every marked string; `pgettext` gives one a context."""
    found = extract_from_dir(SOURCE, METHOD_MAP, OPTIONS_MAP)
    return {
        (message if isinstance(message, str) else message[0], context)
        for _, _, message, _, context in found
    }


@pytest.fixture(scope="module")
def source_messages() -> set[tuple[str, str | None]]:
    return _source_messages()


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_translates_every_interface_string(
    source_messages: set[tuple[str, str | None]], language: str
) -> None:
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po)
    untranslated = {
        (text, context)
        for text, context in source_messages
        if (entry := catalog.get(text, context=context)) is None or not entry.string or entry.fuzzy
    }
    assert untranslated == set(), "run `make catalogs` and translate these"


@pytest.mark.parametrize("language", TRANSLATED)
def test_compiled_catalog_matches_its_source(language: str) -> None:
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po)
    compiled = gettext.translation("messages", localedir=LOCALE_DIR, languages=[language])
    for entry in catalog:
        if entry.id and entry.context:
            assert compiled.pgettext(entry.context, str(entry.id)) == entry.string, entry.id
        elif entry.id:
            assert compiled.gettext(str(entry.id)) == entry.string, "run `make catalogs`"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_every_placeholder(language: str) -> None:
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po)
    for entry in catalog:
        if entry.id:
            wanted = sorted(set(PLACEHOLDER.findall(str(entry.id))))
            assert sorted(set(PLACEHOLDER.findall(str(entry.string)))) == wanted, entry.id


@pytest.mark.parametrize(
    ("chosen", "account", "header", "expected"),
    [
        ("fr", "de", "en-US", "fr"),  # the cookie wins over everything
        (None, "de", "fr-FR,fr;q=0.9", "de"),  # then the account
        (None, None, "es;q=1, fr-CA;q=0.8, de;q=0.5", "fr"),  # then the best supported language
        (None, None, "de;q=0, en;q=0.1", "en"),  # q=0 means "not this one"
        ("xx", None, "", "en"),  # unknown choices fall through to English
    ],
)
def test_choose_language_prefers_cookie_then_account_then_header(
    chosen: str | None, account: str | None, header: str, expected: str
) -> None:
    assert choose_language(chosen=chosen, account=account, accept_language=header) == expected
