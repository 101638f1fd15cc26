"""Live progress of a user's queue: who may follow it, and the server-sent events fallback.

The live channel is a WebSocket at `PROGRESS_PATH` held by the user's queue Durable Object
(`src/entry.py` routes the handshake there before the app; locally the local server does):
both first call `socket_account_id`. Browsers without WebSockets follow `/studio/events`
instead, which polls the queue while something is queued or running and then ends; when
nothing is, it answers 204, which tells an `EventSource` to stop reconnecting (HTML Living
Standard, "server-sent events": a 204 fails the connection for good).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.requests import cookie_parser

from beatbun.accounts.sessions import find_session_and_account
from beatbun.api.deps import LOG_IN_TO_SEE, SESSION_COOKIE, CurrentAccount, RuntimeDep
from beatbun.errors import AppError, CoordinatorError, InvalidInput, Unauthenticated
from beatbun.generation.service import queue_events, queue_snapshot
from beatbun.i18n import N_
from beatbun.runtime.base import Runtime
from beatbun.runtime.pushrules import encode_event, is_same_origin
from beatbun.web.security import FROM_ANOTHER_SITE, CrossSiteRequest

logger = logging.getLogger(__name__)
router = APIRouter()

# The fallback polls the queue this often, and ends after this many polls (the browser
# reconnects by itself, resuming from the last event it saw).
POLL_SECONDS = 0.5
POLLS_PER_STREAM = 600
RETRY_MILLISECONDS = 1500


async def socket_account_id(
    runtime: Runtime, *, cookie_header: str | None, origin: str | None, url: str
) -> str:
    """The account whose progress a WebSocket handshake may follow.

    Raises CrossSiteRequest when `Origin` is missing or another site's (cross-site WebSocket
    hijacking), and Unauthenticated without a fully logged-in session cookie.
    """
    if not is_same_origin(origin, url=url):
        raise CrossSiteRequest(FROM_ANOTHER_SITE)
    token = cookie_parser(cookie_header or "").get(SESSION_COOKIE)
    found = (
        await find_session_and_account(runtime.db, token, now=runtime.clock.now())
        if token
        else None
    )
    if found is None or not found[0].is_full:
        raise Unauthenticated(LOG_IN_TO_SEE, code="login_required")
    return found[1].id


async def end_live_progress(runtime: Runtime, account_id: str) -> None:
    """Close the account's progress sockets after its sessions changed (logout, password).

    Each client reconnects at once, and the handshake lets only a live session through. A
    queue that cannot be reached does not undo the change that called this: its sockets carry
    no prompts or titles, and they close with the object.
    """
    queues = runtime.user_queues
    try:
        await queues.get(queues.id_from_name(account_id)).call("end_sockets")
    except CoordinatorError:
        logger.warning("Could not close the live progress sockets of %s", account_id)


def refusal_body(exc: AppError) -> dict[str, str]:
    """A refused handshake's body, shaped as the app's JSON errors are."""
    return {"error": exc.code, "message": exc.message}


@router.get("/studio/events", response_model=None)
async def events(request: Request, account: CurrentAccount, runtime: RuntimeDep) -> Response:
    """Server-sent events of the user's queue, from `Last-Event-ID` (or `?after=`) onwards."""
    start = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
    # ASCII only: str.isdigit() also takes "²", which int() refuses.
    if not (start.isascii() and start.isdigit()):
        raise InvalidInput(N_("The last event id must be a whole number."), code="invalid_event_id")
    after = int(start)
    snapshot = await queue_snapshot(runtime, account_id=account.id)
    if not snapshot["jobs"] and snapshot["seq"] <= after:
        return Response(status_code=204, headers={"cache-control": "no-store"})
    return StreamingResponse(
        _event_stream(runtime, account_id=account.id, after=after),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


async def _event_stream(runtime: Runtime, *, account_id: str, after: int) -> AsyncIterator[str]:
    """Every event after `after`, until nothing is queued or running.

    The Workers ASGI bridge never reports a disconnect, so every poll writes (a comment line
    when there is no event): a closed client makes that write fail, which ends the stream.
    """
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    for _ in range(POLLS_PER_STREAM):
        snapshot = await queue_snapshot(runtime, account_id=account_id)
        while after < snapshot["seq"]:
            missed = await queue_events(runtime, account_id=account_id, after=after)
            if not missed:
                break
            for event in missed:
                after = int(event["seq"])
                yield f"id: {after}\nevent: job\ndata: {encode_event(event)}\n\n"
        if not snapshot["jobs"]:
            return
        yield ":\n\n"
        await asyncio.sleep(POLL_SECONDS)
