"""What the mail provider reports after sending: Resend's webhooks, signed the Svix way.

Resend posts `{"type", "created_at", "data": {"email_id", ...}}` with three headers
(docs.svix.com, "Verifying webhooks manually"): `svix-id`, `svix-timestamp` (epoch seconds) and
`svix-signature`, a space-separated list of `v1,<base64 HMAC-SHA256>` over
`<svix-id>.<svix-timestamp>.<raw body>`, keyed with the base64 part of the endpoint's `whsec_`
secret (`MAIL_WEBHOOK_SECRET`). A report older or newer than `TOLERANCE_SECONDS` is refused, so
a captured one cannot be replayed later.

`email.bounced` marks the queue row the provider named as bounced (and counts it for its bulk
send); `email.complained` (the recipient marked it as spam) turns that account's marketing
email off, recorded as a withdrawal with source 'complaint' and counted for its campaign as a
complaint (not an unsubscribe). Both are idempotent: a report delivered twice changes nothing
the second time. Other event types are acknowledged and ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from beatbun.errors import WebhookRejected
from beatbun.i18n import N_
from beatbun.mail.marketing import withdraw_marketing
from beatbun.mail.topics import campaign_of
from beatbun.runtime.base import Runtime

TOLERANCE_SECONDS = 5 * 60
SECRET_PREFIX = "whsec_"  # noqa: S105 (the documented prefix, not a secret)
HANDLED = frozenset({"email.bounced", "email.complained"})
BAD_SIGNATURE = N_("The webhook's signature is missing, wrong or too old.")


@dataclass(frozen=True)
class MailEventReceipt:
    type: str
    applied: bool


def sign(secret: str, *, message_id: str, timestamp: str, body: bytes) -> str:
    """The `v1,<signature>` entry for a report: what the provider sends and what we expect."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key_of(secret), signed, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}"


def verify_signature(secret: str, headers: Mapping[str, str], body: bytes, *, now: float) -> None:
    """Raise `WebhookRejected` unless one of the report's signatures is ours and it is recent."""
    message_id = headers.get("svix-id", "")
    timestamp = headers.get("svix-timestamp", "")
    signatures = headers.get("svix-signature", "").split()
    # Headers arrive decoded as latin-1: "²" is a digit to `isdigit` but not to `int`.
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise WebhookRejected(BAD_SIGNATURE)
    if not secret or not message_id or not signatures:
        raise WebhookRejected(BAD_SIGNATURE)
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise WebhookRejected(BAD_SIGNATURE)
    try:
        expected = sign(secret, message_id=message_id, timestamp=timestamp, body=body).encode()
    except (binascii.Error, ValueError) as exc:
        raise WebhookRejected(BAD_SIGNATURE) from exc
    # Compared as bytes: `compare_digest` refuses non-ASCII text.
    if not any(hmac.compare_digest(expected, given.encode("latin-1")) for given in signatures):
        raise WebhookRejected(BAD_SIGNATURE)


async def handle_mail_event(
    runtime: Runtime, *, body: bytes, headers: Mapping[str, str]
) -> MailEventReceipt:
    """Verify one report and apply it; raises `WebhookRejected` (answer 400, nothing changes)."""
    verify_signature(runtime.settings.mail_webhook_secret, headers, body, now=runtime.clock.now())
    try:
        event = json.loads(body)
        kind, data = str(event["type"]), event.get("data") or {}
    except (ValueError, KeyError, TypeError) as exc:
        raise WebhookRejected(
            N_("The webhook's body is not a mail event."), code="invalid_event"
        ) from exc
    email_id = data.get("email_id") if isinstance(data, dict) else None
    if not isinstance(email_id, str) or kind not in HANDLED:
        return MailEventReceipt(type=kind, applied=False)
    if kind == "email.bounced":
        applied = await _bounced(runtime, email_id)
    else:
        applied = await _complained(runtime, email_id)
    return MailEventReceipt(type=kind, applied=applied)


async def _bounced(runtime: Runtime, email_id: str) -> bool:
    """Mark the email bounced and count it for its topic in one batch, so neither is lost."""
    db = runtime.db
    mark = db.prepare(
        "UPDATE mail_queue SET bounced_at = ? WHERE provider_id = ? AND bounced_at IS NULL"
    ).bind(runtime.clock.now(), email_id)
    # `changes()` is the UPDATE's, just before in the same batch: a report delivered again
    # marks nothing and so counts nothing.
    count = db.prepare(
        "INSERT INTO mail_topics (topic, bounced)"
        " SELECT topic, COUNT(*) FROM mail_queue"
        " WHERE provider_id = ? AND topic IS NOT NULL AND changes() > 0 GROUP BY topic"
        " ON CONFLICT (topic) DO UPDATE SET bounced = bounced + excluded.bounced"
    ).bind(email_id)
    marked, _ = await db.batch([mark, count])
    return marked.meta.changes > 0


async def _complained(runtime: Runtime, email_id: str) -> bool:
    row: dict[str, Any] | None = await (
        runtime.db.prepare("SELECT account_id, topic FROM mail_queue WHERE provider_id = ?")
        .bind(email_id)
        .first()
    )
    if row is None or row["account_id"] is None:
        return False
    return await withdraw_marketing(
        runtime, str(row["account_id"]), source="complaint", campaign_id=campaign_of(row["topic"])
    )


def _key_of(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded, validate=True)
