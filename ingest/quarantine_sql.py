"""Quarantine SQL: the rows of an export file that cannot be standardised, with file, line, rule and raw text.

Three sources of bad rows: lines DuckDB's CSV reader rejects (`store_rejects`), CSV rows that parse but break a
row rule (found again by line number), and JSON-lines or Parquet rows whose typed cast or rule fails. Each
writes into the `quarantine` temp table the standardiser collects per partition.
"""

from __future__ import annotations

import duckdb

from config.kinds import QuarantineRule
from config.sources import SourceConfig
from ingest.csv_scan import (
    quote_ident,
    read_csv_call,
    reject_detail,
    reject_field_params,
    reject_field_sql,
    rule_for_reject,
)
from ingest.files import partition_key_for_file
from ingest.index import IndexedFile
from ingest.line_finder import find_lines, lines_at
from ingest.plan import TAG_ENUM, ScanPlan, parse_time_text_sql, partition_of_parsed_sql
from ingest.plan_sql import declare_enum, partition_expr, with_utc


def quarantine_csv_rejects(
    con: duckdb.DuckDBPyConnection,
    source: SourceConfig,
    plan: ScanPlan,
    header: list[str],
    path: str,
    rejects_table: str,
    file: IndexedFile,
    keys: list[str],
) -> None:
    """Lines DuckDB could not parse: one quarantine row per line, with the first error on it.

    DuckDB numbers them by record; their physical line is recounted from the byte position it reports.
    """
    rows = con.execute(
        f"SELECT line_byte_position, column_name, error_type, ltrim(csv_line, chr(10) || chr(13)), error_message, "
        f"{_reject_partition_sql(source, plan, header)} "
        f"FROM (SELECT DISTINCT ON (line) * FROM {rejects_table} s ORDER BY line, column_idx) s",
        reject_field_params(source.csv) if plan.timestamp_column else [],
    ).fetchall()
    lines = lines_at(path, [int(row[0]) for row in rows]) if rows else []
    batch = []
    for (_, column, error_type, raw, message, time_key), line in zip(rows, lines, strict=True):
        key = time_key or (file.home if plan.timestamp_column else partition_key_for_file(file.name))
        if key not in keys:
            continue
        rule = rule_for_reject(error_type, column, plan.timestamp_column or "", plan.tag_column)
        batch.append((file.name, line, rule.value, reject_detail(rule, column, message), raw, key))
    if batch:
        con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?)", batch)


def _reject_partition_sql(source: SourceConfig, plan: ScanPlan, header: list[str]) -> str:
    if plan.timestamp_column is None:
        return "NULL"
    parsed = parse_time_text_sql(source, reject_field_sql(header.index(plan.timestamp_column)))
    return f"(SELECT {partition_of_parsed_sql(source, 'p')} FROM (SELECT {parsed} AS p))"


def quarantine_row_rules(
    con: duckdb.DuckDBPyConnection,
    source: SourceConfig,
    plan: ScanPlan,
    header: list[str],
    path: str,
    file: IndexedFile,
    keys: list[str],
) -> None:
    """Rows that parsed but break a row rule (missing required value, non-existent local time).

    They are rare, so they cost a second scan only when the counts show some exist: the scan reads the
    raw text of the rows the rule rejects, and the line finder locates their line numbers.
    """
    raw_types = dict.fromkeys(header, "VARCHAR")
    call, params = read_csv_call(raw_types, source.csv, timestamp_format=None, rejects=("rr_rej", "rr_scan"))
    typed = ", ".join(_try_cast(source, plan, column) for column in header)
    raw_cols = ", ".join(f"s.{quote_ident(c)} AS {quote_ident('_raw_' + c)}" for c in header)
    cast_ok = " AND ".join(f"(s.{quote_ident('_raw_' + c)} IS NULL OR s.{quote_ident(c)} IS NOT NULL)" for c in header)
    part = partition_expr(plan)
    part_params = [partition_key_for_file(file.name)] if plan.partition_sql == "NULL" else []
    inner = f"(SELECT {raw_cols}, {typed} FROM {call} s)"
    plan_rule, utc = plan.rule_sql, plan.utc_sql  # on input rows: for historian_wide the rule looks at time only
    declare_enum(con, plan)
    rows = con.execute(
        f"SELECT {plan_rule} AS rule, {part} AS _part, {', '.join('s.' + quote_ident('_raw_' + c) for c in header)} "
        f"FROM (SELECT *, {utc} AS _utc FROM {inner} s) s WHERE {cast_ok} AND {plan_rule} IS NOT NULL",
        [*part_params, path, *params],  # in textual order
    ).fetchall()
    con.execute("DROP TABLE IF EXISTS rr_rej")
    con.execute("DROP TABLE IF EXISTS rr_scan")
    if not rows:
        return
    raw_rows = [tuple(r[2:]) for r in rows]
    lines = find_lines(path, source.csv, raw_rows)
    batch = []
    for (rule, time_key, *_), raw, line in zip(rows, raw_rows, lines, strict=True):
        key = time_key or file.home
        if key not in keys:
            continue
        text = source.csv.delimiter.join("" if v is None else v for v in raw)
        batch.append((file.name, line, rule, _rule_detail(rule, plan), text, key))
    if batch:
        con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?)", batch)


