"""`/api/webhooks/mail`: Resend's bounce and complaint reports, signed the Svix way."""

from __future__ import annotations

import json

import httpx
import pytest

from beatbun.errors import WebhookRejected
from beatbun.mail.drain import drain_mail
from beatbun.mail.events import sign, verify_signature
from beatbun.mail.mailqueue import BULK
from beatbun.mail.topics import TopicCounts, topic_counts
from beatbun.settings import Settings
from beatbun_local.runtime import LocalRuntime
from tests.mail.queueing import opted_in_account, queue_mail

SECRET = "whsec_" + "c2VjcmV0LWtleS1vZi10aGUtdGVzdA=="
URL = "/api/webhooks/mail"


@pytest.fixture
def settings() -> Settings:
    return Settings(environment="test", mail_rate_per_second=10_000.0, mail_webhook_secret=SECRET)


def test_the_published_svix_example_verifies() -> None:
    # docs.svix.com's example delivery, with its secret and signature.
    headers = {
        "svix-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "svix-timestamp": "1614265330",
        "svix-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    body = b'{"test": 2432232314}'
    verify_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers, body, now=1614265330)
    with pytest.raises(WebhookRejected):
        verify_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers, body + b" ", now=1614265330
        )


def _signed(
    body: bytes, *, at: float, secret: str = SECRET, message_id: str = "msg_1"
) -> dict[str, str]:
    timestamp = str(int(at))
    signature = sign(secret, message_id=message_id, timestamp=timestamp, body=body)
    # A rotated secret's signature travels beside the current one.
    return {
        "svix-id": message_id,
        "svix-timestamp": timestamp,
        "svix-signature": f"v1,b2xkLXNpZ25hdHVyZQ== {signature}",
        "content-type": "application/json",
    }


def _event(kind: str, email_id: str) -> bytes:
    return json.dumps(
        {
            "type": kind,
            "created_at": "2026-11-30T06:00:00.000Z",
            "data": {
                "email_id": email_id,
                "from": "Beat Bun <no-reply@beatbun.example.com>",
                "to": ["a@example.com"],
                "subject": "News",
                "created_at": "2026-11-30T05:59:00.000Z",
            },
        }
    ).encode()


async def _sent(runtime: LocalRuntime, **queued: object) -> str:
    """Queue and send one email; its provider id."""
    message_id = await queue_mail(runtime, "a@example.com", **queued)  # type: ignore[arg-type]
    await drain_mail(runtime)
    provider_id = await (
        runtime.db.prepare("SELECT provider_id FROM mail_queue WHERE id = ?")
        .bind(message_id)
        .first("provider_id")
    )
    assert isinstance(provider_id, str)
    return provider_id


