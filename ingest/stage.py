"""The single pass over a CSV export: typed once into partitioned Parquet, its bad rows quarantined, its rows
counted per partition, and staged until the standardiser publishes it.

Discovery needs each file's partitions and their row counts before anything runs; the standardiser needs the file
typed into Parquet. Both come from one DuckDB scan: the Parquet it writes says how many rows each partition got
(`RETURN_STATS`), the quarantine holds the rest, and together they must equal the file's raw line count, counted
from the bytes by something that cannot make the parser's mistakes. When they do not (a quoted line break: some
record spans lines), the scan is thrown away and the file is read record by record instead.

A staged scan lives under `tmp/staged/<source>/<token>/` (the token names the file version, the source options
and the register it was typed with), written under a temporary name and renamed when complete; the standardiser
moves its pieces into place. A scan that is missing (another machine, taken already) is simply run again.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from config.layout import Layout
from config.sources import SourceConfig
from config.sql import path_literal
from ingest.columns import quote_ident
from ingest.csv_scan import read_csv_call
from ingest.files import SourceFile, partition_key_for_file
from ingest.index import IndexedFile, StagedScan
from ingest.plan import ScanPlan, build_plan
from ingest.plan_sql import declare_enum, partition_expr, with_utc
from ingest.quarantine_sql import QUARANTINE_COLUMNS, quarantine_csv_rejects, quarantine_row_rules
from ingest.readable import ReadableText
from ingest.register import Register
from ingest.scan_db import scan_connection
from ingest.time_sql import TimeReading

COUNTS = "counts.json"  # written last: a folder without it is not a complete scan
NO_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # DuckDB's folder for rows whose partition key is NULL
_BAD_VALUE = re.compile(r'Could not convert string "(?P<value>.*?)" to')


@dataclass(frozen=True)
class StagedPart:
    """What a staged scan holds for one partition: its Parquet pieces and counts."""

    pieces: list[Path]
    rows_out: int
    readings_out: int


def register_digest(register: Register) -> str:
    """The register's content as the typed scan uses it (tags, their equipment and unit)."""
    text = json.dumps([[t.tag, t.equipment_id, t.unit] for t in register.tags])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def staged_folder(layout: Layout, source: str, fingerprint: str, config: str, register: Register) -> Path:
    """Where the scan of one file version, read with one set of options and register, is staged."""
    token = hashlib.sha256(f"{fingerprint}|{config}|{register_digest(register)}".encode()).hexdigest()[:32]
    return layout.staged(source) / token


def stage_csv(
    source: SourceConfig,
    file: SourceFile,
    text: ReadableText,
    header: list[str],
    register: Register,
    folder: Path,
    reading: TimeReading,
) -> StagedScan | None:
    """Scan a CSV file once into `folder`; None when its records are not its raw lines one to one (read it record by
    record instead).

    The first scan types what it can in the reader: tags as the register's ENUM and quality as a whole number.
    Tags with blanks around them are looked for in what the typed reader rejected: if the register knows them
    trimmed, the file is scanned again with tags read as text and trimmed. A quality the reader could not take as a
    number (a word, hex) has the file scanned again with quality read as text and decoded."""

    def data_lines() -> int:  # asked for after the scan: the raw count runs beside it on the sha256 thread
        return text.lines.data_lines(source.csv.skip_rows + (1 if source.csv.header else 0))

    padded, numeric_quality = False, True
    while True:
        try:
            return _stage_once(
                source, file, text.path, header, register, folder, reading, data_lines, padded, numeric_quality
            )
        except _TagsNeedTrimmingError:
            padded = True
        except _QualityNeedsTextError:
            numeric_quality = False


class _TagsNeedTrimmingError(Exception):
    """The typed tag reader rejected a tag the register knows once trimmed: scan again with tags as text."""


class _QualityNeedsTextError(Exception):
    """The typed reader rejected a quality that is not a decimal integer: scan again with quality as text."""


