"""Every string a page asks the catalogs for is in them: nothing falls back to English unseen.

Babel cannot extract `_(variable)` (a mood's label, a registry purpose), so the catalog test
cannot see those strings; here the pages render in German and French with catalogs that
record every lookup they cannot answer.
"""

from __future__ import annotations

import gettext

import httpx
import pytest

import beatbun.i18n
import beatbun.web.i18n
from beatbun.accounts.service import log_in
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD, create_verified_account

PAGES = (
    "/",
    "/login",
    "/signup",
    "/forgot-password",
    "/privacy",
    "/cookies",
    "/privacy/choices",
    "/no-such-page",
)
SIGNED_IN_PAGES = (
    "/studio",
    "/tracks",
    "/account",
    "/account/two-step",
    "/account/sessions",
    "/account/api-keys",
    "/account/security-log",
    "/docs/api",
)
real_translations_for = beatbun.i18n.translations_for


class RecordingTranslations(gettext.NullTranslations):
    """A language's catalog that notes every message it does not hold."""

    def __init__(self, language: str, misses: set[str]) -> None:
        super().__init__()
        self.real = real_translations_for(language)
        # English is the source text: it has no catalog to miss from.
        self.known = getattr(self.real, "_catalog", None)
        self.misses = misses

    def gettext(self, message: str) -> str:
        self._check(message)
        return self.real.gettext(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        self._check((msgid1, 0))
        return self.real.ngettext(msgid1, msgid2, n)

    def pgettext(self, context: str, message: str) -> str:
        self._check(f"{context}\x04{message}")
        return self.real.pgettext(context, message)

    def _check(self, key: str | tuple[str, int]) -> None:
        if self.known is not None and key not in self.known:
            self.misses.add(str(key))


@pytest.fixture
def misses(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    found: set[str] = set()
    for module in (beatbun.i18n, beatbun.web.i18n):
        monkeypatch.setattr(
            module, "translations_for", lambda language: RecordingTranslations(language, found)
        )
    return found


@pytest.mark.parametrize("language", ["de", "fr"])
async def test_every_string_a_page_looks_up_has_a_translation(
    runtime: LocalRuntime, client: httpx.AsyncClient, misses: set[str], language: str
) -> None:
    account = await create_verified_account(runtime)
    outcome = await log_in(
        runtime, email=account.email, password=PASSWORD, client=CLIENT, previous_token=None
    )
    visitor = {"Accept-Language": language}
    member = {**visitor, "Cookie": f"__Host-session={outcome.token}"}
    for path, headers in [(p, visitor) for p in PAGES] + [(p, member) for p in SIGNED_IN_PAGES]:
        response = await client.get(path, headers=headers)
        assert response.status_code in (200, 404), path
        assert f'lang="{language}"' in response.text, path
    assert misses == set()
