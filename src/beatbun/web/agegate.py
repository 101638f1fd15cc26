"""The day-long block a refused date of birth puts on sign-ups from the same browser.

The cookie holds only its own expiry and an HMAC of it under APP_SECRET: nothing about the
person, and a value nobody can make last longer than the day it was given for.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request, Response

from beatbun.consent.registry import AGE_REFUSED_COOKIE, AGE_REFUSED_MAX_AGE
from beatbun.runtime.base import Runtime
from beatbun.web.security import set_browser_cookie


def block_sign_ups(response: Response, runtime: Runtime) -> None:
    """Make `response` block sign-ups from its browser for `AGE_REFUSED_MAX_AGE` seconds."""
    expires = int(runtime.clock.now()) + AGE_REFUSED_MAX_AGE
    value = f"{expires}.{_mac(runtime.settings.app_secret, expires)}"
    set_browser_cookie(response, AGE_REFUSED_COOKIE, value, max_age=AGE_REFUSED_MAX_AGE)


def is_blocked(request: Request, runtime: Runtime) -> bool:
    """Whether the request's browser had a date of birth refused within the last day."""
    expires, _, mac = request.cookies.get(AGE_REFUSED_COOKIE, "").partition(".")
    if not expires.isdigit() or int(expires) <= runtime.clock.now():
        return False
    return hmac.compare_digest(mac, _mac(runtime.settings.app_secret, int(expires)))


def _mac(secret: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"age-refused:{expires}".encode(), hashlib.sha256).hexdigest()
