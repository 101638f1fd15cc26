"""Browser sessions: a 256-bit token in the cookie, only its SHA-256 in D1.

Timeouts follow NIST SP 800-63B-4 §5.2 for a consumer service: idle and absolute limits,
and a short window for the second step of a two-factor login.
"""

from __future__ import annotations

from beatbun.accounts.models import Account, Client, Session
from beatbun.accounts.store import row_to_account
from beatbun.accounts.tokens import hash_token, new_id, new_token
from beatbun.runtime.base import Database, Row, SqlValue

IDLE_TIMEOUT = 24 * 3600
ABSOLUTE_TIMEOUT = 14 * 24 * 3600
MFA_STEP_TIMEOUT = 5 * 60
# last_seen_at is written at most this often, so a busy page does not write D1 per request.
TOUCH_INTERVAL = 60


async def create_session(
    db: Database, *, account_id: str, stage: str, client: Client, now: float
) -> tuple[Session, str]:
    """Start a session; returns it and the token for the cookie (never stored)."""
    token = new_token()
    session = Session(
        id=new_id(),
        account_id=account_id,
        stage=stage,
        user_agent=client.user_agent,
        ip=client.ip,
        created_at=now,
        last_seen_at=now,
    )
    await (
        db.prepare(
            "INSERT INTO sessions (id, account_id, token_hash, stage, user_agent, ip, created_at,"
            " last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        .bind(
            session.id,
            account_id,
            hash_token(token),
            stage,
            session.user_agent,
            session.ip,
            now,
            now,
        )
        .run()
    )
    return session, token


async def find_session_and_account(
    db: Database, token: str, *, now: float
) -> tuple[Session, Account] | None:
    """The live session for a cookie token and its account, in one query; None when the
    token is unknown, revoked or timed out, or the account waits for a parent's consent."""
    row = (
        await db.prepare(
            # The session's columns get names of their own next to `accounts.*`.
            "SELECT a.*, s.id AS session_id, s.account_id AS session_account_id,"
            " s.stage AS session_stage, s.user_agent AS session_user_agent, s.ip AS session_ip,"
            " s.created_at AS session_created_at, s.last_seen_at AS session_last_seen_at,"
            " s.reauthenticated_at AS session_reauthenticated_at"
            " FROM sessions AS s JOIN accounts AS a ON a.id = s.account_id"
            " WHERE s.token_hash = ? AND s.revoked_at IS NULL"
        )
        .bind(hash_token(token))
        .first()
    )
    if not row:
        return None
    account = row_to_account(row)
    # A minor's account waiting for the parent's consent has no session, even one from before.
    if not account.is_active:
        return None
    session = _row_to_session(row, prefix="session_")
    if not await _still_live(db, session, now=now):
        return None
    return session, account


async def rotate_session(db: Database, session: Session, *, stage: str) -> str:
    """Give the session a new token (login step or privilege change); the old one dies."""
    token = new_token()
    await (
        db.prepare("UPDATE sessions SET token_hash = ?, stage = ? WHERE id = ?")
        .bind(hash_token(token), stage, session.id)
        .run()
    )
    return token


async def mark_reauthenticated(db: Database, session_id: str, *, now: float) -> None:
    """Stamp the session: its owner has just confirmed the password."""
    await (
        db.prepare("UPDATE sessions SET reauthenticated_at = ? WHERE id = ?")
        .bind(now, session_id)
        .run()
    )


async def revoke_session(db: Database, session_id: str, *, account_id: str, now: float) -> bool:
    """End one of the account's sessions; False when there was none to end."""
    result = (
        await db.prepare(
            "UPDATE sessions SET revoked_at = ? WHERE id = ? AND account_id = ? AND revoked_at IS NULL"
        )
        .bind(now, session_id, account_id)
        .run()
    )
    return result.meta.changes == 1


async def revoke_other_sessions(
    db: Database, *, account_id: str, keep_id: str | None, now: float
) -> None:
    """End every session of the account except `keep_id` (all of them when it is None)."""
    await (
        db.prepare(
            "UPDATE sessions SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL"
            " AND id != ?"
        )
        .bind(now, account_id, keep_id or "")
        .run()
    )


async def revoke_token(db: Database, token: str, *, now: float) -> None:
    await (
        db.prepare("UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL")
        .bind(now, hash_token(token))
        .run()
    )


async def list_sessions(db: Database, account_id: str, *, now: float) -> list[Session]:
    """The account's live full sessions, most recently seen first."""
    rows = (
        await db.prepare(
            "SELECT * FROM sessions WHERE account_id = ? AND revoked_at IS NULL AND stage = 'full'"
            " ORDER BY last_seen_at DESC"
        )
        .bind(account_id)
        .all()
    )
    sessions = [_row_to_session(row) for row in rows.results]
    return [session for session in sessions if not _has_expired(session, now=now)]


async def _still_live(db: Database, session: Session, *, now: float) -> bool:
    """False (and revoked) once timed out; otherwise True, last_seen_at touched when due."""
    if _has_expired(session, now=now):
        await revoke_session(db, session.id, account_id=session.account_id, now=now)
        return False
    if now - session.last_seen_at >= TOUCH_INTERVAL:
        await (
            db.prepare("UPDATE sessions SET last_seen_at = ? WHERE id = ?")
            .bind(now, session.id)
            .run()
        )
    return True


def _has_expired(session: Session, *, now: float) -> bool:
    if session.stage == "mfa":
        return now - session.created_at > MFA_STEP_TIMEOUT
    return now - session.last_seen_at > IDLE_TIMEOUT or now - session.created_at > ABSOLUTE_TIMEOUT


def _row_to_session(row: Row, *, prefix: str = "") -> Session:
    return Session(
        id=str(row[prefix + "id"]),
        account_id=str(row[prefix + "account_id"]),
        stage=str(row[prefix + "stage"]),
        user_agent=str(row[prefix + "user_agent"]),
        ip=str(row[prefix + "ip"]),
        created_at=float(row[prefix + "created_at"]),  # type: ignore[arg-type]
        last_seen_at=float(row[prefix + "last_seen_at"]),  # type: ignore[arg-type]
        reauthenticated_at=_optional_float(row.get(prefix + "reauthenticated_at")),
    )


def _optional_float(value: SqlValue) -> float | None:
    return None if value is None else float(value)