def _stage_once(
    source: SourceConfig,
    file: SourceFile,
    path: str,
    header: list[str],
    register: Register,
    folder: Path,
    reading: TimeReading,
    data_lines: Callable[[], int],
    padded: bool,
    numeric_quality: bool,
) -> StagedScan | None:
    home = partition_key_for_file(file.name) if source.partitioning == "file" else ""
    entry = IndexedFile(file.uri, file.name, file.size, file.mtime, "", 0, home=home, etag=file.etag)
    partial = folder.with_name(f"{folder.name}.{uuid.uuid4().hex[:8]}.partial")
    con = scan_connection()
    try:
        con.execute(f"CREATE TEMP TABLE quarantine ({QUARANTINE_COLUMNS})")
        plan = build_plan(
            source, header, register, file.name, reading, padded_tags=padded, numeric_quality=numeric_quality
        )
        declare_enum(con, plan)
        rejects = ("rej", "scan")
        call, params = read_csv_call(
            plan.read_types, source.csv, timestamp_format=source.timestamp.single_format, rejects=rejects
        )
        partial.mkdir(parents=True)
        try:
            written = copy_good(con, plan, f"(SELECT * FROM {call})", [path, *params], None, home, partial / "good")
        except duckdb.Error:  # the typed reader gave up on the whole file: counted from its text, as before
            return None
        if not padded and _padded_tags_rejected(con, source, plan, register):
            raise _TagsNeedTrimmingError
        if plan.quality_column is not None and _rejected_in(con, plan.quality_column):
            raise _QualityNeedsTextError
        quarantine_csv_rejects(con, source, plan, header, path, rejects[0], entry, None)
        invalid = con.execute(
            "SELECT count(DISTINCT line) FROM rej WHERE error_type IN ('INVALID UNICODE', 'INVALID ENCODING')"
        ).fetchall()[0][0]
        width = plan.readings_per_row
        good = sum(readings for readings in written.values()) // width
        lines = data_lines()
        if good + _quarantined(con) < lines:
            quarantine_row_rules(con, source, plan, header, path, entry, None)
        records = good + _quarantined(con)
        if records != lines:
            return None
        partitions: dict[str | None, int] = {key: readings // width for key, readings in written.items()}
        for key, rows in con.execute("SELECT nullif(_part, ''), sum(rows) FROM quarantine GROUP BY 1").fetchall():
            partitions[key] = partitions.get(key, 0) + int(rows)
        if _quarantined(con):
            con.execute(
                f"COPY (SELECT * REPLACE (nullif(_part, '') AS _part) FROM quarantine) TO "
                f"{path_literal(partial / 'quarantine.parquet')} (FORMAT parquet, COMPRESSION zstd)"
            )
        counts = {
            key: [readings // width, readings, sorted(p.name for p in (partial / "good" / f"_part={key}").iterdir())]
            for key, readings in written.items()
        }
        (partial / COUNTS).write_text(json.dumps(counts), encoding="utf-8")
        _swap_in(partial, folder)
        return StagedScan(
            partitions, records, int(invalid), padded_tags=padded, numeric_quality=plan.quality_column is not None
        )
    finally:
        con.close()
        shutil.rmtree(partial, ignore_errors=True)


def copy_good(
    con: duckdb.DuckDBPyConnection,
    plan: ScanPlan,
    scan: str,
    scan_params: list[Any],
    keys: list[str] | None,
    file_key: str,
    target: Path,
) -> dict[str, int]:
    """Write a file's good rows, partitioned; `keys` None means every partition the file feeds. Returns the
    readings written per partition, as the Parquet writer counted them (no second read).

    Rows breaking a rule get no partition (written apart, then deleted) rather than being filtered out: DuckDB
    pushes a filter down through the projections that compute time, tag and quality, and computes them twice."""
    outputs = ", ".join(f"{sql} AS {quote_ident(name)}" for name, sql in plan.output)
    part = partition_expr(plan)
    part_params = [file_key] if plan.partition_sql == "NULL" else []
    only = "" if keys is None else f" WHERE list_contains(?, {part})"
    write_part = plan.partition_sql if plan.partition_sql != "NULL" else part  # a DATE partitions fastest
    sql = (
        f"COPY (SELECT {outputs}, CASE WHEN {plan.good} THEN {write_part} END AS _part FROM {with_utc(plan, scan)} s"
        f"{only}) TO {path_literal(target)} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (_part), "
        f"FILENAME_PATTERN 'part-{{i}}', OVERWRITE_OR_IGNORE, RETURN_STATS)"
    )
    filter_params = [] if keys is None else [keys, *part_params]
    written: dict[str, int] = {}
    for row in con.execute(sql, [*part_params, *scan_params, *filter_params]).fetchall():  # in textual order
        count, partition_keys = row[1], row[5]  # one row per file written: filename, count, ..., partition_keys
        if partition_keys["_part"] is None:  # the rows breaking a rule
            continue
        key = str(partition_keys["_part"])
        written[key] = written.get(key, 0) + int(count)
    shutil.rmtree(target / f"_part={NO_PARTITION}", ignore_errors=True)
    return written


def staged_part(folder: Path, key: str) -> StagedPart | None:
    """A complete staged scan's pieces and counts for partition `key`; None when there is none to take, or not
    every piece its counts stand for."""
    try:
        counts = json.loads((folder / COUNTS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    rows_out, readings_out, names = counts.get(key, [0, 0, []])
    pieces = [folder / "good" / f"_part={key}" / name for name in names]
    if not all(piece.exists() for piece in pieces):  # taken already (or partly, by a run that crashed)
        return None
    return StagedPart(pieces, int(rows_out), int(readings_out))


def staged_quarantine(folder: Path) -> Path | None:
    path = folder / "quarantine.parquet"
    return path if path.exists() else None


def _quarantined(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT COALESCE(sum(rows), 0) FROM quarantine").fetchall()[0][0])


def _rejected_in(con: duckdb.DuckDBPyConnection, column: str) -> bool:
    """Whether the typed reader rejected a value of `column` as not of its type."""
    found = con.execute("SELECT count(*) FROM rej WHERE error_type = 'CAST' AND column_name = ?", [column]).fetchall()
    return bool(found[0][0])


def _padded_tags_rejected(
    con: duckdb.DuckDBPyConnection, source: SourceConfig, plan: ScanPlan, register: Register
) -> bool:
    """Whether the typed tag reader rejected a tag the register knows once its blanks are trimmed."""
    if plan.tag_column is None or not source.trim_keys:
        return False
    messages = con.execute(
        "SELECT error_message FROM rej WHERE error_type = 'CAST' AND column_name = ?", [plan.tag_column]
    ).fetchall()
    for (message,) in messages:
        match = _BAD_VALUE.search(message)
        if match and match["value"] != match["value"].strip() and register.get(match["value"].strip()) is not None:
            return True
    return False


def _swap_in(partial: Path, folder: Path) -> None:
    """Put a complete scan in place; a complete one already there (another process's, or one partly taken) stays:
    it is as good as ours, and a process may be taking its pieces."""
    if (folder / COUNTS).exists():
        return
    shutil.rmtree(folder, ignore_errors=True)  # an incomplete leftover: nobody takes from it
    try:
        partial.replace(folder)
    except OSError:
        if not (folder / COUNTS).exists():
            raise
