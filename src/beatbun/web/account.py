"""Sign-up, email verification, login (with its second step), logout and password reset."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.background import BackgroundTask

from beatbun.accounts import mailqueue, profile, service
from beatbun.accounts.sessions import ABSOLUTE_TIMEOUT, MFA_STEP_TIMEOUT
from beatbun.api.deps import CurrentVisitor, PendingLogin, PendingLoginAccount, RuntimeDep
from beatbun.errors import InvalidInput
from beatbun.web.choices import language_of
from beatbun.web.forms import Text, client_of, render_form, render_token_page, see_other
from beatbun.web.security import forget_browser, set_session_cookie

router = APIRouter()


@router.get("/signup", response_class=HTMLResponse)
async def signup_page(request: Request) -> HTMLResponse:
    return render_form(request, "account/signup.html")


@router.post("/signup", response_model=None)
async def signup(
    request: Request,
    runtime: RuntimeDep,
    email: Text = "",
    password: Text = "",
    display_name: Text = "",
    birth_date: Text = "",
    parent_email: Text = "",
    parental_consent: Text = "",
) -> Response:
    form = service.SignUpForm(
        email=email,
        password=password,
        display_name=display_name,
        birth_date=birth_date,
        parent_email=parent_email,
        parental_consent=parental_consent == "yes",
    )
    try:
        await service.sign_up(
            runtime, form, client=client_of(request), language=language_of(request)
        )
    except InvalidInput as exc:
        values = {
            "email": email,
            "display_name": display_name,
            "birth_date": birth_date,
            "parent_email": parent_email,
        }
        return render_form(request, "account/signup.html", error=exc, values=values)
    return see_other("/signup/sent")


@router.get("/signup/sent", response_class=HTMLResponse)
async def signup_sent(request: Request) -> HTMLResponse:
    return render_form(request, "account/signup_sent.html")


@router.get("/verify-email", response_class=HTMLResponse)
async def verify_email_page(request: Request, token: str = "") -> HTMLResponse:
    return render_token_page(request, "account/verify_email.html", token=token)


@router.post("/verify-email", response_model=None)
async def verify_email(request: Request, runtime: RuntimeDep, token: Text = "") -> Response:
    try:
        await service.verify_email(runtime, token, client=client_of(request))
    except InvalidInput as exc:
        return render_form(request, "account/verify_email.html", error=exc)
    return see_other("/login?verified=1")


# Pages a login may return to (`?next=`): our own, by exact path, so never another site.
RETURN_PAGES = frozenset({"/pricing", "/billing", "/studio", "/tracks"})
AFTER_LOGIN = "/account"


def return_page(path: str) -> str:
    """Where to go after logging in: `path` when it is one of RETURN_PAGES, else the account."""
    return path if path in RETURN_PAGES else AFTER_LOGIN


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
        refused.background = BackgroundTask(mailqueue.send_queued_mail, runtime)
        return refused
    code_step = "/login/code" if after == AFTER_LOGIN else f"/login/code?next={after}"
    redirect = see_other(code_step if outcome.needs_second_factor else after)
    max_age = MFA_STEP_TIMEOUT if outcome.needs_second_factor else ABSOLUTE_TIMEOUT
    set_session_cookie(redirect, outcome.token, max_age=max_age)
    return redirect


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
        refused.background = BackgroundTask(mailqueue.send_queued_mail, runtime)
        return refused
    redirect = see_other(return_page(next))
    set_session_cookie(redirect, token, max_age=ABSOLUTE_TIMEOUT)
    return redirect


@router.post("/logout")
async def logout(request: Request, runtime: RuntimeDep, visitor: CurrentVisitor) -> Response:
    if visitor.session is not None:
        await service.log_out(runtime, visitor.session, client=client_of(request))
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
    # Known address or not, the same flush after the answer (see accounts/mailqueue.py).
    sent.background = BackgroundTask(mailqueue.send_queued_mail, runtime)
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
        await profile.reset_password(
            runtime, token=token, new_password=new_password, code=code, client=client_of(request)
        )
    except InvalidInput as exc:
        return render_token_page(request, "account/reset_password.html", token=token, error=exc)
    return see_other("/login?reset=1")
