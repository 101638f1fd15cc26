"""How a privacy request is confirmed: a security-log event and a mail, in the request's batch."""

from __future__ import annotations

from beatbun.accounts.models import Account, Client
from beatbun.accounts.security_log import event_statement
from beatbun.accounts.tokens import new_id
from beatbun.mail import mailqueue
from beatbun.mail.compose import AccountMail
from beatbun.runtime.base import Runtime, SqlValue, Statement

# The privacy page, where every request can be followed and undone.
PRIVACY_PAGE = "/account/privacy"


def confirmation_statements(
    runtime: Runtime,
    account: Account,
    *,
    kind: str,
    message: AccountMail,
    key: str,
    client: Client,
    language: str,
    only_if: str,
    only_if_params: tuple[SqlValue, ...],
    mail_kind: str = "account",
    **params: str,
) -> list[Statement]:
    """The event `kind` and `message` to the account's address, for the request's batch.

    Both are written only when the constant SQL condition `only_if` holds (the request's own
    row was written earlier in the batch), and the mail once per idempotency `key`. The mail
    links to the privacy page; `params` fill the rest of its text. `mail_kind` is the queue
    row's kind (a service notice's, `mail.catalogue`).
    """
    db, now = runtime.db, runtime.clock.now()
    mail = message.compose(
        to=account.email,
        language=language,
        site=runtime.settings.site_name,
        link=f"{runtime.settings.public_url}{PRIVACY_PAGE}",
        **params,
    )
    return [
        event_statement(
            db,
            account_id=account.id,
            kind=kind,
            client=client,
            now=now,
            only_if=only_if,
            only_if_params=only_if_params,
        ),
        mailqueue.enqueue_statement(
            db,
            message_id=new_id(),
            key=key,
            message=mail,
            now=now,
            only_if=only_if,
            only_if_params=only_if_params,
            kind=mail_kind,
            account_id=account.id,
        ),
    ]
