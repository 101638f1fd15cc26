"""Password reset and API key limits at the service level."""

from __future__ import annotations

import re

import pytest

from beatbun.accounts import apikeys, passwords
from beatbun.accounts.profile import check_reset_link, request_password_reset, reset_password
from beatbun.accounts.store import get_account
from beatbun.errors import InvalidInput
from beatbun.mail.drain import send_queued_mail
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_account

NEW_PASSWORD = "a brand new passphrase for reset"


async def _reset_token(runtime: LocalRuntime, email: str) -> str:
    await request_password_reset(runtime, email=email, client=CLIENT, language="en")
    await send_queued_mail(runtime)
    mailed = "".join(message.text for message in runtime.mailer.messages())
    found = re.findall(r"/reset-password\?token=(\S+)", mailed)
    assert len(found) == 1
    return str(found[0])


async def test_rejected_reset_password_leaves_the_link_usable(runtime: LocalRuntime) -> None:
    account = await create_account(runtime)
    token = await _reset_token(runtime, account.email)
    with pytest.raises(InvalidInput) as refused:
        await reset_password(runtime, token=token, new_password="short", code="", client=CLIENT)
    assert refused.value.field == "new_password"
    assert (await check_reset_link(runtime, token)).account_id == account.id
    await reset_password(runtime, token=token, new_password=NEW_PASSWORD, code="", client=CLIENT)
    stored = (await get_account(runtime.db, account.id)).password_hash
    assert await passwords.verify_password(
        NEW_PASSWORD, stored, kdf=runtime.kdf, pepper=runtime.settings.password_pepper
    )
    with pytest.raises(InvalidInput) as used:
        await reset_password(
            runtime, token=token, new_password=NEW_PASSWORD, code="", client=CLIENT
        )
    assert used.value.code == "used_link"


async def test_api_key_limit_counts_only_live_keys(runtime: LocalRuntime) -> None:
    account = await create_account(runtime)
    now = runtime.clock.now()
    first, _ = await apikeys.create_api_key(
        runtime.db, account_id=account.id, name="k0", scopes=["read"], now=now
    )
    for number in range(1, apikeys.MAX_KEYS_PER_ACCOUNT):
        await apikeys.create_api_key(
            runtime.db, account_id=account.id, name=f"k{number}", scopes=["read"], now=now
        )
    with pytest.raises(InvalidInput) as refused:
        await apikeys.create_api_key(
            runtime.db, account_id=account.id, name="extra", scopes=["read"], now=now
        )
    assert refused.value.field == "name"
    await apikeys.revoke_api_key(runtime.db, account_id=account.id, key_id=first.id, now=now)
    key, _ = await apikeys.create_api_key(
        runtime.db, account_id=account.id, name="extra", scopes=["read"], now=now
    )
    assert key.name == "extra"
