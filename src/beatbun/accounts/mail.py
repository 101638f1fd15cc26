"""The text of every account email: links in the language of the request that asked for
them, service notices (`mail.catalogue`) in the language the account chose, else the request's.

Each email is two catalog entries, its subject and its whole body, so a translator sees the
message at once; `%(site)s`, `%(link)s` and the like are filled in after translation.
"""

from __future__ import annotations

from beatbun.i18n import N_
from beatbun.mail.compose import AccountMail

VERIFICATION = AccountMail(
    subject=N_("Confirm your email address for %(site)s"),
    body=N_(
        "Welcome to %(site)s!\n\nConfirm this address by opening the link below within"
        " 48 hours:\n\n%(link)s\n\nIf you did not sign up, ignore this message."
    ),
)
ALREADY_REGISTERED = AccountMail(
    subject=N_("Someone tried to sign up to %(site)s with your address"),
    body=N_(
        "This address already has a %(site)s account, so no new one was created."
        "\n\nLog in here: %(link)s\n\nIf this was not you, no action is needed."
    ),
)
EMAIL_CHANGE = AccountMail(
    subject=N_("Confirm your new email address for %(site)s"),
    body=N_(
        "Open this link within 24 hours to make this the address of your %(site)s account:"
        "\n\n%(link)s\n\nIf you did not ask for this, ignore this message."
    ),
)
PASSWORD_RESET = AccountMail(
    subject=N_("Reset your %(site)s password"),
    body=N_(
        "Open this link within one hour to choose a new password:\n\n%(link)s\n\n"
        "Resetting logs you out everywhere. If you did not ask for this, ignore this"
        " message; your password stays as it is."
    ),
)
PASSWORD_LOGIN_LOCKED = AccountMail(
    subject=N_("Logging in to your %(site)s account with its password is blocked"),
    body=N_(
        "Someone entered a wrong password or code for your %(site)s account 100 times in a"
        " row, so logging in with the password is blocked until you choose a new one.\n\n"
        "Reset your password here: %(link)s\n\nYou stay logged in where you already are."
    ),
)
TOTP_ENABLED = AccountMail(
    subject=N_("Two-step verification is on for your %(site)s account"),
    body=N_(
        "Two-step verification was turned on for your %(site)s account. Logging in now needs"
        " a code from your authenticator app or a recovery code.\n\nIf you did not do this,"
        " someone may know your password: reset it here and end your other sessions:"
        "\n\n%(link)s"
    ),
)
TOTP_DISABLED = AccountMail(
    subject=N_("Two-step verification is off for your %(site)s account"),
    body=N_(
        "Two-step verification was turned off for your %(site)s account. Logging in now needs"
        " only your password.\n\nIf you did not do this, reset your password here, then turn"
        " two-step verification on again:\n\n%(link)s"
    ),
)
RECOVERY_CODES_REPLACED = AccountMail(
    subject=N_("New recovery codes for your %(site)s account"),
    body=N_(
        "New recovery codes were made for your %(site)s account; the old ones no longer work."
        "\n\nIf you did not do this, reset your password here:\n\n%(link)s"
    ),
)
NEW_SIGN_IN = AccountMail(
    subject=N_("New sign-in to your %(site)s account"),
    body=N_(
        "Your %(site)s account was just signed in to from a device or browser it had not"
        " been used from before:\n\n%(device)s, on %(time)s (UTC)\n\nIf this was you, there"
        " is nothing to do. If it was not, someone knows your password: reset it here, which"
        " also logs out every session:\n\n%(link)s"
    ),
)
PASSWORD_CHANGED = AccountMail(
    subject=N_("The password of your %(site)s account was changed"),
    body=N_(
        "The password of your %(site)s account was changed on %(time)s (UTC).\n\nIf this was"
        " you, there is nothing to do. If it was not, reset your password here right away:"
        "\n\n%(link)s"
    ),
)
EMAIL_CHANGED = AccountMail(
    subject=N_("The email address of your %(site)s account was changed"),
    body=N_(
        "The email address of your %(site)s account was changed from %(old_email)s to"
        " %(new_email)s on %(time)s (UTC). Account emails now go to the new address.\n\n"
        "If you did not do this, someone may be using your account: log in here, change the"
        " address back and change your password:\n\n%(link)s"
    ),
)
