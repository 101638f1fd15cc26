"""Session timeouts (NIST SP 800-63B-4 §5.2), driven by a clock that moves only when told."""

from __future__ import annotations

from beatbun.accounts import sessions
from beatbun.accounts.models import Session
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_account
from tests.fakes import ManualClock


async def _find(runtime: LocalRuntime, token: str) -> Session | None:
    found = await sessions.find_session_and_account(runtime.db, token, now=runtime.clock.now())
    return found[0] if found else None


async def _start(runtime: LocalRuntime, *, stage: str = "full") -> tuple[Session, str]:
    account = await create_account(runtime)
    return await sessions.create_session(
        runtime.db, account_id=account.id, stage=stage, client=CLIENT, now=runtime.clock.now()
    )


async def test_session_used_within_idle_timeout_is_found(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    session, token = await _start(runtime)
    clock.advance(sessions.IDLE_TIMEOUT - 1)
    found = await _find(runtime, token)
    assert found is not None and found.id == session.id


async def test_session_unused_past_idle_timeout_is_refused(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    _, token = await _start(runtime)
    clock.advance(sessions.IDLE_TIMEOUT + 1)
    assert await _find(runtime, token) is None


async def test_session_refused_for_idleness_stays_revoked(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    session, token = await _start(runtime)
    clock.advance(sessions.IDLE_TIMEOUT + 1)
    await _find(runtime, token)
    row = (
        await runtime.db.prepare("SELECT revoked_at FROM sessions WHERE id = ?")
        .bind(session.id)
        .first()
    )
    assert row is not None and row["revoked_at"] == clock.now()


async def test_session_in_use_past_absolute_timeout_is_refused(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    session, token = await _start(runtime)
    step = sessions.IDLE_TIMEOUT // 2
    # Used every half idle period, so idleness never ends it; only its age can.
    while clock.now() + step - session.created_at <= sessions.ABSOLUTE_TIMEOUT:
        clock.advance(step)
        assert await _find(runtime, token) is not None
    clock.advance(step)
    assert await _find(runtime, token) is None


async def test_session_waiting_for_second_factor_expires_after_the_step_timeout(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    _, token = await _start(runtime, stage="mfa")
    clock.advance(sessions.MFA_STEP_TIMEOUT + 1)
    assert await _find(runtime, token) is None


async def test_session_and_account_come_together_and_follow_the_same_timeouts(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    session, token = await _start(runtime)
    clock.advance(sessions.TOUCH_INTERVAL)
    found = await sessions.find_session_and_account(runtime.db, token, now=clock.now())
    assert found is not None
    assert found[0] == session and found[1].id == session.account_id
    assert found[1].email == "person@example.com"
    # Touched: the idle timeout counts from this use.
    clock.advance(sessions.IDLE_TIMEOUT - 1)
    assert await sessions.find_session_and_account(runtime.db, token, now=clock.now()) is not None
    clock.advance(sessions.IDLE_TIMEOUT + 1)
    assert await sessions.find_session_and_account(runtime.db, token, now=clock.now()) is None
