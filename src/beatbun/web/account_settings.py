"""The signed-in account area: profile, password, sessions, security log, two-step, API keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.background import BackgroundTask

from beatbun.accounts import (
    apikeys,
    artist,
    passwords,
    profile,
    reauth,
    secondfactor,
    sessions,
    totp,
)
from beatbun.accounts.models import Account, Session
from beatbun.accounts.security_log import EVENT_LABELS, list_events, record_event
from beatbun.api.deps import CurrentAccount, CurrentSession, RuntimeDep
from beatbun.errors import InvalidInput, NotFound, ReauthenticationRequired
from beatbun.i18n import N_
from beatbun.mail import drain
from beatbun.runtime.base import Runtime
from beatbun.web.choices import language_of
from beatbun.web.forms import Text, client_of, render_form, render_token_page, see_other
from beatbun.web.progress import end_live_progress
from beatbun.web.security import set_session_cookie

router = APIRouter(prefix="/account")


@router.get("", response_class=HTMLResponse)
async def overview(request: Request, account: CurrentAccount, saved: str = "") -> HTMLResponse:
    return render_form(
        request, "account/overview.html", context={**_overview(account), "saved": saved}
    )


@router.post("/name", response_model=None)
async def change_name(
    request: Request, runtime: RuntimeDep, account: CurrentAccount, display_name: Text = ""
) -> Response:
    try:
        await profile.change_display_name(
            runtime, account, display_name=display_name, client=client_of(request)
        )
    except InvalidInput as exc:
        return _overview_error(request, account, exc)
    return see_other("/account?saved=name")


@router.post("/profile", response_model=None)
async def change_public_profile(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    artist_name: Text = "",
    bio: Text = "",
    link: Text = "",
) -> Response:
    try:
        await artist.change_public_profile(
            runtime, account, artist_name=artist_name, bio=bio, link=link, client=client_of(request)
        )
    except InvalidInput as exc:
        typed = {"artist_name": artist_name, "bio": bio, "link": link}
        return render_form(
            request, "account/overview.html", error=exc, values=typed, context=_overview(account)
        )
    return see_other("/account?saved=profile#profile")


@router.post("/email", response_model=None)
async def change_email(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    new_email: Text = "",
    current_password: Text = "",
    code: Text = "",
) -> Response:
    try:
        await profile.request_email_change(
            runtime,
            account,
            new_email=new_email,
            password=current_password,
            code=code,
            client=client_of(request),
            language=language_of(request),
        )
    except InvalidInput as exc:
        return _overview_error(request, account, exc)
    redirect = see_other("/account?saved=email")
    redirect.background = BackgroundTask(drain.send_queued_mail, runtime)
    return redirect


@router.get("/email/confirm", response_class=HTMLResponse)
async def confirm_email_page(request: Request, token: str = "") -> HTMLResponse:
    return render_token_page(request, "account/confirm_email.html", token=token)


@router.post("/email/confirm", response_model=None)
async def confirm_email(request: Request, runtime: RuntimeDep, token: Text = "") -> Response:
    try:
        await profile.confirm_email_change(
            runtime, token, client=client_of(request), language=language_of(request)
        )
    except InvalidInput as exc:
        return render_form(request, "account/confirm_email.html", error=exc)
    redirect = see_other("/account?saved=email_confirmed")
    redirect.background = BackgroundTask(drain.send_queued_mail, runtime)
    return redirect


@router.post("/password", response_model=None)
async def change_password(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    session: CurrentSession,
    current_password: Text = "",
    new_password: Text = "",
    code: Text = "",
) -> Response:
    try:
        token = await profile.change_password(
            runtime,
            account,
            session,
            current_password=current_password,
            new_password=new_password,
            code=code,
            client=client_of(request),
            language=language_of(request),
        )
    except InvalidInput as exc:
        return _overview_error(request, account, exc)
    await end_live_progress(runtime, account.id)
    redirect = see_other("/account?saved=password")
    set_session_cookie(redirect, token, max_age=sessions.ABSOLUTE_TIMEOUT)
    redirect.background = BackgroundTask(drain.send_queued_mail, runtime)
    return redirect


@router.get("/sessions", response_class=HTMLResponse)
async def session_list(
    request: Request, runtime: RuntimeDep, account: CurrentAccount, session: CurrentSession
) -> HTMLResponse:
    live = await sessions.list_sessions(runtime.db, account.id, now=runtime.clock.now())
    return render_form(
        request, "account/sessions.html", context={"sessions": live, "current_id": session.id}
    )


@router.post("/sessions/others/end")
async def end_other_sessions(
    request: Request, runtime: RuntimeDep, session: CurrentSession
) -> Response:
    now = runtime.clock.now()
    await sessions.revoke_other_sessions(
        runtime.db, account_id=session.account_id, keep_id=session.id, now=now
    )
    await _log(
        request, runtime, account_id=session.account_id, kind="other_sessions_ended", now=now
    )
    await end_live_progress(runtime, session.account_id)
    return see_other("/account/sessions")


@router.post("/sessions/{session_id}/end")
async def end_session(
    request: Request, runtime: RuntimeDep, session: CurrentSession, session_id: str
) -> Response:
    now = runtime.clock.now()
    if session_id == session.id or not await sessions.revoke_session(
        runtime.db, session_id, account_id=session.account_id, now=now
    ):
        raise NotFound(
            N_("Session '%(id)s' not found among your other sessions."), params={"id": session_id}
        )
    await _log(request, runtime, account_id=session.account_id, kind="session_ended", now=now)
    await end_live_progress(runtime, session.account_id)
    return see_other("/account/sessions")


@router.get("/security-log", response_class=HTMLResponse)
async def security_log(
    request: Request, runtime: RuntimeDep, account: CurrentAccount
) -> HTMLResponse:
    events = await list_events(runtime.db, account.id)
    return render_form(
        request, "account/security_log.html", context={"events": events, "labels": EVENT_LABELS}
    )


@router.get("/two-step", response_class=HTMLResponse)
async def two_step_page(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    session: CurrentSession,
    turned: str = "",
) -> HTMLResponse:
    # Reads only: the pending secret is made by POST /account/two-step/setup.
    context = await _two_step(runtime, account, session)
    if turned == "off" and not account.has_totp:
        context |= {"turned_off": True, **await _other_sessions(runtime, session)}
    return render_form(request, "account/two_step.html", context=context)


@router.get("/confirm-password", response_class=HTMLResponse)
async def confirm_password_page(
    request: Request, account: CurrentAccount, next: str = reauth.DEFAULT_NEXT
) -> HTMLResponse:
    return render_form(
        request, "account/confirm_password.html", values={"next": reauth.safe_next(next)}
    )


@router.post("/confirm-password", response_model=None)
async def confirm_password(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    session: CurrentSession,
    current_password: Text = "",
    next: Text = reauth.DEFAULT_NEXT,
) -> Response:
    target = reauth.safe_next(next)
    try:
        stamped = await reauth.confirm_password(
            runtime, account, session, password=current_password, client=client_of(request)
        )
    except InvalidInput as exc:
        return render_form(
            request, "account/confirm_password.html", error=exc, values={"next": target}
        )
    if target == reauth.SETUP_NEXT:
        # The person asked to set up two-step before the prompt: carry on to the key.
        await secondfactor.start_totp_enrollment(runtime, account, stamped)
        return see_other(reauth.DEFAULT_NEXT)
    return see_other(target)


@router.post("/two-step/setup", response_model=None)
async def two_step_setup(
    runtime: RuntimeDep, account: CurrentAccount, session: CurrentSession
) -> Response:
    try:
        await secondfactor.start_totp_enrollment(runtime, account, session)
    except ReauthenticationRequired:
        return _confirm_password_first(then=reauth.SETUP_NEXT)
    return see_other("/account/two-step")


@router.post("/two-step", response_model=None)
async def two_step_enable(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    session: CurrentSession,
    code: Text = "",
) -> Response:
    try:
        codes, token = await secondfactor.confirm_totp(
            runtime,
            account,
            session,
            code=code,
            client=client_of(request),
            language=language_of(request),
        )
    except ReauthenticationRequired:
        return _confirm_password_first()
    except InvalidInput as exc:
        return render_form(
            request,
            "account/two_step.html",
            error=exc,
            context=await _two_step(runtime, account, session),
        )
    context = {"codes": codes, "turned_on": True, **await _other_sessions(runtime, session)}
    page = render_form(request, "account/recovery_codes.html", context=context)
    set_session_cookie(page, token, max_age=sessions.ABSOLUTE_TIMEOUT)
    page.background = BackgroundTask(drain.send_queued_mail, runtime)
    return page


@router.post("/two-step/disable", response_model=None)
async def two_step_disable(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    session: CurrentSession,
    current_password: Text = "",
    code: Text = "",
) -> Response:
    try:
        token = await secondfactor.disable_totp(
            runtime,
            account,
            session,
            password=current_password,
            code=code,
            client=client_of(request),
            language=language_of(request),
        )
    except InvalidInput as exc:
        return render_form(
            request,
            "account/two_step.html",
            error=exc,
            context=await _two_step(runtime, account, session),
        )
    redirect = see_other("/account/two-step?turned=off")
    set_session_cookie(redirect, token, max_age=sessions.ABSOLUTE_TIMEOUT)
    redirect.background = BackgroundTask(drain.send_queued_mail, runtime)
    return redirect


@router.post("/two-step/recovery-codes", response_model=None)
async def regenerate_recovery_codes(
    request: Request, runtime: RuntimeDep, account: CurrentAccount, session: CurrentSession
) -> Response:
    try:
        codes = await secondfactor.regenerate_recovery_codes(
            runtime, account, session, client=client_of(request), language=language_of(request)
        )
    except ReauthenticationRequired:
        return _confirm_password_first()
    page = render_form(request, "account/recovery_codes.html", context={"codes": codes})
    page.background = BackgroundTask(drain.send_queued_mail, runtime)
    return page


@router.get("/api-keys", response_class=HTMLResponse)
async def api_keys_page(
    request: Request, runtime: RuntimeDep, account: CurrentAccount
) -> HTMLResponse:
    return render_form(request, "account/api_keys.html", context=await _keys(runtime, account))


@router.post("/api-keys", response_model=None)
async def create_api_key(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    name: Text = "",
) -> Response:
    scopes = [str(scope) for scope in (await request.form()).getlist("scopes")]
    now = runtime.clock.now()
    try:
        _, secret = await apikeys.create_api_key(
            runtime.db, account_id=account.id, name=name, scopes=scopes, now=now
        )
    except InvalidInput as exc:
        return render_form(
            request,
            "account/api_keys.html",
            error=exc,
            values={"name": name},
            context=await _keys(runtime, account),
        )
    await _log(request, runtime, account_id=account.id, kind="api_key_created", now=now)
    context = {**await _keys(runtime, account), "new_secret": secret}
    page = render_form(request, "account/api_keys.html", context=context)
    page.status_code = 201
    return page


@router.post("/api-keys/{key_id}/revoke")
async def revoke_api_key(
    request: Request, runtime: RuntimeDep, account: CurrentAccount, key_id: str
) -> Response:
    now = runtime.clock.now()
    await apikeys.revoke_api_key(runtime.db, account_id=account.id, key_id=key_id, now=now)
    await _log(request, runtime, account_id=account.id, kind="api_key_revoked", now=now)
    return see_other("/account/api-keys")


async def _log(
    request: Request, runtime: Runtime, *, account_id: str, kind: str, now: float
) -> None:
    await record_event(
        runtime.db, account_id=account_id, kind=kind, client=client_of(request), now=now
    )


def _overview_error(request: Request, account: Account, exc: InvalidInput) -> HTMLResponse:
    return render_form(request, "account/overview.html", error=exc, context=_overview(account))


def _overview(account: Account) -> dict[str, Any]:
    minimum = passwords.minimum_length(has_second_factor=account.has_totp)
    return {
        "account": account,
        "min_password_length": minimum,
        "profile": artist.public_profile_of(account),
        "max_artist_name": artist.MAX_ARTIST_NAME,
        "max_bio": artist.MAX_BIO,
        "max_link": artist.MAX_LINK,
    }


async def _two_step(runtime: Runtime, account: Account, session: Session) -> dict[str, Any]:
    recent = reauth.has_recent_password(session, now=runtime.clock.now())
    if account.has_totp:
        unused = await totp.count_unused_recovery_codes(runtime.db, account.id)
        return {"enabled": True, "unused_codes": unused, "recent_password": recent}
    context: dict[str, Any] = {"enabled": False, "recent_password": recent}
    # The key is shown only to whoever just confirmed the password.
    secret = await secondfactor.pending_totp_secret(runtime, account) if recent else None
    if secret is not None:
        uri = totp.provisioning_uri(secret, email=account.email, issuer=runtime.settings.site_name)
        context |= {"secret": secret, "qr_svg": totp.qr_svg(uri)}
    return context


async def _other_sessions(runtime: Runtime, session: Session) -> dict[str, Any]:
    """How many other sessions are live, for the offer to end them after a two-step change."""
    live = await sessions.list_sessions(runtime.db, session.account_id, now=runtime.clock.now())
    return {"other_sessions": sum(1 for other in live if other.id != session.id)}


def _confirm_password_first(*, then: str = reauth.DEFAULT_NEXT) -> Response:
    return see_other(f"/account/confirm-password?next={then}")


async def _keys(runtime: Runtime, account: Account) -> dict[str, Any]:
    return {"keys": await apikeys.list_api_keys(runtime.db, account.id), "scopes": apikeys.SCOPES}
