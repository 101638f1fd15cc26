"""The local mailer: every message becomes an `.eml` file in the outbox folder.

Each file is a whole MIME message as a provider would deliver it: the plain text and, when the
message has one, its HTML alternative (`multipart/alternative`), with every header it was given.
A message with a `key` is written once: its file is created under the key's name with an
exclusive hard link, so a second send of that key (after a crash between sending and recording,
even one that killed the process mid-write) finds it and returns the same id, as Resend's
Idempotency-Key does.
"""

from __future__ import annotations

import email.policy
import hashlib
import os
import time
import uuid
from email import message_from_bytes
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from beatbun.runtime.base import Clock, MailMessage

# Headers are not folded at 78 characters: folding a subject around an encoded word makes
# Python's parser read back a doubled space. RFC 5322's hard limit is 998.
WRITTEN = email.policy.SMTP.clone(max_line_length=998)
# Headers of the MIME structure itself, not of the message: not listed with its headers.
STRUCTURE_HEADERS = frozenset({"mime-version", "content-type", "content-transfer-encoding"})
KEYS_DIR = ".keys"


class LocalOutbox:
    """Writes `<outbox>/<time>-<ns>-<id>.eml`; `messages()` reads them back for `/dev/outbox`."""

    def __init__(self, directory: Path, *, sender: str, clock: Clock) -> None:
        self._directory = directory
        self._sender = sender
        self._clock = clock

    async def send(self, message: MailMessage) -> str:
        keys = self._directory / KEYS_DIR
        keys.mkdir(parents=True, exist_ok=True)
        message_id = (
            hashlib.sha256(message.key.encode()).hexdigest()[:32]
            if message.key
            else uuid.uuid4().hex
        )
        pending = self._directory / f".{message_id}-{uuid.uuid4().hex}.tmp"
        pending.write_bytes(self._mime(message, message_id).as_bytes(policy=WRITTEN))
        try:
            if message.key:
                try:
                    # Exclusive: of two sends of one key, only the first gets the name.
                    os.link(pending, keys / f"{message_id}.eml")
                except FileExistsError:
                    self._restore(message_id)
                    return message_id
            os.replace(pending, self._directory / self._file_name(message_id))
        finally:
            pending.unlink(missing_ok=True)
        return message_id

    def messages(self) -> list[MailMessage]:
        return [_read(path) for path in sorted(self._directory.glob("*.eml"), reverse=True)]

    def _mime(self, message: MailMessage, message_id: str) -> EmailMessage:
        mime = EmailMessage()
        mime["From"] = self._sender
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Date"] = formatdate(self._clock.now(), usegmt=True)
        mime["Message-ID"] = f"<{message_id}@outbox.localhost>"
        for name, value in message.headers:
            mime[name] = value
        mime.set_content(message.text)
        if message.html:
            mime.add_alternative(message.html, subtype="html")
        return mime

    def _file_name(self, message_id: str) -> str:
        # Sorted by the runtime's clock, then by the real one among sends of the same instant.
        return f"{int(self._clock.now() * 1000):015d}-{time.time_ns():020d}-{message_id}.eml"

    def _restore(self, message_id: str) -> None:
        """Put a keyed message back in the outbox if a crash took it between link and rename."""
        if not any(self._directory.glob(f"*-{message_id}.eml")):
            os.link(
                self._directory / KEYS_DIR / f"{message_id}.eml",
                self._directory / self._file_name(message_id),
            )


def _read(path: Path) -> MailMessage:
    mime = message_from_bytes(path.read_bytes(), policy=email.policy.default)
    plain = mime.get_body(preferencelist=("plain",))
    html = mime.get_body(preferencelist=("html",))
    headers = tuple(
        (name, str(value))
        for name, value in mime.items()
        if name.lower() not in STRUCTURE_HEADERS | {"to", "subject"}
    )
    return MailMessage(
        to=str(mime["To"]),
        subject=str(mime["Subject"]),
        text=_lines(plain.get_content()) if plain is not None else "",
        html=_lines(html.get_content()) if html is not None else "",
        headers=headers,
    )


def _lines(content: object) -> str:
    """The part's text with the line ends it was given (the file has SMTP's CRLF)."""
    return str(content).replace("\r\n", "\n")
