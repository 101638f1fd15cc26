"""The hard stop: after 100 failed logins in a row, password login waits for a reset by email.

NIST SP 800-63B 5.2.2 caps consecutive failed attempts on one account at 100. The throttle
(`throttle.py`) only delays attempts; this locks the account's password login when its password
counter or its second-factor counter reaches `HARD_STOP_FAILURES`, and queues a mail telling the
owner. A locked login is answered exactly as a wrong password (the password is not checked).
Only `profile.reset_password` unlocks.
"""

from __future__ import annotations

from collections.abc import Sequence

from beatbun.accounts import mail, throttle
from beatbun.accounts.models import Account
from beatbun.accounts.tokens import new_id
from beatbun.mail import mailqueue
from beatbun.runtime.base import Database, Runtime, Statement

HARD_STOP_FAILURES = 100


def lock_statements(
    runtime: Runtime, *, account_id: str, email: str, counter: str, language: str, now: float
) -> list[Statement]:
    """Statements for `throttle.record_failure(then=...)`: lock once `counter` reaches the stop.

    They run after the failure is counted, in the same batch; the mail is queued only by the
    failure that set the lock (its time is the lock's time).
    """
    db = runtime.db
    lock = db.prepare(
        "UPDATE accounts SET password_locked_at = ?"
        " WHERE id = ? AND password_locked_at IS NULL"
        " AND (SELECT failures FROM login_failures WHERE subject = ?) >= ?"
    ).bind(now, account_id, counter, HARD_STOP_FAILURES)
    site, base = runtime.settings.site_name, runtime.settings.public_url
    notice = mail.PASSWORD_LOGIN_LOCKED.compose(
        to=email, language=language, site=site, link=f"{base}/forgot-password"
    )
    queue = mailqueue.enqueue_statement(
        db,
        message_id=new_id(),
        key=f"login-locked:{account_id}:{now!r}",
        message=notice,
        now=now,
        only_if="EXISTS (SELECT 1 FROM accounts WHERE id = ? AND password_locked_at = ?)",
        only_if_params=(account_id, now),
    )
    return [lock, queue]


def unlock_statement(db: Database, *, account_id: str) -> Statement:
    return db.prepare("UPDATE accounts SET password_locked_at = NULL WHERE id = ?").bind(account_id)


async def is_locked(db: Database, account_id: str) -> bool:
    row = (
        await db.prepare("SELECT password_locked_at FROM accounts WHERE id = ?")
        .bind(account_id)
        .first()
    )
    return bool(row) and row["password_locked_at"] is not None


async def count_failure(
    runtime: Runtime,
    subjects: Sequence[str],
    *,
    account: Account,
    language: str,
    now: float,
    also: Sequence[Statement] = (),
) -> None:
    """Count a failure on `subjects`; the 100th in a row on the first locks password login.

    `also` joins the same batch (the login's security-log row).
    """
    await throttle.record_failure(
        runtime.db,
        subjects,
        now=now,
        then=[
            *lock_statements(
                runtime,
                account_id=account.id,
                email=account.email,
                counter=subjects[0],
                language=language,
                now=now,
            ),
            *also,
        ],
    )