def _try_cast(source: SourceConfig, plan: ScanPlan, column: str) -> str:
    ident = f"s.{quote_ident(column)}"
    type_ = plan.read_types[column]
    if type_ in {"TIMESTAMP", "TIMESTAMPTZ"}:
        return f"{parse_time_text_sql(source, ident)} AS {quote_ident(column)}"
    if type_ == "DOUBLE" and source.csv.decimal == ",":
        return f"TRY_CAST(replace({ident}, ',', '.') AS DOUBLE) AS {quote_ident(column)}"
    return f"TRY_CAST({ident} AS {type_}) AS {quote_ident(column)}"


def _rule_detail(rule: str, plan: ScanPlan) -> str:
    column = plan.timestamp_column or "time"
    return {
        QuarantineRule.NONEXISTENT_LOCAL_TIME.value: f"local time in {column!r} does not exist (clocks jumped forward)",
        QuarantineRule.AMBIGUOUS_LOCAL_TIME.value: f"local time in {column!r} happens twice (clocks went back)",
        QuarantineRule.MISSING_REQUIRED.value: "a required value is empty",
        QuarantineRule.INVALID_JSON.value: "the line is not a JSON object",
    }.get(rule, rule)


def typed_rows_sql(source: SourceConfig, plan: ScanPlan, table: str) -> str:
    """Row-path typing: every field TRY_CAST, with the first failing field named as the rule."""
    casts = []
    failures = []
    for column, type_ in plan.read_types.items():
        ident = f"r.{quote_ident(column)}"
        if type_ in {"TIMESTAMP", "TIMESTAMPTZ"}:
            casted = parse_time_text_sql(source, ident)
            rule = QuarantineRule.INVALID_TIMESTAMP
        else:
            casted = f"TRY_CAST({ident} AS {type_})"
            rule = QuarantineRule.UNKNOWN_TAG if type_ == TAG_ENUM else QuarantineRule.UNPARSEABLE_VALUE
        casts.append(f"{casted} AS {quote_ident(column)}")
        failures.append(f"CASE WHEN {ident} IS NOT NULL AND {casted} IS NULL THEN '{rule.value}:{column}' END")
    return (
        f"SELECT r._line, r._raw, r._bad, COALESCE({', '.join(failures)}) AS _cast_rule, {', '.join(casts)} "
        f"FROM {table} r"
    )


def quarantine_typed_rows(
    con: duckdb.DuckDBPyConnection, source: SourceConfig, plan: ScanPlan, table: str, file: IndexedFile, keys: list[str]
) -> None:
    part = partition_expr(plan)
    part_params = [partition_key_for_file(file.name)] if plan.partition_sql == "NULL" else []
    rows = con.execute(
        f"SELECT s._line, COALESCE(s._bad, split_part(s._cast_rule, ':', 1), {plan.rule_sql}) AS rule, "
        f"s._cast_rule, s._raw, CASE WHEN s._bad IS NULL THEN {part} END AS _part "
        f"FROM {with_utc(plan, f'(SELECT * FROM {table})')} s "
        f"WHERE s._bad IS NOT NULL OR s._cast_rule IS NOT NULL OR {plan.rule_sql} IS NOT NULL",
        part_params,
    ).fetchall()
    batch = []
    for line, rule, cast_rule, raw, time_key in rows:
        key = time_key or (file.home if plan.timestamp_column else partition_key_for_file(file.name))
        if key not in keys:
            continue
        detail = f"cannot read column {cast_rule.split(':', 1)[1]!r}" if cast_rule else _rule_detail(rule, plan)
        batch.append((file.name, int(line), rule, detail, raw, key))
    if batch:
        con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?)", batch)
