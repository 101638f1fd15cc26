"""How an email's text is made: a subject and a whole body per catalog entry, in the reader's
language; `%(site)s`, `%(link)s` and the like are filled in after translation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from beatbun.i18n import translate
from beatbun.mail.render import render_html
from beatbun.runtime.base import MailMessage


@dataclass(frozen=True)
class AccountMail:
    subject: str
    body: str

    def compose(self, *, to: str, language: str, **params: str) -> MailMessage:
        """The message in `language`, as text and HTML; the body's final newline stays out of
        the catalogs."""
        subject = translate(language, self.subject, params)
        text = translate(language, self.body, params) + "\n"
        html = render_html(
            text=text, subject=subject, language=language, site=params.get("site", "")
        )
        return MailMessage(to=to, subject=subject, text=text, html=html)


def email_date(timestamp: float, *, minute: bool = False) -> str:
    """A time as emails give it, in UTC (the text says so): the day, "2026-11-30", or with
    `minute` the day and time to the minute, "2026-11-30 05:31"."""
    return datetime.fromtimestamp(timestamp, UTC).strftime(
        "%Y-%m-%d %H:%M" if minute else "%Y-%m-%d"
    )
