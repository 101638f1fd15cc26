"""What billing tells people by email, in their language (see `mail.compose.AccountMail`),
and the service notices those emails are sent as (see `mail.notices`)."""

from __future__ import annotations

from beatbun.i18n import N_
from beatbun.mail.compose import AccountMail
from beatbun.mail.notices import DAY, Notice

PAYMENT_FAILED = AccountMail(
    subject=N_("Your %(site)s payment did not go through"),
    body=N_(
        "We could not take the payment for your %(plan)s plan. Stripe will try your card again"
        " over the next days, and you keep your plan until %(date)s.\n\nTo keep it, check or"
        " update your card here:\n\n%(link)s\n\nIf no payment succeeds by then, your account"
        " moves to the Free plan. Your tracks stay kept either way."
    ),
)
CREDITS_LOW = AccountMail(
    subject=N_("Your %(site)s credits are running low"),
    body=N_(
        "Your balance is now below %(price)s credits, the price of a %(seconds)s-second"
        " track.\n\nTo keep making music, top up with a credit pack or choose a plan that"
        " gives more credits each month:\n\n%(link)s"
    ),
)
CREDITS_GRANTED = AccountMail(
    subject=N_("%(credits)s credits for your %(plan)s plan are here"),
    body=N_(
        "%(credits)s credits for your %(plan)s plan are in your balance. The plan adds them"
        " again with each monthly payment.\n\nMake something with them:\n\n%(link)s"
    ),
)
SUBSCRIPTION_RENEWED = AccountMail(
    subject=N_("Your %(site)s %(plan)s plan renewed"),
    body=N_(
        "Your %(plan)s plan renewed for another month, and its %(credits)s monthly credits"
        " are in your balance.\n\nYour plan, payments and receipts are here:\n\n%(link)s"
    ),
)
SUBSCRIPTION_CHANGED = AccountMail(
    subject=N_("Your %(site)s plan is now %(plan)s"),
    body=N_(
        "Your plan changed from %(old)s to %(plan)s. From now on you get %(credits)s credits"
        " each month. Tracks that were kept stay kept.\n\nYour plan and payments are"
        " here:\n\n%(link)s"
    ),
)
SUBSCRIPTION_CANCELLED = AccountMail(
    subject=N_("Your %(site)s %(plan)s plan ends on %(date)s"),
    body=N_(
        "Your %(plan)s plan was cancelled. You keep it, with all it gives, until %(date)s;"
        " then your account moves to the Free plan. Tracks kept until then stay kept.\n\n"
        "Changed your mind? You can keep the plan going before then:\n\n%(link)s"
    ),
)

CREDITS_LOW_NOTICE = Notice(
    kind="credits_low",
    label=N_("Your credits fell below the price of a track"),
    mail=CREDITS_LOW,
    cap_seconds=7 * DAY,
)
CREDITS_GRANTED_NOTICE = Notice(
    kind="credits_granted",
    label=N_("Your plan's monthly credits arrived"),
    mail=CREDITS_GRANTED,
    # Once per monthly period in practice: each invoice grants once, and the queue keeps its
    # rows a week (`mailqueue.KEEP_SENT_SECONDS`), the longest a cap can count over.
    cap_seconds=7 * DAY,
)
PAYMENT_FAILED_NOTICE = Notice(
    kind="payment_failed",
    label=N_("A payment for your plan did not go through"),
    mail=PAYMENT_FAILED,
    cap_seconds=DAY,
)
SUBSCRIPTION_RENEWED_NOTICE = Notice(
    kind="subscription_renewed",
    label=N_("Your plan renewed"),
    mail=SUBSCRIPTION_RENEWED,
)
SUBSCRIPTION_CHANGED_NOTICE = Notice(
    kind="subscription_changed",
    label=N_("Your plan changed"),
    mail=SUBSCRIPTION_CHANGED,
)
SUBSCRIPTION_CANCELLED_NOTICE = Notice(
    kind="subscription_cancelled",
    label=N_("Your plan was cancelled, with the day it ends"),
    mail=SUBSCRIPTION_CANCELLED,
)
