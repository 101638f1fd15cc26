"""`/api/webhooks/stripe`: where Stripe tells us about payments (see `billing.webhooks`)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Header, Request
from pydantic import BaseModel

from beatbun.api.deps import RuntimeDep
from beatbun.billing.webhooks import handle_webhook
from beatbun.i18n import N_
from beatbun.mail.drain import send_queued_mail

router = APIRouter(prefix="/api/webhooks")


class WebhookAnswer(BaseModel):
    received: bool
    event_id: str
    applied: bool


@router.post(
    "/stripe",
    summary=N_("Stripe webhook"),
    description=N_(
        "For Stripe only: payment events, signed with the endpoint's secret. Answers 400 to a "
        "bad signature and 5xx only when Stripe should deliver the event again."
    ),
    include_in_schema=False,
)
async def stripe_webhook(
    request: Request,
    runtime: RuntimeDep,
    background: BackgroundTasks,
    stripe_signature: str | None = Header(default=None),
) -> WebhookAnswer:
    # The signature covers the raw bytes: read them before anything parses the body.
    receipt = await handle_webhook(
        runtime, payload=await request.body(), signature=stripe_signature
    )
    if receipt.applied:
        # What the event told the owner goes out after the answer; the cron sends what this misses.
        background.add_task(send_queued_mail, runtime)
    return WebhookAnswer(received=True, event_id=receipt.event_id, applied=receipt.applied)
