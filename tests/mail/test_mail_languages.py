"""Every email the product sends reads in German and French, as text and as HTML."""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import ModuleType

import pytest

from beatbun.accounts import mail as account_mail
from beatbun.billing import mail as billing_mail
from beatbun.mail import marketingstatus
from beatbun.mail.catalogue import NOTICES
from beatbun.mail.compose import AccountMail
from beatbun.policies import mail as policy_mail
from beatbun.privacy import mail as privacy_mail
from beatbun.support import mail as support_mail
from beatbun.tracks import mail as tracks_mail

MODULES = (
    account_mail,
    billing_mail,
    marketingstatus,
    policy_mail,
    privacy_mail,
    support_mail,
    tracks_mail,
)
PLACEHOLDER = re.compile(r"%\(([a-z_]+)\)s")


def _mails(module: ModuleType) -> Iterator[tuple[str, AccountMail]]:
    for name, value in vars(module).items():
        if isinstance(value, AccountMail):
            yield f"{module.__name__}.{name}", value
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, AccountMail):
                    yield f"{module.__name__}.{name}[{key}]", item


MAILS = dict(mail for module in MODULES for mail in _mails(module))


def test_every_notice_is_among_the_mails_checked() -> None:
    assert {id(notice.mail) for notice in NOTICES} <= {id(mail) for mail in MAILS.values()}
    assert len(MAILS) >= 40


@pytest.mark.parametrize("language", ["de", "fr"])
@pytest.mark.parametrize("name", sorted(MAILS))
def test_mail_reads_in_the_language(name: str, language: str) -> None:
    mail = MAILS[name]
    fields = set(PLACEHOLDER.findall(mail.subject + mail.body))
    params = {field: f"<{field}>" for field in fields}
    english = mail.compose(to="a@example.com", language="en", **params)
    translated = mail.compose(to="a@example.com", language=language, **params)
    assert translated.subject != english.subject
    assert translated.text != english.text
    assert "%(" not in translated.subject + translated.text
    # Every value the English text shows, the translation shows too.
    for value in params.values():
        assert (value in english.text) == (value in translated.text), value
    assert f'<html lang="{language}">' in translated.html
    # Values are escaped in the HTML alternative, never markup.
    assert "<site>" not in translated.html
