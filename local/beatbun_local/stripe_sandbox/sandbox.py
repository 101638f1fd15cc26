"""One running sandbox: the store, webhook delivery, and the timers that settle async payments."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from starlette.requests import Request

from beatbun_local.stripe_sandbox.checkout import pending_settlements, settle
from beatbun_local.stripe_sandbox.objects import strip_legacy
from beatbun_local.stripe_sandbox.store import Store
from beatbun_local.stripe_sandbox.types import StripeObject
from beatbun_local.stripe_sandbox.webhooks import WebhookDispatcher

SAVE_DELAY_SECONDS = 0.25


class Sandbox:
    def __init__(
        self,
        store: Store,
        *,
        webhook_url: str | None,
        webhook_secret: str,
        async_settle_seconds: float,
        legacy_fields: bool,
        max_attempts: int,
        retry_base_seconds: float,
    ) -> None:
        self.store = store
        self.async_settle_seconds = async_settle_seconds
        self.legacy_fields = legacy_fields
        self.dispatcher = WebhookDispatcher(
            store,
            url=webhook_url,
            secret=webhook_secret,
            render=self.render,
            max_attempts=max_attempts,
            retry_base_seconds=retry_base_seconds,
        )
        # Idempotency-Key → (request fingerprint, status, body) of the first response to it.
        self.idempotent_responses: dict[str, tuple[str, int, bytes]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._save_timer: asyncio.TimerHandle | None = None

    def render(self, obj: StripeObject) -> StripeObject:
        """The object as the API and webhooks show it."""
        if self.legacy_fields:
            return obj
        rendered: StripeObject = strip_legacy(obj)
        return rendered

    async def start(self) -> None:
        for event_id in self.store.undelivered:
            event = self.store.find("event", event_id)
            if event is not None:
                self.dispatcher.enqueue(event)
        self._spawn(self.dispatcher.run())
        for session_id in pending_settlements(self.store):
            self.schedule_settlement(session_id)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.save()

    def schedule_settlement(self, session_id: str) -> None:
        self._spawn(self._settle_later(session_id))

    async def _settle_later(self, session_id: str) -> None:
        await asyncio.sleep(self.async_settle_seconds)
        session = self.store.find("checkout.session", session_id)
        if session is not None:
            settle(self.store, session)
            self.persist()

    def persist(self) -> None:
        """Save the state file soon, if anything changed: a burst of changes makes one write."""
        if self._save_timer is None and self.store.dirty and self.store.state_path is not None:
            self._save_timer = asyncio.get_running_loop().call_later(SAVE_DELAY_SECONDS, self.save)

    def save(self) -> None:
        if self._save_timer is not None:
            self._save_timer.cancel()
            self._save_timer = None
        self.store.undelivered = self.dispatcher.pending_event_ids()
        self.store.save()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def sandbox_of(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox
