"""Turning the TOTP second factor on and off, and checking a code wherever one is asked for.

TOTP keys are sealed at rest (`accounts.sealing`, bound to `totp:<account id>`). Keys stored
before migration 0032 are plaintext base32 (which never contains ':'); they are still read,
resealed on the next successful code and by the cron (`reseal_totp_secrets`), which also
moves keys sealed under an older key of the ring to the current one.
"""

from __future__ import annotations

from beatbun.accounts import lockout, passwords, reauth, sessions, throttle, totp
from beatbun.accounts.models import Account, Client, Session
from beatbun.accounts.notify import security_notice
from beatbun.accounts.sealing import (
    is_sealed,
    is_sealed_with_current_key,
    key_ring,
    open_text,
    seal_text,
)
from beatbun.accounts.security_log import record_event
from beatbun.accounts.store import update_account
from beatbun.accounts.tokens import new_id
from beatbun.errors import Conflict, InvalidInput
from beatbun.i18n import DEFAULT_LANGUAGE, N_
from beatbun.mail import catalogue
from beatbun.mail.notices import Notice, account_language
from beatbun.runtime.base import Runtime, SqlValue

WRONG_CODE = N_("That code is not valid. Use the current code from your app, or a recovery code.")
# Accounts resealed per batch by the cron, and batches per run (D1 caps bound parameters).
RESEAL_BATCH = 50
RESEAL_BATCHES_PER_RUN = 20


async def check_second_factor(
    runtime: Runtime, account: Account, *, code: str, client: Client
) -> None:
    """Accept a fresh TOTP code (recording its step) or an unused recovery code.

    Raises InvalidInput(field="code") otherwise, and logs the failure.
    """
    now = runtime.clock.now()
    if account.totp_secret is None:
        raise Conflict(N_("Two-step verification is not on for this account."))
    secret = await open_totp_secret(runtime, account.id, account.totp_secret)
    step = totp.accepted_step(secret, code, now=now, last_step=account.totp_last_step)
    if step is not None:
        values: dict[str, SqlValue] = {"totp_last_step": step}
        if not is_sealed_with_current_key(account.totp_secret, runtime.settings):
            # A legacy or old-key value: reseal it in the write this check makes anyway.
            values["totp_secret"] = await seal_totp_secret(runtime, account.id, secret)
        await update_account(runtime.db, account.id, values=values)
        return
    if await totp.use_recovery_code(runtime.db, account_id=account.id, code=code, now=now):
        await record_event(
            runtime.db, account_id=account.id, kind="recovery_code_used", client=client, now=now
        )
        return
    await record_event(
        runtime.db, account_id=account.id, kind="second_factor_failed", client=client, now=now
    )
    raise InvalidInput(WRONG_CODE, code="invalid_code", field="code")


async def require_fresh_code(
    runtime: Runtime,
    account: Account,
    *,
    code: str,
    client: Client,
    language: str = DEFAULT_LANGUAGE,
) -> None:
    """For sensitive changes: a code is required when the account has a second factor.

    Wrong codes count on the same code counter as the login's second step (delays, and the
    hard stop at the 100th in a row), so no page is a side door for guessing codes. A lock does
    not refuse the code here: a password reset, which needs it, is the way out of the lock.
    Raises TooManyAttempts while the counter makes people wait, InvalidInput for a wrong code.
    """
    if not account.has_totp:
        return
    now = runtime.clock.now()
    subjects = throttle.code_subjects(account_id=account.id, ip=client.ip)
    await throttle.check_attempt_allowed(runtime.db, subjects, now=now)
    try:
        await check_second_factor(runtime, account, code=code, client=client)
    except InvalidInput:
        await lockout.count_failure(runtime, subjects, account=account, language=language, now=now)
        raise
    await throttle.clear_failures(runtime.db, subjects[0])


