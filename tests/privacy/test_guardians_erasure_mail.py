"""The mails about a deletion a parent asked for: the parent's point to their own link, never to
the teen's privacy page, and the teen's say only the parent can cancel, in every language."""

from __future__ import annotations

import pytest

from beatbun.mail.compose import AccountMail
from beatbun.privacy import mail

PARAMS = {"site": "Beat Bun", "date": "2027-01-08 10:00", "link": "https://x.test/account/privacy"}
PERSONAL_LINK = {"en": "personal link", "de": "persönliche", "fr": "lien personnel"}
ONLY_PARENT = {"en": "Only your parent", "de": "Nur dein Elternteil", "fr": "Seul ton parent"}


@pytest.mark.parametrize("language", ["en", "de", "fr"])
@pytest.mark.parametrize("message", [mail.PARENT_ERASURE_SCHEDULED, mail.PARENT_ERASURE_CANCELLED])
def test_the_parent_is_sent_to_their_own_link(message: AccountMail, language: str) -> None:
    sent = message.compose(to="parent@example.com", language=language, **PARAMS)
    assert PERSONAL_LINK[language] in sent.text
    assert "/account/privacy" not in sent.text and "Beat Bun" in sent.subject


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_the_parent_is_told_the_deletion_is_done_and_their_link_ends(language: str) -> None:
    sent = mail.PARENT_ERASURE_DONE.compose(to="parent@example.com", language=language, **PARAMS)
    assert PERSONAL_LINK[language] in sent.text and "/account/privacy" not in sent.text


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_the_teen_is_told_only_the_parent_can_cancel(language: str) -> None:
    sent = mail.ERASURE_SCHEDULED_BY_PARENT.compose(
        to="teen@example.com", language=language, **PARAMS
    )
    assert ONLY_PARENT[language] in sent.text and PARAMS["date"] in sent.text
    assert "/account/privacy" not in sent.text
