"""Reading money and track notices back from the local outbox, as their owners get them."""

from __future__ import annotations

from beatbun.mail import drain
from beatbun.runtime.base import MailMessage
from beatbun_local.runtime import LocalRuntime


async def delivered(runtime: LocalRuntime, subject: str) -> list[MailMessage]:
    """Send what is queued, then the delivered messages whose subject has `subject`."""
    while await drain.send_queued_mail(runtime):
        pass
    return [message for message in runtime.mailer.messages() if subject in message.subject]


def assert_service_mail(message: MailMessage, *, to: str, language: str = "en") -> None:
    """A notice to `to`, filled in, as text and HTML in `language`, with no marketing headers."""
    assert message.to == to
    assert message.text.endswith("\n") and "%(" not in message.subject + message.text
    assert message.html.lower().startswith("<!doctype html>")
    assert f'<html lang="{language}">' in message.html
    assert not [name for name, _ in message.headers if name.lower().startswith("list-")]
