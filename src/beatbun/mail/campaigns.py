"""Operators' marketing emails: drafts with a text per language, and the email they make.

A campaign is written in Markdown (CommonMark with raw HTML off, so whatever is typed is
escaped); the HTML version is rendered from it and the text version is the Markdown itself,
which reads as plain text. Both end with the marketing footer: why the reader gets it, and a
visible unsubscribe link next to the RFC 8058 headers (`marketingrules`). English is required
and is what readers get whose language has no text of its own. A draft can change until it is
handed to the batches (`start_sending`, then `campaignsend`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

from beatbun.accounts.tokens import new_id
from beatbun.errors import Conflict, InvalidFields, InvalidInput, NotFound
from beatbun.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, translate
from beatbun.mail import topics
from beatbun.mail.marketingrules import (
    EMAIL_SETTINGS_PATH,
    MARKETING_ALLOWED_SQL,
    UNSUBSCRIBE_MARK,
    list_unsubscribe_headers,
    unsubscribe_url,
)
from beatbun.mail.render import render_mail
from beatbun.runtime.base import Database, MailMessage, Row, Runtime, Statement
from beatbun.settings import Settings

MAX_NAME = 120
MAX_SUBJECT = 150
MAX_BODY = 20_000
TEXT_FOOTER = (
    "\n\n-- \n%(why)s\n%(unsubscribe)s: %(unsubscribe_url)s\n%(settings)s: %(settings_url)s\n"
)
# The campaign (bound as its id) is still a draft.
DRAFT_SQL = "EXISTS (SELECT 1 FROM campaigns WHERE id = ? AND status = 'draft')"
WHY = N_(
    "You get this email because you turned on product updates and offers"
    " in your %(site)s email settings."
)


@dataclass(frozen=True)
class CampaignText:
    language: str
    subject: str
    body_markdown: str


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    status: str  # 'draft', 'sending' (batches being queued) or 'sent' (every batch queued)
    queued_through: str
    created_at: float
    updated_at: float
    send_started_at: float | None
    send_finished_at: float | None
    texts: tuple[CampaignText, ...] = ()

    @property
    def topic(self) -> str:
        return topic_of(self.id)

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    def text_for(self, language: str) -> CampaignText | None:
        return next((text for text in self.texts if text.language == language), None)


@dataclass(frozen=True)
class Preview:
    """A campaign's email in one language, as readers get it, for showing inside a page: the
    text version, the HTML body without the email's frame and inline styles, the footer's
    words and links."""

    language: str
    subject: str
    text: str
    body: Markup
    footer: dict[str, str]


def topic_of(campaign_id: str) -> str:
    return f"campaign:{campaign_id}"


def parse_draft(values: Mapping[str, str]) -> tuple[str, tuple[CampaignText, ...]]:
    """The name and texts of a campaign form (`name`, `subject_<lang>`, `body_<lang>`).

    A language left wholly blank has no text; English must have one. Raises InvalidFields
    naming every wrong field.
    """
    problems: list[InvalidInput] = []
    name = values.get("name", "").strip()
    if not name:
        problems.append(InvalidInput(N_("Give the campaign a name."), field="name"))
    elif len(name) > MAX_NAME:
        problems.append(_too_long("name", MAX_NAME, N_("Keep the name to %(limit)s characters.")))
    texts = []
    for language in LANGUAGES:
        subject = values.get(f"subject_{language}", "").strip()
        body = values.get(f"body_{language}", "").strip()
        if not subject and not body and language != DEFAULT_LANGUAGE:
            continue
        if not subject:
            problems.append(
                InvalidInput(N_("Write a subject for this language."), field=f"subject_{language}")
            )
        # A header is one line: any line break (\n, \r, \v, \f, U+0085, U+2028...) is refused.
        elif len(subject) > MAX_SUBJECT or len(subject.splitlines()) > 1:
            problems.append(
                _too_long(
                    f"subject_{language}",
                    MAX_SUBJECT,
                    N_("Keep the subject to one line of at most %(limit)s characters."),
                )
            )
        if not body:
            problems.append(
                InvalidInput(N_("Write the email for this language."), field=f"body_{language}")
            )
        elif len(body) > MAX_BODY:
            problems.append(
                _too_long(
                    f"body_{language}", MAX_BODY, N_("Keep the email to %(limit)s characters.")
                )
            )
        texts.append(CampaignText(language=language, subject=subject, body_markdown=body))
    if problems:
        raise InvalidFields(problems)
    return name, tuple(texts)


async def create_campaign(
    runtime: Runtime, *, operator_id: str, name: str, texts: Sequence[CampaignText]
) -> str:
    """Store a new draft; its id."""
    db, now, campaign_id = runtime.db, runtime.clock.now(), new_id()
    await db.batch(
        [
            db.prepare(
                "INSERT INTO campaigns (id, name, created_by, status, created_at, updated_at)"
                " VALUES (?, ?, ?, 'draft', ?, ?)"
            ).bind(campaign_id, name, operator_id, now, now),
            *_text_statements(db, campaign_id, texts),
        ]
    )
    return campaign_id


async def update_campaign(
    runtime: Runtime, campaign_id: str, *, name: str, texts: Sequence[CampaignText]
) -> None:
    """Replace a draft's name and texts; NotFound, or Conflict once it is being sent."""
    db = runtime.db
    results = await db.batch(
        [
            db.prepare(
                "UPDATE campaigns SET name = ?, updated_at = ? WHERE id = ? AND status = 'draft'"
            ).bind(name, runtime.clock.now(), campaign_id),
            db.prepare(
                f"DELETE FROM campaign_texts WHERE campaign_id = ? AND {DRAFT_SQL}"  # noqa: S608 (constant SQL)
            ).bind(campaign_id, campaign_id),
            *_text_statements(db, campaign_id, texts),
        ]
    )
    if results[0].meta.changes == 0:
        await get_campaign(db, campaign_id)  # NotFound when there is no such campaign
        raise _not_a_draft(campaign_id)


