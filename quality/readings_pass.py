"""Flag every reading rule of a partition in one sorted pass over the Parquet.

The expensive part of judging sensor readings is sorting them per tag in time order, and its cost grows with
what the sort carries. So the pass carries ids and numbers only: rules that look at one row alone (missing
value, quality class, unit, register limits, future time, value sets) are decided while reading, below the
sort, and ride along as booleans. After the sort, only the rows that some rule flags or that may belong to a
run or a copy are kept ("candidates", few in real data); what needs an order among those is computed on them:

- a stuck signal: a value that has not changed since `_since`, the time its run of equal values began. Every
  reading of a run of two or more is a candidate (it equals a neighbour), so the run's first reading is there;
- a duplicate: the rank of a reading among the copies of its (tag, timestamp), by source file name, then value,
  then quality, then position. All copies are candidates (each has a neighbour at the same time), so the same
  copy is kept on every run, whatever order the files were read in;
- the neighbours of copies and of the readings next to them: the sorted pass orders by time only (a cheap sort),
  so among copies its order is arbitrary; those readings are candidates and take their neighbours in full order.

Rule predicates are SQL over `r` (quality.rules), whatever step decides them.
"""

from __future__ import annotations

import duckdb

from config.sql import quote_ident
from quality.rules import Rule

WINDOW_COLUMNS = ("_prev", "_next", "_prev_ts", "_next_ts", "_sigma", "_period")  # from the sorted pass
DEFERRED_COLUMNS = ("_since", "_dup_rank")  # from the candidates' full order
TIE_BREAK = "_src, value NULLS LAST, quality NULLS LAST, _file, _row"  # _src: the source file's rank by name
# A reading that shares its timestamp with another, or sits next to such copies: its neighbours depend on the order
# among the copies, which only the candidates' full order decides; so it is a candidate, its neighbours taken there.
NEAR_COPIES = "r.ts = r._prev_ts OR r.ts = r._next_ts OR r._prev_ts = r._prev2_ts OR r._next_ts = r._next2_ts"
REPEATS = "r.value = r._prev OR r.value = r._next"  # part of a run of equal values
LIMITS = "(SELECT DISTINCT ON (tag) tag, low_limit, high_limit FROM register WHERE tag IS NOT NULL)"
# What explains a failed reading beside its own columns: kept in `flags` (time-series scores read them there),
# shown in samples and in GX's unexpected rows under these names.
EXPLAINING = {
    "_prev_ts": "previous_ts",
    "_prev": "previous_value",
    "_next_ts": "next_ts",
    "_next": "next_value",
    "_low": "low_limit",
    "_high": "high_limit",
    "_since": "unchanged_since",
}


