"""Re-authentication ("sudo mode"): sensitive changes need the password confirmed recently.

Confirming stamps the session (`sessions.reauthenticated_at`); for `WINDOW` seconds after it,
two-step changes and new recovery codes go through without asking again. A login does not
count: the stamp comes only from the explicit confirmation, so a stolen session cookie alone
can never make these changes.
"""

from __future__ import annotations

import dataclasses

from beatbun.accounts import lockout, passwords, sessions, throttle
from beatbun.accounts.models import Account, Client, Session
from beatbun.accounts.security_log import record_event
from beatbun.errors import InvalidInput, ReauthenticationRequired
from beatbun.i18n import DEFAULT_LANGUAGE, N_
from beatbun.runtime.base import Runtime

WINDOW = 5 * 60
DEFAULT_NEXT = "/account/two-step"
# Confirming for this carries on with it: the enrolment starts, and the key is shown.
SETUP_NEXT = "/account/two-step/setup"
# Where the confirmation may send people back to: our own account pages only.
NEXT_PAGES = frozenset({DEFAULT_NEXT, SETUP_NEXT})


def has_recent_password(session: Session, *, now: float) -> bool:
    stamped = session.reauthenticated_at
    return stamped is not None and 0 <= now - stamped <= WINDOW


def require_recent_password(runtime: Runtime, session: Session) -> None:
    """Raise ReauthenticationRequired unless the password was confirmed within `WINDOW`."""
    if not has_recent_password(session, now=runtime.clock.now()):
        raise ReauthenticationRequired(N_("Confirm your password to continue."))


async def confirm_password(
    runtime: Runtime,
    account: Account,
    session: Session,
    *,
    password: str,
    client: Client,
    message: str = passwords.WRONG_CURRENT_PASSWORD,
) -> Session:
    """Check the password and stamp the session; returns the session as stamped.

    Raises InvalidInput(field="current_password", `message`) when wrong, TooManyAttempts while
    throttled: the counters are the login form's, so this is no side door for guessing.
    """
    now = runtime.clock.now()
    subjects = throttle.login_subjects(email=account.email, ip=client.ip)
    locked = await throttle.check_login_allowed(runtime.db, subjects, email=account.email, now=now)
    try:
        if locked:  # the hard stop holds here too: no password is checked until a reset
            raise InvalidInput(message, field="current_password")
        await passwords.check_current_password(runtime, account, password, message=message)
    except InvalidInput:
        await lockout.count_failure(
            runtime, subjects, account=account, language=DEFAULT_LANGUAGE, now=now
        )
        raise
    await sessions.mark_reauthenticated(runtime.db, session.id, now=now)
    await record_event(
        runtime.db, account_id=account.id, kind="password_confirmed", client=client, now=now
    )
    return dataclasses.replace(session, reauthenticated_at=now)


def safe_next(path: str) -> str:
    """`path` when it is one of NEXT_PAGES, else the default: never an open redirect."""
    return path if path in NEXT_PAGES else DEFAULT_NEXT
