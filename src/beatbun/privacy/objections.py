"""Objections to processing (analytics, marketing, prompt use), recorded like consent.

`accounts.objects_to_*` hold the objections in force, and every change adds one
`privacy_choices` row per purpose with the wording the person saw and where they chose, so a
choice can be proven later. `purposes.py` reads the columns wherever a purpose runs, so a
change takes effect with the next request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from beatbun.accounts.models import Account, Client
from beatbun.accounts.store import get_account
from beatbun.accounts.tokens import new_id
from beatbun.errors import TooManyRequests
from beatbun.i18n import N_, translate
from beatbun.mail.marketing import withdraw_statements
from beatbun.privacy.mail import OBJECTIONS_CHANGED
from beatbun.privacy.notices import confirmation_statements
from beatbun.runtime.base import Runtime, SqlValue

Purpose = Literal["analytics", "marketing", "prompt_use"]
PURPOSES: tuple[Purpose, ...] = ("analytics", "marketing", "prompt_use")
# The version of the objection wording on the privacy page; change it whenever that wording
# changes, so each recorded choice names what the person read.
WORDING_VERSION = "objections-2026-11-30"
# Where each recorded choice was made: the privacy page is the only place to object.
SOURCE = "privacy_page"
# Changed purposes per account within `LIMIT_WINDOW_SECONDS`, counted in the batch's SQL.
MAX_CHANGES = 30
LIMIT_WINDOW_SECONDS = 3600.0
PURPOSE_NAMES: dict[Purpose, str] = {
    "analytics": N_("Analytics"),
    "marketing": N_("Marketing"),
    "prompt_use": N_("Use of your prompts, anonymised, to improve the service"),
}
_COLUMNS: dict[Purpose, str] = {
    "analytics": "objects_to_analytics",
    "marketing": "objects_to_marketing",
    "prompt_use": "objects_to_prompt_use",
}
OBJECTS = N_("%(purpose)s: you object")
ALLOWS = N_("%(purpose)s: no objection")
TOO_OFTEN = N_("You can change your objections at most %(limit)s times an hour. Try again later.")


@dataclass(frozen=True)
class Objections:
    analytics: bool
    marketing: bool
    prompt_use: bool

    def objects_to(self, purpose: Purpose) -> bool:
        return {
            "analytics": self.analytics,
            "marketing": self.marketing,
            "prompt_use": self.prompt_use,
        }[purpose]


def objections_of(account: Account) -> Objections:
    return Objections(
        analytics=account.objects_to_analytics,
        marketing=account.objects_to_marketing,
        prompt_use=account.objects_to_prompt_use,
    )


async def set_objections(
    runtime: Runtime,
    account: Account,
    objections: Objections,
    *,
    client: Client,
    language: str,
) -> None:
    """Put `objections` in force at once; nothing is written when none changed.

    One D1 batch sets the columns, records one choice per changed purpose, logs
    `objections_changed` and queues a confirming mail in `language`. The batch writes nothing
    when the account is gone (NotFound) or when the account's choices of the last hour and
    these would pass `MAX_CHANGES` (TooManyRequests, `too_many_privacy_changes`).
    """
    before = objections_of(account)
    changed = [p for p in PURPOSES if objections.objects_to(p) != before.objects_to(p)]
    if not changed:
        return
    db, now = runtime.db, runtime.clock.now()
    ids = [new_id() for _ in changed]
    marks = ", ".join("?" for _ in ids)
    # This batch's rows are left out of the count, so every insert sees the same count.
    guard = (
        "EXISTS (SELECT 1 FROM accounts WHERE id = ?) AND (SELECT COUNT(*) FROM privacy_choices"  # noqa: S608 (placeholders only)
        f" WHERE account_id = ? AND recorded_at > ? AND id NOT IN ({marks})) + ? <= ?"
    )
    guard_params: tuple[SqlValue, ...] = (
        account.id,
        account.id,
        now - LIMIT_WINDOW_SECONDS,
        *ids,
        len(changed),
        MAX_CHANGES,
    )
    records = [
        db.prepare(
            "INSERT INTO privacy_choices"
            " (id, account_id, purpose, objects, wording_version, source, recorded_at)"
            f" SELECT ?, ?, ?, ?, ?, ?, ? WHERE {guard}"
        ).bind(
            choice_id,
            account.id,
            purpose,
            int(objections.objects_to(purpose)),
            WORDING_VERSION,
            SOURCE,
            now,
            *guard_params,
        )
        for choice_id, purpose in zip(ids, changed, strict=True)
    ]
    recorded = "EXISTS (SELECT 1 FROM privacy_choices WHERE id = ?)"
    columns = ", ".join(f"{_COLUMNS[p]} = ?" for p in changed)
    update = db.prepare(
        f"UPDATE accounts SET {columns} WHERE id = ? AND {recorded}"  # noqa: S608 (constant column names)
    ).bind(*(int(objections.objects_to(p)) for p in changed), account.id, ids[0])
    lines = "\n".join(
        translate(
            language,
            OBJECTS if objections.objects_to(p) else ALLOWS,
            {"purpose": translate(language, PURPOSE_NAMES[p])},
        )
        for p in PURPOSES
    )
    confirm = confirmation_statements(
        runtime,
        account,
        kind="objections_changed",
        message=OBJECTIONS_CHANGED,
        key=f"objections:{ids[0]}",
        client=client,
        language=language,
        only_if=recorded,
        only_if_params=(ids[0],),
        choices=lines,
    )
    # An objection to marketing also withdraws the marketing email consent, on the record.
    withdraw = (
        withdraw_statements(
            db,
            account.id,
            source="objection",
            now=now,
            ip=client.ip,
            user_agent=client.user_agent,
            only_if="EXISTS (SELECT 1 FROM privacy_choices WHERE id = ?)",
            only_if_params=(ids[changed.index("marketing")],),
        )[1]
        if objections.marketing and "marketing" in changed
        else []
    )
    results = await db.batch([*records, update, *confirm, *withdraw])
    if results[0].meta.changes == 0:
        await get_account(db, account.id)  # NotFound once the account is gone
        raise TooManyRequests(
            TOO_OFTEN, code="too_many_privacy_changes", params={"limit": MAX_CHANGES}
        )
