"""Guard: the data map classifies every table the migrations create, and its periods are the code's."""

from __future__ import annotations

from typing import get_args

import pytest

from beatbun.accounts.profile import RESET_REQUESTS_KEPT
from beatbun.accounts.sessions import ABSOLUTE_TIMEOUT
from beatbun.accounts.throttle import FORGET_AFTER
from beatbun.accounts.tokens import LINK_LIFETIMES
from beatbun.billing.plans import FREE_RETENTION_SECONDS, Retention
from beatbun.mail.mailqueue import KEEP_SENT_SECONDS
from beatbun.privacy.export import EXPORT_DAYS
from beatbun.privacy.guardians import CONSENT_SECONDS
from beatbun.privacy.inventory import (
    ACCOUNT,
    CATEGORIES,
    TABLES_WITHOUT_PERSONAL_DATA,
    DataCategory,
)
from beatbun.privacy.ledger import KEPT_SECONDS
from beatbun.privacy.removal import account_prefixes
from beatbun.tracks.deletion import UNDO_SECONDS
from beatbun.tracks.models import blob_key_for, export_keys_for
from beatbun_local.runtime import LocalRuntime

DAY = 86400


async def _tables(runtime: LocalRuntime) -> set[str]:
    rows = (
        await runtime.db.prepare(
            # SQLite's own tables (sqlite_sequence) are not ours to classify.
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).all()
    ).results
    return {str(row["name"]) for row in rows}


def _category(key: str) -> DataCategory:
    return next(category for category in CATEGORIES if category.key == key)


def _classified() -> list[str]:
    return [table for category in CATEGORIES for table in category.tables]


async def test_inventory_every_migrated_table_is_classified(runtime: LocalRuntime) -> None:
    unclassified = await _tables(runtime) - set(_classified()) - TABLES_WITHOUT_PERSONAL_DATA
    assert unclassified == set(), (
        f"Tables {sorted(unclassified)} are in no category of beatbun.privacy.inventory:"
        " add each to the category that holds it, or to TABLES_WITHOUT_PERSONAL_DATA"
    )


async def test_inventory_every_listed_table_exists(runtime: LocalRuntime) -> None:
    listed = set(_classified()) | TABLES_WITHOUT_PERSONAL_DATA
    assert listed - await _tables(runtime) == set()


def test_inventory_each_table_is_classified_once() -> None:
    classified = _classified()
    assert len(classified) == len(set(classified))
    assert set(classified).isdisjoint(TABLES_WITHOUT_PERSONAL_DATA)


def test_inventory_category_keys_are_unique() -> None:
    keys = [category.key for category in CATEGORIES]
    assert len(keys) == len(set(keys))


async def test_inventory_tables_without_personal_data_have_no_account_column(
    runtime: LocalRuntime,
) -> None:
    for table in TABLES_WITHOUT_PERSONAL_DATA:
        columns = (await runtime.db.prepare(f"PRAGMA table_info({table})").all()).results
        names = {str(column["name"]) for column in columns}
        assert names.isdisjoint({"account_id", "email", "ip", "subject", "pseudonym"}), table


def _account_prefixes(account_id: str) -> list[str]:
    return [
        prefix.replace(ACCOUNT, account_id)
        for category in CATEGORIES
        for prefix in category.prefixes
        if ACCOUNT in prefix
    ]


def test_inventory_account_prefixes_are_those_erasure_empties() -> None:
    assert sorted(_account_prefixes("acc1")) == sorted(account_prefixes("acc1"))


def test_inventory_account_prefixes_hold_every_key_of_a_track() -> None:
    prefixes = tuple(_account_prefixes("acc1"))
    for retention in get_args(Retention):
        audio = blob_key_for(retention=retention, account_id="acc1", track_id="trk1")
        for key in (audio, *export_keys_for(audio)):
            assert key.startswith(prefixes), key


@pytest.mark.parametrize(
    ("seconds", "stated_seconds", "category", "stated"),
    [
        (FREE_RETENTION_SECONDS, 14 * DAY, "creations", "14 days"),
        (UNDO_SECONDS, 30, "creations", "30 seconds"),
        (ABSOLUTE_TIMEOUT, 14 * DAY, "account", "14 days"),
        # The shortest and the longest email link.
        (min(LINK_LIFETIMES.values()), 3600, "account", "1 to 48 hours"),
        (max(LINK_LIFETIMES.values()), 48 * 3600, "account", "1 to 48 hours"),
        (FORGET_AFTER, DAY, "security", "a day after the last failure"),
        (RESET_REQUESTS_KEPT, DAY, "security", "kept for a day"),
        (KEEP_SENT_SECONDS, 7 * DAY, "email", "a week after"),
        (CONSENT_SECONDS, 30 * DAY, "guardian", "30 days after our first link"),
        (EXPORT_DAYS * DAY, 7 * DAY, "privacy", "7 days after they are ready"),
        (KEPT_SECONDS, 30 * DAY, "ledger", "30 days"),
    ],
)
def test_inventory_period_is_the_codes(
    seconds: float, stated_seconds: int, category: str, stated: str
) -> None:
    assert stated in _category(category).kept
    assert seconds == stated_seconds
