"""What billing tells people by email, in their language (see `mail.compose.AccountMail`)."""

from __future__ import annotations

from beatbun.i18n import N_
from beatbun.mail.compose import AccountMail

PAYMENT_FAILED = AccountMail(
    subject=N_("Your %(site)s payment did not go through"),
    body=N_(
        "We could not take the payment for your %(plan)s plan. Stripe will try your card again"
        " over the next days, and you keep your plan until %(date)s.\n\nTo keep it, check or"
        " update your card here:\n\n%(link)s\n\nIf no payment succeeds by then, your account"
        " moves to the Free plan. Your tracks stay kept either way."
    ),
)
