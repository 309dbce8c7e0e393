"""Quarantine SQL: the rows of an export file that cannot be standardised, with file, line, rule and raw text.

Three sources of bad rows: lines DuckDB's CSV reader rejects (`store_rejects`), CSV rows that parse but break a
row rule (found again by line number), and row-path rows (JSON lines, Parquet, CSV read record by record)
whose typed cast or rule fails. Each writes into the `quarantine` temp table the standardiser collects per
partition. Details name columns as the export calls them.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from config.kinds import QuarantineRule
from config.sources import SourceConfig
from ingest.columns import quote_ident
from ingest.csv_scan import (
    read_csv_call,
    reject_detail,
    rule_for_reject,
)
from ingest.index import IndexedFile, key_columns, key_of_text_sql, reject_key_sql
from ingest.line_finder import find_lines, line_texts, lines_at
from ingest.plan import ScanPlan
from ingest.plan_sql import declare_enum, partition_expr, with_derived
from ingest.time_sql import format_literal, offset_detail

QUARANTINE_COLUMNS = (
    "source_file VARCHAR, line BIGINT, rule VARCHAR, detail VARCHAR, raw VARCHAR, rows BIGINT DEFAULT 1, "
    "file_size BIGINT, file_sha256 VARCHAR, _part VARCHAR"
)
INSERTED = pa.schema(
    [("source_file", pa.string()), ("line", pa.int64()), ("rule", pa.string()), ("detail", pa.string()),
     ("raw", pa.string()), ("_part", pa.string())]
)  # fmt: skip


def insert_quarantine(con: duckdb.DuckDBPyConnection, batch: Sequence[tuple[object, ...]]) -> None:
    """Add rows (source_file, line, rule, detail, raw, _part) to the `quarantine` table in one statement, in order.

    DuckDB's `executemany` runs one INSERT per row: a file with a million rows breaking a rule (an hour of readings
    in a spring-forward gap) took many minutes there, and seconds as one Arrow table."""
    if not batch:
        return
    table = pa.Table.from_arrays(
        [pa.array(column, type=field.type) for column, field in zip(zip(*batch, strict=True), INSERTED, strict=True)],
        schema=INSERTED,
    )
    con.register("_quarantine_batch", table)
    try:
        con.execute(f"INSERT INTO quarantine ({', '.join(INSERTED.names)}) SELECT * FROM _quarantine_batch")
    finally:
        con.unregister("_quarantine_batch")


def quarantine_csv_rejects(
    con: duckdb.DuckDBPyConnection,
    source: SourceConfig,
    plan: ScanPlan,
    header: list[str],
    path: str,
    rejects_table: str,
    file: IndexedFile,
    keys: list[str] | None,
) -> None:
    """Lines DuckDB could not parse: one quarantine row per line, with the first error on it (`keys` None: in any
    partition).

    DuckDB numbers them by record; their physical line is recounted from the byte position it reports.
    """
    if not con.execute(f"SELECT count(*) FROM {rejects_table}").fetchall()[0][0]:
        return  # most files: the query below is long to plan (its time SQL), for nothing
    field_sql, field_params = reject_key_sql(source, header, key_columns(source))
    rows = con.execute(
        f"SELECT line_byte_position, column_name, error_type, raw, error_message, {key_of_text_sql(source, 's.f')} "
        f"FROM (SELECT *, ltrim(csv_line, chr(10) || chr(13)) AS raw, {field_sql} AS f FROM "
        f"(SELECT DISTINCT ON (line) * FROM {rejects_table} s ORDER BY line, column_idx) s) s",
        field_params,
    ).fetchall()
    lines = lines_at(path, [int(row[0]) for row in rows]) if rows else []
    batch = []
    for (_, column_name, error_type, raw, message, row_key), line in zip(rows, lines, strict=True):
        key = row_key or file.home
        if keys is not None and key not in keys:
            continue
        rule = rule_for_reject(error_type, column_name, plan.time_columns, plan.tag_column)
        batch.append((file.name, line, rule.value, reject_detail(rule, column_name, message), raw, key))
    insert_quarantine(con, batch)


def quarantine_row_rules(
    con: duckdb.DuckDBPyConnection,
    source: SourceConfig,
    plan: ScanPlan,
    header: list[str],
    path: str,
    file: IndexedFile,
    keys: list[str] | None,
) -> None:
    """Rows that parsed but break a row rule (missing required value, local time that does not exist, a
    stated offset that disagrees with the zone, an unknown tag or quality code).

    They are rare, so they cost a second scan only when the counts show some exist: the scan reads the
    raw text of the rows the rule rejects, and the line finder locates their line numbers.
    """
    raw_types = dict.fromkeys(header, "VARCHAR")
    call, params = read_csv_call(raw_types, source.csv, timestamp_format=None, rejects=("rr_rej", "rr_scan"))
    typed = ", ".join(_try_cast(source, plan, column) for column in header)
    raw_cols = ", ".join(f"s.{quote_ident(c)} AS {quote_ident('_raw_' + c)}" for c in header)
    cast_ok = " AND ".join(f"(s.{quote_ident('_raw_' + c)} IS NULL OR s.{quote_ident(c)} IS NOT NULL)" for c in header)
    part = partition_expr(plan)
    part_params = [file.home] if plan.partition_sql == "NULL" else []
    inner = f"(SELECT {raw_cols}, {typed} FROM {call} s)"
    declare_enum(con, plan)
    rows = con.execute(
        f"SELECT {plan.rule_sql} AS rule, {part} AS _part, {plan.value_sql(plan.rule_sql)} AS _value, "
        f"{', '.join('s.' + quote_ident('_raw_' + c) for c in header)} "
        f"FROM {with_derived(plan, inner)} s WHERE {cast_ok} AND {plan.rule_sql} IS NOT NULL",
        [*part_params, path, *params],  # in textual order
    ).fetchall()
    con.execute("DROP TABLE IF EXISTS rr_rej")
    con.execute("DROP TABLE IF EXISTS rr_scan")
    if not rows:
        return
    raw_rows = [tuple(r[3:]) for r in rows]
    lines = find_lines(path, source.csv, raw_rows)
    texts = line_texts(path, lines)
    time_at = header.index(plan.timestamp_column) if plan.timestamp_column in header else None
    batch = []
    details: dict[tuple[str, str | None, str | None], str] = {}  # an hour in a clock change: one detail, many rows
    for (rule, row_key, value, *_), raw, line in zip(rows, raw_rows, lines, strict=True):
        key = row_key or file.home
        if keys is not None and key not in keys:
            continue
        text = texts.get(line) if line is not None else None
        text = text if text is not None else source.csv.field_delimiter.join("" if v is None else v for v in raw)
        time_text = raw[time_at] if time_at is not None else None
        # a detail depends on the rule and the value, and on the time text only for an offset mismatch without one
        timed = time_text if rule == QuarantineRule.OFFSET_MISMATCH.value and value is None else None
        detail = details.get((rule, value, timed))
        if detail is None:
            detail = details[(rule, value, timed)] = rule_detail(source, rule, plan, time_text, value)
        batch.append((file.name, line, rule, detail, text, key))
    insert_quarantine(con, batch)


def _try_cast(source: SourceConfig, plan: ScanPlan, column: str) -> str:
    """A text column typed as the fast path's reader types it."""
    ident = f"s.{quote_ident(column)}"
    type_ = plan.read_types[column]
    formats = source.timestamp.formats
    if type_ in {"TIMESTAMP", "TIMESTAMPTZ"}:
        casted = f"TRY_STRPTIME({ident}, {format_literal(formats)})" if formats else f"TRY_CAST({ident} AS {type_})"
        return f"{casted} AS {quote_ident(column)}"
    return f"{cast_text_sql(source, ident, type_)} AS {quote_ident(column)}"


