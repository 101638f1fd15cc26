"""Telling owners which of their free-plan tracks will be deleted: 3 days ahead, then 1 day ahead.

Each run (every five minutes, with the mail) looks at two windows of expiry, (now + 1 day,
now + 3 days] and (now, now + 1 day], and queues one email per account and window listing the
tracks that entered it since the account's last email of that window (title and day, soonest
first), with a link to the plans that keep them. A track is listed once per window: the last
email of a window covered every track expiring up to the time it was queued plus the window's
reach, so later runs list only what expires after that. A run that crashed after queueing lists
nothing new and its retry is stopped by the notice's cap; one that crashed before queueing is
simply done again. A run takes the accounts whose tracks go soonest first, so a backlog delays
the furthest deletions, never the nearest.
Accounts whose deletion is scheduled get nothing (their tracks go with them).
"""

from __future__ import annotations

from dataclasses import dataclass

from beatbun.accounts.store import row_to_account
from beatbun.i18n import DEFAULT_LANGUAGE, LANGUAGES, translate
from beatbun.mail.compose import email_date
from beatbun.mail.notices import DAY, Notice, notice_statement
from beatbun.runtime.base import Row, Runtime, Statement
from beatbun.tracks.mail import MORE_TRACKS, TRACK_EXPIRING_1D, TRACK_EXPIRING_3D, TRACK_LINE

ACCOUNTS_PER_RUN = 200
# Tracks named in one email; the rest are counted.
LISTED = 20


@dataclass(frozen=True)
class Window:
    notice: Notice
    # The window's tracks expire more than `after` and at most `until` seconds from now.
    after: float
    until: float


WINDOWS = (
    Window(notice=TRACK_EXPIRING_3D, after=DAY, until=3 * DAY),
    Window(notice=TRACK_EXPIRING_1D, after=0.0, until=DAY),
)

# ?1/?2 the window's bounds, ?3 the notice's kind, ?4 its reach, ?5 the end of its cap, ?6 how
# many accounts. `last_sent` is when the account's last email of this window was queued.
_DUE = """
WITH due AS (
    SELECT t.id AS track_id, t.account_id, t.title, t.expires_at,
        coalesce((SELECT max(q.created_at) FROM mail_queue q
            WHERE q.account_id = t.account_id AND q.kind = ?3), 0) AS last_sent
    FROM tracks t JOIN accounts a ON a.id = t.account_id AND a.erasure_due_at IS NULL
    WHERE t.expires_at > ?1 AND t.expires_at <= ?2 AND t.deleted_at IS NULL
), news AS (
    SELECT * FROM due WHERE expires_at > last_sent + ?4 AND last_sent <= ?5
), chosen AS (
    SELECT account_id FROM news GROUP BY account_id
    ORDER BY min(expires_at), account_id LIMIT ?6
)
SELECT news.track_id, news.title, news.expires_at, p.language AS mail_language, a.*
FROM news JOIN chosen USING (account_id) JOIN accounts a ON a.id = news.account_id
LEFT JOIN account_preferences p ON p.account_id = a.id
ORDER BY a.id, news.expires_at, news.track_id
"""


async def warn_expiring_tracks(runtime: Runtime) -> int:
    """Cron: queue the expiry warnings due now; returns how many emails were queued."""
    queued = 0
    for window in WINDOWS:
        queued += await _warn(runtime, window)
    return queued


async def _warn(runtime: Runtime, window: Window) -> int:
    db, now = runtime.db, runtime.clock.now()
    rows = (
        await db.prepare(_DUE)
        .bind(
            now + window.after,
            now + window.until,
            window.notice.kind,
            window.until,
            now - window.notice.cap_seconds,
            ACCOUNTS_PER_RUN,
        )
        .all()
    ).results
    by_account: dict[str, list[Row]] = {}
    for row in rows:
        by_account.setdefault(str(row["id"]), []).append(row)
    statements = [_warning(runtime, window, tracks) for tracks in by_account.values()]
    if not statements:
        return 0
    return sum(result.meta.changes for result in await db.batch(statements))


def _warning(runtime: Runtime, window: Window, tracks: list[Row]) -> Statement:
    """The email listing `tracks` (one account's, soonest first) to their owner."""
    account = row_to_account(tracks[0])
    chosen = str(tracks[0]["mail_language"] or "")
    language = chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE
    lines = [
        translate(
            language,
            TRACK_LINE,
            {"title": str(track["title"]), "date": email_date(int(track["expires_at"]))},  # type: ignore[arg-type]
        )
        for track in tracks[:LISTED]
    ]
    if len(tracks) > LISTED:
        lines.append(translate(language, MORE_TRACKS, {"count": len(tracks) - LISTED}))
    last = tracks[-1]
    return notice_statement(
        runtime,
        window.notice,
        account,
        event=":".join((account.id, str(last["expires_at"]), str(last["track_id"]))),
        language=language,
        tracks="\n".join(lines),
        link=f"{runtime.settings.public_url}/pricing",
    )
