"""The batch that charges for a job and records it checks the account itself: a restriction, a
scheduled erasure or a missing parent's consent committed after the checks in Python refuses
the charge and the job together."""

from __future__ import annotations

import uuid

import pytest

from beatbun.billing.credits import charge, get_wallet, open_wallet
from beatbun.errors import (
    AccountInactive,
    AccountLocked,
    AppError,
    ConstraintViolation,
    ProcessingRestricted,
)
from beatbun.generation.models import GenerationRequest, Job
from beatbun.generation.service import submit_generation
from beatbun.generation.store import ACCOUNT_REFUSED, insert_job_statement
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account
from tests.privacy.members import count

REQUEST = GenerationRequest.parse({"prompt": "sunny pop", "duration_seconds": 5, "seed": 1})
JOBS = "SELECT COUNT(*) AS n FROM jobs WHERE account_id = ?"
DEBITS = "SELECT COUNT(*) AS n FROM credit_ledger WHERE account_id = ? AND kind = 'debit'"


@pytest.mark.parametrize(
    ("change", "refusal", "code"),
    [
        ("restricted_at = 1", ProcessingRestricted, "account_restricted"),
        ("erasure_due_at = 9999999999", AccountLocked, "account_locked"),
        (
            "age_group = 'minor', parent_email = 'parent@example.com', parent_named_at = 1",
            AccountInactive,
            "parent_consent_pending",
        ),
    ],
)
async def test_an_account_changed_after_the_checks_gets_no_job_and_pays_nothing(
    runtime: LocalRuntime, change: str, refusal: type[AppError], code: str | None
) -> None:
    account = await create_verified_account(runtime)
    balance = (await open_wallet(runtime.db, account.id, now=runtime.clock.now())).balance
    await runtime.db.prepare(f"UPDATE accounts SET {change} WHERE id = ?").bind(account.id).run()
    with pytest.raises(refusal) as refused:
        await submit_generation(
            runtime, account_id=account.id, request=REQUEST, idempotency_key="k"
        )
    assert refused.value.code == code
    assert await count(runtime, JOBS, account.id) == 0
    assert await count(runtime, DEBITS, account.id) == 0
    assert (await get_wallet(runtime.db, account.id)).balance == balance


async def test_the_store_refuses_the_job_and_its_debit_in_one_batch(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    now = runtime.clock.now()
    balance = (await open_wallet(runtime.db, account.id, now=now)).balance
    await (
        runtime.db.prepare("UPDATE accounts SET restricted_at = ? WHERE id = ?")
        .bind(int(now), account.id)
        .run()
    )
    job = Job(
        id=uuid.uuid4().hex,
        account_id=account.id,
        status="queued",
        request=REQUEST.model_dump(),
        cost=1,
        provider="composer",
        correlation_id=uuid.uuid4().hex,
        created_at=int(now),
        deadline_at=int(now) + 600,
    )
    with pytest.raises(ConstraintViolation) as refused:
        await charge(
            runtime.db,
            account_id=account.id,
            amount=1,
            job_id=job.id,
            idempotency_key="k",
            along_with=insert_job_statement(runtime.db, job, request_hash="h", idempotency_key="k"),
            now=now,
        )
    assert (refused.value.kind, refused.value.target) == ("NOT NULL", ACCOUNT_REFUSED)
    assert await count(runtime, JOBS, account.id) == 0
    assert await count(runtime, DEBITS, account.id) == 0
    assert (await get_wallet(runtime.db, account.id)).balance == balance
