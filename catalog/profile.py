"""Column profiles of a dataset version: DuckDB's SUMMARIZE, plus a histogram for numeric columns.

The minimum and maximum of a text column are values of it, so they are withheld (None) for every column that may
hold personal data: free text, names and unknown text columns (`config.kinds.may_name_people`). Without the
source kind no text column can be told safe, and every text column's min and max are withheld.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

from config.kinds import SourceKind, may_name_people

NUMERIC = ("DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "DECIMAL", "HUGEINT", "TINYINT")
TEXT = ("VARCHAR", "ENUM", "JSON")


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    type: str
    nulls: int
    distinct_approx: int
    min: str | None
    max: str | None
    q25: str | None
    q50: str | None
    q75: str | None
    rows: int
    histogram: str | None


def profile(paths: list[str], kind: SourceKind | None = None) -> list[ColumnProfile]:
    """DuckDB's SUMMARIZE per column; numeric columns also get a 10-bin equal-width histogram (JSON).

    Text columns that may hold personal data for `kind` (every text column when `kind` is None) get no min/max.
    """
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        summary = con.execute(
            "SELECT column_name, column_type, count, null_percentage, approx_unique, min, max, q25, q50, q75 "
            "FROM (SUMMARIZE SELECT * FROM read_parquet(?, hive_partitioning = false))",
            [paths],
        ).fetchall()
        rows: list[ColumnProfile] = []
        for name, type_, count, null_pct, distinct, low, high, q25, q50, q75 in summary:
            nulls = round(float(count or 0) * float(null_pct or 0) / 100.0)
            histogram = _histogram(con, paths, name) if str(type_).startswith(NUMERIC) else None
            shown = _values_shown(kind, str(name), str(type_))
            rows.append(
                ColumnProfile(
                    str(name),
                    str(type_),
                    int(nulls),
                    int(distinct or 0),
                    _text(low) if shown else None,
                    _text(high) if shown else None,
                    _text(q25),
                    _text(q50),
                    _text(q75),
                    int(count or 0),
                    histogram,
                )
            )
        return rows
    finally:
        con.close()


def _histogram(con: duckdb.DuckDBPyConnection, paths: list[str], column: str) -> str | None:
    ident = '"' + column.replace('"', '""') + '"'
    found = con.execute(
        f"SELECT histogram(v, equi_width_bins(lo, hi, 10, false)) FROM "
        f"(SELECT {ident}::DOUBLE AS v FROM read_parquet(?, hive_partitioning = false)), "
        f"(SELECT min({ident})::DOUBLE AS lo, max({ident})::DOUBLE AS hi "
        f"FROM read_parquet(?, hive_partitioning = false) WHERE isfinite({ident}::DOUBLE)) "
        "WHERE isfinite(v) GROUP BY lo, hi",
        [paths, paths],
    ).fetchone()
    if not found or found[0] is None:
        return None
    return json.dumps({str(k): int(v) for k, v in dict(found[0]).items()})


def _values_shown(kind: SourceKind | None, column: str, type_: str) -> bool:
    """Whether the column's own values (min, max) may appear in its profile: not text (nor text inside a list or
    struct), or a code column of its kind (ids, tags, states)."""
    if not any(word in type_.upper() for word in TEXT):
        return True
    return kind is not None and not may_name_people(kind, column)


def _text(value: object) -> str | None:
    return None if value is None else str(value)
