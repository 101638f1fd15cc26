"""Sign-up, email verification, login (with its second step), logout and password reset."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.background import BackgroundTask

from beatbun.accounts import profile, registration, service
from beatbun.accounts.sessions import ABSOLUTE_TIMEOUT, MFA_STEP_TIMEOUT
from beatbun.accounts.store import find_account
from beatbun.accounts.throttle import TooManySignUps
from beatbun.api.deps import CurrentVisitor, PendingLogin, PendingLoginAccount, RuntimeDep
from beatbun.errors import AccountInactive, InvalidFields, InvalidInput, TooYoung
from beatbun.mail import drain
from beatbun.privacy import guardians
from beatbun.runtime.base import Runtime
from beatbun.web import agegate
from beatbun.web.choices import language_of
from beatbun.web.forms import Text, client_of, render_form, render_token_page, see_other
from beatbun.web.progress import end_live_progress
from beatbun.web.security import CSRF_COOKIE, forget_browser, local_path, set_session_cookie

router = APIRouter()


# Where logging in, signing up or confirming the address leads when no page asked for itself.
AFTER_LOGIN = "/studio"
# Pages that would only start over: a `next` pointing at them leads to AFTER_LOGIN instead.
SIGN_IN_PAGES = ("/login", "/signup", "/verify-email", "/forgot-password", "/reset-password")


def return_page(path: str) -> str:
    """Where to go after logging in: `path` when it is a page on this site, else the studio."""
    target = local_path(path)
    if target is None or target.split("?", 1)[0] in SIGN_IN_PAGES:
        return AFTER_LOGIN
    return target


@router.get("/signup", response_class=HTMLResponse)
async def signup_page(request: Request, runtime: RuntimeDep, next: str = "") -> HTMLResponse:
    if agegate.is_blocked(request, runtime):
        return _signup_refused(request)
    return render_form(request, "account/signup.html", context={"next": return_page(next)})


@router.post("/signup", response_model=None)
async def signup(
    request: Request,
    runtime: RuntimeDep,
    email: Text = "",
    password: Text = "",
    display_name: Text = "",
    birth_date: Text = "",
    parent_email: Text = "",
    next: Text = "",
) -> Response:
    if agegate.is_blocked(request, runtime):
        # Refused before anything posted is looked at: another date changes nothing for a day.
        return _signup_refused(request)
    after = return_page(next)
    form = registration.SignUpForm(
        email=email,
        password=password,
        display_name=display_name,
        birth_date=birth_date,
        parent_email=parent_email,
    )
    try:
        await registration.sign_up(
            runtime,
            form,
            client=client_of(request),
            language=language_of(request),
            then="" if after == AFTER_LOGIN else after,
            browser=request.cookies.get(CSRF_COOKIE, ""),
        )
    except TooYoung:
        refused = _signup_refused(request)
        agegate.block_sign_ups(refused, runtime)
        return refused
    except (InvalidInput, TooManySignUps) as exc:
        values = {
            "email": email,
            "display_name": display_name,
            "birth_date": birth_date,
            "parent_email": parent_email,
        }
        # The password comes back only when it was fine and another field was not, so nobody
        # types it twice; the page is `no-store` (it carries a CSRF token) and the field keeps
        # `autocomplete="new-password"`, so it is neither cached nor offered for other sites.
        if "password" not in _fields_of(exc):
            values["password"] = password
        page = render_form(
            request,
            "account/signup.html",
            error=exc,
            values=values,
            context={"next": after},
        )
        if isinstance(exc, TooManySignUps):
            page.headers.update(exc.headers)
        return page
    sent = see_other("/signup/sent")
    # The verification link (or the "already registered" notice), and a minor's parent's link.
    sent.background = BackgroundTask(drain.send_queued_mail, runtime)
    return sent


def _signup_refused(request: Request) -> HTMLResponse:
    """The neutral answer of a refused sign-up: no reason, no age, nothing typed echoed."""
    page = render_form(request, "account/signup_refused.html")
    page.status_code = 403
    return page


@router.get("/signup/sent", response_class=HTMLResponse)
async def signup_sent(request: Request) -> HTMLResponse:
    return render_form(request, "account/signup_sent.html")


@router.get("/verify-email", response_class=HTMLResponse)
async def verify_email_page(request: Request, token: str = "", next: str = "") -> HTMLResponse:
    return render_token_page(
        request, "account/verify_email.html", token=token, context={"next": return_page(next)}
    )


@router.post("/verify-email", response_model=None)
async def verify_email(
    request: Request,
    runtime: RuntimeDep,
    visitor: CurrentVisitor,
    token: Text = "",
    next: Text = "",
) -> Response:
    after = return_page(next)
    try:
        session_token = await registration.verify_email(
            runtime,
            token,
            client=client_of(request),
            previous_token=visitor.token,
            browser=request.cookies.get(CSRF_COOKIE, ""),
            language=language_of(request),
        )
    except InvalidInput as exc:
        return render_form(request, "account/verify_email.html", error=exc, context={"next": after})
    if session_token is None:
        # Another browser than the one that signed up, or two-step verification is on: the
        # password (and code) are still needed, on the login page.
        return see_other(f"/login?verified=1&next={quote(after)}")
    redirect = see_other(after)
    set_session_cookie(redirect, session_token, max_age=ABSOLUTE_TIMEOUT)
    redirect.background = BackgroundTask(drain.send_queued_mail, runtime)
    return redirect


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request, verified: str = "", reset: str = "", next: str = ""
) -> HTMLResponse:
    return render_form(
        request,
        "account/login.html",
        context={"verified": bool(verified), "reset": bool(reset), "next": return_page(next)},
    )


@router.post("/login", response_model=None)
async def login(
    request: Request,
    runtime: RuntimeDep,
    visitor: CurrentVisitor,
    email: Text = "",
    password: Text = "",
    next: Text = "",
) -> Response:
    after = return_page(next)
    try:
        outcome = await service.log_in(
            runtime,
            email=email,
            password=password,
            client=client_of(request),
            previous_token=visitor.token,
            language=language_of(request),
        )
    except service.InvalidCredentials as exc:
        refused = render_form(
            request,
            "account/login.html",
            error=exc,
            values={"email": email},
            context={"next": after},
        )
        # A failure may have queued the owner's "login locked" mail; send it after answering.
        refused.background = BackgroundTask(drain.send_queued_mail, runtime)
        return refused
    except AccountInactive as exc:
        return _waiting_for_parent(request, runtime, exc.account_id, link_sent=exc.link_sent)
    code_step = "/login/code" if after == AFTER_LOGIN else f"/login/code?next={quote(after)}"
    redirect = see_other(code_step if outcome.needs_second_factor else after)
    max_age = MFA_STEP_TIMEOUT if outcome.needs_second_factor else ABSOLUTE_TIMEOUT
    set_session_cookie(redirect, outcome.token, max_age=max_age)
    if not outcome.needs_second_factor:
        # A sign-in from a new device queued a notice to the owner.
        redirect.background = BackgroundTask(drain.send_queued_mail, runtime)
    return redirect


@router.post("/login/parent-link", response_model=None)
async def resend_parent_link(request: Request, runtime: RuntimeDep, ticket: Text = "") -> Response:
    """The waiting page's button: the parent's link again, at most every few minutes."""
    now = runtime.clock.now()
    account_id = guardians.account_of_ticket(runtime.settings.app_secret, ticket, now=now)
    account = await find_account(runtime.db, account_id) if account_id else None
    if account is None or account.is_active:
        return see_other("/login")
    sent = await guardians.send_parent_link(
        runtime, account, language=language_of(request), unless_sent_within=guardians.RESEND_SECONDS
    )
    return _waiting_for_parent(request, runtime, account.id, link_sent=sent, asked=True)


def _waiting_for_parent(
    request: Request, runtime: Runtime, account_id: str, *, link_sent: bool, asked: bool = False
) -> HTMLResponse:
    """The right password of a minor whose parent has not consented yet: no session, this."""
    ticket = guardians.resend_ticket(
        runtime.settings.app_secret, account_id=account_id, now=runtime.clock.now()
    )
    page = render_form(
        request,
        "account/signup_parent_pending.html",
        context={
            "ticket": ticket,
            "link_sent": link_sent,
            "asked": asked,
            "consent_days": guardians.CONSENT_DAYS,
        },
    )
    page.status_code = 403
    if link_sent:
        page.background = BackgroundTask(drain.send_queued_mail, runtime)
    return page


@router.get("/login/code", response_class=HTMLResponse)
async def login_code_page(request: Request, session: PendingLogin, next: str = "") -> HTMLResponse:
    return render_form(request, "account/login_code.html", context={"next": return_page(next)})


@router.post("/login/code", response_model=None)
async def login_code(
    request: Request,
    runtime: RuntimeDep,
    session: PendingLogin,
    account: PendingLoginAccount,
    code: Text = "",
    next: Text = "",
) -> Response:
    try:
        token = await service.complete_login(
            runtime,
            session,
            account,
            code=code,
            client=client_of(request),
            language=language_of(request),
        )
    except InvalidInput as exc:
        refused = render_form(
            request, "account/login_code.html", error=exc, context={"next": return_page(next)}
        )
        refused.background = BackgroundTask(drain.send_queued_mail, runtime)
        return refused
    redirect = see_other(return_page(next))
    set_session_cookie(redirect, token, max_age=ABSOLUTE_TIMEOUT)
    redirect.background = BackgroundTask(drain.send_queued_mail, runtime)
    return redirect


@router.post("/logout")
async def logout(request: Request, runtime: RuntimeDep, visitor: CurrentVisitor) -> Response:
    if visitor.session is not None:
        await service.log_out(runtime, visitor.session, client=client_of(request))
        await end_live_progress(runtime, visitor.session.account_id)
    redirect = see_other("/")
    # A shared computer keeps no trace of the account, but the device keeps its cookie choice.
    forget_browser(request, redirect)
    return redirect


@router.get("/forgot-password", response_class=HTMLResponse)
async def forgot_password_page(request: Request) -> HTMLResponse:
    return render_form(request, "account/forgot_password.html")


@router.post("/forgot-password", response_model=None)
async def forgot_password(request: Request, runtime: RuntimeDep, email: Text = "") -> Response:
    try:
        await profile.request_password_reset(
            runtime, email=email, client=client_of(request), language=language_of(request)
        )
    except InvalidInput as exc:
        return render_form(
            request, "account/forgot_password.html", error=exc, values={"email": email}
        )
    sent = render_form(request, "account/forgot_password.html", context={"sent": True})
    # Known address or not, the same flush after the answer (see mail/mailqueue.py).
    sent.background = BackgroundTask(drain.send_queued_mail, runtime)
    return sent


@router.get("/reset-password", response_class=HTMLResponse)
async def reset_password_page(
    request: Request, runtime: RuntimeDep, token: str = ""
) -> HTMLResponse:
    try:
        await profile.check_reset_link(runtime, token)
    except InvalidInput as exc:
        return render_token_page(request, "account/reset_password.html", token="", error=exc)
    return render_token_page(request, "account/reset_password.html", token=token)


@router.post("/reset-password", response_model=None)
async def reset_password(
    request: Request,
    runtime: RuntimeDep,
    token: Text = "",
    new_password: Text = "",
    code: Text = "",
) -> Response:
    try:
        account_id = await profile.reset_password(
            runtime,
            token=token,
            new_password=new_password,
            code=code,
            client=client_of(request),
            language=language_of(request),
        )
    except InvalidInput as exc:
        return render_token_page(request, "account/reset_password.html", token=token, error=exc)
    await end_live_progress(runtime, account_id)
    redirect = see_other("/login?reset=1")
    redirect.background = BackgroundTask(drain.send_queued_mail, runtime)
    return redirect


def _fields_of(error: InvalidInput | TooManySignUps) -> set[str | None]:
    if isinstance(error, TooManySignUps):
        return set()
    problems = error.problems if isinstance(error, InvalidFields) else [error]
    return {problem.field for problem in problems}
