"""The devices and browsers an account signed in from, so the owner hears of a new one.

A device is what the User-Agent says in words people recognise ("Firefox on Windows", "Safari
on iPhone"): a browser family and a system, never a version, so an update is not a new device.
The first full sign-in of an account (after sign-up, or the first after this list began) is
recorded without a notice: there is nothing yet to compare it with.
"""

from __future__ import annotations

from dataclasses import dataclass

from beatbun.accounts.models import Account, Client
from beatbun.accounts.notify import security_params
from beatbun.accounts.security_log import event_statement
from beatbun.i18n import N_, translate
from beatbun.mail.catalogue import SIGN_IN
from beatbun.mail.notices import account_language, notice_statement
from beatbun.runtime.base import Runtime

# First match wins: Chromium-based browsers also say "Chrome" and "Safari", Chrome "Safari".
_BROWSERS = (
    ("Edge", ("Edg/", "EdgA/", "EdgiOS/", "Edge/")),
    ("Opera", ("OPR/", "OPiOS/", "Opera")),
    ("Samsung Internet", ("SamsungBrowser/",)),
    ("Vivaldi", ("Vivaldi/",)),
    ("Firefox", ("Firefox/", "FxiOS/")),
    ("Chrome", ("Chrome/", "CriOS/", "Chromium/")),
    ("Safari", ("Safari/",)),
)
# iPhone and iPad before Mac ("like Mac OS X"), Android before Linux, ChromeOS ("CrOS") too.
_SYSTEMS = (
    ("iPhone", ("iPhone", "iPod")),
    ("iPad", ("iPad",)),
    ("Android", ("Android",)),
    ("Windows", ("Windows",)),
    ("ChromeOS", ("CrOS",)),
    ("Mac", ("Macintosh", "Mac OS X")),
    ("Linux", ("Linux", "X11")),
)
UNKNOWN_BROWSER = N_("An unknown browser")
UNKNOWN_SYSTEM = N_("an unknown system")
DEVICE_LABEL = N_("%(browser)s on %(system)s")


@dataclass(frozen=True)
class Device:
    browser: str  # a browser's name, or "" when the User-Agent names none we know
    system: str  # likewise for the operating system or device

    @property
    def key(self) -> str:
        """The stored name, the same in every language: "Firefox on Windows"."""
        return f"{self.browser or '?'} on {self.system or '?'}"

    def label(self, language: str) -> str:
        """The name people read, in `language`."""
        browser = self.browser or translate(language, UNKNOWN_BROWSER)
        system = self.system or translate(language, UNKNOWN_SYSTEM)
        return translate(language, DEVICE_LABEL, {"browser": browser, "system": system})


def device_of(user_agent: str) -> Device:
    return Device(
        browser=_first_named(_BROWSERS, user_agent), system=_first_named(_SYSTEMS, user_agent)
    )


def _first_named(names: tuple[tuple[str, tuple[str, ...]], ...], user_agent: str) -> str:
    for name, marks in names:
        if any(mark in user_agent for mark in marks):
            return name
    return ""


async def record_sign_in(
    runtime: Runtime, account: Account, *, session_id: str, client: Client, language: str
) -> None:
    """Log a full sign-in and note its device, mailing the owner when the account knows others.

    One batch: the security log's `logged_in` event, the notice (queued whenever the account
    has devices and not this one: every new device is told, however many come in an hour) then
    the device's row. `language` is the request's, used when the account chose none; the event
    is the session, so a repeat of the same sign-in mails nothing more.
    """
    db, now = runtime.db, runtime.clock.now()
    device = device_of(client.user_agent)
    language = await account_language(db, account.id, language)
    notice = notice_statement(
        runtime,
        SIGN_IN,
        account,
        event=session_id,
        language=language,
        only_if=(
            "EXISTS (SELECT 1 FROM sign_in_devices WHERE account_id = ?) AND NOT EXISTS"
            " (SELECT 1 FROM sign_in_devices WHERE account_id = ? AND device = ?)"
        ),
        only_if_params=(account.id, account.id, device.key),
        device=device.label(language),
        **security_params(runtime),
    )
    seen = db.prepare(
        "INSERT INTO sign_in_devices (account_id, device, first_seen_at, last_seen_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (account_id, device)"
        " DO UPDATE SET last_seen_at = excluded.last_seen_at"
    ).bind(account.id, device.key, now, now)
    logged = event_statement(db, account_id=account.id, kind="logged_in", client=client, now=now)
    await db.batch([logged, notice, seen])
