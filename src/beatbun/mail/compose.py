"""How an email's text is made: a subject and a whole body per catalog entry, in the reader's
language; `%(site)s`, `%(link)s` and the like are filled in after translation."""

from __future__ import annotations

from dataclasses import dataclass

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
