"""The data map: what we hold about a person, grouped as the privacy policy groups it.

The privacy policy's retention table and the account's "Privacy & data" page both render
`CATEGORIES`, so neither can say something the other does not. Each category names the D1
tables and R2 prefixes that hold it; tests/privacy/test_inventory.py fails when a migration
adds a table that is neither here nor in `TABLES_WITHOUT_PERSONAL_DATA`. Texts are English
source marked with `N_` and translated where they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from beatbun.i18n import N_
from beatbun.privacy.export import export_prefix
from beatbun.privacy.ledger import LEDGER_PREFIX
from beatbun.tracks.models import blob_prefix_for

# Stands for the account's id in a prefix that holds one account's objects.
ACCOUNT = "<account_id>"


@dataclass(frozen=True)
class DataCategory:
    """One group of the data we hold, with where it lives and how long it stays.

    `prefixes` are R2 key prefixes; those containing `ACCOUNT` are per account.
    `legal_hold` says what a law makes us keep after the rest is deleted, if anything.
    """

    key: str
    label: str
    what: str
    tables: tuple[str, ...]
    prefixes: tuple[str, ...]
    kept: str
    legal_hold: str | None = None


CATEGORIES: tuple[DataCategory, ...] = (
    DataCategory(
        key="account",
        label=N_("Account and sign-in"),
        what=N_(
            "Your email address, display name, date of birth and age group; your password as a"
            " salted, slow hash; the theme and language you chose; your optional profile (artist"
            " name, bio, link). For each session: when it began and was last used, with the"
            " browser description and network address. The links we email you (to confirm an"
            " address or reset a password), stored only as hashes."
        ),
        tables=("accounts", "account_preferences", "sessions", "email_tokens"),
        prefixes=(),
        kept=N_(
            "While your account exists. A session ends after 14 days at most, or at once when"
            " you log out; its record stays in your list of sessions. Email links stop working"
            " after 1 to 48 hours."
        ),
    ),
    DataCategory(
        key="security",
        label=N_("Security"),
        what=N_(
            "The security log: logins, failed logins, changes to your password, email address,"
            " two-step verification and profile, and your privacy requests, each with the time,"
            " network address and browser. Your two-step verification key (encrypted) and"
            " recovery codes (hashed). Your API keys (hashed, with their name, first characters"
            " and when they were last used). The browsers and devices you signed in from (such"
            ' as "Firefox on Windows"), with when each was first and last used, so that we can'
            " tell you about a sign-in from a new one. Counters of failed logins and of password"
            " reset requests, which slow down attacks."
        ),
        tables=(
            "security_events",
            "recovery_codes",
            "api_keys",
            "sign_in_devices",
            "login_failures",
            "reset_requests",
        ),
        prefixes=(),
        kept=N_(
            "While your account exists. Failed-login counters stop counting a day after the"
            " last failure and are cleared when you log in. Password reset requests are kept"
            " for a day, with the email address only as a hash."
        ),
    ),
    DataCategory(
        key="creations",
        label=N_("What you create"),
        what=N_(
            "Your generation requests (prompt, genre, mood, tempo, length, lyrics and other"
            " settings) and their progress; the tracks made from them (title, waveform, licence,"
            " favourite, share link); their audio and the FLAC, MIDI and stem files you bought;"
            " and your place in the line while a track is being made."
        ),
        tables=("jobs", "tracks", "track_exports", "render_line", "render_slots"),
        prefixes=(
            blob_prefix_for(retention="free", account_id=ACCOUNT),
            blob_prefix_for(retention="paid", account_id=ACCOUNT),
        ),
        kept=N_(
            "Audio made on the free tier: 14 days, unless you take up a paid plan before then."
            " Audio made or kept on a paid plan: until you delete it or your account. A track you"
            " delete leaves your library at once, and its audio and files are erased after 30"
            " seconds in which you can undo. Requests: while your account exists. Your place in"
            " the line: only until your track is made."
        ),
    ),
    DataCategory(
        key="payments",
        label=N_("Credits and payments"),
        what=N_(
            "Your credit balance and every credit granted, spent, bought and refunded; your"
            " plan; Stripe's reference for you as a customer; your subscription with its status"
            " and renewal date; the checkouts you started; and for each payment its date, what"
            " it was for, the amount, its status, any refund and the link to Stripe's invoice or"
            " receipt. We never see your card number."
        ),
        tables=(
            "wallets",
            "credit_ledger",
            "billing_customers",
            "subscriptions",
            "checkout_sessions",
            "payments",
            "retained_payments",
        ),
        prefixes=(),
        kept=N_(
            "While your account exists. When it is deleted we also delete your customer record"
            " at Stripe."
        ),
        legal_hold=N_(
            "When your account is deleted, each payment's date, what it was for, amount,"
            " currency, status, refunds and Stripe's reference for it are kept for 10 years from"
            " the end of the year of the payment, as tax law requires, without your name, email"
            " address or account."
        ),
    ),
    DataCategory(
        key="consent",
        label=N_("Cookie choices and analytics"),
        what=N_(
            "Every cookie choice you make, with the policy version, where you made it and when,"
            " under your account or the random identifier in your consent cookie. Only with"
            " your consent to performance measurement: a pseudonym for each day you visit. Our"
            " analytics are counts per day and hold nothing about a person."
        ),
        tables=("consent_records", "analytics_visitors"),
        prefixes=(),
        kept=N_(
            "Cookie choices, as proof of what you chose: those made while logged in until your"
            " account is deleted; those made while logged out stay under the cookie's random"
            " identifier alone. Daily pseudonyms: the salt that makes them is deleted the next"
            " day, after which nobody, us included, can link them to you or to each other."
        ),
    ),
    DataCategory(
        key="email",
        label=N_("Emails we send you"),
        what=N_(
            "Each email we send you (address, subject, text and what kind of email it is: a"
            " link, a notice about your account, a policy change, news and offers, or a support"
            " reply) waits in our outgoing queue until our email provider has accepted it; then"
            " we note whether it was sent, could not be sent or was returned."
        ),
        tables=("mail_queue",),
        prefixes=(),
        kept=N_(
            "The text is erased as soon as the email is sent; the rest, like an email that could"
            " not be sent, is deleted a week after the email was queued."
        ),
    ),
    DataCategory(
        key="marketing",
        label=N_("News and offers by email"),
        what=N_(
            "Whether you get our emails with news and offers (never unless you confirmed it from"
            " a link we emailed you), and each time you asked for them, confirmed or stopped them"
            " (in your email settings, with the unsubscribe link, by a complaint to your email"
            " provider or by objecting to marketing), with the time, the wording you saw, the"
            " email address, and the network address and browser of the click."
        ),
        tables=("marketing_consents",),
        prefixes=(),
        kept=N_("While your account exists, as proof of what you agreed to and when you stopped."),
    ),
    DataCategory(
        key="policy_notices",
        label=N_("Changes to our policies"),
        what=N_(
            "For each significant change to our privacy policy, cookie policy or terms of"
            " service: when we emailed you about it and when you acknowledged it."
        ),
        tables=("policy_notices",),
        prefixes=(),
        kept=N_("While your account exists."),
    ),
    DataCategory(
        key="support",
        label=N_("Support requests"),
        what=N_(
            "The requests you send us from the Help page: their number, topic, subject, the"
            " track or generation request they are about, language and status, the deadline"
            " by which we must answer a privacy request, and every message in the conversation,"
            " yours and ours, with its time."
        ),
        tables=("support_tickets", "support_messages"),
        prefixes=(),
        kept=N_("While your account exists."),
    ),
    DataCategory(
        key="privacy",
        label=N_("Your privacy requests"),
        what=N_(
            "The requests you make on the Privacy & data page (export, deletion, restriction"
            " with the reason you give) with their status and times; every objection you make"
            " or withdraw, with the version of the wording you saw; and your export files."
        ),
        tables=("privacy_requests", "privacy_choices"),
        prefixes=(export_prefix(ACCOUNT),),
        kept=N_(
            "Export files: 7 days after they are ready, then deleted. Requests and objections:"
            " while your account exists."
        ),
    ),
    DataCategory(
        key="guardian",
        label=N_("Parent or guardian of a 13 to 17 year old"),
        what=N_(
            "The parent's or guardian's email address, a hash of their personal link and when"
            " we sent it; once they consent, their name, the declaration they agreed to and"
            " when."
        ),
        tables=("guardians",),
        prefixes=(),
        kept=N_(
            "While the teen's account exists. A sign-up that no parent or guardian agrees to is"
            " deleted, with everything in it, 30 days after our first link."
        ),
    ),
    DataCategory(
        key="ledger",
        label=N_("Deletion ledger"),
        what=N_(
            "For each deleted account, a one-way hash of its identifier and when its deletion"
            " was asked for and done: no name, email address or content."
        ),
        tables=(),
        prefixes=(LEDGER_PREFIX,),
        kept=N_(
            "30 days, so that a deletion can be repeated if our database is restored from a backup."
        ),
    ),
    DataCategory(
        key="operator",
        label=N_("If you work on Beat Bun as an operator"),
        what=N_(
            "The emails with news and offers you write (name, subject and text in each"
            " language, when they were sent) and your replies to support requests, each with"
            " your account as their author."
        ),
        tables=("campaigns", "campaign_texts"),
        prefixes=(),
        kept=N_(
            "While your account exists. When it is deleted, they stay without your account, as"
            " part of what we sent: a reply stays in the conversation of the person you"
            " answered, which is deleted with their account."
        ),
    ),
)

# Tables that hold nothing about a person: checked against every migration by the guard test.
TABLES_WITHOUT_PERSONAL_DATA: frozenset[str] = frozenset(
    {
        # When the scheduled tasks ran.
        "cron_runs",
        # Which migrations were applied (wrangler's own table).
        "d1_migrations",
        # A random salt per day, deleted the next day.
        "analytics_salts",
        # Counts and sums per day, label and bucket; no visitor or pseudonym.
        "analytics_counts",
        "analytics_measurements",
        # Ids and types of Stripe webhook events already applied; the events stay at Stripe.
        "stripe_events",
        # The mail provider's send rate: how many emails went out in the current second.
        "mail_rate",
        # Counts per bulk send (queued, sent, failed, returned, withheld, unsubscribed,
        # complained).
        "mail_topics",
        # The last support ticket number given out.
        "support_ticket_counter",
    }
)
