"""Standardise a source's export files into canonical, partitioned Parquet; quarantine what cannot be.

For each requested partition the result is `<source>/<day|file>=<key>/part-<file>.parquet` (one piece per
contributing export file) and a quarantine Parquet with file, line, rule and raw text. Everything is
written under a scratch folder first, the row balance is checked against the index, and only then are
files moved into place with `os.replace` (a reader never sees half a file). Re-running a partition
replaces it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ingest.config import SourceConfig
from ingest.csv_scan import (
    quote_ident,
    read_csv_call,
    read_header,
    readable_path,
    reject_detail,
    reject_field_params,
    reject_field_sql,
    rule_for_reject,
)
from ingest.errors import RowsLostError, SourceFileError
from ingest.files import SourceFile, partition_key_for_file
from ingest.index import IndexedFile
from ingest.kinds import FileFormat, QuarantineRule
from ingest.layout import Layout, partition_dir
from ingest.line_finder import find_lines, lines_at
from ingest.plan import TAG_ENUM, ScanPlan, build_plan, parse_time_text_sql, partition_of_parsed_sql
from ingest.register import Register
from ingest.rows import load_rows

QUARANTINE_COLUMNS = "source_file VARCHAR, line BIGINT, rule VARCHAR, detail VARCHAR, raw VARCHAR, _part VARCHAR"
Progress = Callable[[str], None]


@dataclass
class PartitionResult:
    """What standardising one partition produced; the materialisation metadata and the manifest."""

    source: str
    key: str
    files: list[dict[str, Any]] = field(default_factory=list)
    rows_in: int = 0
    rows_out: int = 0
    readings_out: int = 0
    rows_quarantined: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    quarantine: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_out + self.rows_quarantined


def standardise(
    source: SourceConfig,
    files: list[IndexedFile],
    keys: list[str],
    layout: Layout,
    register: Register,
    progress: Progress | None = None,
) -> list[PartitionResult]:
    """Standardise partitions `keys` of `source` from the indexed `files` that feed them."""
    wanted = set(keys)
    feeding = [f for f in files if wanted & set(f.partitions)]
    work = layout.scratch() / f"{source.name}-{uuid.uuid4().hex[:12]}"
    results = {key: PartitionResult(source.name, key) for key in keys}
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"CREATE TEMP TABLE quarantine ({QUARANTINE_COLUMNS})")
        for number, file in enumerate(feeding):
            if progress:
                progress(f"{source.name}: {file.name}")
            for key in wanted & set(file.partitions):
                results[key].rows_in += file.partitions[key]
                results[key].files.append({"name": file.name, "uri": file.uri, "sha256": file.sha256})
            _standardise_file(
                con, source, file, sorted(wanted & set(file.partitions)), register, layout, work, number, results
            )
        _collect_quarantine(con, work, results)
        _publish(source, layout, work, results)
    except duckdb.Error as exc:
        raise SourceFileError(source.name, f"DuckDB failed while standardising: {exc}") from exc
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)
    return [results[key] for key in keys]


def _standardise_file(
    con: duckdb.DuckDBPyConnection,
    source: SourceConfig,
    file: IndexedFile,
    keys: list[str],
    register: Register,
    layout: Layout,
    work: Path,
    number: int,
    results: dict[str, PartitionResult],
) -> None:
    file_key = partition_key_for_file(file.name)
    found = SourceFile(file.uri, file.name, file.size, file.mtime, is_local="://" not in file.uri)
    target = work / "good" / f"f{number}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.format is FileFormat.CSV:
        path = readable_path(found, source.csv, layout.scratch() / "transcoded", file.fingerprint)
        header = read_header(path, source.csv, file.uri)
        plan = build_plan(source, header, register, file.name)
        _declare_enum(con, plan)
        rejects = (f"rej{number}", f"scan{number}")
        call, params = read_csv_call(
            plan.read_types, source.csv, timestamp_format=source.timestamp.format, rejects=rejects
        )
        scan = f"(SELECT * FROM {call})"
        scan_params = [path, *params]
        _copy_good(con, plan, scan, scan_params, keys if set(keys) != set(file.partitions) else None, file_key, target)
        _quarantine_csv_rejects(con, source, plan, header, path, rejects[0], file, keys)
        written = _count_written(con, plan, target, results)
        quarantined = con.execute("SELECT count(*) FROM quarantine WHERE source_file = ?", [file.name]).fetchone()
        expected = sum(file.partitions[k] for k in keys)
        if written + (quarantined[0] if quarantined else 0) < expected:
            _quarantine_row_rules(con, source, plan, header, path, file, keys)
        if path != file.uri:  # a transcoded or downloaded copy: not needed once the file is standardised
            Path(path).unlink(missing_ok=True)
    else:
        fields, _ = load_rows(con, found, source.format, f"rows{number}")
        plan = build_plan(source, fields, register, file.name)
        _declare_enum(con, plan)
        typed = _typed_rows_sql(source, plan, f"rows{number}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE typed{number} AS {typed}")
        good_rows = f"(SELECT * FROM typed{number} WHERE _cast_rule IS NULL AND _bad IS NULL)"
        _copy_good(con, plan, good_rows, [], keys if set(keys) != set(file.partitions) else None, file_key, target)
        _quarantine_typed_rows(con, source, plan, f"typed{number}", file, keys)
        _count_written(con, plan, target, results)


def _declare_enum(con: duckdb.DuckDBPyConnection, plan: ScanPlan) -> None:
    """(Re)declare the ENUM types the plan's SQL refers to; names are constants, values are parameters."""
    for name, values in plan.enums.items():
        con.execute(f"DROP TYPE IF EXISTS {name}")
        con.execute(f"CREATE TYPE {name} AS ENUM (SELECT unnest(?::VARCHAR[]))", [list(values)])


