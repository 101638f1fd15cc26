"""`GET /api/v1/me`: who an API key belongs to (scope `read`)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from beatbun.api.deps import CurrentApiCaller
from beatbun.i18n import N_

router = APIRouter(prefix="/api/v1")


class Me(BaseModel):
    id: str
    display_name: str
    email_verified: bool
    can_spend_credits: bool
    scopes: list[str]


@router.get(
    "/me",
    summary=N_("Who this key belongs to"),
    description=N_(
        "The account the API key belongs to, whether it may spend credits, and the key's "
        "scopes. Needs the read scope."
    ),
)
async def me(caller: CurrentApiCaller) -> Me:
    caller.require("read")
    account = caller.account
    return Me(
        id=account.id,
        display_name=account.display_name,
        email_verified=account.is_verified,
        can_spend_credits=account.can_spend_credits,
        scopes=list(caller.key.scopes),
    )
