"""One account whose erasure fails holds up neither the other accounts nor the other tasks of
the cron run; scheduling cannot undo an erasure already under way."""

from __future__ import annotations

import pytest

from beatbun import scheduled
from beatbun.accounts.store import get_account
from beatbun.billing.store import insert_customer_statement
from beatbun.errors import Conflict
from beatbun.mail.drain import send_queued_mail
from beatbun.privacy.erasure import (
    GRACE_SECONDS,
    claim_account,
    erase_due_accounts,
    request_erasure,
    request_erasure_by_parent,
)
from beatbun.privacy.requests import list_requests
from beatbun.runtime.base import Runtime
from beatbun.scheduled import MAIL_CRON, run_scheduled
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD
from tests.fakes import ManualClock
from tests.privacy.erasure_setup import Leaver, leaver
from tests.privacy.traces import Erased, traces


async def _schedule(runtime: LocalRuntime, who: Leaver) -> None:
    await request_erasure(
        runtime, who.account, who.session, password=PASSWORD, code="", client=CLIENT, language="en"
    )


async def _unreachable_customer(runtime: LocalRuntime, who: Leaver) -> None:
    """A Stripe customer that cannot be deleted: the test settings reach no Stripe."""
    await insert_customer_statement(
        runtime.db,
        account_id=who.account.id,
        customer_id="cus_unreachable",
        now=runtime.clock.now(),
    ).run()


async def test_a_failing_erasure_does_not_stop_the_others(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    failing = await leaver(runtime, email="failing@example.com", tracks=0)
    leaving = await leaver(runtime, email="leaving@example.com", tracks=0)
    await _unreachable_customer(runtime, failing)
    await _schedule(runtime, failing)
    clock.advance(60)
    await _schedule(runtime, leaving)
    clock.advance(GRACE_SECONDS)
    assert await erase_due_accounts(runtime) == 1
    await send_queued_mail(runtime)
    assert await traces(runtime, Erased(leaving.account.id, leaving.account.email)) == []
    # The failing one stays claimed, and is tried again by every run.
    assert (await get_account(runtime.db, failing.account.id)).erasure_due_at == 0
    assert await erase_due_accounts(runtime) == 0


class TaskFailure(Exception):
    """A scheduled task that raised."""


async def _failing_task(runtime: Runtime) -> None:
    raise TaskFailure


async def test_the_cron_runs_every_task_after_one_raised_and_is_not_recorded(
    runtime: LocalRuntime, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = await leaver(runtime, email="failing@example.com", tracks=0)
    leaving = await leaver(runtime, email="leaving@example.com", tracks=0)
    await _unreachable_customer(runtime, failing)
    await _schedule(runtime, failing)
    await _schedule(runtime, leaving)
    clock.advance(GRACE_SECONDS)
    monkeypatch.setattr(scheduled, "TASKS", (_failing_task, *scheduled.TASKS))
    with pytest.raises(ExceptionGroup) as raised:
        await run_scheduled(runtime, cron="0 * * * *", scheduled_time=clock.now())
    assert [type(exc) for exc in raised.value.exceptions] == [TaskFailure]
    await run_scheduled(runtime, cron=MAIL_CRON, scheduled_time=clock.now())  # also at :00
    # The erasure ran after the failure, and the mail trigger sent the closing mail.
    assert await traces(runtime, Erased(leaving.account.id, leaving.account.email)) == []
    sent = [(m.to, m.subject) for m in runtime.mailer.messages()]
    assert (leaving.account.email, "Dein Beat Bun-Konto wurde gelöscht") in sent
    runs = await runtime.db.prepare("SELECT cron FROM cron_runs").all()
    assert runs.results == [{"cron": MAIL_CRON}]  # the hourly run that raised is not recorded


async def test_scheduling_an_account_being_erased_changes_nothing(runtime: LocalRuntime) -> None:
    who = await leaver(runtime, tracks=0)
    await claim_account(runtime, who.account.id)
    # `who.account` was read before the claim: the check in the batch refuses all the same.
    with pytest.raises(Conflict) as raised:
        await _schedule(runtime, who)
    assert raised.value.code == "erasure_scheduled"
    with pytest.raises(Conflict):
        await request_erasure_by_parent(runtime, who.account.id, language="en")
    assert (await get_account(runtime.db, who.account.id)).erasure_due_at == 0
    requests = await list_requests(runtime.db, who.account.id)
    assert [r.kind for r in requests if r.kind == "erasure"] == []
