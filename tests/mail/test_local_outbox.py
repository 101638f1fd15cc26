"""The local mailer: whole MIME messages in `.eml` files, each key written once."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from beatbun.runtime.base import MailMessage
from beatbun_local.mail import LocalOutbox
from tests.fakes import ManualClock

MESSAGE = MailMessage(
    to="a@example.com",
    subject="Vérifie ton adresse",
    text="Bonjour.\n",
    html="<p>Bonjour.</p>",
    headers=(
        ("List-Unsubscribe", "<https://beatbun.example.com/email/unsubscribe/a/t>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ),
    key="row-1",
)


def _outbox(tmp_path: Path) -> LocalOutbox:
    return LocalOutbox(
        tmp_path / "outbox", sender="Beat Bun <no-reply@x.example>", clock=ManualClock()
    )


def _files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "outbox").glob("*.eml"))


async def test_a_message_is_text_and_html_with_every_header(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    await outbox.send(MESSAGE)
    (path,) = _files(tmp_path)
    mime = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert mime.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mime.iter_parts()] == ["text/plain", "text/html"]
    (read,) = outbox.messages()
    assert (read.to, read.subject, read.text, read.html.strip()) == (
        "a@example.com",
        "Vérifie ton adresse",
        "Bonjour.\n",
        "<p>Bonjour.</p>",
    )
    assert set(MESSAGE.headers) <= set(read.headers)
    assert {"From", "Date", "Message-ID"} <= {name for name, _ in read.headers}


async def test_a_text_only_message_stays_plain(tmp_path: Path) -> None:
    await _outbox(tmp_path).send(MailMessage(to="a@example.com", subject="Hi", text="Hello.\n"))
    (path,) = _files(tmp_path)
    mime = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert mime.get_content_type() == "text/plain"


async def test_the_same_key_twice_is_one_message_with_one_id(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    first = await outbox.send(MESSAGE)
    assert await outbox.send(MESSAGE) == first
    assert len(_files(tmp_path)) == 1


async def test_messages_without_a_key_are_each_delivered(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    plain = MailMessage(to="a@example.com", subject="Hi", text="Hello.\n")
    assert await outbox.send(plain) != await outbox.send(plain)
    assert len(_files(tmp_path)) == 2


async def test_a_key_whose_file_a_crash_lost_is_put_back_once(tmp_path: Path) -> None:
    # Killed after the key was taken, before the message reached the outbox: the resend puts
    # the message there, and a third send finds it.
    outbox = _outbox(tmp_path)
    first = await outbox.send(MESSAGE)
    _files(tmp_path)[0].unlink()
    assert await outbox.send(MESSAGE) == first
    assert await outbox.send(MESSAGE) == first
    assert len(_files(tmp_path)) == 1
    assert not list((tmp_path / "outbox").glob(".*.tmp"))
