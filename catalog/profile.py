"""Column profiles of a dataset version: counts, nulls, approximate distinct values, range, quartiles, and a
histogram for numeric columns.

Two scans, whatever the width: one for counts, distinct values and ranges, one for the histograms (their bins need
the range) and the quartiles (a reservoir sample per column, as approximate as SUMMARIZE's and far cheaper); the
ranges of text columns come from their distinct values (see `_text_ranges`).
DuckDB's SUMMARIZE computes statistics nobody shows (mean, standard deviation, exact-width quantiles of every
column) and took four times as long on 10M readings; it remains the fallback for column types these aggregates
do not take (nested ones).

The minimum and maximum of a text column are values of it, so they are withheld (None), and not even computed,
for every column that may hold personal data: free text, names and unknown text columns
(`config.kinds.may_name_people`). Without the source kind no text column can be told safe, and every text column's
min and max are withheld.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from config.kinds import SourceKind, may_name_people

NUMERIC = ("DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "DECIMAL", "HUGEINT", "TINYINT")
TEMPORAL = {"TIMESTAMP WITH TIME ZONE": "make_timestamptz", "TIMESTAMP": "make_timestamp"}
TEXT = ("VARCHAR", "ENUM", "JSON")
NESTED = ("STRUCT", "MAP", "UNION")
QUARTILES = "[0.25, 0.5, 0.75]"
SCAN = "read_parquet(?, hive_partitioning = false)"


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


def profile(
    paths: list[str], kind: SourceKind | None = None, known_text: Mapping[str, Mapping[str, int]] | None = None
) -> list[ColumnProfile]:
    """Every column's profile; numeric columns also get a 10-bin equal-width histogram (JSON).

    Text columns that may hold personal data for `kind` (every text column when `kind` is None) get no min/max.
    `known_text`: text columns whose values are known already, `{value: rows}` without NULLs (the personal-data
    scan counts them): their distinct count is exact and they are not read again.
    """
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        columns = [(str(n), str(t)) for n, t, *_ in con.execute(f"DESCRIBE SELECT * FROM {SCAN}", [paths]).fetchall()]
        if any(_is_nested(type_) for _, type_ in columns):  # lists, structs, maps: SUMMARIZE knows them
            return _summarized(con, paths, kind)
        return _profile(con, paths, columns, kind, known_text or {})
    finally:
        con.close()


def _ident(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _is_nested(type_: str) -> bool:
    return type_.endswith("]") or type_.startswith(NESTED)


def _is_text(type_: str) -> bool:
    return type_.startswith(TEXT) and not _is_nested(type_)


def _is_numeric(type_: str) -> bool:
    return type_.startswith(NUMERIC) and not _is_nested(type_)  # BIGINT[] is a list


def _profile(
    con: duckdb.DuckDBPyConnection,
    paths: list[str],
    columns: list[tuple[str, str]],
    kind: SourceKind | None,
    known_text: Mapping[str, Mapping[str, int]],
) -> list[ColumnProfile]:
    """Counts, distinct values and ranges in one scan (text ranges apart, see `_text_ranges`), histograms and
    quartiles too when the files' statistics give every numeric column's finite range; else those in a second scan.
    The scan's own ranges check the statistics: where they differ, the histograms are made again from the scan's."""
    first = ["count(*)"]
    known = {name: known_text[name] for name, type_ in columns if _is_text(type_) and name in known_text}
    text_shown = [
        name for name, type_ in columns if _is_text(type_) and _values_shown(kind, name, type_) and name not in known
    ]
    for name, type_ in columns:
        if name in known:
            continue
        c = _ident(name)
        first += [f"count({c})", f"approx_count_distinct({c})"]
        shown = _values_shown(kind, name, type_) and name not in text_shown
        first += [f"min({c})::VARCHAR", f"max({c})::VARCHAR"] if shown else ["NULL", "NULL"]
        if _is_numeric(type_):
            finite = f"FILTER (WHERE isfinite({c}::DOUBLE))"
            first += [f"min({c}::DOUBLE) {finite}", f"max({c}::DOUBLE) {finite}"]
    numeric = [name for name, type_ in columns if _is_numeric(type_)]
    footer = _finite_ranges_from_statistics(con, paths, numeric)
    spread_first = len(footer) == len(numeric)  # histogram bins known before reading: one scan does it all
    if spread_first:
        first += _spread_sql(columns, footer)
    found = list(con.execute(f"SELECT {', '.join(first)} FROM {SCAN}", [paths]).fetchone() or ())
    rows = int(found.pop(0))
    ranges: dict[str, tuple[Any, ...]] = {}
    for name, type_ in columns:
        if name in known:
            values = known[name]
            visible = bool(values) and _values_shown(kind, name, type_)
            low, high = (min(values), max(values)) if visible else (None, None)  # Python orders str as DuckDB does
            ranges[name] = (sum(values.values()), len(values), low, high)
            continue
        width = 6 if _is_numeric(type_) else 4
        ranges[name], found = tuple(found[:width]), found[width:]
    distinct = {name: int(ranges[name][1] or 0) for name in text_shown}
    for name, (low, high) in _text_ranges(con, paths, distinct).items():
        ranges[name] = (ranges[name][0], ranges[name][1], low, high, *ranges[name][4:])
    scanned = {name: (ranges[name][4], ranges[name][5]) for name in numeric}
    spread = found  # what the first scan computed after the ranges: histograms and quartiles, if it could
    if not spread_first or any(_as_float(footer[name]) != _as_float(scanned[name]) for name in numeric):
        second = _spread_sql(columns, scanned)  # bins from the scanned ranges (the files' statistics differ)
        spread = (
            list(con.execute(f"SELECT {', '.join(second)} FROM {SCAN}", [paths]).fetchone() or ()) if second else []
        )
    profiles = []
    for name, type_ in columns:
        count, distinct, low, high = ranges[name][:4]
        histogram, quartiles = None, None
        if _is_numeric(type_):
            histogram, quartiles, spread = spread[0], spread[1], spread[2:]
        elif type_ in TEMPORAL:
            quartiles, spread = spread[0], spread[1:]
        q25, q50, q75 = (None, None, None) if quartiles is None else (_text(q) for q in quartiles)
        profiles.append(
            ColumnProfile(
                name, type_, rows - int(count), int(distinct or 0), low, high, q25, q50, q75, rows, _bins(histogram)
            )
        )
    return profiles


def _spread_sql(columns: list[tuple[str, str]], finite: Mapping[str, tuple[Any, Any]]) -> list[str]:
    """Histograms (bins over each numeric column's `finite` range) and quartiles, in column order."""
    spread: list[str] = []
    for name, type_ in columns:
        c = _ident(name)
        if _is_numeric(type_):
            low, high = finite[name]
            bins = f"equi_width_bins({low!r}::DOUBLE, {high!r}::DOUBLE, 10, false)"
            spread.append(
                f"histogram({c}::DOUBLE, {bins}) FILTER (WHERE isfinite({c}::DOUBLE))" if low is not None else "NULL"
            )
            spread.append(f"reservoir_quantile({c}, {QUARTILES})")
        elif type_ in TEMPORAL:
            back = f"lambda q: {TEMPORAL[type_]}(q)::VARCHAR"
            spread.append(f"list_transform(reservoir_quantile(epoch_us({c}), {QUARTILES}), {back})")
    return spread


def _finite_ranges_from_statistics(
    con: duckdb.DuckDBPyConnection, paths: list[str], numeric: list[str]
) -> dict[str, tuple[float | None, float | None]]:
    """The finite range of each numeric column the Parquet footers tell exactly: every column chunk with values has
    exact min and max, no infinity, and (floating point) a NaN count of zero. Columns they cannot tell are left out.
    """
    if not numeric:
        return {}
    try:
        chunks = con.execute(
            "SELECT path_in_schema, type, stats_min_value, stats_max_value, stats_null_count, stats_nan_count, "
            "min_is_exact, max_is_exact, num_values FROM parquet_metadata(?) WHERE path_in_schema IN "
            "(SELECT unnest(?::VARCHAR[]))",
            [paths, numeric],
        ).fetchall()
    except duckdb.Error:
        return {}
    lows: dict[str, list[float]] = {name: [] for name in numeric}
    highs: dict[str, list[float]] = {name: [] for name in numeric}
    untold: set[str] = set()
    for name, physical, low, high, nulls, nans, low_exact, high_exact, values in chunks:
        if nulls is None:
            untold.add(name)
        elif nulls >= values:  # only NULLs here
            continue
        elif low is None or high is None or low_exact is not True or high_exact is not True:
            untold.add(name)  # a writer that keeps no statistics, or truncated ones
        elif physical in {"FLOAT", "DOUBLE"} and nans != 0:  # NaN left out of min and max, or not counted
            untold.add(name)
        else:
            try:
                low_value, high_value = float(low), float(high)
            except ValueError:
                untold.add(name)
                continue
            if not (math.isfinite(low_value) and math.isfinite(high_value)):
                untold.add(name)
                continue
            lows[name].append(low_value)
            highs[name].append(high_value)
    told = {name for name, _, *_ in chunks} - untold
    return {name: (min(lows[name], default=None), max(highs[name], default=None)) for name in numeric if name in told}


def _as_float(pair: tuple[Any, Any]) -> tuple[float | None, float | None]:
    return tuple(None if v is None else float(v) for v in pair)  # type: ignore[return-value]


FEW_VALUES = 100_000  # a text column with about this many distinct values or fewer: its range from its values


def _text_ranges(
    con: duckdb.DuckDBPyConnection, paths: list[str], distinct: dict[str, int]
) -> dict[str, tuple[str | None, str | None]]:
    """Min and max of text columns, given their approximate distinct counts.

    Comparing strings row by row is the slowest aggregate there is (a third of a second per code column over 10M
    readings); the distinct values of a column with few of them are found by hashing, which reads a Parquet
    dictionary once per page, and their min and max cost nothing. Columns with many values are compared row by row,
    all in one scan, so memory does not grow with them."""
    few = [name for name, count in distinct.items() if count <= FEW_VALUES]
    many = [name for name in distinct if name not in few]
    found: dict[str, tuple[str | None, str | None]] = {}
    if few:
        per_column = [
            f"(SELECT [min(v)::VARCHAR, max(v)::VARCHAR] FROM (SELECT DISTINCT {_ident(name)} AS v FROM {SCAN}))"
            for name in few
        ]
        row = con.execute(f"SELECT {', '.join(per_column)}", [paths] * len(few)).fetchone() or ()
        found.update((name, (pair[0], pair[1])) for name, pair in zip(few, row, strict=True))
    if many:
        aggregates = ", ".join(f"min({_ident(n)})::VARCHAR, max({_ident(n)})::VARCHAR" for n in many)
        values = list(con.execute(f"SELECT {aggregates} FROM {SCAN}", [paths]).fetchone() or ())
        found.update((name, (values[2 * i], values[2 * i + 1])) for i, name in enumerate(many))
    return found


def _bins(histogram: dict[Any, Any] | None) -> str | None:
    if not histogram:
        return None
    return json.dumps({str(k): int(v) for k, v in histogram.items()})


def _summarized(con: duckdb.DuckDBPyConnection, paths: list[str], kind: SourceKind | None) -> list[ColumnProfile]:
    """DuckDB's SUMMARIZE per column, for column types the two scans cannot profile."""
    summary = con.execute(
        "SELECT column_name, column_type, count, null_percentage, approx_unique, min, max, q25, q50, q75 "
        f"FROM (SUMMARIZE SELECT * FROM {SCAN})",
        [paths],
    ).fetchall()
    rows: list[ColumnProfile] = []
    for name, type_, count, null_pct, distinct, low, high, q25, q50, q75 in summary:
        nulls = round(float(count or 0) * float(null_pct or 0) / 100.0)
        histogram = _histogram(con, paths, name) if _is_numeric(str(type_)) else None
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


def _histogram(con: duckdb.DuckDBPyConnection, paths: list[str], column: str) -> str | None:
    ident = _ident(column)
    found = con.execute(
        f"SELECT histogram(v, equi_width_bins(lo, hi, 10, false)) FROM "
        f"(SELECT {ident}::DOUBLE AS v FROM {SCAN}), "
        f"(SELECT min({ident})::DOUBLE AS lo, max({ident})::DOUBLE AS hi "
        f"FROM {SCAN} WHERE isfinite({ident}::DOUBLE)) "
        "WHERE isfinite(v) GROUP BY lo, hi",
        [paths, paths],
    ).fetchone()
    return _bins(found[0]) if found else None


def _values_shown(kind: SourceKind | None, column: str, type_: str) -> bool:
    """Whether the column's own values (min, max) may appear in its profile: not text (nor text inside a list or
    struct), or a code column of its kind (ids, tags, states)."""
    if not any(word in type_.upper() for word in TEXT):
        return True
    return kind is not None and not may_name_people(kind, column)


def _text(value: object) -> str | None:
    return None if value is None else str(value)
