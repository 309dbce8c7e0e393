"""Flag every reading rule of a partition in one sorted pass over the Parquet.

The expensive part of judging sensor readings is sorting them per tag in time order. This module sorts once,
on a narrow projection (the columns the rules read, the row id), and keeps only the rows that some rule
flags or that may be part of a run or a duplicate ("candidates", few in real data). What needs an order
among those few is computed on them alone:

- a stuck signal: a value that has not changed since `_since`, the time its run of equal values began. Every
  reading of a run of two or more is a candidate (it equals a neighbour), so the run's first reading is there;
- a duplicate: the rank of a reading among the copies of its (tag, timestamp), by source file name, then value,
  then quality, then position. All copies are candidates (each has a neighbour at the same time), so the same
  copy is kept on every run, whatever order the files were read in;
- the neighbours of copies and of the readings next to them: the sorted pass orders by time only (a cheap sort),
  so among copies its order is arbitrary; those readings are candidates and take their neighbours in full order.

Rule predicates are SQL over view `r` (quality.rules). Those that read `_since` or `_dup_rank` are decided on
the candidates; the others are decided in the sorted pass, where they also make a row a candidate.
"""

from __future__ import annotations

import re

import duckdb

from config.sql import quote_ident
from quality.rules import Rule

DEFERRED_COLUMNS = ("_since", "_dup_rank")  # computed on the candidates only
TIE_BREAK = "source_file, value NULLS LAST, quality NULLS LAST, _file, _row"
ALWAYS = ("ts", "tag", "value", "quality", "source_file")  # the window and the tie-break read these
# A reading that shares its timestamp with another, or sits next to such copies: its neighbours depend on the order
# among the copies, which only the candidates' full order decides; so it is a candidate, its neighbours taken there.
NEAR_COPIES = "r.ts = r._prev_ts OR r.ts = r._next_ts OR r._prev_ts = r._prev2_ts OR r._next_ts = r._next2_ts"
LIMITS = "(SELECT DISTINCT ON (tag) tag, low_limit, high_limit FROM register WHERE tag IS NOT NULL)"


def flag_readings(con: duckdb.DuckDBPyConnection, rules: list[Rule]) -> None:
    """Leave view `r` over the candidate readings, with every window column the rules read.

    Needs view `base` (the partition), tables `register` and `tag_stats` (quality.evaluate)."""
    columns = _needed_columns(con, rules)
    immediate = [r for r in rules if not deferred(r)]
    candidate = " OR ".join(
        [
            *(f"COALESCE({r.predicate}, false)" for r in immediate),
            "r.value = r._prev",
            "r.value = r._next",
            NEAR_COPIES,
        ]
    )
    projection = ", ".join(f"b.{c}" for c in columns)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE candidates AS
        SELECT * FROM (
            SELECT b._file, b._row, {projection}, g.low_limit AS _low, g.high_limit AS _high, s._sigma, s._period,
                   lag(b.value) OVER w AS _prev, lead(b.value) OVER w AS _next,
                   lag(b.ts) OVER w AS _prev_ts, lead(b.ts) OVER w AS _next_ts,
                   lag(b.ts, 2) OVER w AS _prev2_ts, lead(b.ts, 2) OVER w AS _next2_ts
            FROM base b LEFT JOIN {LIMITS} g ON g.tag = b.tag LEFT JOIN tag_stats s ON s.tag = b.tag
            WINDOW w AS (PARTITION BY b.tag ORDER BY b.ts)
        ) r
        WHERE {candidate}
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW r AS
        SELECT n.*,
               max(CASE WHEN n.value IS DISTINCT FROM n._prev THEN n.ts END)
                   OVER (PARTITION BY n.tag ORDER BY n.ts, {TIE_BREAK} ROWS UNBOUNDED PRECEDING) AS _since,
               row_number() OVER (PARTITION BY n.tag, n.ts ORDER BY {TIE_BREAK}) AS _dup_rank
        FROM (
            SELECT c.* REPLACE (
                CASE WHEN c.ts = c._prev_ts OR c.ts = c._next_ts OR c._prev_ts = c._prev2_ts
                     THEN lag(c.value) OVER f ELSE c._prev END AS _prev,
                CASE WHEN c.ts = c._prev_ts OR c.ts = c._next_ts OR c._next_ts = c._next2_ts
                     THEN lead(c.value) OVER f ELSE c._next END AS _next)
            FROM candidates c
            WINDOW f AS (PARTITION BY c.tag ORDER BY c.ts, {TIE_BREAK})
        ) n
        """
    )


def deferred(rule: Rule) -> bool:
    """Whether a rule reads a column that only the candidates have."""
    return any(column in (rule.predicate or "") for column in DEFERRED_COLUMNS)


def _needed_columns(con: duckdb.DuckDBPyConnection, rules: list[Rule]) -> list[str]:
    """The partition's columns the rules read (`r.<name>`), plus those the window needs, in the file's order."""
    present = [str(row[0]) for row in con.execute("DESCRIBE base").fetchall() if not str(row[0]).startswith("_")]
    text = " ".join(r.predicate or "" for r in rules)
    return [
        quote_ident(c)
        for c in present
        if c in ALWAYS or f"r.{quote_ident(c)}" in text or re.search(rf"\br\.{re.escape(c)}\b", text)
    ]
