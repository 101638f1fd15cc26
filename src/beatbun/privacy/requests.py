"""SQL for `privacy_requests`: the history of what people asked of us about their data."""

from __future__ import annotations

from typing import cast

from beatbun.privacy.models import PrivacyRequest, Requester, RequestKind, RequestStatus
from beatbun.runtime.base import Database, Row

# The privacy page shows this many of an account's requests, newest first.
HISTORY_SHOWN = 50


async def list_requests(db: Database, account_id: str) -> list[PrivacyRequest]:
    rows = (
        await db.prepare(
            "SELECT * FROM privacy_requests WHERE account_id = ?"
            " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        )
        .bind(account_id, HISTORY_SHOWN)
        .all()
    )
    return [row_to_request(row) for row in rows.results]


async def find_request(db: Database, account_id: str, request_id: str) -> PrivacyRequest | None:
    row = (
        await db.prepare("SELECT * FROM privacy_requests WHERE id = ? AND account_id = ?")
        .bind(request_id, account_id)
        .first()
    )
    return row_to_request(row) if row else None


def row_to_request(row: Row) -> PrivacyRequest:
    return PrivacyRequest(
        id=str(row["id"]),
        account_id=str(row["account_id"]),
        kind=cast(RequestKind, row["kind"]),
        status=cast(RequestStatus, row["status"]),
        requested_by=cast(Requester, row["requested_by"]),
        created_at=int(row["created_at"] or 0),
        due_at=None if row["due_at"] is None else int(row["due_at"]),
        finished_at=None if row["finished_at"] is None else int(row["finished_at"]),
        blob_key=None if row["blob_key"] is None else str(row["blob_key"]),
        size=None if row["size"] is None else int(row["size"]),
        reason=str(row["reason"] or ""),
    )