async def get_campaign(db: Database, campaign_id: str) -> Campaign:
    """The campaign with its texts; NotFound when there is none."""
    row = await db.prepare("SELECT * FROM campaigns WHERE id = ?").bind(campaign_id).first()
    if row is None:
        raise NotFound(N_("Campaign '%(id)s' not found."), params={"id": campaign_id})
    texts = (
        await db.prepare(
            "SELECT language, subject, body_markdown FROM campaign_texts WHERE campaign_id = ?"
        )
        .bind(campaign_id)
        .all()
    ).results
    order = list(LANGUAGES)
    return _row_to_campaign(
        row,
        texts=tuple(
            sorted(
                (
                    CampaignText(
                        language=str(text["language"]),
                        subject=str(text["subject"]),
                        body_markdown=str(text["body_markdown"]),
                    )
                    for text in texts
                ),
                key=lambda text: order.index(text.language),
            )
        ),
    )


async def list_campaigns(db: Database) -> list[Campaign]:
    """Every campaign, newest first, without texts."""
    rows = (await db.prepare("SELECT * FROM campaigns ORDER BY created_at DESC").all()).results
    return [_row_to_campaign(row) for row in rows]


async def sent_counts(db: Database) -> dict[str, topics.TopicCounts]:
    """The counts of every campaign that started sending, by campaign id, in one query."""
    rows = (
        await db.prepare(
            "SELECT topic, queued, sent, failed, bounced, withheld, unsubscribed, complained"
            " FROM mail_topics WHERE topic >= ? AND topic < ?"
        )
        .bind(topic_of(""), topic_of("\uffff"))
        .all()
    ).results
    return {
        str(row.pop("topic")).removeprefix(topic_of("")): topics.TopicCounts(
            **{name: int(value) for name, value in row.items()}  # type: ignore[arg-type]
        )
        for row in rows
    }


async def count_recipients(db: Database) -> int:
    """How many accounts may receive marketing email now.

    Only the opted-in accounts are read, along the partial index `accounts_marketing`
    (`MARKETING_ALLOWED_SQL` requires `marketing_opt_in_at`), so a draft's page stays cheap
    however many accounts there are.
    """
    count = await db.prepare(
        f"SELECT COUNT(*) AS n FROM accounts a WHERE {MARKETING_ALLOWED_SQL}"  # noqa: S608 (constant SQL)
    ).first("n")
    return int(count or 0)


