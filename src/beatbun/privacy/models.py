"""What the privacy domain hands to routes: the requests people made about their data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RequestKind = Literal["export", "erasure", "restriction"]
RequestStatus = Literal[
    "pending",  # export: waiting to be built
    "building",
    "ready",  # export: downloadable until `due_at`
    "expired",
    "failed",
    "scheduled",  # erasure: takes effect at `due_at` unless cancelled
    "cancelled",
    "done",
    "active",  # restriction: in force until lifted
    "lifted",
]
Requester = Literal["owner", "parent"]


@dataclass(frozen=True)
class PrivacyRequest:
    id: str
    account_id: str
    kind: RequestKind
    status: RequestStatus
    requested_by: Requester
    created_at: int
    due_at: int | None = None
    finished_at: int | None = None
    blob_key: str | None = None
    size: int | None = None
    reason: str = ""
