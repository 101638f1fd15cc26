"""Growing delays after failed logins, per account and per client address, kept in D1.

Workers isolates come and go, so nothing here lives in memory. A throttled attempt is
answered at once with 429 and `Retry-After` instead of being held open.

The password step and the second-factor step count separately (`login_subjects`,
`code_subjects`): a right password clears only the password counter, so it never buys more
guesses at the code (issue #12). Both share the per-address counter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from beatbun.accounts.tokens import hash_token
from beatbun.errors import AppError
from beatbun.i18n import N_
from beatbun.runtime.base import Database, Row, Statement

# Failures allowed before delays start: an account is targeted on its own, while one address
# (an office, a carrier NAT) can carry many people.
# Second-factor codes get the same allowance as passwords, on a counter of their own.
FREE_FAILURES = {"account": 5, "code": 5, "ip": 50}
FIRST_DELAY = 1.0
MAX_DELAY = 15 * 60.0
FORGET_AFTER = 24 * 3600.0
# Messages have no plural forms; in English, German and French only 1 takes the singular.
RETRY_IN_ONE_SECOND = N_("Too many failed attempts. Try again in 1 second.")
RETRY_IN_SECONDS = N_("Too many failed attempts. Try again in %(seconds)s seconds.")
SIGN_UP_IN_ONE_SECOND = N_("Too many sign-ups from this network. Try again in 1 second.")
SIGN_UP_IN_SECONDS = N_("Too many sign-ups from this network. Try again in %(seconds)s seconds.")


class TooManyAttempts(AppError):
    """Login attempts for this account or address are paused for `retry_after` seconds."""

    status = 429
    default_code = "too_many_attempts"
    in_one_second: ClassVar[str] = RETRY_IN_ONE_SECOND
    in_seconds: ClassVar[str] = RETRY_IN_SECONDS

    def __init__(self, retry_after: int) -> None:
        if retry_after == 1:
            super().__init__(self.in_one_second)
        else:
            super().__init__(self.in_seconds, params={"seconds": retry_after})
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class TooManySignUps(TooManyAttempts):
    """Sign-ups from this client address are paused for `retry_after` seconds."""

    default_code = "too_many_sign_ups"
    in_one_second = SIGN_UP_IN_ONE_SECOND
    in_seconds = SIGN_UP_IN_SECONDS


def login_subjects(*, email: str, ip: str) -> list[str]:
    """The throttle keys of an attempt; the email is hashed so unknown addresses leave no trace."""
    return [f"account:{hash_token(email)}", f"ip:{ip}"]


def code_subjects(*, account_id: str, ip: str) -> list[str]:
    """The throttle keys of a second-factor attempt: the account's code counter and the address."""
    return [f"code:{account_id}", f"ip:{ip}"]


def sign_up_subjects(*, ip: str) -> list[str]:
    """The throttle key of a sign-up: its client address. Every sign-up counts, not failures."""
    return [f"signup:{ip}"]


async def check_attempt_allowed(
    db: Database,
    subjects: Sequence[str],
    *,
    now: float,
    free: Mapping[str, int] = FREE_FAILURES,
    refusal: type[TooManyAttempts] = TooManyAttempts,
) -> None:
    """Raise `refusal` while any subject is inside its delay (one query for all).

    `free` gives each kind of subject its allowance before delays start.
    """
    if not subjects:
        return
    marks = ", ".join("?" for _ in subjects)  # only placeholders go into the SQL
    rows = (
        await db.prepare(
            "SELECT subject, failures, last_failure_at FROM login_failures"  # noqa: S608
            f" WHERE subject IN ({marks})"
        )
        .bind(*subjects)
        .all()
    )
    _raise_if_waiting(rows.results, now=now, free=free, refusal=refusal)


async def check_login_allowed(
    db: Database, subjects: Sequence[str], *, email: str, now: float
) -> bool:
    """Like `check_attempt_allowed`, and return whether `email`'s password login is locked.

    One query whether or not the email has an account, so neither the answer nor its time
    says which.
    """
    marks = ", ".join("?" for _ in subjects)  # only placeholders go into the SQL
    rows = (
        await db.prepare(
            "SELECT subject, failures, last_failure_at FROM login_failures"  # noqa: S608
            f" WHERE subject IN ({marks})"
            " UNION ALL SELECT 'locked', 0, password_locked_at FROM accounts"
            " WHERE email = ? AND password_locked_at IS NOT NULL"
        )
        .bind(*subjects, email)
        .all()
    )
    counters = [row for row in rows.results if row["subject"] != "locked"]
    _raise_if_waiting(counters, now=now, free=FREE_FAILURES, refusal=TooManyAttempts)
    return len(counters) != len(rows.results)


async def record_failure(
    db: Database, subjects: Sequence[str], *, now: float, then: Sequence[Statement] = ()
) -> None:
    """Count one more failure for every subject, then run `then`, all in one batch.

    For sign-ups (`sign_up_subjects`) every sign-up counts, not only failed ones.
    """
    if not subjects:
        return
    upsert = db.prepare(
        "INSERT INTO login_failures (subject, failures, last_failure_at) VALUES (?, 1, ?)"
        " ON CONFLICT (subject) DO UPDATE SET last_failure_at = excluded.last_failure_at,"
        " failures = CASE WHEN excluded.last_failure_at - last_failure_at > ?"
        " THEN 1 ELSE failures + 1 END"
    )
    await db.batch([*(upsert.bind(subject, now, FORGET_AFTER) for subject in subjects), *then])


async def clear_failures(db: Database, subject: str) -> None:
    await db.prepare("DELETE FROM login_failures WHERE subject = ?").bind(subject).run()


def delay_after(failures: int, *, kind: str, free: Mapping[str, int] = FREE_FAILURES) -> float:
    """Seconds to wait after `failures` in a row: none, then 1 s doubling up to 15 minutes."""
    over = failures - free[kind]
    if over < 0:
        return 0.0
    return float(min(FIRST_DELAY * 2**over, MAX_DELAY))


def _raise_if_waiting(
    rows: Sequence[Row], *, now: float, free: Mapping[str, int], refusal: type[TooManyAttempts]
) -> None:
    longest = max((_wait(row, now=now, free=free) for row in rows), default=0.0)
    if longest > 0:
        raise refusal(max(int(longest + 0.999), 1))


def _wait(row: Row, *, now: float, free: Mapping[str, int]) -> float:
    """Seconds a `login_failures` row still holds its subject back."""
    last = float(row["last_failure_at"])  # type: ignore[arg-type]
    if now - last > FORGET_AFTER:
        return 0.0
    failures = int(row["failures"])  # type: ignore[arg-type]
    delay = delay_after(failures, kind=str(row["subject"]).split(":", 1)[0], free=free)
    return max(last + delay - now, 0.0)