def _with_utc(plan: ScanPlan, scan: str) -> str:
    if plan.unpivot:
        columns = ", ".join(quote_ident(c) for c in plan.unpivot)
        scan = f"(SELECT * FROM {scan} u UNPIVOT INCLUDE NULLS (value FOR tag IN ({columns})))"
    return f"(SELECT *, {plan.utc_sql} AS _utc FROM {scan} s)"


def _partition_expr(plan: ScanPlan) -> str:
    """The partition key as text: the row's UTC day, or the file's key (a parameter) for file partitions."""
    return f"({plan.partition_sql})::VARCHAR" if plan.partition_sql != "NULL" else "?::VARCHAR"


def _copy_good(
    con: duckdb.DuckDBPyConnection,
    plan: ScanPlan,
    scan: str,
    scan_params: list[Any],
    keys: list[str] | None,
    file_key: str,
    target: Path,
) -> None:
    """Write the file's good rows, partitioned; `keys` None means every partition the file feeds."""
    outputs = ", ".join(f"{sql} AS {quote_ident(name)}" for name, sql in plan.output)
    part = _partition_expr(plan)
    part_params = [file_key] if plan.partition_sql == "NULL" else []
    only = "" if keys is None else f" AND list_contains(?, {part})"
    write_part = plan.partition_sql if plan.partition_sql != "NULL" else part  # a DATE partitions fastest
    sql = (
        f"COPY (SELECT {outputs}, {write_part} AS _part FROM {_with_utc(plan, scan)} s "
        f"WHERE {plan.rule_sql} IS NULL{only}) "
        f"TO '{_path_literal(target)}' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (_part), "
        f"FILENAME_PATTERN 'part-{{i}}', OVERWRITE_OR_IGNORE)"
    )
    filter_params = [] if keys is None else [keys, *part_params]
    con.execute(sql, [*part_params, *scan_params, *filter_params])  # in textual order


