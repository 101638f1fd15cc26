"""An account with something in every place an account leaves data, for the erasure tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from beatbun.accounts.apikeys import create_api_key
from beatbun.accounts.models import Account, Session
from beatbun.accounts.sessions import create_session
from beatbun.accounts.store import get_account
from beatbun.accounts.tokens import hash_token
from beatbun.consent.models import Choice
from beatbun.consent.service import account_subject, record_choice
from beatbun.privacy.export import export_prefix
from beatbun.runtime.base import HttpMetadata
from beatbun.tracks.models import Track
from beatbun.tracks.sharing import share_track
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account
from tests.privacy.communications import fill_communications
from tests.tracks.conftest import make_tracks


@dataclass(frozen=True)
class Leaver:
    account: Account
    session: Session
    session_token: str
    api_key: str
    tracks: list[Track]
    share_token: str | None

    @property
    def browser(self) -> dict[str, str]:
        return {"Cookie": f"__Host-session={self.session_token}"}

    @property
    def api(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


async def leaver(
    runtime: LocalRuntime, *, email: str = "leaving@example.com", tracks: int = 2
) -> Leaver:
    """A verified, logged-in account with tracks (one shared), an API key, consent records, a
    privacy export, payments, throttle and reset rows, preferences and objections, and its
    communications: sent emails (one to a former address), consent to news and offers, a
    policy notice, a sign-in device and an answered support request."""
    account = await create_verified_account(runtime, email=email)
    db, now = runtime.db, runtime.clock.now()
    session, token = await create_session(
        db, account_id=account.id, stage="full", client=CLIENT, now=now
    )
    _, secret = await create_api_key(
        db, account_id=account.id, name="cli", scopes=["read", "generate"], now=now
    )
    await record_choice(
        db,
        subject=account_subject(account.id),
        choice=Choice.everything(),
        source="preferences",
        gpc=False,
        now=now,
    )
    made = await make_tracks(runtime, account_id=account.id, count=tracks) if tracks else []
    shared = await share_track(db, account_id=account.id, track_id=made[0].id) if made else None
    export_key = f"{export_prefix(account.id)}export.zip"
    await runtime.blobs.put(
        export_key,
        b"PK\x05\x06" + bytes(18),
        http_metadata=HttpMetadata(content_type="application/zip"),
        custom_metadata={"account": account.id},
    )
    stamp = int(now)
    await db.batch(
        [
            db.prepare(
                "INSERT INTO privacy_requests (id, account_id, kind, status, created_at, due_at,"
                " blob_key, size) VALUES (?, ?, 'export', 'ready', ?, ?, ?, 22)"
            ).bind(f"export-{account.id}", account.id, stamp, stamp + 30 * 86400, export_key),
            db.prepare(
                "INSERT INTO payments (id, account_id, kind, item, amount, currency, status,"
                " credits, paid_by, url, created_at) VALUES (?, ?, 'top_up', 'pack_small', 500,"
                " 'eur', 'paid', 100, ?, ?, ?)"
            ).bind(
                f"cs_test_{secrets.token_hex(12)}",
                account.id,
                f"pi_test_{secrets.token_hex(12)}",
                f"https://pay.example/receipt?email={account.email}",
                stamp,
            ),
            db.prepare(
                "INSERT INTO checkout_sessions (id, account_id, mode, item, created_at,"
                " updated_at) VALUES (?, ?, 'payment', 'pack_small', ?, ?)"
            ).bind(f"cs_open_{account.id}", account.id, stamp, stamp),
            db.prepare(
                "INSERT INTO login_failures (subject, failures, last_failure_at) VALUES (?, 2, ?)"
            ).bind(f"account:{hash_token(account.email)}", now),
            db.prepare(
                "INSERT INTO login_failures (subject, failures, last_failure_at) VALUES (?, 1, ?)"
            ).bind(f"code:{account.id}", now),
            db.prepare(
                "INSERT INTO reset_requests (email_hash, ip, at, mailed) VALUES (?, '192.0.2.10',"
                " ?, 1)"
            ).bind(hash_token(account.email), now),
            db.prepare(
                "INSERT INTO account_preferences (account_id, theme, language, updated_at)"
                " VALUES (?, 'dark', 'de', ?)"
            ).bind(account.id, now),
            db.prepare(
                "INSERT INTO privacy_choices (id, account_id, purpose, objects, wording_version,"
                " source, recorded_at) VALUES (?, ?, 'marketing', 1, '1', 'privacy_page', ?)"
            ).bind(f"choice-{account.id}", account.id, now),
        ]
    )
    await fill_communications(runtime, account_id=account.id, email=account.email, unsent=False)
    return Leaver(
        account=await get_account(db, account.id),
        session=session,
        session_token=token,
        api_key=secret,
        tracks=made,
        share_token=shared,
    )


async def teen_leaver(runtime: LocalRuntime) -> Leaver:
    """A `leaver` aged 13 to 17 whose parent consented, so the parent may ask for deletion."""
    who = await leaver(runtime, tracks=0)
    await (
        runtime.db.prepare(
            "UPDATE accounts SET age_group = 'minor', parent_email = 'parent@example.com',"
            " parent_named_at = created_at, parent_consented_at = created_at WHERE id = ?"
        )
        .bind(who.account.id)
        .run()
    )
    return who
