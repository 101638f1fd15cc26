"""The privacy and cookie policies; their tables come from the data map and the registry."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from beatbun.consent.registry import category_tables
from beatbun.consent.service import POLICY_EFFECTIVE_DATE, POLICY_VERSION
from beatbun.privacy.exportschema import SCHEMA_PATH
from beatbun.privacy.inventory import CATEGORIES
from beatbun.web.templates import templates

router = APIRouter()
PRIVACY_POLICY_VERSION = "2.0"
PRIVACY_POLICY_EFFECTIVE_DATE = "2026-11-30"
PRIVACY_CONTACT = "privacy@beatbun.example.com"


@router.get("/privacy", response_class=HTMLResponse)
async def privacy_policy(request: Request) -> HTMLResponse:
    page: HTMLResponse = templates.TemplateResponse(
        request,
        "policies/privacy.html",
        {
            "version": PRIVACY_POLICY_VERSION,
            "effective": PRIVACY_POLICY_EFFECTIVE_DATE,
            "contact": PRIVACY_CONTACT,
            "categories": CATEGORIES,
            "export_schema": SCHEMA_PATH,
        },
    )
    return page


@router.get("/cookies", response_class=HTMLResponse)
async def cookie_policy(request: Request) -> HTMLResponse:
    page: HTMLResponse = templates.TemplateResponse(
        request,
        "policies/cookies.html",
        {
            "tables": category_tables(),
            "version": POLICY_VERSION,
            "effective": POLICY_EFFECTIVE_DATE,
        },
    )
    return page
