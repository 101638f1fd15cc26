"""The consent rules routes call: what is in force for a request, and recording a new choice.

A record counts while it is younger than six months and was given under a cookie policy
version since its last significant change; otherwise the visitor is asked again. Records are never changed, only appended.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from operator import attrgetter

from beatbun.consent.models import Choice, ConsentRecord, ConsentState, Source
from beatbun.consent.registry import CONSENT_MAX_AGE
from beatbun.consent.store import find_latest_records, insert_record, list_records
from beatbun.policies.versions import current, versions_in_force
from beatbun.runtime.base import Database

# The cookie policy's version history lives in `policies.versions`: records name the version
# they were given under, and a significant version asks everyone again at once.
POLICY_VERSION = current("cookies").version
POLICY_EFFECTIVE_DATE = current("cookies").effective
VERSIONS_IN_FORCE = versions_in_force("cookies")


def new_device_subject() -> str:
    """A pseudonym for a browser, kept in the consent cookie; it says nothing about the person."""
    return f"device:{secrets.token_urlsafe(18)}"


def account_subject(account_id: str) -> str:
    return f"account:{account_id}"


async def resolve_consent(
    db: Database, *, device: str | None, account_id: str | None, gpc: bool, now: float
) -> ConsentState:
    """The consent in force for one request.

    A logged-in visitor's device and account follow the newest choice either made: it is
    copied (source 'sync') to the one that lags, so a device that just chose "Reject all"
    keeps that choice when it logs in, other devices take it on their next request, and the
    device still holds it once the session ends. A GPC signal against a marketing opt-in that
    did not acknowledge it is recorded as an opt-out.
    """
    subject = account_subject(account_id) if account_id is not None else None
    wanted = [s for s in (device, subject) if s]
    latest = await find_latest_records(db, wanted) if wanted else {}
    record = _in_force(latest.get(device or ""), now=now)
    if subject is not None:
        on_account = _in_force(latest.get(subject), now=now)
        newest = max(
            (r for r in (record, on_account) if r), key=attrgetter("given_at"), default=None
        )
        if newest is not None and device is not None and _lags(record, newest):
            await _copy(db, newest, to=device, source="sync", now=now)
        if newest is not None and _lags(on_account, newest):
            on_account = await _copy(db, newest, to=subject, source="sync", now=now)
        record = on_account
    if gpc:
        record = await honor_gpc(db, record, now=now)
    return ConsentState(record=record, gpc=gpc)


async def honor_gpc(
    db: Database, record: ConsentRecord | None, *, now: float
) -> ConsentRecord | None:
    """Under a GPC signal, a marketing opt-in that did not acknowledge it becomes an opt-out."""
    if record is None or not record.choice.marketing or record.gpc_override:
        return record
    choice = Choice(record.choice.performance, record.choice.functionality, marketing=False)
    return await _copy(db, record, to=record.subject, source="gpc", now=now, choice=choice)


async def find_current_record(db: Database, subject: str, *, now: float) -> ConsentRecord | None:
    """The subject's latest record, or None when it has expired or predates this policy."""
    return _in_force((await find_latest_records(db, [subject])).get(subject), now=now)


def _in_force(record: ConsentRecord | None, *, now: float) -> ConsentRecord | None:
    if record is None or record.policy_version not in VERSIONS_IN_FORCE:
        return None
    return record if now - record.given_at < CONSENT_MAX_AGE else None


async def record_choice(
    db: Database, *, subject: str, choice: Choice, source: Source, gpc: bool, now: float
) -> ConsentRecord:
    """Append `choice`, with the GPC rule: only a choice made where the conflict is explained
    (the preference center) can turn marketing on against the signal; the banner cannot.
    """
    gpc_override = gpc and choice.marketing and source == "preferences"
    if gpc and not gpc_override:
        choice = Choice(choice.performance, choice.functionality, marketing=False)
    record = ConsentRecord(
        id=secrets.token_hex(16),
        subject=subject,
        policy_version=POLICY_VERSION,
        choice=choice,
        source=source,
        gpc_override=gpc_override,
        recorded_at=now,
        given_at=now,
    )
    await insert_record(db, record)
    return record


async def consent_history(db: Database, subjects: list[str]) -> list[ConsentRecord]:
    return await list_records(db, subjects) if subjects else []


async def _copy(
    db: Database,
    origin: ConsentRecord,
    *,
    to: str,
    source: Source,
    now: float,
    choice: Choice | None = None,
) -> ConsentRecord:
    """`origin`'s choice (or `choice`, derived from it) recorded for `to`, dated as `origin`."""
    record = replace(
        origin,
        id=secrets.token_hex(16),
        subject=to,
        choice=choice or origin.choice,
        source=source,
        recorded_at=now,
    )
    await insert_record(db, record)
    return record


def _lags(record: ConsentRecord | None, newest: ConsentRecord) -> bool:
    return record is None or record.given_at < newest.given_at