async def start_totp_enrollment(runtime: Runtime, account: Account, session: Session) -> None:
    """Make the pending secret (sealed) unless one waits already.

    Raises ReauthenticationRequired without a recent password, Conflict when TOTP is on.
    """
    reauth.require_recent_password(runtime, session)
    if account.has_totp:
        raise Conflict(N_("Two-step verification is already on."))
    if account.totp_pending_secret:
        return
    sealed = await seal_totp_secret(runtime, account.id, totp.new_secret())
    await update_account(runtime.db, account.id, values={"totp_pending_secret": sealed})


async def pending_totp_secret(runtime: Runtime, account: Account) -> str | None:
    """The secret enrolment waits to confirm, for the page to show; reads only."""
    if account.has_totp or account.totp_pending_secret is None:
        return None
    return await open_totp_secret(runtime, account.id, account.totp_pending_secret)


async def confirm_totp(
    runtime: Runtime,
    account: Account,
    session: Session,
    *,
    code: str,
    client: Client,
    language: str,
) -> tuple[list[str], str]:
    """Switch TOTP on after one valid code; returns the recovery codes and a new session token.

    Raises ReauthenticationRequired without a recent password; mails the account owner.
    """
    reauth.require_recent_password(runtime, session)
    now = runtime.clock.now()
    sealed = account.totp_pending_secret
    if account.has_totp or sealed is None:
        raise Conflict(N_("Start setting up two-step verification again."))
    secret = await open_totp_secret(runtime, account.id, sealed)
    step = totp.accepted_step(secret, code, now=now, last_step=None)
    if step is None:
        raise InvalidInput(
            N_("That code is not valid. Check the time on your device and try the current code."),
            code="invalid_code",
            field="code",
        )
    if not is_sealed_with_current_key(sealed, runtime.settings):
        sealed = await seal_totp_secret(runtime, account.id, secret)
    await update_account(
        runtime.db,
        account.id,
        values={
            "totp_secret": sealed,
            "totp_pending_secret": None,
            "totp_enabled_at": int(now),
            "totp_last_step": step,
        },
    )
    codes = totp.new_recovery_codes()
    await totp.store_recovery_codes(runtime.db, account_id=account.id, codes=codes)
    await record_event(
        runtime.db, account_id=account.id, kind="totp_enabled", client=client, now=now
    )
    token = await sessions.rotate_session(runtime.db, session, stage="full")
    await _notify(runtime, account, catalogue.TWO_STEP, language=language)
    return codes, token


async def disable_totp(
    runtime: Runtime,
    account: Account,
    session: Session,
    *,
    password: str,
    code: str,
    client: Client,
    language: str,
) -> str:
    """Switch TOTP off given the password and a fresh code; returns a new session token.

    The password typed here is the re-authentication (the session is stamped with it). It must
    meet the single-factor length (15), since it will stand alone. Mails the account owner.
    """
    now = runtime.clock.now()
    await reauth.confirm_password(
        runtime,
        account,
        session,
        password=password,
        client=client,
        message=N_("Your password is not correct."),
    )
    await require_fresh_code(runtime, account, code=code, client=client, language=language)
    if len(passwords.normalize(password)) < passwords.MIN_LENGTH_SINGLE_FACTOR:
        raise InvalidInput(
            N_(
                "Your password is shorter than %(minimum)s characters."
                " Change it first: without a second factor it must be longer."
            ),
            field="current_password",
            params={"minimum": passwords.MIN_LENGTH_SINGLE_FACTOR},
        )
    await update_account(
        runtime.db,
        account.id,
        values={"totp_secret": None, "totp_enabled_at": None, "totp_last_step": None},
    )
    await totp.store_recovery_codes(runtime.db, account_id=account.id, codes=[])
    await record_event(
        runtime.db, account_id=account.id, kind="totp_disabled", client=client, now=now
    )
    token = await sessions.rotate_session(runtime.db, session, stage="full")
    await _notify(runtime, account, catalogue.TWO_STEP_OFF, language=language)
    return token


