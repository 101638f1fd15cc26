"""The user's queue object sends its account's service mail once its alarm's work is done."""

from __future__ import annotations

from beatbun.generation.models import GenerationRequest
from beatbun.generation.service import submit_generation
from beatbun.mail.mailqueue import BULK
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account
from tests.generation.conftest import drain
from tests.mail.queueing import queue_mail


async def test_the_alarm_sends_its_accounts_service_mail_only(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    request = GenerationRequest.parse({"prompt": "calm piano", "duration_seconds": 5, "seed": 1})
    await submit_generation(runtime, account_id=account.id, request=request, idempotency_key=None)
    await queue_mail(runtime, "notice@example.com", account_id=account.id)
    await queue_mail(runtime, "policy@example.com", account_id=account.id, priority=BULK)
    await queue_mail(runtime, "someone-else@example.com", account_id="another")
    signed_up = len(runtime.mailer.messages())  # the address's confirmation, sent at sign-up
    await drain(runtime)
    sent = {message.to for message in runtime.mailer.messages()[: -signed_up or None]}
    assert "notice@example.com" in sent  # the account's service mail
    assert not sent & {"policy@example.com", "someone-else@example.com"}  # bulk: the cron's
