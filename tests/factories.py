"""Builders for test data, made through the same services the routes call."""

from __future__ import annotations

import uuid

import pyotp

from beatbun.accounts import secondfactor
from beatbun.accounts.models import Account, Client, Session
from beatbun.accounts.registration import SignUpForm, sign_up
from beatbun.accounts.store import find_account_by_email, get_account
from beatbun.billing.credits import Note, take_back_statements
from beatbun.runtime.base import Runtime
from beatbun.tracks.models import Track, blob_key_for

PASSWORD = "correct horse battery staple"
CLIENT = Client(ip="192.0.2.10", user_agent="TestBrowser/1.0")


async def create_account(runtime: Runtime, *, email: str = "person@example.com") -> Account:
    """An adult account with `PASSWORD`, signed up as a visitor would (not yet verified)."""
    form = SignUpForm(
        email=email, password=PASSWORD, display_name="Test Person", birth_date="1990-05-04"
    )
    await sign_up(runtime, form, client=CLIENT)
    account = await find_account_by_email(runtime.db, email)
    if account is None:
        raise RuntimeError(f"Sign-up did not create an account for {email!r}.")
    return account


async def create_verified_account(
    runtime: Runtime, *, email: str = "person@example.com"
) -> Account:
    """An adult account whose email is confirmed, so it may spend credits."""
    account = await create_account(runtime, email=email)
    await (
        runtime.db.prepare("UPDATE accounts SET email_verified_at = ? WHERE id = ?")
        .bind(int(runtime.clock.now()), account.id)
        .run()
    )
    verified = await find_account_by_email(runtime.db, email)
    if verified is None:
        raise RuntimeError(f"The account of {email!r} disappeared.")
    return verified


async def clone_track(runtime: Runtime, original: Track, *, copies: int) -> list[str]:
    """`copies` more tracks like `original`, each with its own copy of the audio; their ids."""
    stored = await runtime.blobs.get(original.blob_key)
    if stored is None or stored.body is None:
        raise RuntimeError(f"Track {original.id!r} has no audio to copy.")
    made = []
    for _ in range(copies):
        track_id = uuid.uuid4().hex
        key = blob_key_for(
            retention=original.retention, account_id=original.account_id, track_id=track_id
        )
        await runtime.blobs.put(
            key,
            stored.body,
            http_metadata=stored.http_metadata,
            custom_metadata=stored.custom_metadata,
        )
        await (
            runtime.db.prepare(
                "INSERT INTO tracks (id, account_id, job_id, title, prompt, plan, media_type,"
                " duration_seconds, size_bytes, blob_key, peaks, retention, created_at, expires_at,"
                " licence, licence_plan, licensed_at, genre) SELECT ?, account_id, ?, title, prompt,"
                " plan, media_type, duration_seconds, size_bytes, ?, peaks, retention, created_at,"
                " expires_at, licence, licence_plan, licensed_at, genre FROM tracks WHERE id = ?"
            )
            .bind(track_id, uuid.uuid4().hex, key, original.id)
            .run()
        )
        made.append(track_id)
    return made


async def spend(runtime: Runtime, account_id: str, *, amount: int) -> None:
    """Take `amount` credits off the balance with a ledger row, as making tracks would."""
    await runtime.db.batch(
        take_back_statements(
            runtime.db,
            account_id=account_id,
            amount=amount,
            idempotency_key=f"test:spend:{uuid.uuid4().hex}",
            note=Note("Spent"),
            now=runtime.clock.now(),
        )
    )


async def insert_accounts(
    runtime: Runtime, *, count: int, created_at: float, prefix: str = "bulk"
) -> list[str]:
    """`count` verified adult accounts straight into D1 (ids `<prefix>000001`…, in id order),
    for tests about many accounts at once; they have no password anyone can log in with."""
    await (
        runtime.db.prepare(
            "INSERT INTO accounts (id, email, display_name, birth_date, age_group,"
            " email_verified_at, password_hash, created_at)"
            " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)"
            " SELECT printf('%s%06d', ?2, i), printf('%s%06d@example.com', ?2, i), 'Person',"
            " '1990-01-01', 'adult', ?3, '!', ?3 FROM n"
        )
        .bind(count, prefix, int(created_at))
        .run()
    )
    return [f"{prefix}{i:06d}" for i in range(1, count + 1)]


async def turn_on_two_step(runtime: Runtime, account: Account, session: Session) -> str:
    """Enrol and confirm TOTP for `account` through `session` (its password just confirmed);
    the secret, whose codes from the next time step on are accepted."""
    await secondfactor.start_totp_enrollment(runtime, account, session)
    pending = await get_account(runtime.db, account.id)
    secret = await secondfactor.pending_totp_secret(runtime, pending)
    if secret is None:
        raise RuntimeError(f"No TOTP enrolment is pending for {account.id!r}.")
    await secondfactor.confirm_totp(
        runtime,
        pending,
        session,
        code=pyotp.TOTP(secret).at(runtime.clock.now()),
        client=CLIENT,
        language="en",
    )
    return secret
