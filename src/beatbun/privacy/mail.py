"""The text of every privacy email: each confirms a request about the person's data.

The same `AccountMail` pattern as `accounts/mail.py`: a subject and a whole body per catalog
entry, `%(site)s`, `%(link)s` and the like filled in after translation.
"""

from __future__ import annotations

from beatbun.i18n import N_
from beatbun.mail.compose import AccountMail

OBJECTIONS_CHANGED = AccountMail(
    subject=N_("Your privacy choices at %(site)s changed"),
    body=N_(
        "Your objections to how %(site)s uses your data are now:\n\n%(choices)s\n\n"
        "They took effect at once. You can change them at any time here:\n\n%(link)s\n\n"
        "If you did not make this change, someone may be using your account: change your"
        " password and end your other sessions."
    ),
)
RESTRICTION_ON = AccountMail(
    subject=N_("Processing of your %(site)s data is restricted"),
    body=N_(
        "You restricted the processing of your %(site)s data. We now only store it: no new"
        " tracks, extensions, variations or paid exports, no analytics and no marketing, and"
        " tracks that were waiting to be made were cancelled and refunded. Your tracks stay"
        " playable and downloadable, and you can still export or delete your data.\n\n"
        "Lift the restriction whenever you like here:\n\n%(link)s"
    ),
)
RESTRICTION_OFF = AccountMail(
    subject=N_("The restriction of your %(site)s data was lifted"),
    body=N_(
        "The restriction of the processing of your %(site)s data was lifted: you can make"
        " tracks again, and analytics and marketing follow your choices once more.\n\n"
        "Your privacy choices: %(link)s\n\n"
        "If you did not make this change, someone may be using your account: change your"
        " password and end your other sessions."
    ),
)
ERASURE_SCHEDULED = AccountMail(
    subject=N_("Your %(site)s account will be deleted on %(date)s"),
    body=N_(
        "The deletion of your %(site)s account was requested. It takes effect on %(date)s"
        " (UTC): then your tracks, their audio and everything else we hold about you are"
        " deleted for good. Until then the account is locked: you can still log in, export"
        " your data or cancel the deletion.\n\nCancel it here:\n\n%(link)s\n\n"
        "If you did not ask for this, cancel it now and change your password."
    ),
)
ERASURE_CANCELLED = AccountMail(
    subject=N_("The deletion of your %(site)s account was cancelled"),
    body=N_(
        "The deletion of your %(site)s account was cancelled: the account is unlocked and"
        " everything in it stays as it was.\n\nYour privacy choices: %(link)s\n\n"
        "If you did not do this, change your password and end your other sessions."
    ),
)
ERASURE_CANCELLED_BY_PARENT = AccountMail(
    subject=N_("The deletion of your %(site)s account was cancelled"),
    body=N_(
        "Your parent or guardian cancelled the deletion of your %(site)s account: the account is"
        " unlocked and everything in it stays as it was.\n\nYour privacy choices: %(link)s"
    ),
)
ERASURE_DONE = AccountMail(
    subject=N_("Your %(site)s account was deleted"),
    body=N_(
        "Your %(site)s account and everything we held about you were deleted. Payment"
        " records that tax law makes us keep are kept without your name or address, as our"
        " privacy policy describes.\n\nOnce this message is sent we no longer hold this"
        " address. You are welcome to sign up again at any time."
    ),
)
ERASURE_SCHEDULED_BY_PARENT = AccountMail(
    subject=N_("Your %(site)s account will be deleted on %(date)s"),
    body=N_(
        "Your parent or guardian asked us to delete your %(site)s account. It takes effect on"
        " %(date)s (UTC): then your tracks, their audio and everything else we hold about you"
        " are deleted for good. Until then the account is locked: you can still log in and"
        " export your data.\n\nOnly your parent or guardian can cancel the deletion; talk to"
        " them if you want to keep the account."
    ),
)
PARENT_ERASURE_SCHEDULED = AccountMail(
    subject=N_("Your child's %(site)s account will be deleted on %(date)s"),
    body=N_(
        "You asked us to delete your child's %(site)s account. It takes effect on %(date)s"
        " (UTC): then their tracks, their audio and everything else we hold about them are"
        " deleted for good. Until then the account is locked.\n\nYou can cancel the deletion"
        " until then from the link we sent you earlier (your personal link).\n\nIf you did"
        " not ask for this, cancel it now through that link."
    ),
)
PARENT_ERASURE_CANCELLED = AccountMail(
    subject=N_("The deletion of your child's %(site)s account was cancelled"),
    body=N_(
        "You cancelled the deletion of your child's %(site)s account: the account is unlocked"
        " and everything in it stays as it was.\n\nYou can still see the account's data, or"
        " ask for its deletion again, from the link we sent you earlier (your personal link)."
    ),
)
PARENT_ERASURE_DONE = AccountMail(
    subject=N_("Your child's %(site)s account was deleted"),
    body=N_(
        "As you asked, your child's %(site)s account and everything we held about them were"
        " deleted. Payment records that tax law makes us keep are kept without their name or"
        " address, as our privacy policy describes.\n\nYour personal link no longer works,"
        " and once this message is sent we no longer hold your address."
    ),
)
EXPORT_REQUESTED = AccountMail(
    subject=N_("We are preparing your %(site)s data export"),
    body=N_(
        "You asked for a copy of your %(site)s data: your account, your tracks with their audio,"
        " and everything else we hold about you. We are putting it together now and will email"
        " you when it is ready to download.\n\nYou can follow it here:\n\n%(link)s\n\n"
        "If you did not ask for this, someone may be using your account: change your password"
        " and end your other sessions."
    ),
)
EXPORT_READY = AccountMail(
    subject=N_("Your %(site)s data export is ready"),
    body=N_(
        "The copy of your %(site)s data you asked for is ready. Download it from your privacy"
        " page until %(until)s (UTC); you will be asked for your password first.\n\n%(link)s"
        "\n\nAfter that it is deleted, and you can ask for a new one."
    ),
)
EXPORT_FAILED = AccountMail(
    subject=N_("Your %(site)s data export could not be made"),
    body=N_(
        "We could not put together the copy of your %(site)s data you asked for, and we are"
        " sorry. You can ask for a new one right away on your privacy page:\n\n%(link)s"
    ),
)
PARENT_CONSENT_REQUEST = AccountMail(
    subject=N_("Your child wants to use %(site)s: your consent is needed"),
    body=N_(
        "%(child)s (%(child_email)s) signed up to %(site)s, a service that makes music from"
        " text descriptions, and named you as their parent or guardian.\n\nThey are under 18,"
        " so their account stays closed until you agree. Open this link to see what the"
        " service does and to give your consent:\n\n%(link)s\n\nThe same link later shows"
        " you the account's data and lets you delete the account. Keep it to yourself; it"
        " replaces any earlier link we sent you.\n\nIf you do not agree, or do not know this"
        " person, you can delete the sign-up through the same link, or do nothing: the account"
        " stays closed, and if nobody agrees within %(days)s days, the sign-up is deleted."
    ),
)
PARENT_DECLINED = AccountMail(
    subject=N_("Your %(site)s sign-up was deleted"),
    body=N_(
        "Your parent or guardian did not agree to you using %(site)s, so we deleted your"
        " sign-up and everything it held.\n\nOnce this message is sent we no longer hold"
        " this address."
    ),
)
PARENT_CONSENTED = AccountMail(
    subject=N_("Your %(site)s account is open"),
    body=N_(
        "Your parent or guardian agreed to you using %(site)s, so your account is open."
        "\n\nLog in here: %(link)s"
    ),
)