async def regenerate_recovery_codes(
    runtime: Runtime, account: Account, session: Session, *, client: Client, language: str
) -> list[str]:
    """Replace every recovery code with ten new ones, shown once; the old ones stop working.

    Raises ReauthenticationRequired without a recent password, Conflict when TOTP is off.
    """
    reauth.require_recent_password(runtime, session)
    if not account.has_totp:
        raise Conflict(N_("Two-step verification is not on for this account."))
    codes = totp.new_recovery_codes()
    await totp.store_recovery_codes(runtime.db, account_id=account.id, codes=codes)
    await record_event(
        runtime.db,
        account_id=account.id,
        kind="recovery_codes_replaced",
        client=client,
        now=runtime.clock.now(),
    )
    await _notify(runtime, account, catalogue.RECOVERY_CODES, language=language)
    return codes


async def open_totp_secret(runtime: Runtime, account_id: str, stored: str) -> str:
    """The base32 secret of a stored value: sealed, or plaintext from before migration 0032."""
    if not is_sealed(stored):
        return stored
    return await open_text(runtime.cipher, runtime.settings, stored, context=_context(account_id))


async def seal_totp_secret(runtime: Runtime, account_id: str, secret: str) -> str:
    return await seal_text(runtime.cipher, runtime.settings, secret, context=_context(account_id))


async def reseal_totp_secrets(runtime: Runtime) -> int:
    """Cron: seal plaintext TOTP secrets and move old-key ones to the current key.

    Each row is written only if it still holds what was read, so a concurrent enrolment or
    login is never overwritten. Returns how many accounts were resealed.
    """
    current = f"v1:{key_ring(runtime.settings)[0].id}:%"
    resealed = 0
    for _ in range(RESEAL_BATCHES_PER_RUN):
        rows = (
            await runtime.db.prepare(
                "SELECT id, totp_secret, totp_pending_secret FROM accounts"
                " WHERE (totp_secret IS NOT NULL AND totp_secret NOT LIKE ?)"
                " OR (totp_pending_secret IS NOT NULL AND totp_pending_secret NOT LIKE ?)"
                " LIMIT ?"
            )
            .bind(current, current, RESEAL_BATCH)
            .all()
        ).results
        if not rows:
            break
        statements = []
        for row in rows:
            account_id = str(row["id"])
            values = [
                await _resealed(runtime, account_id, row[column])
                for column in ("totp_secret", "totp_pending_secret")
            ]
            statements.append(
                runtime.db.prepare(
                    "UPDATE accounts SET totp_secret = ?, totp_pending_secret = ?"
                    " WHERE id = ? AND totp_secret IS ? AND totp_pending_secret IS ?"
                ).bind(*values, account_id, row["totp_secret"], row["totp_pending_secret"])
            )
        results = await runtime.db.batch(statements)
        resealed += sum(result.meta.changes for result in results)
        if len(rows) < RESEAL_BATCH:
            break
    return resealed


async def _resealed(runtime: Runtime, account_id: str, stored: SqlValue) -> str | None:
    if stored is None:
        return None
    text = str(stored)
    if is_sealed_with_current_key(text, runtime.settings):
        return text
    secret = await open_totp_secret(runtime, account_id, text)
    return await seal_totp_secret(runtime, account_id, secret)


async def _notify(runtime: Runtime, account: Account, notice: Notice, *, language: str) -> None:
    """Queue the notice (the route flushes the queue after answering, the cron otherwise).

    Queued, not sent: the change is made already, and a mail provider's outage must not turn
    it into an error page that hides the new recovery codes or the new session. Each change is
    its own event, with no cap: the owner hears of every one.
    """
    language = await account_language(runtime.db, account.id, language)
    await security_notice(runtime, notice, account, event=new_id(), language=language).run()


def _context(account_id: str) -> str:
    return f"totp:{account_id}"
