"""A deletion a parent asks for: the parent's mails point to their own link, the teen's say
only the parent can cancel, and the parent is told when it is done."""

from __future__ import annotations

from beatbun.mail.drain import send_queued_mail
from beatbun.privacy.erasure import GRACE_SECONDS, cancel_erasure, request_erasure_by_parent
from beatbun.scheduled import MAIL_CRON, run_scheduled
from beatbun_local.runtime import LocalRuntime
from tests.fakes import ManualClock
from tests.privacy.erasure_setup import teen_leaver


async def test_parent_and_teen_each_get_their_own_texts(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    who = await teen_leaver(runtime)
    await request_erasure_by_parent(runtime, who.account.id, language="en")
    await cancel_erasure(runtime, who.account.id, client=None, language="en", by="parent")
    await request_erasure_by_parent(runtime, who.account.id, language="en")
    await send_queued_mail(runtime)  # as the requests' answers do
    clock.advance(GRACE_SECONDS + 1)
    await run_scheduled(runtime, cron="0 * * * *", scheduled_time=clock.now())
    await run_scheduled(runtime, cron=MAIL_CRON, scheduled_time=clock.now())  # also at :00
    await send_queued_mail(runtime)
    parent = [m for m in runtime.mailer.messages() if m.to == "parent@example.com"]
    teen = [m for m in runtime.mailer.messages() if m.to == "leaving@example.com"]
    assert len(parent) == 4  # scheduled, cancelled, scheduled, done
    for message in parent:
        assert "/account/privacy" not in message.text
        assert any(link in message.text for link in ("personal link", "persönliche"))
    scheduled = [m for m in teen if "will be deleted" in m.subject]
    assert len(scheduled) == 2
    assert all("only they can cancel" not in m.text for m in scheduled)
    assert all("Only your parent or guardian can cancel" in m.text for m in scheduled)
    assert all("/account/privacy" not in m.text for m in scheduled)
    # The teen learns who cancelled, and is not told to change a password over it.
    [cancelled] = [m for m in teen if "cancelled" in m.subject]
    assert "Your parent or guardian cancelled" in cancelled.text
    assert "change your password" not in cancelled.text


async def test_the_parent_is_told_it_is_done_in_the_language_they_asked_in(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    who = await teen_leaver(runtime)
    await request_erasure_by_parent(runtime, who.account.id, language="de")
    clock.advance(GRACE_SECONDS + 1)
    await run_scheduled(runtime, cron="0 * * * *", scheduled_time=clock.now())
    await run_scheduled(runtime, cron=MAIL_CRON, scheduled_time=clock.now())  # also at :00
    await send_queued_mail(runtime)
    done = [m for m in runtime.mailer.messages() if m.to == "parent@example.com"][-1]
    assert "gelöscht" in done.subject
