"""Quarantined rows reach the `quarantine` table in one statement, in order, nulls kept."""

from __future__ import annotations

import duckdb

from ingest.quarantine_sql import QUARANTINE_COLUMNS, insert_quarantine


def test_insert_keeps_order_values_and_nulls() -> None:
    con = duckdb.connect()
    con.execute(f"CREATE TEMP TABLE quarantine ({QUARANTINE_COLUMNS})")
    batch: list[tuple[object, ...]] = [
        (f"f{i % 3}.csv", None if i == 7 else i + 2, "nonexistent_local_time", f"d{i}", f"raw,{i}", "2024-03-31")
        for i in range(50_000)
    ]
    insert_quarantine(con, batch)
    insert_quarantine(con, [])
    rows = con.execute("SELECT source_file, line, rule, detail, raw, _part, rows FROM quarantine").fetchall()
    assert [r[:6] for r in rows] == batch
    assert {r[6] for r in rows} == {1}, "the default row count stays"
