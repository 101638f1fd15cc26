"""The operators' pages: `/admin` (what there is) and the marketing campaigns.

Everything here answers 404 to anyone but an operator (`operator_only`). A campaign is written
and checked as a draft (previews of every language, test sends to the operator's own address),
then handed to the cron's batches once; from then on its page shows the counts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.background import BackgroundTask

from beatbun.accounts.models import Account
from beatbun.api.deps import RuntimeDep
from beatbun.errors import AppError, InvalidInput
from beatbun.i18n import LANGUAGES, N_
from beatbun.mail import campaigns, campaignsend, drain, topics
from beatbun.mail.campaigns import Campaign
from beatbun.runtime.base import Runtime
from beatbun.web.forms import Text, form_values, render_form, see_other
from beatbun.web.operators import Operator, operator_only
from beatbun.web.templates import templates

router = APIRouter(prefix="/admin", dependencies=[Depends(operator_only)], include_in_schema=False)
CAMPAIGN_PAGE = "admin/campaign.html"
NEW_CAMPAIGN_PAGE = "admin/campaign_new.html"


@router.get("", response_class=HTMLResponse)
async def admin_index(request: Request) -> HTMLResponse:
    page: HTMLResponse = templates.TemplateResponse(request, "admin/index.html", {})
    return page


@router.get("/campaigns", response_class=HTMLResponse)
async def campaigns_page(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    listed = await campaigns.list_campaigns(runtime.db)
    sent = await campaigns.sent_counts(runtime.db)
    counts = {
        campaign.id: sent.get(campaign.id, topics.TopicCounts())
        for campaign in listed
        if not campaign.is_draft
    }
    page: HTMLResponse = templates.TemplateResponse(
        request, "admin/campaigns.html", {"campaigns": listed, "counts": counts}
    )
    return page


@router.get("/campaigns/new", response_class=HTMLResponse)
async def new_campaign_page(request: Request) -> HTMLResponse:
    return render_form(request, NEW_CAMPAIGN_PAGE, context={"languages": LANGUAGES})


@router.post("/campaigns", response_model=None)
async def create_campaign(request: Request, runtime: RuntimeDep, operator: Operator) -> Response:
    values = form_values(await request.form())
    try:
        name, texts = campaigns.parse_draft(values)
    except InvalidInput as exc:
        return render_form(
            request, NEW_CAMPAIGN_PAGE, error=exc, values=values, context={"languages": LANGUAGES}
        )
    campaign_id = await campaigns.create_campaign(
        runtime, operator_id=operator.id, name=name, texts=texts
    )
    return see_other(f"/admin/campaigns/{campaign_id}?done=saved")


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
async def campaign_page(
    request: Request, runtime: RuntimeDep, operator: Operator, campaign_id: str, done: str = ""
) -> HTMLResponse:
    campaign = await campaigns.get_campaign(runtime.db, campaign_id)
    return render_form(
        request,
        CAMPAIGN_PAGE,
        values=_values_of(campaign),
        context={**await _context(runtime, campaign, operator), "done": done},
    )


@router.post("/campaigns/{campaign_id}", response_model=None)
async def update_campaign(
    request: Request, runtime: RuntimeDep, operator: Operator, campaign_id: str
) -> Response:
    values = form_values(await request.form())
    try:
        name, texts = campaigns.parse_draft(values)
        await campaigns.update_campaign(runtime, campaign_id, name=name, texts=texts)
    except InvalidInput as exc:
        return await _refused(request, runtime, operator, campaign_id, exc, values=values)
    return see_other(f"/admin/campaigns/{campaign_id}?done=saved")


@router.post("/campaigns/{campaign_id}/test", response_model=None)
async def send_test(
    request: Request,
    runtime: RuntimeDep,
    operator: Operator,
    campaign_id: str,
    language: Text = "",
) -> Response:
    campaign = await campaigns.get_campaign(runtime.db, campaign_id)
    try:
        await campaignsend.send_test(runtime, campaign, operator=operator, language=language)
    except AppError as exc:
        return await _refused(request, runtime, operator, campaign_id, exc)
    sent = see_other(f"/admin/campaigns/{campaign_id}?done=tested")
    sent.background = BackgroundTask(drain.send_queued_mail, runtime)
    return sent


@router.post("/campaigns/{campaign_id}/send", response_model=None)
async def start_sending(
    request: Request,
    runtime: RuntimeDep,
    operator: Operator,
    campaign_id: str,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    try:
        if confirm != "yes":
            raise InvalidInput(
                N_("Tick the box to confirm that the campaign is ready to go out."),
                field="confirm",
            )
        await campaigns.start_sending(runtime, campaign_id)
    except AppError as exc:
        return await _refused(request, runtime, operator, campaign_id, exc)
    started = see_other(f"/admin/campaigns/{campaign_id}?done=started")
    # The first batch goes out now rather than at the next cron run.
    started.background = BackgroundTask(_first_batch, runtime)
    return started


async def _first_batch(runtime: Runtime) -> None:
    await campaignsend.queue_campaign_batches(runtime)
    await drain.send_queued_mail(runtime)


async def _refused(
    request: Request,
    runtime: Runtime,
    operator: Account,
    campaign_id: str,
    error: AppError,
    *,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    """The campaign page again with `error`; NotFound when there is no such campaign."""
    campaign = await campaigns.get_campaign(runtime.db, campaign_id)
    return render_form(
        request,
        CAMPAIGN_PAGE,
        error=error,
        values=values if values is not None else _values_of(campaign),
        context=await _context(runtime, campaign, operator),
    )


async def _context(runtime: Runtime, campaign: Campaign, operator: Account) -> dict[str, Any]:
    return {
        "campaign": campaign,
        "languages": LANGUAGES,
        "previews": [
            campaigns.preview_campaign(text, settings=runtime.settings, account_id=operator.id)
            for text in campaign.texts
        ],
        "counts": (
            None if campaign.is_draft else await topics.topic_counts(runtime.db, campaign.topic)
        ),
        "recipients": await campaigns.count_recipients(runtime.db) if campaign.is_draft else 0,
    }


def _values_of(campaign: Campaign) -> dict[str, str]:
    values = {"name": campaign.name}
    for text in campaign.texts:
        values[f"subject_{text.language}"] = text.subject
        values[f"body_{text.language}"] = text.body_markdown
    return values
