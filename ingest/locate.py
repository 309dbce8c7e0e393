"""Finding the line of the export file a standardised row came from, for the few rows the quality gate removes.

The fast path does not keep line numbers: DuckDB's reader gives none, and numbering rows in file order halves
its speed. The gate removes few rows, so their lines are found afterwards: the file is read again with every
column as text, numbered in order, and mapped to canonical rows by the same plan; a row number becomes a
physical line by skipping the preamble, empty lines and the records the reader rejected (in such a file every
record is one line: that is why it took the fast path). Row-path files keep their line numbers anyway.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from config.layout import Layout
from config.sources import SourceConfig
from ingest.columns import quote_ident
from ingest.csv_scan import read_csv_call, read_header
from ingest.index import IndexedFile, cached_entries, readable_entry, source_file
from ingest.line_finder import lines_at
from ingest.plan import ScanPlan, build_plan
from ingest.plan_sql import declare_enum, with_utc
from ingest.quarantine_sql import cast_text_sql, typed_rows_sql
from ingest.register import Register, load_register
from ingest.rows import load_csv_records, load_rows
from ingest.time_sql import TimeReading, format_literal


def locate_lines(source: SourceConfig, layout: Layout, rows: list[dict[str, str | None]]) -> list[int | None]:
    """The line of each canonical row in its export file (`source_file`); None where it is not found.

    Rows give every column as DuckDB's VARCHAR cast of its standardised value (in a UTC session)."""
    entries = {e.name: e for e in cached_entries(layout, source)}
    found: list[int | None] = [None] * len(rows)
    by_file: dict[str, list[int]] = {}
    for position, row in enumerate(rows):
        by_file.setdefault(str(row.get("source_file")), []).append(position)
    for name, positions in by_file.items():
        entry = entries.get(name)
        if entry is None or entry.unreadable:
            continue
        lines = _locate_in_file(source, layout, entry, [rows[p] for p in positions])
        for position, line in zip(positions, lines, strict=True):
            found[position] = line
    return found


def _locate_in_file(
    source: SourceConfig, layout: Layout, entry: IndexedFile, rows: list[dict[str, str | None]]
) -> list[int | None]:
    register = load_register(layout, source.register_source) if source.register_source else Register(())
    found = source_file(entry)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        if entry.reader == "rows":
            fields, _ = load_rows(con, found, source.format, "loc_rows")
            plan = build_plan(source, fields, register, entry.name, TimeReading.TEXT, row_path=True)
            numbered = f"(SELECT _line AS _loc, * FROM ({typed_rows_sql(source, plan, 'loc_rows')}))"
            return _match(con, plan, numbered, rows, None)
        text = readable_entry(entry, source, layout.scratch() / "transcoded", count=True)
        try:
            header = read_header(text.path, source.csv, entry.uri)
            if entry.reader == "records":
                load_csv_records(con, text.path, source.csv, header, "loc_rows")
                plan = build_plan(source, header, register, entry.name, TimeReading.TEXT, row_path=True)
                numbered = f"(SELECT _line AS _loc, * FROM ({typed_rows_sql(source, plan, 'loc_rows')}))"
                return _match(con, plan, numbered, rows, None)
            plan = build_plan(
                source, header, register, entry.name, TimeReading(entry.time_reading), padded_tags=entry.padded_tags
            )
            call, params = read_csv_call(
                dict.fromkeys(header, "VARCHAR"), source.csv, timestamp_format=None, rejects=("loc_rej", "loc_scan")
            )
            typed = ", ".join(_typed(source, plan, c) for c in header)
            numbered = f"(SELECT row_number() OVER () AS _loc, {typed} FROM {call} s)"
            ordinals = _match(con, plan, numbered, rows, [text.path, *params])
            rejected = con.execute("SELECT DISTINCT line_byte_position FROM loc_rej").fetchall()
            skipped = set(text.lines.empty) | set(lines_at(text.path, [int(r[0]) for r in rejected]))
            preamble = source.csv.skip_rows + (1 if source.csv.header else 0)
            return [_line_of(o, preamble, sorted(x for x in skipped if x > preamble)) for o in ordinals]
        finally:
            text.discard()
    finally:
        con.close()


def _typed(source: SourceConfig, plan: ScanPlan, column: str) -> str:
    """A text column typed as the plan's reader would (times stay text when the plan reads them as text)."""
    type_ = plan.read_types[column]
    ident = f"s.{quote_ident(column)}"
    if type_ in {"TIMESTAMP", "TIMESTAMPTZ"}:
        formats = source.timestamp.formats
        casted = f"TRY_STRPTIME({ident}, {format_literal(formats)})" if formats else f"TRY_CAST({ident} AS {type_})"
    else:
        casted = cast_text_sql(source, ident, type_)
    return f"{casted} AS {quote_ident(column)}"


def _match(
    con: duckdb.DuckDBPyConnection,
    plan: ScanPlan,
    numbered: str,
    rows: list[dict[str, str | None]],
    params: list[Any] | None,
) -> list[int | None]:
    """Numbers (`_loc`) of the scanned rows equal to `rows`; equal rows take distinct numbers, the last ones first
    (of identical copies the gate keeps one and removes the others: the later lines are the copies)."""
    columns = [name for name, _ in plan.output if name not in {"source_file", "source_line"} and name in rows[0]]
    wanted = pa.table(
        {"_want": list(range(len(rows))), **{c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns}}
    )
    con.register("loc_wanted", wanted)
    declare_enum(con, plan)
    outputs = ", ".join(
        f"CAST({sql} AS VARCHAR) AS {quote_ident(name)}" for name, sql in plan.output if name in columns
    )
    keys = ", ".join(quote_ident(c) for c in columns)
    same = " AND ".join(f"w.{quote_ident(c)} IS NOT DISTINCT FROM c.{quote_ident(c)}" for c in columns)
    rank = f"row_number() OVER (PARTITION BY {keys} ORDER BY"
    sql = (
        f"SELECT w._want, c._loc FROM (SELECT *, {rank} _want) AS _k FROM loc_wanted) w "
        f"JOIN (SELECT *, {rank} _loc DESC) AS _k FROM (SELECT s._loc, {outputs} FROM {with_utc(plan, numbered)} s "
        f"WHERE {plan.rule_sql} IS NULL)) c ON {same} AND w._k = c._k"
    )
    try:
        found = dict(con.execute(sql, params or []).fetchall())
    finally:
        con.unregister("loc_wanted")
    return [found.get(i) for i in range(len(rows))]


def _line_of(ordinal: int | None, preamble: int, skipped: list[int]) -> int | None:
    """The physical line of the `ordinal`-th record the reader accepted, given the lines it did not see as one."""
    if ordinal is None:
        return None
    line = preamble + ordinal
    for excluded in skipped:
        if excluded <= line:
            line += 1
        else:
            break
    return line
