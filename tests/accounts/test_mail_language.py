"""Account emails go out in the language of the request that caused them, links intact."""

from __future__ import annotations

import re

import pytest

from beatbun.accounts import mail
from beatbun.accounts.profile import request_email_change
from beatbun.i18n import LANGUAGES
from beatbun.mail.drain import send_queued_mail
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD, create_verified_account

LINK = "https://beatbun.test/path?token=abc123"
MAILS = {
    "verification": mail.VERIFICATION,
    "already_registered": mail.ALREADY_REGISTERED,
    "email_change": mail.EMAIL_CHANGE,
    "reset": mail.PASSWORD_RESET,
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", MAILS)
def test_every_mail_keeps_its_link_and_site_in_every_language(kind: str, language: str) -> None:
    message = MAILS[kind].compose(to="a@example.com", language=language, site="Beat Bun", link=LINK)
    assert "Beat Bun" in message.subject
    # Whitespace after the link, so no mail client takes punctuation into the URL.
    assert re.search(re.escape(LINK) + r"\s", message.text)
    assert message.text.endswith("\n") and "%(" not in message.subject + message.text


async def test_email_change_mail_is_in_the_language_of_the_request(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    await request_email_change(
        runtime,
        account,
        new_email="new@example.com",
        password=PASSWORD,
        code="",
        client=CLIENT,
        language="de",
    )
    await send_queued_mail(runtime)
    [sent] = [m for m in runtime.mailer.messages() if m.to == "new@example.com"]
    assert sent.subject == "Bestätige deine neue E-Mail-Adresse für Beat Bun"
    assert "Öffne diesen Link innerhalb von 24 Stunden" in sent.text
