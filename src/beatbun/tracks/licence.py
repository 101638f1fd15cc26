"""Licence certificates: the licence a track was made under, as a plain-text document.

Certificates are in English whatever the reader's language: they are a legal text, and a
translation could promise something the English does not. Each ends with a verification code,
an HMAC-SHA256 of the certificate's fields under a key derived from the app secret, so support
can confirm a certificate is genuine by recomputing the code from the track's row
(`is_genuine`). The site's name and address are not signed: renaming the site leaves the
certificates already issued valid.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime

from beatbun.billing.plans import LICENCES, PLANS, Licence, LicenceId
from beatbun.settings import Settings
from beatbun.tracks.models import Track

# Plain text that reads well in any editor and prints on A4 or Letter.
WIDTH = 78
# Part of what is signed: a new certificate format gets a new version, never old codes' meaning.
VERSION = "licence-certificate-v1"
# The terms, after the summary in `billing.plans`. English only, as the certificate.
TERMS: dict[LicenceId, tuple[str, ...]] = {
    "personal": (
        "You may play, download and keep the track, and share it with others free of charge.",
        "You may use the track, whole or in part, in your own non-commercial projects, such as "
        "home videos, school work and posts that earn no money.",
        "You may not sell the track or use it in advertising, in monetised videos, streams or "
        "podcasts, or in work done for a client.",
        "The licence is personal to the account holder and cannot be transferred.",
    ),
    "commercial": (
        "You may use the track, whole or in part, edited or mixed into your own work, in "
        "commercial projects worldwide and without time limit.",
        "You may use the track in work you make for clients, who may use that work as you may.",
        "You may not sell, license or distribute the track on its own as music, for example on "
        "streaming services, in music libraries or in sample packs.",
        "You may not register the track on its own with a content identification system "
        "(such as YouTube Content ID).",
    ),
}
FIXED = (
    "This licence was fixed when the track was created. It does not change if the account's "
    "plan changes later: not on an upgrade, a downgrade or a cancellation."
)


@dataclass(frozen=True)
class Certificate:
    track: Track
    licence: Licence
    terms: tuple[str, ...]
    plan_name: str
    code: str
    text: str


def licence_certificate(track: Track, *, settings: Settings) -> Certificate:
    """The track's licence certificate, signed with `settings.app_secret`."""
    licence = LICENCES[track.licence]
    terms = TERMS[track.licence]
    plan = PLANS.get(track.licence_plan)
    plan_name = plan.name if plan else track.licence_plan
    code = licence_code(track, secret=settings.app_secret)
    lines = [
        f"{settings.site_name}: licence certificate",
        "",
        f"Track:            {track.title}",
        f"Track id:         {track.id}",
        f"Owner account id: {track.account_id}",
        f"Created:          {_iso(track.created_at)}",
        f"Plan at creation: {plan_name}",
        f"Licence:          {licence.name}",
        f"Licence granted:  {_iso(track.licensed_at)}",
        "",
        _wrap(licence.summary),
        "",
        "Terms:",
        *(_wrap(f"{number}. {term}", indent="   ") for number, term in enumerate(terms, start=1)),
        "",
        _wrap(FIXED),
        "",
        f"Issued by {settings.site_name}, {settings.public_url}",
        "Verification code:",
        code,
        _wrap(
            f"{settings.site_name} can confirm this code against its records of track {track.id}."
        ),
    ]
    return Certificate(
        track=track,
        licence=licence,
        terms=terms,
        plan_name=plan_name,
        code=code,
        text="\n".join(lines) + "\n",
    )


def licence_code(track: Track, *, secret: str) -> str:
    """HMAC-SHA256 (hex) of every track-specific field the certificate states."""
    fields = [
        VERSION,
        track.id,
        track.title,
        track.account_id,
        track.created_at,
        track.licence_plan,
        track.licence,
        track.licensed_at,
    ]
    message = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def is_genuine(track: Track, code: str, *, secret: str) -> bool:
    """Whether `code`, read off a certificate, is the one we issue for `track` as recorded."""
    return hmac.compare_digest(licence_code(track, secret=secret), code.strip().lower())


def _key(secret: str) -> bytes:
    # A key of its own, so a licence code can never stand in for a CSRF token or another MAC.
    return hmac.new(secret.encode(), VERSION.encode(), hashlib.sha256).digest()


def _wrap(paragraph: str, *, indent: str = "") -> str:
    return textwrap.fill(paragraph, width=WIDTH, subsequent_indent=indent)


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")
