"""Emailing every existing account about a significant policy change, in batches.

For each document, the newest significant version (`versions.latest_significant`) is mailed
to the accounts created before it took effect, `BATCH_ACCOUNTS` of them per document and run,
in account id order. One D1 batch per run queues the emails (BULK lane, topic
`policy:<document>:<version>`, one INSERT … SELECT that picks each account's language) and
records `policy_notices.notified_at` for the same accounts, so the two cannot disagree; the
next run carries on after the highest account id notified. A version a newer significant one
replaced is never mailed: the newest summary is what people need.

Only verified addresses that are not about to be erased are mailed. An account verified after
the batches passed its id is not mailed; it sees the banner on its next visit like everyone.
"""

from __future__ import annotations

from beatbun.i18n import DEFAULT_LANGUAGE, LANGUAGES, translate
from beatbun.mail import mailqueue
from beatbun.policies.mail import POLICY_CHANGED
from beatbun.policies.versions import (
    DOCUMENTS,
    HISTORY,
    PATHS,
    TITLES,
    Document,
    History,
    PolicyVersion,
    latest_significant,
)
from beatbun.runtime.base import Runtime, SqlValue, Statement

# About what the default send rate (2 a second) delivers between two five-minute cron runs.
BATCH_ACCOUNTS = 500
KIND = "policy"

# The next accounts to tell about (document, version): created before it took effect, past
# the highest account id already notified (read backwards along the primary key, so a run
# after everyone was told reads a row or two). Parameters: effective_at, document, version,
# limit.
_DUE_ACCOUNTS = (
    "SELECT a.id FROM accounts a WHERE a.created_at < ? AND a.email_verified_at IS NOT NULL"
    " AND a.erasure_due_at IS NULL AND a.id > COALESCE((SELECT n.account_id"
    " FROM policy_notices n WHERE n.document = ? AND n.version = ? AND n.notified_at IS NOT NULL"
    " ORDER BY n.account_id DESC LIMIT 1), '')"
    " ORDER BY a.id LIMIT ?"
)


def topic_of(document: Document, version: PolicyVersion) -> str:
    return f"policy:{document}:{version.version}"


async def announce_policy_changes(runtime: Runtime, *, history: History = HISTORY) -> int:
    """Queue the next batch of notices of every document's newest significant version.

    Returns how many emails were queued; a run after everyone was told queues none.
    """
    statements: list[Statement] = []
    queueing: list[int] = []  # index of each document's queueing INSERT in the batch
    for document in DOCUMENTS:
        version = latest_significant(document, history)
        if version is None:
            continue
        queueing.append(len(statements))
        statements.extend(_announcement(runtime, document, version))
    if not statements:
        return 0
    results = await runtime.db.batch(statements)
    return sum(results[index].meta.changes for index in queueing)


def _announcement(runtime: Runtime, document: Document, version: PolicyVersion) -> list[Statement]:
    db, now, topic = runtime.db, runtime.clock.now(), topic_of(document, version)
    due: tuple[SqlValue, ...] = (version.effective_at, document, version.version, BATCH_ACCOUNTS)
    texts = {language: _texts(runtime, document, version, language) for language in LANGUAGES}
    choose = [_by_language(texts, part) for part in range(3)]
    queue = db.prepare(
        "INSERT OR IGNORE INTO mail_queue (id, idempotency_key, recipient, subject, body, html,"  # noqa: S608 (constant SQL)
        " created_at, forget_recipient, kind, account_id, priority, topic)"
        f" SELECT lower(hex(randomblob(16))), ? || a.id, a.email, {choose[0][0]},"
        f" {choose[1][0]}, {choose[2][0]}, ?, 1, ?, a.id, ?, ?"
        " FROM accounts a LEFT JOIN account_preferences p ON p.account_id = a.id"
        f" WHERE a.id IN ({_DUE_ACCOUNTS})"
    ).bind(
        f"{topic}:",
        *choose[0][1],
        *choose[1][1],
        *choose[2][1],
        now,
        KIND,
        mailqueue.BULK,
        topic,
        *due,
    )
    record = db.prepare(
        "INSERT INTO policy_notices (document, version, account_id, notified_at)"  # noqa: S608 (constant SQL)
        f" SELECT ?, ?, id, ? FROM ({_DUE_ACCOUNTS}) WHERE true"
        " ON CONFLICT (document, version, account_id) DO UPDATE SET notified_at = excluded.notified_at"
    ).bind(document, version.version, now, *due)
    return [queue, record, mailqueue.recount_queued_statement(db, topic)]


def _texts(
    runtime: Runtime, document: Document, version: PolicyVersion, language: str
) -> tuple[str, str, str]:
    """The notice's subject, text and HTML in `language`."""
    settings = runtime.settings
    message = POLICY_CHANGED[document].compose(
        to="",
        language=language,
        site=settings.site_name,
        document=translate(language, TITLES[document]),
        version=version.version,
        date=version.effective,
        summary=translate(language, version.summary),
        link=f"{settings.public_url}{PATHS[document]}",
    )
    return message.subject, message.text, message.html


def _by_language(
    texts: dict[str, tuple[str, str, str]], part: int
) -> tuple[str, tuple[SqlValue, ...]]:
    """A CASE picking part `part` of `texts` by the account's language, and its parameters."""
    others = [language for language in texts if language != DEFAULT_LANGUAGE]
    params: list[SqlValue] = []
    for language in others:
        params.extend((language, texts[language][part]))
    params.append(texts[DEFAULT_LANGUAGE][part])
    whens = " ".join("WHEN ? THEN ?" for _ in others)
    return f"CASE p.language {whens} ELSE ? END", tuple(params)