def _quarantine_csv_rejects(
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


def _quarantine_row_rules(
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
    part = _partition_expr(plan)
    part_params = [partition_key_for_file(file.name)] if plan.partition_sql == "NULL" else []
    inner = f"(SELECT {raw_cols}, {typed} FROM {call} s)"
    plan_rule, utc = plan.rule_sql, plan.utc_sql  # on input rows: for historian_wide the rule looks at time only
    _declare_enum(con, plan)
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


def _typed_rows_sql(source: SourceConfig, plan: ScanPlan, table: str) -> str:
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


def _quarantine_typed_rows(
    con: duckdb.DuckDBPyConnection, source: SourceConfig, plan: ScanPlan, table: str, file: IndexedFile, keys: list[str]
) -> None:
    part = _partition_expr(plan)
    part_params = [partition_key_for_file(file.name)] if plan.partition_sql == "NULL" else []
    rows = con.execute(
        f"SELECT s._line, COALESCE(s._bad, split_part(s._cast_rule, ':', 1), {plan.rule_sql}) AS rule, "
        f"s._cast_rule, s._raw, CASE WHEN s._bad IS NULL THEN {part} END AS _part "
        f"FROM {_with_utc(plan, f'(SELECT * FROM {table})')} s "
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


def _count_written(
    con: duckdb.DuckDBPyConnection, plan: ScanPlan, target: Path, results: dict[str, PartitionResult]
) -> int:
    """Add one file's written rows to its partitions; return its input rows written (readings / width)."""
    pieces = sorted(target.glob("_part=*/*.parquet"))
    if not pieces:
        return 0
    rows = con.execute(
        "SELECT _part, count(*) FROM read_parquet(?, hive_partitioning = true, hive_types_autocast = false) GROUP BY 1",
        [[str(p) for p in pieces]],
    ).fetchall()
    total = 0
    for key, readings in rows:
        results[key].readings_out += int(readings)
        results[key].rows_out += int(readings) // plan.readings_per_row
        total += int(readings) // plan.readings_per_row
    return total


def _collect_quarantine(con: duckdb.DuckDBPyConnection, work: Path, results: dict[str, PartitionResult]) -> None:
    for key, rule, count in con.execute(
        "SELECT _part, rule, count(*) FROM quarantine GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall():
        results[key].rules[rule] = int(count)
        results[key].rows_quarantined += int(count)
    if any(r.rows_quarantined for r in results.values()):
        con.execute(
            f"COPY (SELECT * FROM quarantine ORDER BY source_file, line) TO '{_path_literal(work / 'quarantine')}' "
            "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (_part), FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE)"
        )


def _publish(source: SourceConfig, layout: Layout, work: Path, results: dict[str, PartitionResult]) -> None:
    """Check the balance of every partition, then move its files into place and drop stale ones."""
    for result in results.values():
        if not result.balanced:
            raise RowsLostError(source.name, result.key, result.rows_in, result.rows_out, result.rows_quarantined)
    partitioning = source.partitioning
    for key, result in results.items():
        for kind, base, names in (
            ("good", layout.standardised(source.name), result.outputs),
            ("quarantine", layout.quarantine(source.name), result.quarantine),
        ):
            final_dir = partition_dir(base, partitioning, key)
            final_dir.mkdir(parents=True, exist_ok=True)
            pieces = (
                sorted(work.glob(f"{kind}/*/_part={key}/*.parquet"))
                if kind == "good"
                else sorted(work.glob(f"{kind}/_part={key}/*.parquet"))
            )
            keep = set()
            for number, piece in enumerate(pieces):
                origin = piece.parent.parent.name if kind == "good" else "q"
                name = f"part-{origin}-{number}.parquet"
                piece.replace(final_dir / name)
                keep.add(name)
                names.append(str(final_dir / name))
            for stale in final_dir.glob("*.parquet"):  # includes the gate's: it runs again on the new data
                if stale.name not in keep:
                    stale.unlink()


def _path_literal(path: Path) -> str:
    text = str(path)
    if "'" in text:
        raise SourceFileError(text, "the data root path contains a quote; choose another PLANTDATA_HOME")
    return text
