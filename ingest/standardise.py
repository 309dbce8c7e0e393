"""Standardise a source's export files into canonical, partitioned Parquet; quarantine what cannot be.

For each requested partition the result is `<source>/<day|file|entity>=<key>/part-<file>.parquet` (one piece
per contributing export file) and a quarantine Parquet with file, line, rule, detail and raw text (and, for a
file quarantined whole, the rows it stands for, its size and sha256). Everything is
written under a scratch folder first, the row balance is checked against the index, and only then are
files published through the layout (moved into place on a folder, uploaded create-only to object storage: a
reader never sees half a file). Re-running a partition replaces it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from config.kinds import QuarantineRule
from config.layout import Layout, partition_dir
from config.sources import SourceConfig
from config.sql import path_literal
from ingest.csv_scan import read_csv_call, read_header, unparsable_cause
from ingest.errors import RowsLostError, SourceFileError
from ingest.index import IndexedFile, readable_entry, source_file
from ingest.manifest import PartitionResult, write_manifest
from ingest.plan import build_plan
from ingest.plan_sql import declare_enum
from ingest.quarantine_sql import (
    QUARANTINE_COLUMNS,
    quarantine_csv_rejects,
    quarantine_row_rules,
    quarantine_typed_rows,
    typed_rows_sql,
)
from ingest.register import Register
from ingest.rows import load_csv_records, load_rows
from ingest.scan_db import scan_connection
from ingest.side_by_side import each
from ingest.stage import copy_good, staged_folder, staged_part, staged_quarantine
from ingest.time_sql import TimeReading

Progress = Callable[[str], None]


def standardise(
    source: SourceConfig,
    files: list[IndexedFile],
    keys: list[str],
    layout: Layout,
    register: Register,
    progress: Progress | None = None,
    run_id: str = "manual",
) -> list[PartitionResult]:
    """Standardise partitions `keys` of `source` from the indexed `files` that feed them; swap in their manifests.

    A file that cannot be read (found so by the index, or failing now) is quarantined whole in the
    partitions it feeds; every other file goes on.
    """
    wanted = set(keys)
    feeding = [f for f in files if wanted & set(f.partitions)]
    work = layout.scratch() / f"{source.name}-{uuid.uuid4().hex[:12]}"
    results = {key: PartitionResult(source.name, key) for key in keys}
    con = scan_connection()
    try:
        con.execute(f"CREATE TEMP TABLE quarantine ({QUARANTINE_COLUMNS})")
        for number, file in enumerate(feeding):
            if progress:
                progress(f"{source.name}: {file.name}")
            file_keys = sorted(wanted & set(file.partitions))
            for key in file_keys:
                results[key].rows_in += file.partitions[key]
                results[key].files.append(_file_facts(file))
            reason = file.unreadable
            target = work / "good" / f"f{number}"
            if not reason and _take_staged(con, source, file, file_keys, register, layout, target, results):
                continue
            if not reason:
                try:
                    _standardise_file(con, source, file, file_keys, register, layout, work, number, results)
                except SourceFileError as exc:
                    if exc.retryable:
                        raise
                    reason = exc.reason
                except duckdb.Error as exc:
                    reason = f"DuckDB could not read it: {str(exc).splitlines()[0]}. Fix: check the source's options"
                if reason:
                    _forget_file(con, file, work / "good" / f"f{number}")
            if reason:
                _quarantine_whole(con, file, file_keys, reason, results)
        _collect_quarantine(con, work, results)
        _publish(source, layout, work, results, run_id)
    except duckdb.Error as exc:
        raise SourceFileError(source.name, f"DuckDB failed while standardising: {exc}") from exc
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)
    return [results[key] for key in keys]


def _file_facts(file: IndexedFile) -> dict[str, Any]:
    facts: dict[str, Any] = {"name": file.name, "uri": file.uri, "sha256": file.sha256, "size": file.size}
    facts["modified"] = file.mtime  # when the export was written (the gate's export_latency rule)
    facts.update(reader=file.reader, encoding=file.encoding, encoding_how=file.encoding_how)
    if file.compression:
        facts["compression"] = file.compression
    if file.unreadable:
        facts["unreadable"] = file.unreadable
    return facts


def _forget_file(con: duckdb.DuckDBPyConnection, file: IndexedFile, target: Path) -> None:
    """Undo what a file that failed half-way wrote (its counts are only added once it succeeds)."""
    shutil.rmtree(target, ignore_errors=True)
    con.execute("DELETE FROM quarantine WHERE source_file = ?", [file.name])


def _quarantine_whole(
    con: duckdb.DuckDBPyConnection,
    file: IndexedFile,
    keys: list[str],
    reason: str,
    results: dict[str, PartitionResult],
) -> None:
    """One quarantine record per partition the file feeds, standing for all its rows there (its raw lines)."""
    for key in keys:
        con.execute(
            "INSERT INTO quarantine VALUES (?, NULL, ?, ?, NULL, ?, ?, ?, ?)",
            [
                file.name,
                QuarantineRule.UNREADABLE_FILE.value,
                reason,
                file.partitions[key],
                file.size,
                file.sha256,
                key,
            ],
        )
        results[key].unreadable.append({"file": file.name, "size": file.size, "sha256": file.sha256, "cause": reason})


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
    found = source_file(file)
    target = work / "good" / f"f{number}"
    target.parent.mkdir(parents=True, exist_ok=True)
    reading = TimeReading(file.time_reading)
    if file.reader in {"csv", "records"}:
        text = readable_entry(file, source, layout.scratch() / "transcoded")
        try:
            header = read_header(text.path, source.csv, file.uri)
            if file.reader == "csv":
                width, written = _standardise_csv(
                    con, source, file, keys, register, text.path, header, reading, number, target
                )
            else:
                load_csv_records(con, text.path, source.csv, header, f"rows{number}")
                width, written = _standardise_rows(
                    con, source, file, keys, register, header, f"rows{number}", number, target
                )
        finally:
            text.discard()
    else:
        fields, _ = load_rows(con, found, source.format, f"rows{number}")
        width, written = _standardise_rows(con, source, file, keys, register, fields, f"rows{number}", number, target)
    for key, readings in written.items():
        results[key].readings_out += readings
        results[key].rows_out += readings // width


def _standardise_csv(
    con: duckdb.DuckDBPyConnection,
    source: SourceConfig,
    file: IndexedFile,
    keys: list[str],
    register: Register,
    path: str,
    header: list[str],
    reading: TimeReading,
    number: int,
    target: Path,
) -> tuple[int, dict[str, int]]:
    """The fast path: DuckDB's typed CSV reader; rejected lines and rows breaking a row rule are quarantined.

    Returns the readings each input row becomes (wide exports: one per value column), and the readings written
    per partition."""
    plan = build_plan(
        source, header, register, file.name, reading, padded_tags=file.padded_tags, numeric_quality=file.numeric_quality
    )
    declare_enum(con, plan)
    rejects = (f"rej{number}", f"scan{number}")
    call, params = read_csv_call(
        plan.read_types, source.csv, timestamp_format=source.timestamp.single_format, rejects=rejects
    )
    only = keys if set(keys) != set(file.partitions) else None
    try:
        written = copy_good(con, plan, f"(SELECT * FROM {call})", [path, *params], only, file.home, target)
    except duckdb.Error as exc:  # the typed reader gave up on the whole file
        cause, fix = unparsable_cause(path, exc)
        raise SourceFileError(file.uri, cause, fix=fix) from exc
    quarantine_csv_rejects(con, source, plan, header, path, rejects[0], file, keys)
    rows = sum(written.values()) // plan.readings_per_row
    quarantined = con.execute("SELECT count(*) FROM quarantine WHERE source_file = ?", [file.name]).fetchone()
    expected = sum(file.partitions[k] for k in keys)
    if rows + (quarantined[0] if quarantined else 0) < expected:
        quarantine_row_rules(con, source, plan, header, path, file, keys)
    return plan.readings_per_row, written


def _standardise_rows(
    con: duckdb.DuckDBPyConnection,
    source: SourceConfig,
    file: IndexedFile,
    keys: list[str],
    register: Register,
    fields: list[str],
    table: str,
    number: int,
    target: Path,
) -> tuple[int, dict[str, int]]:
    """The row path: every field as text with its line number; casts and rules in SQL, bad rows quarantined."""
    plan = build_plan(source, fields, register, file.name, TimeReading.TEXT, row_path=True)
    declare_enum(con, plan)
    typed = typed_rows_sql(source, plan, table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE typed{number} AS {typed}")
    good_rows = f"(SELECT * FROM typed{number} WHERE _cast_rule IS NULL AND _bad IS NULL)"
    only = keys if set(keys) != set(file.partitions) else None
    written = copy_good(con, plan, good_rows, [], only, file.home, target)
    quarantine_typed_rows(con, source, plan, f"typed{number}", file, keys)
    return plan.readings_per_row, written


def _take_staged(
    con: duckdb.DuckDBPyConnection,
    source: SourceConfig,
    file: IndexedFile,
    keys: list[str],
    register: Register,
    layout: Layout,
    target: Path,
    results: dict[str, PartitionResult],
) -> bool:
    """Take the pieces and quarantine of `keys` from the file's staged scan (discovery's typed pass); False when
    there is none to take for every key (the file is then scanned again)."""
    if file.reader != "csv":
        return False
    folder = staged_folder(layout, source.name, file.fingerprint, file.config, register)
    parts = {key: staged_part(folder, key) for key in keys}
    if any(part is None for part in parts.values()):
        return False
    quarantine = staged_quarantine(folder)
    try:  # all or nothing: a piece another process took or removed meanwhile means scanning the file again
        if quarantine is not None:
            con.execute(
                "INSERT INTO quarantine SELECT * REPLACE (COALESCE(_part, ?) AS _part) FROM read_parquet(?) "
                "WHERE list_contains(?, COALESCE(_part, ?))",
                [file.home, str(quarantine), keys, file.home],
            )
        for key, part in parts.items():
            for number, piece in enumerate(part.pieces if part is not None else []):
                destination = target / f"_part={key}" / f"part-{number}.parquet"
                destination.parent.mkdir(parents=True, exist_ok=True)
                piece.replace(destination)
    except (FileNotFoundError, duckdb.IOException):
        _forget_file(con, file, target)
        shutil.rmtree(folder, ignore_errors=True)  # partly taken: no one may take the rest for the whole
        return False
    for key, part in parts.items():
        if part is not None:
            results[key].rows_out += part.rows_out
            results[key].readings_out += part.readings_out
    if not any((folder / "good").glob("_part=*/*.parquet")):  # every partition taken
        shutil.rmtree(folder, ignore_errors=True)
    return True


def _collect_quarantine(con: duckdb.DuckDBPyConnection, work: Path, results: dict[str, PartitionResult]) -> None:
    for key, rule, count in con.execute(
        "SELECT _part, rule, sum(rows) FROM quarantine GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall():
        results[key].rules[rule] = int(count)
        results[key].rows_quarantined += int(count)
    for result in results.values():
        result.top_rule = max(result.rules, key=lambda r: result.rules[r]) if result.rules else None
        if result.top_rule is not None:
            example = con.execute(
                "SELECT source_file, line, detail, raw FROM quarantine WHERE _part = ? AND rule = ? "
                "ORDER BY source_file, line LIMIT 1",
                [result.key, result.top_rule],
            ).fetchone()
            if example is not None:
                result.example = dict(zip(("file", "line", "detail", "raw"), example, strict=True))
                result.example["raw"] = (example[3] or "")[:200]
    if con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]:
        work.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT * FROM quarantine ORDER BY source_file, line) TO {path_literal(work / 'quarantine')} "
            "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (_part), FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE)"
        )


def _publish(
    source: SourceConfig, layout: Layout, work: Path, results: dict[str, PartitionResult], run_id: str
) -> None:
    """Check the balance of every partition; publish the new files under run-unique names beside the old ones; then
    per partition swap its manifest, and only then remove the files of the version it replaces (and the gate's
    quarantine of it: the gate runs again on the new data), as the store lists them."""
    for result in results.values():
        if not result.balanced:
            raise RowsLostError(source.name, result.key, result.rows_in, result.rows_out, result.rows_quarantined)
    token = uuid.uuid4().hex[:8]
    partitioning = source.partitioning
    moves: list[tuple[Path, Path]] = []
    folders: dict[str, list[tuple[Path, set[str]]]] = {}
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
            for number, piece in enumerate(pieces):
                origin = piece.parent.parent.name if kind == "good" else "q"
                name = f"part-{token}-{origin}-{number}.parquet"
                moves.append((piece, final_dir / name))
                names.append(name)
            folders.setdefault(key, []).append((final_dir, set(names)))
    each(layout, lambda move: layout.publish(*move), moves)
    for key, result in results.items():
        write_manifest(layout, result, run_id)
        stale = [
            final_dir / name
            for final_dir, keep in folders[key]
            for name in layout.names(final_dir)
            if name.endswith(".parquet") and name not in keep
        ]
        each(layout, layout.remove, stale)
