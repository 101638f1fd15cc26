"""The local mailer: every message becomes an `.eml` file in the outbox folder."""

from __future__ import annotations

import email.policy
from email import message_from_bytes
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from beatbun.runtime.base import Clock, MailMessage

# Headers are not folded at 78 characters: folding a subject around an encoded word makes
# Python's parser read back a doubled space. RFC 5322's hard limit is 998.
WRITTEN = email.policy.SMTP.clone(max_line_length=998)


class LocalOutbox:
    """Writes `<outbox>/<time>-<n>.eml`; `messages()` reads them back for `/dev/outbox`."""

    def __init__(self, directory: Path, *, sender: str, clock: Clock) -> None:
        self._directory = directory
        self._sender = sender
        self._clock = clock

    async def send(self, message: MailMessage) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        mime = EmailMessage()
        mime["From"] = self._sender
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Date"] = formatdate(self._clock.now(), usegmt=True)
        mime.set_content(message.text)
        sequence = len(list(self._directory.glob("*.eml")))
        name = f"{int(self._clock.now() * 1000):015d}-{sequence:06d}.eml"
        (self._directory / name).write_bytes(mime.as_bytes(policy=WRITTEN))

    def messages(self) -> list[MailMessage]:
        return [_read(path) for path in sorted(self._directory.glob("*.eml"), reverse=True)]


def _read(path: Path) -> MailMessage:
    mime = message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = mime.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return MailMessage(to=str(mime["To"]), subject=str(mime["Subject"]), text=str(text))