def flag_readings(con: duckdb.DuckDBPyConnection, rules: list[Rule], flag: dict[str, str]) -> None:
    """Leave table `flags`: the failing readings' ids (`_file`, `_row`), a flag per rule (named `flag[rule]`)
    and the columns that explain a failure (EXPLAINING).

    Needs view `base` (the partition), tables `register` and `tag_stats` (quality.evaluate: `_sigma` and `_period`
    per tag)."""
    local = [r for r in rules if not reads(r, WINDOW_COLUMNS + DEFERRED_COLUMNS)]
    later = [r for r in rules if r not in local]
    immediate = [r for r in later if not reads(r, DEFERRED_COLUMNS)]
    local_flags = "".join(f", COALESCE({r.predicate}, false) AS {flag[r.name]}" for r in local)
    keep = " OR ".join(
        [
            *(f"r.{flag[r.name]}" for r in local),
            *(f"COALESCE({r.predicate}, false)" for r in immediate),
            REPEATS,
            NEAR_COPIES,
        ]
    )
    con.execute(  # per tag: a small integer key (sorting by it is far cheaper than by text), spread and limits
        "CREATE OR REPLACE TEMP TABLE tag_keys AS SELECT t.tag, row_number() OVER (ORDER BY t.tag)::INTEGER AS _tag, "
        f"t._sigma, t._period, g.low_limit AS _low, g.high_limit AS _high FROM tag_stats t LEFT JOIN {LIMITS} g "
        "ON g.tag = t.tag"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE candidates AS
        SELECT * FROM (
            SELECT w.*, k._sigma, k._period, k._low, k._high FROM (
                SELECT i.*, lag(i.value) OVER w AS _prev, lead(i.value) OVER w AS _next,
                       lag(i.ts) OVER w AS _prev_ts, lead(i.ts) OVER w AS _next_ts,
                       lag(i.ts, 2) OVER w AS _prev2_ts, lead(i.ts, 2) OVER w AS _next2_ts
                FROM (
                    SELECT r._file, r._row, r.ts, r._tag, r.value{local_flags}
                    FROM (SELECT b.*, k._tag, k._low, k._high FROM base b LEFT JOIN tag_keys k ON k.tag = b.tag) r
                ) i
                WINDOW w AS (PARTITION BY i._tag ORDER BY i.ts)
            ) w LEFT JOIN tag_keys k ON k._tag = w._tag
        ) r
        WHERE {keep}
        """
    )
    _rank_copies(con)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW r AS
        SELECT n.*, k.tag,
               max(CASE WHEN n.value IS DISTINCT FROM n._prev THEN n.ts END)
                   OVER (PARTITION BY n._tag ORDER BY n.ts, {TIE_BREAK} ROWS UNBOUNDED PRECEDING) AS _since,
               row_number() OVER (PARTITION BY n._tag, n.ts ORDER BY {TIE_BREAK}) AS _dup_rank
        FROM (
            SELECT c.* REPLACE (
                CASE WHEN c.ts = c._prev_ts OR c.ts = c._next_ts OR c._prev_ts = c._prev2_ts
                     THEN lag(c.value) OVER f ELSE c._prev END AS _prev,
                CASE WHEN c.ts = c._prev_ts OR c.ts = c._next_ts OR c._next_ts = c._next2_ts
                     THEN lead(c.value) OVER f ELSE c._next END AS _next)
            FROM (SELECT * FROM candidates LEFT JOIN copy_keys USING (_file, _row)) c
            WINDOW f AS (PARTITION BY c._tag ORDER BY c.ts, {TIE_BREAK})
        ) n LEFT JOIN tag_keys k ON k._tag = n._tag
        """
    )
    decided = [f"r.{flag[r.name]}" if r in local else f"COALESCE({r.predicate}, false)" for r in rules]
    columns = ", ".join(f"{d} AS {flag[r.name]}" for d, r in zip(decided, rules, strict=True))
    explaining = ", ".join(f"r.{c}" for c in EXPLAINING)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE flags AS SELECT r._file, r._row, {columns}, r.tag, r.ts, r.value, "
        f"{explaining} FROM r WHERE {' OR '.join(decided)}"
    )


def _rank_copies(con: duckdb.DuckDBPyConnection) -> None:
    """Table `copy_keys`: the tie-break of the readings that share their tag and timestamp (export file's rank by
    name, quality), read back from the partition for those rows only: the sorted pass need not carry them."""
    con.execute("CREATE OR REPLACE TEMP TABLE copy_keys (_file INTEGER, _row BIGINT, _src BIGINT, quality BIGINT)")
    copies = con.execute(
        "CREATE OR REPLACE TEMP TABLE copies AS SELECT _file, _row FROM candidates WHERE ts = _prev_ts OR ts = _next_ts"
    ).fetchone()
    if not (copies and copies[0]):
        return
    con.execute(
        "INSERT INTO copy_keys SELECT b._file, b._row, s._src, b.quality FROM base b SEMI JOIN copies c "
        "ON c._file = b._file AND c._row = b._row JOIN (SELECT source_file, row_number() OVER (ORDER BY "
        "source_file) AS _src FROM (SELECT DISTINCT source_file FROM base)) s ON s.source_file = b.source_file"
    )


def reads(rule: Rule, columns: tuple[str, ...]) -> bool:
    """Whether a rule's predicate reads any of `columns` (of `r`)."""
    text = rule.predicate or ""
    return any(f"r.{c}" in text or f"r.{quote_ident(c)}" in text for c in columns)
