"""The text of every support email, in the language the ticket was written in.

The same `AccountMail` pattern as `accounts/mail.py`: `%(site)s`, `%(number)s`, `%(link)s` and
the like are filled in after translation.
"""

from __future__ import annotations

from beatbun.i18n import N_
from beatbun.mail.compose import AccountMail

TICKET_RECEIVED = AccountMail(
    subject=N_("We received your request (ticket %(number)s)"),
    body=N_(
        'Thank you for writing to %(site)s. Your request "%(subject)s" is ticket'
        " %(number)s; quote it if you write to us about it.\n\n"
        "We answer here, and email you when we do:\n\n%(link)s"
    ),
)
PRIVACY_REQUEST_RECEIVED = AccountMail(
    subject=N_("We received your privacy request (ticket %(number)s)"),
    body=N_(
        'Thank you for writing to %(site)s. Your privacy request "%(subject)s" is ticket'
        " %(number)s. The law gives us one month to answer it: you will have our answer in"
        " writing by %(date)s (UTC) at the latest.\n\n"
        "We answer here, and email you when we do:\n\n%(link)s"
    ),
)
OPERATOR_REPLIED = AccountMail(
    subject=N_("Our answer to your request (ticket %(number)s)"),
    body=N_(
        'We answered your request "%(subject)s" (ticket %(number)s):\n\n%(reply)s\n\n'
        "Read the whole conversation or answer us here:\n\n%(link)s"
    ),
)
TICKET_CLOSED = AccountMail(
    subject=N_("Your request is closed (ticket %(number)s)"),
    body=N_(
        'We closed your request "%(subject)s" (ticket %(number)s). If something is still'
        " not right, answer in the conversation and it opens again:\n\n%(link)s"
    ),
)
