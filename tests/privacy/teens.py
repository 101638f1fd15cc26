"""A 13 to 17 year old's sign-up and the mail it causes, for the parent's-consent tests."""

from __future__ import annotations

import re

from beatbun.accounts.models import Account
from beatbun.accounts.registration import SignUpForm, sign_up
from beatbun.accounts.store import find_account_by_email
from beatbun.mail.drain import send_queued_mail
from beatbun.runtime.base import MailMessage
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD

TEEN = "teen@example.com"
PARENT = "parent@example.com"
# The manual clock starts in January 2027: 15 years old.
TEEN_BIRTH_DATE = "2012-01-01"
PARENT_LINK = re.compile(r"https?://\S+/parent/([A-Za-z0-9_-]+)")


async def sign_up_teen(
    runtime: LocalRuntime, *, email: str = TEEN, language: str = "en"
) -> Account:
    """Sign up Sam, 15, naming `PARENT`, with the queued mail (theirs and the parent's) sent."""
    form = SignUpForm(
        email=email,
        password=PASSWORD,
        display_name="Sam",
        birth_date=TEEN_BIRTH_DATE,
        parent_email=PARENT,
    )
    await sign_up(runtime, form, client=CLIENT, language=language)
    await send_queued_mail(runtime)
    account = await find_account_by_email(runtime.db, email)
    assert account is not None
    return account


def mails_to(runtime: LocalRuntime, address: str) -> list[MailMessage]:
    """The mails sent to `address`, newest first."""
    return [message for message in runtime.mailer.messages() if message.to == address]


def parent_token(runtime: LocalRuntime) -> str:
    """The token of the newest link mailed to the parent."""
    found = PARENT_LINK.search(mails_to(runtime, PARENT)[0].text)
    assert found is not None
    return found.group(1)
