"""An erasure stopped at any storage operation after its claim is finished by the next cron run,
and an erasure already under way can no longer be cancelled."""

from __future__ import annotations

import pytest

from beatbun.errors import Conflict
from beatbun.mail.drain import send_queued_mail
from beatbun.privacy.erasure import (
    GRACE_SECONDS,
    cancel_erasure,
    erase_due_accounts,
    request_erasure,
)
from beatbun.runtime.base import HttpMetadata
from beatbun.tracks.models import blob_key_for
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD
from tests.fakes import ManualClock
from tests.privacy.erasure_setup import Leaver, leaver
from tests.privacy.traces import Erased, queue_tables, traces
from tests.tracks.faults import Crash, Operations, faulty

# The closing mail's subject in the account's language (German, see `leaver`).
DELETED = "Dein Beat Bun-Konto wurde gelöscht"
# The cron's first two operations: expired payment records, then the claim.
CLAIMED_AFTER = 2
# Every storage operation of the cron run that erases one such account.
OPERATIONS = 19


async def _due(runtime: LocalRuntime, clock: ManualClock) -> Leaver:
    """An account with audio under both retention prefixes, whose erasure is due now."""
    who = await leaver(runtime, tracks=0)
    for retention in ("free", "paid"):
        await runtime.blobs.put(
            blob_key_for(retention=retention, account_id=who.account.id, track_id=retention),
            b"RIFF",
            http_metadata=HttpMetadata(content_type="audio/wav"),
        )
    await request_erasure(
        runtime, who.account, who.session, password=PASSWORD, code="", client=CLIENT, language="en"
    )
    clock.advance(GRACE_SECONDS)
    return who


@pytest.mark.parametrize("crash_at", range(CLAIMED_AFTER, OPERATIONS))
async def test_a_stopped_erasure_is_finished_by_the_next_run(
    runtime: LocalRuntime, clock: ManualClock, crash_at: int
) -> None:
    who = await _due(runtime, clock)
    erased = Erased(account_id=who.account.id, email=who.account.email)
    with pytest.raises(Crash):
        await erase_due_accounts(faulty(runtime, Operations(crash_at=crash_at)))
    # Claimed: the account cannot be rescued halfway through.
    with pytest.raises(Conflict):
        await cancel_erasure(runtime, who.account.id, client=CLIENT, language="en")
    assert await erase_due_accounts(runtime) == 1
    assert await erase_due_accounts(runtime) == 0
    await send_queued_mail(runtime)
    assert await traces(runtime, erased) == []
    assert queue_tables(runtime, who.account.id) == []
    # The closing mail went exactly once.
    done = [m for m in runtime.mailer.messages() if m.subject == DELETED]
    assert len(done) == 1


async def test_every_operation_of_an_erasure_is_covered(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    await _due(runtime, clock)
    operations = Operations()
    assert await erase_due_accounts(faulty(runtime, operations)) == 1
    assert operations.done == OPERATIONS
