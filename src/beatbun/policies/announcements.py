"""Emailing every existing account about significant policy changes, in batches.

Each document's newest significant version (`versions.latest_significant`) is announced to
the accounts created before it took effect; a version a newer significant one replaced is
never mailed, as the newest summary is what people need. An account gets one email listing
every change it has not been told about yet, however many documents changed.

Each run reads the next `BATCH_ACCOUNTS` accounts, in id order, with at least one change
pending, groups them in Python by language and set of pending changes, and writes in one D1
batch: per group, one INSERT … SELECT queueing that group's email (BULK lane, kind 'policy'),
then per change the `policy_notices.notified_at` rows of every account told about it, then the
counts of each topic used. The mail and the record of it cannot disagree. A change is pending
for an account past the last account already told about it (all before it have their
notified_at), so a run after everyone was told reads a few rows at most.

The topic names the set of versions told (`policy:cookies-2026-11-29+privacy-2.1`), and the
idempotency key is that topic and the account: two runs that overlap queue each email once.

Only verified addresses that are not about to be erased are mailed. An account verified after
the batches passed its id is not mailed; it sees the banner on its next visit like everyone.
The cookie policy is mailed like the others but has no banner: the consent banner asks again.
"""

from __future__ import annotations

import json
from collections import defaultdict

from beatbun.i18n import DEFAULT_LANGUAGE, LANGUAGES, translate
from beatbun.mail import mailqueue
from beatbun.mail.topics import recount_queued_statement
from beatbun.policies.acknowledgements import PendingNotice
from beatbun.policies.mail import CHANGE, POLICIES_CHANGED, POLICY_CHANGED, WHY
from beatbun.policies.versions import DOCUMENTS, HISTORY, History, latest_significant
from beatbun.runtime.base import Database, Runtime, SqlValue, Statement

# About what the default send rate (2 a second) delivers between two five-minute cron runs.
BATCH_ACCOUNTS = 500
KIND = "policy"

_MAILABLE = "a.email_verified_at IS NOT NULL AND a.erasure_due_at IS NULL"
# The highest account id told about (document, version), read backwards along the primary
# key; '' before anyone was. Parameters: document, version.
_TOLD_THROUGH = (
    "COALESCE((SELECT n.account_id FROM policy_notices n WHERE n.document = ?"
    " AND n.version = ? AND n.notified_at IS NOT NULL ORDER BY n.account_id DESC LIMIT 1), '')"
)
# Whether a change is pending for account `a`. Parameters: effective_at, document, version.
_PENDING = f"(a.created_at < ? AND a.id > {_TOLD_THROUGH})"

Group = tuple[str, tuple[PendingNotice, ...]]  # (language, the changes pending), as mailed together


def topic_of(changes: tuple[PendingNotice, ...]) -> str:
    """`policy:` and the changes as `<document>-<version>`, sorted, joined with `+`."""
    return "policy:" + "+".join(sorted(f"{c.document}-{c.version.version}" for c in changes))


async def announce_policy_changes(runtime: Runtime, *, history: History = HISTORY) -> int:
    """Queue one email for each of the next accounts with significant changes pending.

    Returns how many emails were queued; a run after everyone was told queues none.
    """
    changes = tuple(
        PendingNotice(document, version)
        for document in DOCUMENTS
        if (version := latest_significant(document, history)) is not None
    )
    if not changes:
        return 0
    db, now = runtime.db, runtime.clock.now()
    groups = await _due_groups(db, changes)
    if not groups:
        return 0
    statements = [_queue(runtime, group, accounts, now) for group, accounts in groups.items()]
    queueing = len(statements)
    for change in changes:
        told = [
            a for (_, pending), accounts in groups.items() if change in pending for a in accounts
        ]
        if told:
            statements.append(_record(db, change, told, now))
    topics = sorted({topic_of(pending) for _, pending in groups})
    statements.extend(recount_queued_statement(db, topic) for topic in topics)
    results = await db.batch(statements)
    return sum(result.meta.changes for result in results[:queueing])