async def test_a_bounce_is_recorded_once_and_counted_for_its_topic(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    provider_id = await _sent(runtime, priority=BULK, topic="policy:terms:2")
    body = _event("email.bounced", provider_id)
    now = runtime.clock.now()
    for delivery in range(2):  # Svix delivers again when unsure
        response = await client.post(URL, content=body, headers=_signed(body, at=now))
        assert response.status_code == 200
        assert response.json() == {
            "received": True,
            "type": "email.bounced",
            "applied": delivery == 0,
        }
    bounced = await (
        runtime.db.prepare("SELECT bounced_at FROM mail_queue WHERE provider_id = ?")
        .bind(provider_id)
        .first("bounced_at")
    )
    assert bounced == now
    assert await topic_counts(runtime.db, "policy:terms:2") == TopicCounts(sent=1, bounced=1)


async def test_a_complaint_turns_marketing_off_with_proof(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account_id = await opted_in_account(runtime)
    provider_id = await _sent(runtime, kind="marketing", account_id=account_id, priority=BULK)
    body = _event("email.complained", provider_id)
    response = await client.post(URL, content=body, headers=_signed(body, at=runtime.clock.now()))
    assert response.status_code == 200 and response.json()["applied"] is True
    account = await (
        runtime.db.prepare("SELECT marketing_opt_in_at FROM accounts WHERE id = ?")
        .bind(account_id)
        .first()
    )
    assert account == {"marketing_opt_in_at": None}
    proof = await (
        runtime.db.prepare("SELECT action, source FROM marketing_consents WHERE account_id = ?")
        .bind(account_id)
        .all()
    )
    assert proof.results == [{"action": "withdrawn", "source": "complaint"}]


async def test_a_complaint_is_counted_apart_from_unsubscribes(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    now = runtime.clock.now()
    await (
        runtime.db.prepare(
            "INSERT INTO campaigns (id, name, status, created_at, updated_at)"
            " VALUES ('c1', 'Winter news', 'sending', ?, ?)"
        )
        .bind(now, now)
        .run()
    )
    account_id = await opted_in_account(runtime)
    provider_id = await _sent(
        runtime, kind="marketing", account_id=account_id, priority=BULK, topic="campaign:c1"
    )
    body = _event("email.complained", provider_id)
    for _ in range(2):  # a second delivery of the report counts nothing more
        response = await client.post(URL, content=body, headers=_signed(body, at=now))
        assert response.status_code == 200
    assert await topic_counts(runtime.db, "campaign:c1") == TopicCounts(sent=1, complained=1)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"secret": "whsec_" + "b3RoZXItc2VjcmV0LWtleQ=="}, "signed with another secret"),
        ({"age": 301}, "older than five minutes"),
        ({"age": -301}, "from more than five minutes ahead"),
        ({"drop": "svix-signature"}, "no signature"),
        ({"drop": "svix-id"}, "no id"),
        ({"tamper": True}, "body changed after signing"),
    ],
)
async def test_an_unsigned_or_stale_report_is_refused_and_changes_nothing(
    runtime: LocalRuntime, client: httpx.AsyncClient, change: dict[str, object], why: str
) -> None:
    provider_id = await _sent(runtime)
    body = _event("email.bounced", provider_id)
    age = float(change.get("age", 0))  # type: ignore[arg-type]
    headers = _signed(body, at=runtime.clock.now() - age, secret=str(change.get("secret", SECRET)))
    if "drop" in change:
        del headers[str(change["drop"])]
    sent_body = body.replace(b"bounced", b"complained") if change.get("tamper") else body
    response = await client.post(URL, content=sent_body, headers=headers)
    assert response.status_code == 400, why
    assert response.json()["error"] == "invalid_signature"
    bounced = await runtime.db.prepare(
        "SELECT COUNT(*) AS n FROM mail_queue WHERE bounced_at IS NOT NULL"
    ).first("n")
    assert bounced == 0


async def test_without_a_configured_secret_every_report_is_refused(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    body = _event("email.bounced", "e1")
    headers = _signed(body, at=runtime.clock.now())
    runtime.settings = Settings(environment="test")
    response = await client.post(URL, content=body, headers=headers)
    assert response.status_code == 400 and response.json()["error"] == "invalid_signature"


async def test_other_events_and_unknown_emails_are_acknowledged(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    for body in (_event("email.delivered", "e1"), _event("email.bounced", "never-sent")):
        response = await client.post(
            URL, content=body, headers=_signed(body, at=runtime.clock.now())
        )
        assert response.status_code == 200 and response.json()["applied"] is False


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("svix-timestamp", "²"),  # a digit to str.isdigit, not to int()
        ("svix-timestamp", "\uff11\uff12\uff13"),  # fullwidth digits: not ASCII
        ("svix-signature", "v1,é"),
    ],
)
async def test_a_report_with_non_ascii_headers_is_refused_with_400(
    runtime: LocalRuntime, client: httpx.AsyncClient, name: str, value: str
) -> None:
    provider_id = await _sent(runtime)
    body = _event("email.bounced", provider_id)
    headers: dict[str, str | bytes] = {**_signed(body, at=runtime.clock.now())}
    # Sent as latin-1 bytes (UTF-8 where latin-1 has no such character), as a client could.
    try:
        headers[name] = value.encode("latin-1")
    except UnicodeEncodeError:
        headers[name] = value.encode()
    response = await client.post(URL, content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_signature"


async def test_a_bounce_and_its_count_are_written_together(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    provider_id = await _sent(runtime, priority=BULK, topic="campaign:c1")
    # The counter's write fails once, as a crash between the two writes would.
    await runtime.db.prepare(
        "CREATE TRIGGER count_fails BEFORE UPDATE OF bounced ON mail_topics"
        " BEGIN SELECT RAISE(ABORT, 'count lost'); END"
    ).run()
    body = _event("email.bounced", provider_id)
    headers = _signed(body, at=runtime.clock.now())
    assert (await client.post(URL, content=body, headers=headers)).status_code == 503
    bounced = await runtime.db.prepare(
        "SELECT COUNT(*) AS n FROM mail_queue WHERE bounced_at IS NOT NULL"
    ).first("n")
    assert bounced == 0

    # Svix delivers again: the bounce and its count land together.
    await runtime.db.prepare("DROP TRIGGER count_fails").run()
    response = await client.post(URL, content=body, headers=headers)
    assert response.status_code == 200 and response.json()["applied"] is True
    assert await topic_counts(runtime.db, "campaign:c1") == TopicCounts(sent=1, bounced=1)
