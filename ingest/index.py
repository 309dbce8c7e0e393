"""The file index: which partitions each export file feeds and how many rows it holds for each.

Discovery reads every new file once, counting rows per UTC day from the raw timestamp text alone (all
columns as text; lines the CSV parser rejects are counted by the time text of their raw line, as the
standardiser attributes them), so the counts do not depend on the parsing they later check: for every
partition, rows_in from the index must equal rows_out + rows_quarantined from the standardiser.
Entries are cached by (uri, size, mtime) in the data root, so unchanged files are never re-read.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from config.kinds import FileFormat
from config.sources import SourceConfig
from ingest.csv_scan import (
    quote_ident,
    read_csv_call,
    read_header,
    readable_path,
    reject_field_params,
    reject_field_sql,
    unparsable_cause,
)
from ingest.errors import SourceFileError
from ingest.files import SourceFile, partition_key_for_file, sha256_of
from ingest.plan import parse_time_text_sql, partition_of_parsed_sql
from ingest.rows import load_rows


@dataclass(frozen=True)
class IndexedFile:
    """One export file with its fingerprint and its row count per partition key."""

    uri: str
    name: str
    size: int
    mtime: float
    sha256: str
    rows: int
    partitions: dict[str, int] = field(default_factory=dict)
    home: str = ""  # partition that holds the rows whose time cannot be read

    @property
    def fingerprint(self) -> str:
        return f"{self.uri}|{self.size}|{self.mtime}"


def index_files(source: SourceConfig, files: list[SourceFile], cache_path: Path, scratch: Path) -> list[IndexedFile]:
    """Index entries for `files`, reading only those not in the cache; the cache is rewritten atomically."""
    cache = _read_cache(cache_path)
    entries: list[IndexedFile] = []
    for file in files:
        entry = cache.get(file.fingerprint)
        if entry is None:
            entry = index_file(source, file, scratch)
        entries.append(entry)
    _write_cache(cache_path, {e.fingerprint: e for e in entries})
    return entries


def index_file(source: SourceConfig, file: SourceFile, scratch: Path) -> IndexedFile:
    """Read one file and count its rows per partition; the sha256 is computed meanwhile on another thread."""
    file_key = partition_key_for_file(file.name)
    con = duckdb.connect()
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(sha256_of, file)
        try:
            con.execute("SET TimeZone = 'UTC'")
            if source.format is FileFormat.CSV:
                counts = _count_csv(con, source, file, scratch)
            else:
                counts = _count_rows(con, source, file)
        except duckdb.Error as exc:
            raise SourceFileError(file.uri, f"DuckDB could not read it: {exc}") from exc
        finally:
            con.close()
        sha = digest.result()
    if source.partitioning == "file":
        total = sum(counts.values())
        return IndexedFile(file.uri, file.name, file.size, file.mtime, sha, total, {file_key: total}, file_key)
    if not counts:  # a header without rows: the file feeds no day
        return IndexedFile(file.uri, file.name, file.size, file.mtime, sha, 0, {}, "")
    dated = {k: n for k, n in counts.items() if k is not None}
    home = min(dated) if dated else _no_time(source, file)
    partitions = dict(dated)
    if None in counts:
        partitions[home] = partitions.get(home, 0) + counts[None]
    return IndexedFile(file.uri, file.name, file.size, file.mtime, sha, sum(counts.values()), partitions, home)


def _no_time(source: SourceConfig, file: SourceFile) -> str:
    raise SourceFileError(
        file.uri,
        f"no row has a readable timestamp in column {source.source_column(source.time_column or 'ts')!r} "
        f"(format {source.timestamp.format or 'ISO 8601'}); check timestamp.format and the column mapping",
    )


def _count_csv(
    con: duckdb.DuckDBPyConnection, source: SourceConfig, file: SourceFile, scratch: Path
) -> dict[str | None, int]:
    path = readable_path(file, source.csv, scratch, file.fingerprint)
    header = read_header(path, source.csv, file.uri)
    call, params = read_csv_call(
        dict.fromkeys(header, "VARCHAR"),
        source.csv,
        timestamp_format=None,
        rejects=("idx_rej", "idx_scan"),
    )
    ts_column = _time_column(source, header, file)
    if ts_column is None:
        reject_parsed_sql = "NULL::TIMESTAMP"
    else:
        reject_parsed_sql = parse_time_text_sql(source, reject_field_sql(header.index(ts_column)))
    key_sql = partition_of_parsed_sql(source, "p") if ts_column is not None else "NULL"
    raw_sql = f"s.{quote_ident(ts_column)}" if ts_column is not None else "NULL"
    # count per distinct timestamp text first: parsing and mapping to UTC then runs once per value, not per row
    try:
        rows = con.execute(
            f"SELECT {key_sql} AS k, sum(n) FROM (SELECT {parse_time_text_sql(source, 's.raw')} AS p, n FROM "
            f"(SELECT {raw_sql} AS raw, count(*) AS n FROM {call} s GROUP BY raw) s) GROUP BY k",
            [path, *params],
        ).fetchall()
    except duckdb.Error as exc:
        raise SourceFileError(file.uri, unparsable_cause(path, exc)) from exc
    counts: dict[str | None, int] = {k: int(n) for k, n in rows}
    reject_params = reject_field_params(source.csv) if ts_column is not None else []
    rejected = con.execute(
        f"SELECT {key_sql} AS k, count(*) FROM (SELECT {reject_parsed_sql} AS p FROM "
        "(SELECT DISTINCT ON (line) line, csv_line FROM idx_rej) s) GROUP BY k",
        reject_params,
    ).fetchall()
    for k, n in rejected:
        counts[k] = counts.get(k, 0) + int(n)
    return counts


def _count_rows(con: duckdb.DuckDBPyConnection, source: SourceConfig, file: SourceFile) -> dict[str | None, int]:
    fields, _ = load_rows(con, file, source.format, "idx_rows")
    ts_column = _time_column(source, fields, file)
    if ts_column is None:
        rows = con.execute("SELECT NULL AS k, count(*) FROM idx_rows").fetchall()
        return {k: int(n) for k, n in rows}
    parsed_sql = parse_time_text_sql(source, f"s.{quote_ident(ts_column)}")
    rows = con.execute(
        f"SELECT CASE WHEN bad IS NULL THEN {partition_of_parsed_sql(source, 'p')} END AS k, count(*) "
        f"FROM (SELECT s._bad AS bad, {parsed_sql} AS p FROM idx_rows s) GROUP BY k"
    ).fetchall()
    return {k: int(n) for k, n in rows}


def _time_column(source: SourceConfig, header: list[str], file: SourceFile) -> str | None:
    if source.partitioning != "day":
        return None
    column = source.source_column(source.time_column or "ts")
    if column not in header:
        raise SourceFileError(
            file.uri,
            f"the time column {column!r} is not in the file's columns {header}; "
            f"map it under sources[{source.name}].columns",
        )
    return column


def _read_cache(path: Path) -> dict[str, IndexedFile]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {key: IndexedFile(**value) for key, value in raw.items()}


def _write_cache(path: Path, entries: dict[str, IndexedFile]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.write_text(json.dumps({k: asdict(v) for k, v in entries.items()}, indent=1), encoding="utf-8")
    partial.replace(path)