def cast_text_sql(source: SourceConfig, ident: str, type_: str) -> str:
    """Text to a typed value, as the CSV reader would read it (decimal comma included)."""
    numeric = type_ in {"DOUBLE", "DECIMAL(18,6)", "BIGINT", "INTEGER", "SMALLINT"}
    if numeric and source.csv.thousands:
        ident = f"replace({ident}, '{source.csv.thousands.replace(chr(39), chr(39) * 2)}', '')"
    if type_ in {"DOUBLE", "DECIMAL(18,6)"} and source.csv.decimal == ",":
        return f"TRY_CAST(replace({ident}, ',', '.') AS {type_})"
    return f"TRY_CAST({ident} AS {type_})"


def rule_detail(source: SourceConfig, rule: str, plan: ScanPlan, time_text: str | None, value: str | None) -> str:
    """What a row rule means for this row, naming the column as the export calls it and quoting the bad value."""
    column = plan.timestamp_column or next(iter(sorted(plan.time_columns)), "time")
    if rule == QuarantineRule.OFFSET_MISMATCH.value:
        return offset_detail(value if value is not None else time_text, source.timestamp.timezone)
    return {
        QuarantineRule.NONEXISTENT_LOCAL_TIME.value: f"local time in {column!r} does not exist (clocks jumped forward)",
        QuarantineRule.AMBIGUOUS_LOCAL_TIME.value: f"local time in {column!r} happens twice (clocks went back)",
        QuarantineRule.INVALID_TIMESTAMP.value: f"{column!r} is not a timestamp"
        + (f" in format {source.timestamp.format!r}" if source.timestamp.format else ""),
        QuarantineRule.INVALID_JSON.value: "the line is not a JSON object",
        QuarantineRule.INVALID_ENCODING.value: "the line is not UTF-8 (JSON lines must be); re-export it as UTF-8",
        **{r: d.format(value=value) for r, d in plan.details.items()},
    }.get(rule, rule)


