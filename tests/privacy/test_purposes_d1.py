"""The prompt-word aggregate in D1 itself (Miniflare) and in the local adapter: the same rows.

It leans on what D1 must support: a recursive CTE, json_extract, json_each over a bound JSON
array, trim with characters, GLOB, and COUNT(DISTINCT ...).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from beatbun.analytics.prompts import (
    MIN_ACCOUNTS,
    MIN_LETTERS,
    PROMPT_WORDS_SQL,
    STOP_WORDS,
    TOP_WORDS,
)
from beatbun_local.database import LocalDatabase
from tests.conformance.wrangler import d1_execute

pytestmark = pytest.mark.wrangler

SETUP = (
    "CREATE TABLE accounts (id TEXT PRIMARY KEY, objects_to_prompt_use INTEGER NOT NULL"
    " DEFAULT 0, restricted_at INTEGER)",
    "CREATE TABLE jobs (id TEXT PRIMARY KEY, account_id TEXT NOT NULL, request TEXT NOT NULL,"
    " created_at INTEGER NOT NULL)",
    "INSERT INTO accounts (id, objects_to_prompt_use, restricted_at) VALUES ('a', 0, NULL),"
    " ('b', 0, NULL), ('c', 0, NULL), ('d', 0, NULL), ('objects', 1, NULL), ('restricted', 0, 5)",
    "INSERT INTO jobs (id, account_id, request, created_at) VALUES"
    " ('1', 'a', '{\"prompt\":\"Dreamy Lo-Fi PIANO, with rain\"}', 100),"
    " ('2', 'b', '{\"prompt\":\"lo-fi piano über Regen\"}', 100),"
    " ('3', 'c', '{\"prompt\":\"Über lo-fi: piano & strings 120\"}', 100),"
    " ('4', 'd', '{\"prompt\":\"ÜBER dreamy l''amour\"}', 100),"
    " ('5', 'objects', '{\"prompt\":\"dreamy strings\"}', 100),"
    " ('6', 'restricted', '{\"prompt\":\"dreamy strings\"}', 100),"
    ' (\'7\', \'a\', \'{"prompt":"strings","source_track_id":"x"}\', 100),'
    " ('8', 'b', '{\"prompt\":\"strings\"}', 10)",
)
PARAMS: tuple[int | str, ...] = (
    50,
    MIN_LETTERS,
    json.dumps(sorted(STOP_WORDS), ensure_ascii=False),
    MIN_ACCOUNTS,
    TOP_WORDS,
)


def _inlined(sql: str, params: tuple[int | str, ...]) -> str:
    """`sql` with its `?` placeholders (outside string literals) replaced by literals."""
    out, values, quoted = [], iter(params), False
    for char in sql:
        if char == "'":
            quoted = not quoted
        if char == "?" and not quoted:
            value = next(values)
            out.append(
                str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"
            )
        else:
            out.append(char)
    return "".join(out)


async def test_prompt_words_are_the_same_on_d1_and_locally(tmp_path: Path) -> None:
    output = d1_execute(
        tmp_path / "d1", ";\n".join((*SETUP, _inlined(PROMPT_WORDS_SQL, PARAMS))) + ";"
    )
    assert isinstance(output, list), output
    on_d1 = output[-1]["results"]
    db = LocalDatabase(tmp_path / "local.sqlite")
    await db.batch([db.prepare(sql) for sql in SETUP])
    local = (await db.prepare(PROMPT_WORDS_SQL).bind(*PARAMS).all()).results
    assert [dict(row) for row in local] == on_d1
    # "dreamy" has two accounts left, "strings" one: the objecting and the restricted
    # accounts, the variation and the old job do not count.
    assert on_d1 == [{"word": w, "uses": 3, "accounts": 3} for w in ("lo-fi", "piano", "über")]
