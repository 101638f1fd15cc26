"""The operators' pages (`/admin/...`): open to accounts flagged as operators, a plain 404 to
everyone else, logged in or not, so their existence is not given away."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from beatbun.accounts.models import Account
from beatbun.analytics.store import is_operator
from beatbun.api.deps import runtime_of, visitor_of
from beatbun.errors import NotFound
from beatbun.i18n import N_


async def operator_only(request: Request) -> Account:
    """The signed-in operator; NotFound for everyone else."""
    visitor = await visitor_of(request)
    account = visitor.full_account
    if account is None or not await is_operator(runtime_of(request).db, account.id):
        raise NotFound(N_("Page '%(path)s' not found."), params={"path": request.url.path})
    return account


Operator = Annotated[Account, Depends(operator_only)]
