"""Queueing test mail straight into `mail_queue`, as the domains' INSERTs do."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from beatbun.accounts.tokens import new_id
from beatbun.mail.mailqueue import BULK, SERVICE, enqueue_statement
from beatbun.runtime.base import MailMessage, Runtime
from tests.factories import insert_accounts


async def queue_mail(
    runtime: Runtime,
    to: str,
    *,
    priority: int = SERVICE,
    kind: str = "account",
    account_id: str | None = None,
    topic: str | None = None,
    text: str = "Hello.\n",
    html: str = "",
    headers: tuple[tuple[str, str], ...] = (),
) -> str:
    """Queue one email to `to`; returns its queue row id."""
    message_id = new_id()
    message = MailMessage(to=to, subject=f"For {to}", text=text, html=html, headers=headers)
    await enqueue_statement(
        runtime.db,
        message_id=message_id,
        key=f"test:{message_id}",
        message=message,
        now=runtime.clock.now(),
        kind=kind,
        account_id=account_id,
        priority=priority,
        topic=topic,
    ).run()
    return message_id


async def opted_in_account(runtime: Runtime) -> str:
    """A verified adult account (`bulk000001@example.com`) whose marketing email is on."""
    (account_id,) = await insert_accounts(runtime, count=1, created_at=runtime.clock.now())
    await (
        runtime.db.prepare("UPDATE accounts SET marketing_opt_in_at = ? WHERE id = ?")
        .bind(int(runtime.clock.now()), account_id)
        .run()
    )
    return account_id


async def queue_marketing(
    runtime: Runtime,
    account_id: str,
    *,
    text: str = "News.\n",
    html: str = "",
    headers: tuple[tuple[str, str], ...] = (),
) -> str:
    """Queue a campaign email (`campaign:c1`) to the account; returns its queue row id."""
    return await queue_mail(
        runtime,
        "bulk000001@example.com",
        priority=BULK,
        kind="marketing",
        account_id=account_id,
        topic="campaign:c1",
        text=text,
        html=html,
        headers=headers,
    )


async def queue_many(runtime: Runtime, count: int, *, priority: int = SERVICE) -> None:
    """`count` emails to `person000001@example.com`… in one INSERT, as a bulk send queues them."""
    await (
        runtime.db.prepare(
            "INSERT INTO mail_queue (id, idempotency_key, recipient, subject, body, html,"
            " created_at, priority)"
            " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            " SELECT printf('m%06d', i), printf('bulk:%06d', i),"
            " printf('person%06d@example.com', i), 'Notice', 'Text', '<p>Text</p>', ?, ? FROM n"
        )
        .bind(count, runtime.clock.now(), priority)
        .run()
    )


def sends_per_second(outbox: Path) -> Counter[int]:
    """How many `.eml` files the local outbox wrote in each second (from their names)."""
    return Counter(int(path.name.split("-")[0]) // 1000 for path in outbox.glob("*.eml"))
