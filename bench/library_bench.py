"""The library's page query on a big account: time per page, for each order and a search.

    python bench/library_bench.py

Fills the local D1 (SQLite) with 10,000 tracks of one account and 10,000 of others, then times
the first and a deep page of every order, a search, a genre filter and the favourites filter.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from beatbun.tracks.library import SORTS, LibraryQuery, library_page  # noqa: E402
from beatbun_local.database import LocalDatabase  # noqa: E402
from beatbun_local.migrations import apply_migrations  # noqa: E402

TRACKS = 10_000
ROUNDS = 20
GENRES = ("lofi", "techno", "pop", "jazz")


async def _fill(db: LocalDatabase) -> None:
    for owner in ("acc", "other"):
        await (
            db.prepare(
                "INSERT INTO accounts (id, email, display_name, birth_date, age_group, password_hash,"
                " created_at) VALUES (?, ?, 'Bench', '1990-01-01', 'adult', 'x', 0)"
            )
            .bind(owner, f"{owner}@example.com")
            .run()
        )
        rows = [
            (
                f"{owner}-{n:05d}",
                owner,
                f"job-{owner}-{n}",
                f"Sketch {n % 977}",
                f"prompt {n} {'rainy' if n % 50 == 0 else 'sunny'} afternoon",
                json.dumps({"genre": GENRES[n % 4], "bpm": 90}),
                5.0 + n % 300,
                f"tracks/free/{owner}/{n}.wav",
                1_800_000_000 + n,
                GENRES[n % 4],
            )
            for n in range(TRACKS)
        ]
        # 10 columns a row: 10 rows stay under D1's 100 bound parameters.
        for start in range(0, len(rows), 10):
            chunk = rows[start : start + 10]
            await (
                db.prepare(
                    "INSERT INTO tracks (id, account_id, job_id, title, prompt, plan, media_type,"
                    " duration_seconds, size_bytes, blob_key, peaks, retention, created_at,"
                    " genre) VALUES "
                    + ", ".join(
                        ["(?, ?, ?, ?, ?, ?, 'audio/wav', ?, 0, ?, '[]', 'free', ?, ?)"]
                        * len(chunk)
                    )
                )
                .bind(*[value for row in chunk for value in row])
                .run()
            )


async def _time(db: LocalDatabase, query: LibraryQuery) -> tuple[float, str | None]:
    times, after = [], None
    for _ in range(ROUNDS):
        started = time.perf_counter()
        page = await library_page(db, account_id="acc", query=query)
        times.append((time.perf_counter() - started) * 1000)
        after = page.after
    return statistics.median(times), after


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = LocalDatabase(Path(folder) / "d1.sqlite")
        await apply_migrations(db, PROJECT_ROOT / "d1" / "migrations")
        await _fill(db)
        print(f"{TRACKS} tracks of one account, {TRACKS} of another; median of {ROUNDS} runs")
        for sort in SORTS:
            first, after = await _time(db, LibraryQuery(sort=sort))
            # A page deep in: keyset pages cost the same wherever they start.
            query = LibraryQuery(sort=sort, after=after)
            for _ in range(200):
                page = await library_page(db, account_id="acc", query=query)
                query = LibraryQuery(sort=sort, after=page.after)
            deep, _ = await _time(db, query)
            print(f"  sort={sort:<8} first page {first:6.2f} ms   page 201 {deep:6.2f} ms")
        for label, query in (
            ("search 'rainy'", LibraryQuery(search="rainy")),
            ("genre=techno", LibraryQuery(genre="techno")),
            ("favourites", LibraryQuery(favourites=True)),
        ):
            took, _ = await _time(db, query)
            print(f"  {label:<15} first page {took:6.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