def compose_campaign(
    text: CampaignText, *, settings: Settings, unsubscribe: str = UNSUBSCRIBE_MARK
) -> MailMessage:
    """The email of `text` with no recipient yet: subject, text and HTML with the footer, and
    the one-click unsubscribe headers, all pointing at `unsubscribe` (the mark by default,
    which the sender replaces with each reader's link)."""
    context = _context(text, settings=settings, unsubscribe=unsubscribe)
    return MailMessage(
        to="",
        subject=text.subject,
        text=text.body_markdown + TEXT_FOOTER % context["footer"],
        html=render_mail("mail/campaign.html", **context),
        headers=list_unsubscribe_headers(unsubscribe),
    )


def preview_campaign(text: CampaignText, *, settings: Settings, account_id: str) -> Preview:
    """The email as `account_id` would get it, its HTML body ready to show inside a page."""
    context = _context(text, settings=settings, unsubscribe=unsubscribe_url(settings, account_id))
    return Preview(
        language=text.language,
        subject=text.subject,
        text=text.body_markdown + TEXT_FOOTER % context["footer"],
        body=context["body"],
        footer=context["footer"],
    )


async def start_sending(runtime: Runtime, campaign_id: str) -> None:
    """Hand a draft to the batches; NotFound, or Conflict when it is not a draft or lacks
    its English text."""
    db, now = runtime.db, runtime.clock.now()
    results = await db.batch(
        [
            db.prepare(
                "UPDATE campaigns SET status = 'sending', send_started_at = ?, updated_at = ?"
                " WHERE id = ? AND status = 'draft' AND EXISTS (SELECT 1 FROM campaign_texts"
                " WHERE campaign_id = campaigns.id AND language = ?)"
            ).bind(now, now, campaign_id, DEFAULT_LANGUAGE),
            topics.recount_queued_statement(db, topic_of(campaign_id)),
        ]
    )
    if results[0].meta.changes == 0:
        campaign = await get_campaign(db, campaign_id)
        if not campaign.is_draft:
            raise _not_a_draft(campaign_id)
        raise Conflict(
            N_("Campaign '%(id)s' needs its English text before it can be sent."),
            code="campaign_incomplete",
            params={"id": campaign_id},
        )


def _text_statements(
    db: Database, campaign_id: str, texts: Sequence[CampaignText]
) -> list[Statement]:
    """The texts' INSERTs, which write nothing once the campaign is no longer a draft."""
    return [
        db.prepare(
            "INSERT INTO campaign_texts (campaign_id, language, subject, body_markdown)"
            f" SELECT ?, ?, ?, ? WHERE {DRAFT_SQL}"
        ).bind(campaign_id, text.language, text.subject, text.body_markdown, campaign_id)
        for text in texts
    ]


def _context(text: CampaignText, *, settings: Settings, unsubscribe: str) -> dict[str, Any]:
    """What the campaign's mail templates are filled with."""
    language = text.language
    return {
        # markdown-it escapes whatever is typed: raw HTML is off.
        "body": Markup(_markdown().render(text.body_markdown)),  # noqa: S704
        "footer": {
            "why": translate(language, WHY, {"site": settings.site_name}),
            "unsubscribe": translate(language, N_("Unsubscribe")),
            "unsubscribe_url": unsubscribe,
            "settings": translate(language, N_("Email settings")),
            "settings_url": f"{settings.public_url}{EMAIL_SETTINGS_PATH}",
        },
        "subject": text.subject,
        "language": language,
        "site": settings.site_name,
    }


@cache
def _markdown() -> MarkdownIt:
    """CommonMark with raw HTML off: a `<script>` typed into the body arrives as text."""
    return MarkdownIt("commonmark", {"html": False})


def _too_long(field: str, limit: int, message: str) -> InvalidInput:
    return InvalidInput(message, field=field, code="too_long", params={"limit": limit})


def _not_a_draft(campaign_id: str) -> Conflict:
    return Conflict(
        N_("Campaign '%(id)s' is already being sent and can no longer change."),
        code="campaign_sent",
        params={"id": campaign_id},
    )


def _row_to_campaign(row: Row, *, texts: tuple[CampaignText, ...] = ()) -> Campaign:
    return Campaign(
        id=str(row["id"]),
        name=str(row["name"]),
        status=str(row["status"]),
        queued_through=str(row["queued_through"]),
        created_at=float(row["created_at"] or 0),
        updated_at=float(row["updated_at"] or 0),
        send_started_at=None if row["send_started_at"] is None else float(row["send_started_at"]),
        send_finished_at=(
            None if row["send_finished_at"] is None else float(row["send_finished_at"])
        ),
        texts=texts,
    )
