"""A parent's own consent for a 13 to 17 year old's account, through a link only they hold.

Sign-up names the parent; the account stays inactive (no session, no API key, no spending)
until the parent opens their link and consents with their name and a declaration. The link's
token lives only in the parent's mail: `guardians.access_hash` keeps its SHA-256. Until the
parent consents, a new link (which replaces the old one) is sent at most every
`RESEND_SECONDS`. After consent the same link shows the parent the child's data and lets them
delete the account (`privacy.erasure`).

A parent who does not agree deletes the sign-up through the link, and one nobody agrees to is
deleted `CONSENT_DAYS` after the first link (`privacy.unconsented`).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass

from beatbun.accounts.models import NO_CLIENT, Account, SecurityEvent
from beatbun.accounts.security_log import list_events, record_event
from beatbun.accounts.store import get_account
from beatbun.accounts.tokens import hash_token, new_id, new_token
from beatbun.billing.credits import get_wallet
from beatbun.errors import InvalidFields, InvalidInput, NotFound
from beatbun.i18n import DEFAULT_LANGUAGE, N_
from beatbun.mail import mailqueue
from beatbun.privacy import mail
from beatbun.privacy.models import PrivacyRequest
from beatbun.privacy.requests import list_requests
from beatbun.runtime.base import Row, Runtime
from beatbun.tracks.models import Track
from beatbun.tracks.store import list_tracks

PARENT_PAGE = "/parent/"
# The version of the declaration the parent ticks (the consent page's wording).
DECLARATION_VERSION = "2026-11-30"
# A waiting teen may have the parent's link sent again this often.
RESEND_SECONDS = 10 * 60
# A login attempt of a waiting teen sends a new link when the last one is older than this.
REFRESH_SECONDS = 24 * 3600
# A sign-up no parent or guardian agrees to is deleted this long after the first link.
CONSENT_DAYS = 30
CONSENT_SECONDS = CONSENT_DAYS * 86400
# The login page's offer to resend is valid this long after the password was checked.
TICKET_SECONDS = 15 * 60
MAX_NAME = 100
# The parent's page lists this many of the child's tracks and security events.
TRACKS_SHOWN = 100
EVENTS_SHOWN = 20
NOT_FOUND = N_("This link is not valid. Use the latest link we mailed you.")
# Events about the parent's link are logged without an address: the parent's is not the
# teen's to see in their security log.


@dataclass(frozen=True)
class Guardian:
    """The parent or guardian of one account, and their consent once given."""

    account_id: str
    email: str
    link_sent_at: float
    consent_name: str | None
    declaration_version: str | None
    consented_at: float | None

    @property
    def has_consented(self) -> bool:
        return self.consented_at is not None


@dataclass(frozen=True)
class ChildData:
    """What the parent's page shows of the child's account."""

    account: Account
    tracks: list[Track]
    balance: int
    events: list[SecurityEvent]
    requests: list[PrivacyRequest]


async def send_parent_link(
    runtime: Runtime, account: Account, *, language: str, unless_sent_within: float
) -> bool:
    """Mail the parent of inactive `account` a new link, replacing the old one; True if sent.

    Nothing happens for an active account, one without a parent's address, or when the last
    link went out less than `unless_sent_within` seconds ago (the guard is in the SQL, so
    concurrent requests send one link). The mail is queued (`mail.mailqueue`). The first
    link sets the date the sign-up is deleted by unless the parent consents; later ones keep it.
    """
    if account.is_active or not account.parent_email:
        return False
    now = runtime.clock.now()
    token = new_token()
    access_hash = hash_token(token)
    settings = runtime.settings
    message = mail.PARENT_CONSENT_REQUEST.compose(
        to=account.parent_email,
        language=language,
        site=settings.site_name,
        child=account.display_name,
        child_email=account.email,
        link=f"{settings.public_url}{PARENT_PAGE}{token}",
        days=str(CONSENT_DAYS),
    )
    db = runtime.db
    results = await db.batch(
        [
            db.prepare(
                "INSERT INTO guardians (account_id, email, access_hash, link_sent_at,"
                " consent_due_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE"
                " SET email = excluded.email, access_hash = excluded.access_hash,"
                " link_sent_at = excluded.link_sent_at"
                " WHERE guardians.consented_at IS NULL AND guardians.link_sent_at <= ?"
            ).bind(
                account.id,
                account.parent_email,
                access_hash,
                now,
                now + CONSENT_SECONDS,
                now - unless_sent_within,
            ),
            mailqueue.enqueue_statement(
                db,
                message_id=new_id(),
                # The account's id in the key lets an erasure find every link mail to the
                # parent, the replaced ones too.
                key=f"parent-link:{account.id}:{access_hash}",
                message=message,
                now=now,
                kind="parent_link",
                only_if="EXISTS (SELECT 1 FROM guardians WHERE account_id = ? AND access_hash = ?)",
                only_if_params=(account.id, access_hash),
            ),
        ]
    )
    sent = results[0].meta.changes == 1
    if sent:
        await record_event(
            db, account_id=account.id, kind="parent_link_sent", client=NO_CLIENT, now=now
        )
    return sent


async def guardian_for_token(runtime: Runtime, token: str) -> Guardian:
    """The guardian whose link carries `token`; raises NotFound for any other token."""
    row = (
        await runtime.db.prepare("SELECT * FROM guardians WHERE access_hash = ?")
        .bind(hash_token(token))
        .first()
    )
    if not row:
        raise NotFound(NOT_FOUND, code="parent_link_not_found")
    return _row_to_guardian(row)


async def consent_as_parent(
    runtime: Runtime,
    token: str,
    *,
    name: str,
    declaration: bool,
    language: str = DEFAULT_LANGUAGE,
) -> None:
    """Record the parent's consent (their name, the declaration's version, the time) and open
    the account; the teen is told by mail, in `language`.

    Raises NotFound for an unknown token and InvalidFields for a missing name or an unticked
    declaration. Consenting again changes nothing: the batch is guarded on the consent not
    being recorded yet, and on the sign-up not being deleted meanwhile.
    """
    guardian = await guardian_for_token(runtime, token)
    problems: list[InvalidInput] = []
    name = unicodedata.normalize("NFKC", name).strip()
    if not name:
        problems.append(InvalidInput(N_("Enter your full name."), field="name"))
    elif len(name) > MAX_NAME or any(unicodedata.category(c).startswith("C") for c in name):
        problems.append(
            InvalidInput(
                N_("Enter your name in at most %(maximum)s characters, without control ones."),
                field="name",
                params={"maximum": MAX_NAME},
            )
        )
    if not declaration:
        problems.append(
            InvalidInput(
                N_("Tick the declaration to confirm you are the parent or guardian and agree."),
                field="declaration",
            )
        )
    if problems:
        raise InvalidFields(problems)
    if guardian.has_consented:
        return
    child = await get_account(runtime.db, guardian.account_id)
    db, now, access_hash = runtime.db, runtime.clock.now(), hash_token(token)
    settings = runtime.settings
    opened = mail.PARENT_CONSENTED.compose(
        to=child.email,
        language=language,
        site=settings.site_name,
        link=f"{settings.public_url}/login",
    )
    consented = "EXISTS (SELECT 1 FROM guardians WHERE access_hash = ? AND consented_at = ?)"
    results = await db.batch(
        [
            db.prepare(
                "UPDATE guardians SET consent_name = ?, declaration_version = ?, consented_at = ?"
                " WHERE access_hash = ? AND consented_at IS NULL AND NOT EXISTS (SELECT 1"
                " FROM accounts WHERE id = guardians.account_id AND erasure_due_at = 0)"
            ).bind(name, DECLARATION_VERSION, now, access_hash),
            db.prepare(
                "UPDATE accounts SET parent_consented_at = ?"  # noqa: S608 (constant SQL)
                f" WHERE id = ? AND parent_consented_at IS NULL AND {consented}"
            ).bind(int(now), child.id, access_hash, now),
            mailqueue.enqueue_statement(
                db,
                message_id=new_id(),
                key=f"parent-consented:{child.id}",
                message=opened,
                now=now,
                only_if=consented,
                only_if_params=(access_hash, now),
            ),
        ]
    )
    if results[0].meta.changes == 1:
        await record_event(
            db, account_id=child.id, kind="parent_consented", client=NO_CLIENT, now=now
        )


async def child_account(runtime: Runtime, guardian: Guardian) -> Account:
    return await get_account(runtime.db, guardian.account_id)


async def child_data(runtime: Runtime, guardian: Guardian) -> ChildData:
    """The child's account as their parent's page shows it, once they consented."""
    db, account_id = runtime.db, guardian.account_id
    return ChildData(
        account=await child_account(runtime, guardian),
        tracks=await list_tracks(db, account_id=account_id, limit=TRACKS_SHOWN),
        balance=(await get_wallet(db, account_id)).balance,
        events=(await list_events(db, account_id))[:EVENTS_SHOWN],
        requests=await list_requests(db, account_id),
    )


def resend_ticket(secret: str, *, account_id: str, now: float) -> str:
    """A proof, for the login page's resend button, that `account_id`'s password was checked."""
    expires = int(now) + TICKET_SECONDS
    return f"{account_id}.{expires}.{_ticket_mac(secret, account_id, expires)}"


def account_of_ticket(secret: str, ticket: str, *, now: float) -> str | None:
    """The account a still valid `resend_ticket` names, else None."""
    account_id, _, rest = ticket.partition(".")
    expires, _, mac = rest.partition(".")
    if not expires.isdigit() or int(expires) < now:
        return None
    if not hmac.compare_digest(mac, _ticket_mac(secret, account_id, int(expires))):
        return None
    return account_id


def _ticket_mac(secret: str, account_id: str, expires: int) -> str:
    message = f"parent-link-resend:{account_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _row_to_guardian(row: Row) -> Guardian:
    consented_at = row["consented_at"]
    return Guardian(
        account_id=str(row["account_id"]),
        email=str(row["email"]),
        link_sent_at=float(row["link_sent_at"]),  # type: ignore[arg-type]
        consent_name=None if row["consent_name"] is None else str(row["consent_name"]),
        declaration_version=(
            None if row["declaration_version"] is None else str(row["declaration_version"])
        ),
        consented_at=None if consented_at is None else float(consented_at),
    )
