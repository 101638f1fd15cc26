"""The policies (privacy, cookies, terms) with their version history, and the change banner.

The privacy policy's tables come from the data map, the cookie policy's from the registry, the
terms' licences from the plan rules. Versions come from `policies.versions`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from beatbun.api.deps import CurrentAccount, RuntimeDep
from beatbun.billing.plans import LICENCES, PLANS
from beatbun.consent.registry import category_tables
from beatbun.policies.acknowledgements import acknowledge
from beatbun.policies.versions import HISTORY, Document, current
from beatbun.privacy.exportschema import SCHEMA_PATH
from beatbun.privacy.inventory import CATEGORIES
from beatbun.web.forms import see_other
from beatbun.web.security import local_path
from beatbun.web.templates import templates

router = APIRouter()
PRIVACY_CONTACT = "privacy@beatbun.example.com"
SUPPORT_CONTACT = "support@beatbun.example.com"


@router.get("/privacy", response_class=HTMLResponse)
async def privacy_policy(request: Request) -> HTMLResponse:
    return _policy_page(
        request,
        "privacy",
        {"contact": PRIVACY_CONTACT, "categories": CATEGORIES, "export_schema": SCHEMA_PATH},
    )


@router.get("/cookies", response_class=HTMLResponse)
async def cookie_policy(request: Request) -> HTMLResponse:
    return _policy_page(request, "cookies", {"tables": category_tables()})


@router.get("/terms", response_class=HTMLResponse)
async def terms_of_service(request: Request) -> HTMLResponse:
    licences = [
        (licence, [plan.name for plan in PLANS.values() if plan.licence == licence.id])
        for licence in LICENCES.values()
    ]
    return _policy_page(
        request,
        "terms",
        {
            "licences": licences,
            "contact": SUPPORT_CONTACT,
            "privacy_contact": PRIVACY_CONTACT,
        },
    )


@router.post("/policies/acknowledge")
async def acknowledge_notices(
    runtime: RuntimeDep,
    account: CurrentAccount,
    notice: Annotated[list[str], Form(default_factory=list)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """The banner's "Got it": the changes it showed are acknowledged, and the page comes back."""
    await acknowledge(runtime.db, account.id, keys=notice, now=runtime.clock.now())
    return see_other(local_path(next) or "/")


def _policy_page(request: Request, document: Document, context: dict[str, Any]) -> HTMLResponse:
    version = current(document)
    page: HTMLResponse = templates.TemplateResponse(
        request,
        f"policies/{document}.html",
        {
            **context,
            "version": version.version,
            "effective": version.effective,
            "history": HISTORY[document],
        },
    )
    return page
