"""Consent routes: the preference center, giving and withdrawing, GPC, and display choices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from beatbun.api.deps import CurrentVisitor, RuntimeDep, Visitor
from beatbun.consent.models import Choice, ConsentState, Source
from beatbun.consent.preferences import (
    THEMES,
    DisplayPreferences,
    Theme,
    save_account_preferences,
)
from beatbun.consent.registry import CONSENT_COOKIE, category_tables
from beatbun.consent.service import (
    POLICY_EFFECTIVE_DATE,
    account_subject,
    consent_history,
    honor_gpc,
    new_device_subject,
    record_choice,
)
from beatbun.i18n import LANGUAGES, N_
from beatbun.web.choices import choices_of, has_gpc_signal, set_choices
from beatbun.web.forms import see_other
from beatbun.web.security import local_path
from beatbun.web.templates import templates

router = APIRouter()
Text = Annotated[str, Form()]
SOURCE_LABELS: dict[Source, str] = {
    "banner": N_("Banner"),
    "preferences": N_("Preference center"),
    "gpc": N_("Global Privacy Control"),
    "sync": N_("Another device"),
}


@router.get("/privacy/choices", response_class=HTMLResponse)
async def preference_center(
    request: Request, runtime: RuntimeDep, visitor: CurrentVisitor
) -> HTMLResponse:
    history = await consent_history(runtime.db, _subjects(request, visitor))
    page: HTMLResponse = templates.TemplateResponse(
        request,
        "consent/preferences.html",
        {"categories": category_tables(), "history": history, "source_labels": SOURCE_LABELS},
    )
    return page


@router.post("/consent")
async def give_consent(
    request: Request,
    runtime: RuntimeDep,
    visitor: CurrentVisitor,
    choice: Text = "",
    source: Text = "",
    next: Text = "/",
    performance: Text = "",
    functionality: Text = "",
    marketing: Text = "",
    gpc: Text = "",
) -> Response:
    """Record one choice and apply it to this response: withdrawn cookies expire right here.

    `gpc=1` comes from the page when `navigator.globalPrivacyControl` is set, since a form
    submission cannot carry the `Sec-GPC` header itself.
    """
    if choice == "accept_all":
        picked = Choice.everything()
    elif choice == "reject_all":
        picked = Choice()
    else:
        picked = Choice(
            performance=performance == "on",
            functionality=functionality == "on",
            marketing=marketing == "on",
        )
    device = request.cookies.get(CONSENT_COOKIE) or new_device_subject()
    account = _full_account_id(visitor)
    signal = has_gpc_signal(request) or gpc == "1"
    record = await record_choice(
        runtime.db,
        subject=account_subject(account) if account else device,
        choice=picked,
        source="preferences" if source == "preferences" else "banner",
        gpc=signal,
        now=runtime.clock.now(),
    )
    # The cookie is set again on every choice, so it lives exactly as long as the record counts.
    set_choices(request, consent=ConsentState(record=record, gpc=signal), new_device=device)
    return see_other(_local_path(next))


@router.post("/consent/gpc")
async def browser_gpc(request: Request, runtime: RuntimeDep) -> Response:
    """`navigator.globalPrivacyControl` seen by the page: honor it like the `Sec-GPC` header."""
    # The request's consent is already resolved (`load_choices`); only the signal is new.
    record = await honor_gpc(
        runtime.db, choices_of(request).consent.record, now=runtime.clock.now()
    )
    consent = ConsentState(record=record, gpc=True)
    set_choices(request, consent=consent)
    return JSONResponse({"allowed": list(consent.allowed)})


@router.get("/.well-known/gpc.json")
async def gpc_support() -> JSONResponse:
    """The GPC spec's well-known resource: this site honors the signal."""
    return JSONResponse({"gpc": True, "lastUpdate": POLICY_EFFECTIVE_DATE})


@router.post("/preferences/display")
async def choose_display(
    request: Request,
    runtime: RuntimeDep,
    visitor: CurrentVisitor,
    theme: Text = "",
    language: Text = "",
    next: Text = "/",
) -> Response:
    """Theme and language for this browser, and for the account when logged in."""
    current = choices_of(request).display
    picked = DisplayPreferences(
        theme=next_theme if (next_theme := _known_theme(theme)) else current.theme,
        language=language if language in LANGUAGES else current.language,
    )
    account = _full_account_id(visitor)
    if account:
        await save_account_preferences(
            runtime.db, account_id=account, preferences=picked, now=runtime.clock.now()
        )
    set_choices(request, display=picked)
    return see_other(_local_path(next))


def _known_theme(value: str) -> Theme | None:
    return next((theme for theme in THEMES if theme == value), None)


def _full_account_id(visitor: Visitor) -> str | None:
    account = visitor.full_account
    return account.id if account else None


def _subjects(request: Request, visitor: Visitor) -> list[str]:
    device = request.cookies.get(CONSENT_COOKIE)
    account = _full_account_id(visitor)
    return [s for s in (device, account_subject(account) if account else None) if s]


def _local_path(target: str) -> str:
    """Only a path on this site (`security.local_path`), else the start page."""
    return local_path(target) or "/"
