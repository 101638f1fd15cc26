"""Every service notice, in the order the email settings page lists them.

Service notices are always on: they tell the owner about their own account, money and data.
A kind is stored on each queue row, so it must stay stable; a cap of 0 means one email per
event with no cap on how often events happen (security notices: the owner must hear of each,
and of every new device: a cap would let a second device go unreported, then known for good).
Some notices have a second text for the same kind (two-step verification turned off rather
than on, a deletion asked by a parent): `replace(NOTICE, mail=...)` keeps kind and cap.
"""

from __future__ import annotations

from dataclasses import replace

from beatbun.accounts import mail as account_mail
from beatbun.billing import mail as billing_mail
from beatbun.i18n import N_
from beatbun.mail.notices import Notice
from beatbun.privacy import mail as privacy_mail
from beatbun.tracks import mail as tracks_mail

SIGN_IN = Notice(
    kind="sign_in",
    label=N_("A sign-in from a device or browser your account was not used from before"),
    mail=account_mail.NEW_SIGN_IN,
)
TWO_STEP = Notice(
    kind="two_step",
    label=N_("Two-step verification turned on or off, or new recovery codes made"),
    mail=account_mail.TOTP_ENABLED,
)
TWO_STEP_OFF = replace(TWO_STEP, mail=account_mail.TOTP_DISABLED)
RECOVERY_CODES = replace(TWO_STEP, mail=account_mail.RECOVERY_CODES_REPLACED)
PASSWORD_CHANGED = Notice(
    kind="password_changed",
    label=N_("Your password changed"),
    mail=account_mail.PASSWORD_CHANGED,
)
EMAIL_CHANGED = Notice(
    kind="email_changed",
    label=N_("Your email address changed (sent to the old address and the new one)"),
    mail=account_mail.EMAIL_CHANGED,
)
EXPORT_READY = Notice(
    kind="export_ready",
    label=N_("The copy of your data you asked for is ready"),
    mail=privacy_mail.EXPORT_READY,
)
ERASURE_SCHEDULED = Notice(
    kind="erasure_scheduled",
    label=N_("Your account's deletion was asked for, with the date it takes effect"),
    mail=privacy_mail.ERASURE_SCHEDULED,
)
ERASURE_DONE = Notice(
    kind="erasure_done",
    label=N_("Your account was deleted"),
    mail=privacy_mail.ERASURE_DONE,
)

NOTICES: tuple[Notice, ...] = (
    SIGN_IN,
    TWO_STEP,
    PASSWORD_CHANGED,
    EMAIL_CHANGED,
    billing_mail.CREDITS_LOW_NOTICE,
    billing_mail.CREDITS_GRANTED_NOTICE,
    billing_mail.PAYMENT_FAILED_NOTICE,
    billing_mail.SUBSCRIPTION_RENEWED_NOTICE,
    billing_mail.SUBSCRIPTION_CHANGED_NOTICE,
    billing_mail.SUBSCRIPTION_CANCELLED_NOTICE,
    tracks_mail.TRACK_EXPIRING_3D,
    tracks_mail.TRACK_EXPIRING_1D,
    EXPORT_READY,
    ERASURE_SCHEDULED,
    ERASURE_DONE,
)
