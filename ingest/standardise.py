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

from config.kinds import FileFormat
from config.layout import Layout, partition_dir
from config.sources import SourceConfig
from ingest.csv_scan import (
    quote_ident,
    read_csv_call,
    read_header,
    readable_path,
)
from ingest.errors import RowsLostError, SourceFileError
from ingest.files import SourceFile, partition_key_for_file
from ingest.index import IndexedFile
from ingest.plan import ScanPlan, build_plan
from ingest.plan_sql import declare_enum, partition_expr, with_utc
from ingest.quarantine_sql import (
    quarantine_csv_rejects,
    quarantine_row_rules,
    quarantine_typed_rows,
    typed_rows_sql,
)
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
        declare_enum(con, plan)
        rejects = (f"rej{number}", f"scan{number}")
        call, params = read_csv_call(
            plan.read_types, source.csv, timestamp_format=source.timestamp.format, rejects=rejects
        )
        scan = f"(SELECT * FROM {call})"
        scan_params = [path, *params]
        _copy_good(con, plan, scan, scan_params, keys if set(keys) != set(file.partitions) else None, file_key, target)
        quarantine_csv_rejects(con, source, plan, header, path, rejects[0], file, keys)
        written = _count_written(con, plan, target, results)
        quarantined = con.execute("SELECT count(*) FROM quarantine WHERE source_file = ?", [file.name]).fetchone()
        expected = sum(file.partitions[k] for k in keys)
        if written + (quarantined[0] if quarantined else 0) < expected:
            quarantine_row_rules(con, source, plan, header, path, file, keys)
        if path != file.uri:  # a transcoded or downloaded copy: not needed once the file is standardised
            Path(path).unlink(missing_ok=True)
    else:
        fields, _ = load_rows(con, found, source.format, f"rows{number}")
        plan = build_plan(source, fields, register, file.name)
        declare_enum(con, plan)
        typed = typed_rows_sql(source, plan, f"rows{number}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE typed{number} AS {typed}")
        good_rows = f"(SELECT * FROM typed{number} WHERE _cast_rule IS NULL AND _bad IS NULL)"
        _copy_good(con, plan, good_rows, [], keys if set(keys) != set(file.partitions) else None, file_key, target)
        quarantine_typed_rows(con, source, plan, f"typed{number}", file, keys)
        _count_written(con, plan, target, results)


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
    part = partition_expr(plan)
    part_params = [file_key] if plan.partition_sql == "NULL" else []
    only = "" if keys is None else f" AND list_contains(?, {part})"
    write_part = plan.partition_sql if plan.partition_sql != "NULL" else part  # a DATE partitions fastest
    sql = (
        f"COPY (SELECT {outputs}, {write_part} AS _part FROM {with_utc(plan, scan)} s "
        f"WHERE {plan.rule_sql} IS NULL{only}) "
        f"TO '{_path_literal(target)}' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (_part), "
        f"FILENAME_PATTERN 'part-{{i}}', OVERWRITE_OR_IGNORE)"
    )
    filter_params = [] if keys is None else [keys, *part_params]
    con.execute(sql, [*part_params, *scan_params, *filter_params])  # in textual order


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