async def _due_groups(db: Database, changes: tuple[PendingNotice, ...]) -> dict[Group, list[str]]:
    """The next accounts with a change pending, by language and pending changes, in id order."""
    columns = ", ".join(f"{_PENDING} AS pending{index}" for index in range(len(changes)))
    # Past the least advanced change only: the scan starts there along the primary key.
    start = ", ".join(_TOLD_THROUGH for _ in changes)
    start = start if len(changes) == 1 else f"MIN({start})"
    params: list[SqlValue] = []
    for change in changes:
        params.extend((change.version.effective_at, change.document, change.version.version))
    # No account older than the newest change: nothing is pending, and the oldest account
    # (read along its index) stops the run before it reads any other. `+a.created_at` keeps
    # that index out of the main scan, which goes along the id from `start`.
    latest = max(change.version.effective_at for change in changes)
    params.extend((latest, latest))
    for change in changes:
        params.extend((change.document, change.version.version))
    anything = " OR ".join(f"pending{index}" for index in range(len(changes)))
    rows = (
        await db.prepare(
            f"SELECT * FROM (SELECT a.id, p.language, {columns}"  # noqa: S608 (constant SQL)
            " FROM (SELECT created_at AS oldest FROM accounts ORDER BY created_at LIMIT 1) o"
            " CROSS JOIN accounts a LEFT JOIN account_preferences p ON p.account_id = a.id"
            f" WHERE o.oldest < ? AND +a.created_at < ? AND {_MAILABLE} AND a.id > {start})"
            f" WHERE {anything} ORDER BY id LIMIT ?"
        )
        .bind(*params, BATCH_ACCOUNTS)
        .all()
    ).results
    groups: dict[Group, list[str]] = defaultdict(list)
    for row in rows:
        language = row["language"] if row["language"] in LANGUAGES else DEFAULT_LANGUAGE
        pending = tuple(c for index, c in enumerate(changes) if row[f"pending{index}"])
        groups[str(language), pending].append(str(row["id"]))
    return groups


def _queue(runtime: Runtime, group: Group, accounts: list[str], now: float) -> Statement:
    """The INSERT … SELECT queueing the group's email to each of `accounts` still mailable."""
    language, pending = group
    subject, text, html = _texts(runtime, pending, language)
    topic = topic_of(pending)
    return runtime.db.prepare(
        "INSERT OR IGNORE INTO mail_queue (id, idempotency_key, recipient, subject, body, html,"  # noqa: S608 (constant SQL)
        " created_at, forget_recipient, kind, account_id, priority, topic)"
        " SELECT lower(hex(randomblob(16))), ? || a.id, a.email, ?, ?, ?, ?, 1, ?, a.id, ?, ?"
        f" FROM accounts a WHERE a.id IN (SELECT value FROM json_each(?)) AND {_MAILABLE}"
    ).bind(f"{topic}:", subject, text, html, now, KIND, mailqueue.BULK, topic, json.dumps(accounts))


def _record(db: Database, change: PendingNotice, accounts: list[str], now: float) -> Statement:
    """The INSERT recording that `accounts` (those the batch mailed) were told about `change`."""
    return db.prepare(
        "INSERT INTO policy_notices (document, version, account_id, notified_at)"  # noqa: S608 (constant SQL)
        " SELECT ?, ?, a.id, ? FROM accounts a"
        f" WHERE a.id IN (SELECT value FROM json_each(?)) AND {_MAILABLE}"
        " ON CONFLICT (document, version, account_id)"
        " DO UPDATE SET notified_at = COALESCE(notified_at, excluded.notified_at)"
    ).bind(change.document, change.version.version, now, json.dumps(accounts))


def _texts(
    runtime: Runtime, pending: tuple[PendingNotice, ...], language: str
) -> tuple[str, str, str]:
    """The email's subject, text and HTML in `language`, listing the `pending` changes."""
    settings = runtime.settings
    changes = "\n\n".join(
        translate(
            language,
            CHANGE,
            {
                "document": translate(language, change.title),
                "version": change.version.version,
                "date": change.version.effective,
                "summary": translate(language, change.version.summary),
                "link": f"{settings.public_url}{change.path}",
            },
        )
        for change in pending
    )
    mail = POLICY_CHANGED[pending[0].document] if len(pending) == 1 else POLICIES_CHANGED
    message = mail.compose(
        to="",
        language=language,
        site=settings.site_name,
        changes=changes,
        why=translate(language, WHY),
    )
    return message.subject, message.text, message.html
