"""`POST /api/v1/operator/erasures/replay`: erase again what a D1 restore brought back.

For operators after a D1 Time Travel restore (README, "Restoring D1"), called with an operator
account's API key. Everyone else, with or without a key, gets the 404 of a route that does not
exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from beatbun.analytics.store import is_operator
from beatbun.api.deps import ApiCaller, RuntimeDep, api_caller, runtime_of
from beatbun.errors import NotFound, PermissionDenied, Unauthenticated
from beatbun.i18n import N_
from beatbun.privacy.replay import replay_erasures

router = APIRouter(prefix="/api/v1/operator", include_in_schema=False)


class Replayed(BaseModel):
    replayed: int


async def operator_caller(request: Request) -> ApiCaller:
    """The caller when its key is an operator's; NotFound for anyone else."""
    try:
        caller = await api_caller(request)
    except (Unauthenticated, PermissionDenied) as exc:
        raise _nothing_here(request) from exc
    if not await is_operator(runtime_of(request).db, caller.account.id):
        raise _nothing_here(request)
    return caller


@router.post("/erasures/replay", dependencies=[Depends(operator_caller)])
async def replay(runtime: RuntimeDep) -> Replayed:
    """Erase every account in D1 whose id the deletion ledger holds; how many there were."""
    return Replayed(replayed=await replay_erasures(runtime))


def _nothing_here(request: Request) -> NotFound:
    return NotFound(N_("Nothing is at %(path)s."), params={"path": request.url.path})
