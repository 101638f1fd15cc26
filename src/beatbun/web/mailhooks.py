"""`/api/webhooks/mail`: where the mail provider reports bounces and complaints (`mail.events`).

Under `/api/`, as Stripe's webhook: no cookie or CSRF token, the signature is the credential.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from beatbun.api.deps import RuntimeDep
from beatbun.mail.events import handle_mail_event

router = APIRouter(prefix="/api/webhooks")


class MailEventAnswer(BaseModel):
    received: bool
    type: str
    applied: bool


@router.post("/mail", include_in_schema=False)
async def mail_webhook(request: Request, runtime: RuntimeDep) -> MailEventAnswer:
    # The signature covers the raw bytes: read them before anything parses the body.
    receipt = await handle_mail_event(runtime, body=await request.body(), headers=request.headers)
    return MailEventAnswer(received=True, type=receipt.type, applied=receipt.applied)
