"""`create_app`: the one ASGI application, served by the Worker and by uvicorn alike."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from beatbun.api import account as api_account
from beatbun.api import billing as api_billing
from beatbun.api import exports as api_exports
from beatbun.api import generations as api_generations
from beatbun.api import health
from beatbun.api import operator as api_operator
from beatbun.api import tracks as api_tracks
from beatbun.api import webhooks as api_webhooks
from beatbun.errors_http import UnexpectedErrors, install_error_handlers
from beatbun.runtime.base import Runtime, RuntimeFactory
from beatbun.settings import Settings
from beatbun.version import VERSION
from beatbun.web import (
    account,
    account_settings,
    admin,
    api_docs,
    consent,
    mailhooks,
    outbox,
    pages,
    parents,
    policies,
    privacy_schema,
    progress,
    shell,
    studio,
    tracks,
)
from beatbun.web import analytics as web_analytics
from beatbun.web import billing as web_billing
from beatbun.web import email_settings as web_email_settings
from beatbun.web import exports as web_exports
from beatbun.web import pricing as web_pricing
from beatbun.web import privacy as web_privacy
from beatbun.web import support as web_support
from beatbun.web.choices import ChoiceCookies, load_choices
from beatbun.web.security import SecurityHeaders, guard_browser_request
from beatbun.web.shell import load_shell


def create_app(
    *,
    runtime: Runtime | None = None,
    runtime_factory: RuntimeFactory | None = None,
) -> FastAPI:
    """Build the app around one local `runtime`, or a `runtime_factory` for Workers' `env`.

    Does no I/O, so the Worker can build it at import time and keep it in its snapshot.
    """
    if (runtime is None) == (runtime_factory is None):
        raise TypeError("create_app() takes exactly one of runtime= or runtime_factory=.")
    app = FastAPI(
        title=Settings.site_name,
        version=VERSION,
        # /docs/api is our own page (web/api_docs.py): Swagger UI needs scripts the CSP refuses.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        # Every route, whoever adds it, gets the session loaded and CSRF enforced.
        dependencies=[
            Depends(guard_browser_request),
            Depends(load_choices),
            Depends(load_shell),
        ],
    )
    app.state.runtime = runtime
    app.state.runtime_factory = runtime_factory
    app.add_middleware(ChoiceCookies)  # inside SecurityHeaders, which sees its Set-Cookie
    # Inside SecurityHeaders too, so an unexpected error's 500 carries every security header.
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(SecurityHeaders)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(pages.router)
    app.include_router(account.router)
    app.include_router(parents.router)
    app.include_router(account_settings.router)
    app.include_router(shell.router)
    app.include_router(outbox.router)
    app.include_router(api_docs.router)
    app.include_router(consent.router)
    app.include_router(policies.router)
    app.include_router(web_analytics.router)
    app.include_router(admin.router)
    app.include_router(api_account.router)
    app.include_router(api_generations.router)
    app.include_router(api_tracks.router)
    app.include_router(api_exports.router)
    app.include_router(api_billing.router)
    app.include_router(api_webhooks.router)
    app.include_router(mailhooks.router)
    app.include_router(api_operator.router)
    app.include_router(studio.router)
    app.include_router(progress.router)
    app.include_router(tracks.router)
    app.include_router(web_exports.router)
    app.include_router(web_pricing.router)
    app.include_router(web_billing.router)
    app.include_router(web_privacy.router)
    app.include_router(web_email_settings.router)
    app.include_router(privacy_schema.router)
    app.include_router(web_support.router)
    return app
