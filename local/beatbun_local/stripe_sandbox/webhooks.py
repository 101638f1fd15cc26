"""Webhook delivery as Stripe does it: signed, in the background, retried, logged.

Events go out one at a time in creation order. When one fails, later events about the same
object wait behind its retries while events about other objects go ahead, so each object's
events arrive in order and one stuck object does not hold up the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from beatbun_local.stripe_sandbox.store import Store
from beatbun_local.stripe_sandbox.types import StripeObject
from beatbun_local.stripe_sandbox.wire import StripeError

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
REQUEST_TIMEOUT_SECONDS = 10.0
# The log keeps the newest finished deliveries; pending ones are never dropped.
LOG_LIMIT = 2000


def signature_header(payload: str, *, secret: str, timestamp: int) -> str:
    """Stripe's `Stripe-Signature`: HMAC-SHA256 of `{t}.{payload}` under the endpoint secret."""
    signed = f"{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class Delivery:
    event_id: str
    event_type: str
    object_id: str
    state: str = "pending"  # then "delivered", or "failed" once out of attempts
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    next_attempt_at: float = 0.0
    resend: bool = False

    def as_json(self) -> dict[str, Any]:
        fields = asdict(self)
        del fields["next_attempt_at"]
        return fields


class WebhookDispatcher:
    def __init__(
        self,
        store: Store,
        *,
        url: str | None,
        secret: str,
        render: Callable[[StripeObject], StripeObject],
        max_attempts: int = 8,
        retry_base_seconds: float = 0.5,
    ) -> None:
        self.store = store
        self.render = render
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.deliveries: list[Delivery] = []
        self.paused = False
        self._wake = asyncio.Event()
        # Set while no delivery is pending, for `drain`.
        self._idle = asyncio.Event()
        self._idle.set()
        self._client: httpx.AsyncClient | None = None
        self.configure(url=url, secret=secret)
        store.listeners.append(self.enqueue)

    def configure(self, *, url: str | None, secret: str) -> None:
        self.url = url or None
        self.secret = secret
        self.store.webhook_endpoints = 1 if self.url else 0
        self._wake.set()

    def enqueue(self, event: StripeObject) -> None:
        if self.url is None:
            return
        self.deliveries.append(
            Delivery(event_id=event["id"], event_type=event["type"], object_id=_object_id(event))
        )
        self._trim_log()
        self._idle.clear()
        self._wake.set()

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self._wake.set()

    def pending_event_ids(self) -> list[str]:
        return [delivery.event_id for delivery in self.deliveries if delivery.state == "pending"]

    async def run(self) -> None:
        """Deliver until cancelled."""
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS) as client:
            self._client = client
            while True:
                self._wake.clear()
                delivery, wait = self._next_due()
                if delivery is None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=wait)
                    continue
                await self._attempt(delivery)

    async def resend(self, event_id: str) -> Delivery:
        """Deliver an event once more, now, signed anew, paused or not.

        If the event's own delivery is still pending and this one succeeds, that one is done too.
        """
        event = self.store.get("event", event_id)
        if self.url is None or self._client is None:
            raise StripeError(
                "No webhook endpoint is configured; set one with POST /_sandbox/webhook."
            )
        delivery = Delivery(
            event_id=event_id, event_type=event["type"], object_id=_object_id(event), resend=True
        )
        self.deliveries.append(delivery)
        await self._attempt(delivery)
        if delivery.state == "delivered":
            for queued in self.deliveries:
                if queued.event_id == event_id and queued.state == "pending":
                    queued.state = "delivered"
            self._note_if_idle()
        return delivery

    async def drain(self) -> None:
        """Wait until nothing is pending (forever, while paused: callers bound the wait)."""
        await self._idle.wait()

    def _next_due(self) -> tuple[Delivery | None, float | None]:
        """The first deliverable delivery, else how long until one may be (None: until woken)."""
        if self.paused or self.url is None:
            return None, None
        now = time.monotonic()
        blocked: set[str] = set()
        wait: float | None = None
        for delivery in self.deliveries:
            if delivery.state != "pending" or delivery.object_id in blocked:
                continue
            blocked.add(delivery.object_id)
            if delivery.next_attempt_at <= now:
                return delivery, None
            until = delivery.next_attempt_at - now
            wait = until if wait is None else min(wait, until)
        return None, wait

    async def _attempt(self, delivery: Delivery) -> None:
        if self._client is None or self.url is None:
            raise RuntimeError("Start the dispatcher (run) before delivering events.")
        event = self.store.get("event", delivery.event_id)
        payload = json.dumps(self.render(event), indent=2)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Cache-Control": "no-cache",
            "Accept": "*/*; q=0.5, application/xml",
            # Signed with real time, not the sandbox clock: receivers check it against theirs.
            "Stripe-Signature": signature_header(
                payload, secret=self.secret, timestamp=int(time.time())
            ),
        }
        delivery.attempts += 1
        try:
            response = await self._client.post(self.url, content=payload.encode(), headers=headers)
        except httpx.HTTPError as exc:
            delivery.last_status, delivery.last_error = None, f"{type(exc).__name__}: {exc}"
        else:
            delivery.last_status, delivery.last_error = response.status_code, None
        if delivery.last_status is not None and 200 <= delivery.last_status < 300:
            delivery.state = "delivered"
            event["pending_webhooks"] = 0
            self.store.dirty = True
        elif delivery.resend or delivery.attempts >= self.max_attempts:
            delivery.state = "failed"
        else:
            delay = self.retry_base_seconds * 2 ** (delivery.attempts - 1)
            delivery.next_attempt_at = time.monotonic() + delay
        self._note_if_idle()

    def _note_if_idle(self) -> None:
        if not self.pending_event_ids():
            self._idle.set()

    def _trim_log(self) -> None:
        excess = len(self.deliveries) - LOG_LIMIT
        if excess > 0:
            finished = [d for d in self.deliveries if d.state != "pending"][:excess]
            dropped = {id(d) for d in finished}
            self.deliveries = [d for d in self.deliveries if id(d) not in dropped]


def _object_id(event: StripeObject) -> str:
    object_id: str = event["data"]["object"]["id"]
    return object_id
