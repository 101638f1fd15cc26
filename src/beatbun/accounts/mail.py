"""The text of every account email."""

from __future__ import annotations

from beatbun.runtime.base import MailMessage


def verification_mail(*, to: str, site_name: str, link: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject=f"Confirm your email address for {site_name}",
        text=(
            f"Welcome to {site_name}!\n\nConfirm this address by opening the link below within"
            f" 48 hours:\n\n{link}\n\nIf you did not sign up, ignore this message.\n"
        ),
    )


def already_registered_mail(*, to: str, site_name: str, login_link: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject=f"Someone tried to sign up to {site_name} with your address",
        text=(
            f"This address already has a {site_name} account, so no new one was created."
            f"\n\nLog in here: {login_link}\n\nIf this was not you, no action is needed.\n"
        ),
    )


def parental_notice_mail(*, to: str, site_name: str, child_name: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject=f"Your child joined {site_name}",
        text=(
            f"{child_name} created a {site_name} account and confirmed that you, as parent"
            f" or guardian, agreed to it.\n\nIf you did not agree, reply to this message and"
            f" we will close the account.\n"
        ),
    )


def email_change_mail(*, to: str, site_name: str, link: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject=f"Confirm your new email address for {site_name}",
        text=(
            f"Open this link within 24 hours to make this the address of your {site_name}"
            f" account:\n\n{link}\n\nIf you did not ask for this, ignore this message.\n"
        ),
    )


def reset_mail(*, to: str, site_name: str, link: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject=f"Reset your {site_name} password",
        text=(
            f"Open this link within one hour to choose a new password:\n\n{link}\n\n"
            f"Resetting logs you out everywhere. If you did not ask for this, ignore this"
            f" message; your password stays as it is.\n"
        ),
    )
