"""The version histories in code: well-formed, newest first, one current version each."""

from __future__ import annotations

from datetime import date

import pytest

from beatbun.consent.models import Choice, ConsentRecord
from beatbun.consent.service import find_current_record
from beatbun.consent.store import insert_record
from beatbun.policies.versions import (
    DOCUMENTS,
    HISTORY,
    Document,
    History,
    PolicyVersion,
    current,
    latest_significant,
    versions_in_force,
)
from beatbun_local.runtime import LocalRuntime
from tests.fakes import ManualClock


@pytest.mark.parametrize("document", DOCUMENTS)
def test_history_is_newest_first_with_unique_versions(document: Document) -> None:
    entries = HISTORY[document]
    dates = [date.fromisoformat(entry.effective) for entry in entries]
    assert entries and dates == sorted(dates, reverse=True)
    assert len({entry.version for entry in entries}) == len(entries)
    assert all(entry.summary.strip() for entry in entries)


def test_every_document_has_a_history() -> None:
    assert set(HISTORY) == set(DOCUMENTS)


def test_effective_at_is_midnight_utc() -> None:
    entry = PolicyVersion(version="9", effective="2026-12-01", summary="x", significant=True)
    assert entry.effective_at == 1_796_083_200.0


def test_latest_significant_skips_minor_versions() -> None:
    minor = PolicyVersion(version="3", effective="2026-12-02", summary="typo", significant=False)
    major = PolicyVersion(version="2", effective="2026-12-01", summary="new", significant=True)
    history: History = {"privacy": (minor, major), "cookies": (), "terms": ()}
    assert latest_significant("privacy", history) is major
    assert latest_significant("terms", history) is None


def test_versions_in_force_reach_back_to_the_last_significant_one() -> None:
    history: History = {
        "cookies": (
            PolicyVersion(
                version="c", effective="2026-12-03", summary="wording", significant=False
            ),
            PolicyVersion(
                version="b", effective="2026-12-02", summary="new cookie", significant=True
            ),
            PolicyVersion(version="a", effective="2026-12-01", summary="first", significant=False),
        )
    }
    assert versions_in_force("cookies", history) == {"c", "b"}


@pytest.mark.parametrize(
    ("version", "in_force"),
    [
        (current("cookies").version, True),
        # Older than the cookie policy's last significant version: asked again.
        (HISTORY["cookies"][-1].version, False),
    ],
)
async def test_cookie_consent_counts_only_since_the_last_significant_version(
    runtime: LocalRuntime, clock: ManualClock, version: str, in_force: bool
) -> None:
    record = ConsentRecord(
        id="r-1",
        subject="device:test",
        policy_version=version,
        choice=Choice.everything(),
        source="banner",
        gpc_override=False,
        recorded_at=clock.now(),
        given_at=clock.now(),
    )
    await insert_record(runtime.db, record)

    found = await find_current_record(runtime.db, "device:test", now=clock.now())

    assert (found is not None) is in_force
