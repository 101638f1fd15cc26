"""The sandbox's state: every object by kind and id, its clock, its events, its state file."""

from __future__ import annotations

import copy
import json
import os
import secrets
import string
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stripe

from beatbun_local.stripe_sandbox.types import StripeObject
from beatbun_local.stripe_sandbox.wire import missing

ID_ALPHABET = string.ascii_letters + string.digits
STATE_VERSION = 1


@dataclass(frozen=True)
class RequestInfo:
    """The API request behind the events being recorded, for each event's `request` field."""

    id: str | None
    idempotency_key: str | None


# Set by the API layer around each request; events recorded outside one (hosted pages, timers)
# carry a null request, as Stripe's do for changes made in its own pages.
CURRENT_REQUEST: ContextVar[RequestInfo | None] = ContextVar("stripe_sandbox_request", default=None)

EventListener = Callable[[StripeObject], None]


class SandboxClock:
    """Real time, unless a test pins it to an epoch second."""

    def __init__(self, pinned: int | None = None) -> None:
        self.pinned = pinned

    def now(self) -> int:
        return self.pinned if self.pinned is not None else int(time.time())


class Store:
    def __init__(
        self, *, public_url: str, state_path: Path | None = None, clock: SandboxClock | None = None
    ) -> None:
        self.public_url = public_url.rstrip("/")
        self.state_path = state_path
        self.clock = clock or SandboxClock()
        self.objects: dict[str, dict[str, StripeObject]] = {}
        # Facts Stripe keeps but does not show (a session's pending async outcome, a card's number).
        self.private: dict[str, dict[str, Any]] = {}
        # Events whose webhook was still owed when the state was saved; redelivered on start.
        self.undelivered: list[str] = []
        self.listeners: list[EventListener] = []
        self.webhook_endpoints = 0
        self.dirty = False

    @classmethod
    def open(cls, *, public_url: str, state_path: Path | None) -> Store:
        store = cls(public_url=public_url, state_path=state_path)
        if state_path is not None and state_path.exists():
            store._load(state_path)
        return store

    def now(self) -> int:
        return self.clock.now()

    def new_id(self, prefix: str, *, length: int = 24) -> str:
        return f"{prefix}_" + "".join(secrets.choice(ID_ALPHABET) for _ in range(length))

    def add(self, obj: StripeObject) -> StripeObject:
        self.objects.setdefault(obj["object"], {})[obj["id"]] = obj
        self.dirty = True
        return obj

    def find(self, kind: str, object_id: str) -> StripeObject | None:
        return self.objects.get(kind, {}).get(object_id)

    def get(
        self, kind: str, object_id: str, *, param: str = "id", status: int = 404
    ) -> StripeObject:
        """The object, or Stripe's `resource_missing` error naming `param`."""
        found = self.find(kind, object_id)
        if found is None:
            raise missing(kind, object_id, param=param, status=status)
        return found

    def all(self, kind: str) -> list[StripeObject]:
        """Every object of `kind`, oldest first."""
        return list(self.objects.get(kind, {}).values())

    def private_of(self, object_id: str) -> dict[str, Any]:
        self.dirty = True
        return self.private.setdefault(object_id, {})

    def record_event(
        self,
        event_type: str,
        obj: StripeObject,
        *,
        previous_attributes: dict[str, Any] | None = None,
    ) -> StripeObject:
        """Snapshot `obj` into a new event and hand it to every listener (webhook delivery)."""
        request = CURRENT_REQUEST.get()
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = copy.deepcopy(previous_attributes)
        event = self.add(
            {
                "id": self.new_id("evt"),
                "object": "event",
                "api_version": stripe.api_version,
                "created": self.now(),
                "data": data,
                "livemode": False,
                "pending_webhooks": self.webhook_endpoints,
                "request": {
                    "id": request.id if request else None,
                    "idempotency_key": request.idempotency_key if request else None,
                },
                "type": event_type,
            }
        )
        for listener in self.listeners:
            listener(event)
        return event

    def save(self) -> None:
        """Write the state file (if any) whole, then swap it in, so a crash leaves the old one."""
        self.dirty = False
        if self.state_path is None:
            return
        state = {
            "version": STATE_VERSION,
            "clock": self.clock.pinned,
            "objects": self.objects,
            "private": self.private,
            "undelivered": self.undelivered,
        }
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.state_path.with_suffix(self.state_path.suffix + ".tmp")
        partial.write_text(json.dumps(state, indent=1, sort_keys=True))
        os.replace(partial, self.state_path)

    def _load(self, path: Path) -> None:
        state = json.loads(path.read_text())
        if state.get("version") != STATE_VERSION:
            raise RuntimeError(
                f"State file '{path}' has version {state.get('version')!r}, not {STATE_VERSION}. "
                "Delete it to start the sandbox afresh."
            )
        self.clock.pinned = state["clock"]
        self.objects = state["objects"]
        self.private = state["private"]
        self.undelivered = state["undelivered"]