def typed_rows_sql(source: SourceConfig, plan: ScanPlan, table: str) -> str:
    """Row-path typing: every field TRY_CAST, with the first failing field named as the rule."""
    casts = []
    failures = []
    for column, type_ in plan.read_types.items():
        ident = f"r.{quote_ident(column)}"
        casted = cast_text_sql(source, ident, type_)
        rule = QuarantineRule.UNPARSEABLE_VALUE
        casts.append(f"{casted} AS {quote_ident(column)}")
        failures.append(f"CASE WHEN {ident} IS NOT NULL AND {casted} IS NULL THEN '{rule.value}:{column}' END")
    return (
        f"SELECT r._line, r._raw, r._bad, r._detail, COALESCE({', '.join(failures)}) AS _cast_rule, "
        f"{', '.join(casts)} FROM {table} r"
    )


def quarantine_typed_rows(
    con: duckdb.DuckDBPyConnection, source: SourceConfig, plan: ScanPlan, table: str, file: IndexedFile, keys: list[str]
) -> None:
    part = partition_expr(plan)
    part_params = [file.home] if plan.partition_sql == "NULL" else []
    time_column = plan.timestamp_column
    time_sql = f"s.{quote_ident(time_column)}::VARCHAR" if time_column in plan.read_types else "NULL"
    rows = con.execute(
        f"SELECT s._line, COALESCE(s._bad, split_part(s._cast_rule, ':', 1), {plan.rule_sql}) AS rule, "
        f"s._cast_rule, s._raw, s._detail, {time_sql}, {plan.value_sql(plan.rule_sql)}, "
        f"CASE WHEN s._bad IS NULL THEN {part} END AS _part "
        f"FROM {with_derived(plan, f'(SELECT * FROM {table})')} s "
        f"WHERE s._bad IS NOT NULL OR s._cast_rule IS NOT NULL OR {plan.rule_sql} IS NOT NULL",
        part_params,
    ).fetchall()
    batch = []
    for line, rule, cast_rule, raw, bad_detail, time_text, value, row_key in rows:
        key = row_key or file.home
        if key not in keys:
            continue
        if bad_detail:
            detail = bad_detail
        elif cast_rule:
            detail = (
                f"cannot read column {cast_rule.split(':', 1)[1]!r} as {plan.read_types[cast_rule.split(':', 1)[1]]}"
            )
        else:
            detail = rule_detail(source, rule, plan, time_text, value)
        batch.append((file.name, int(line), rule, detail, raw, key))
    insert_quarantine(con, batch)
