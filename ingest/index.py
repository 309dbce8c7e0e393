"""The file index: which partitions each export file feeds and how many rows it holds for each.

Discovery reads every new file once. It makes the file local UTF-8 text (decompressed, encoding declared or
detected), counts its raw lines from the bytes, and counts rows per partition from the raw key text alone
(all columns as text), so the counts do not depend on the typed parsing they later check. When DuckDB's
records do not cover the raw lines one to one, some record spans lines (a quoted line break, or a quote
that never closes): the file is then read record by record (`csv_records`), whose records are checked to
cover every raw line. A file that cannot be read at all is not an error that stops the plant: its entry
says why, it feeds a partition of its own, and the standardiser quarantines it whole.

Entries are cached by (uri, size, mtime) and the source options they were computed with. The cache is one
mutable record per source in the data root (`index/<source>.json`), read from and committed to the layout's store.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from config.kinds import FileFormat, SourceKind
from config.layout import Layout
from config.sources import SourceConfig
from ingest.columns import entity_key_sql, joined_sql, missing_columns_problem, quote_ident
from ingest.csv_scan import read_csv_call, read_header, reject_field_params, reject_field_sql
from ingest.encoding import is_utf8, recheck_utf8
from ingest.errors import RowsLostError, SourceFileError
from ingest.files import SourceFile, fingerprint, partition_key_for_file
from ingest.readable import RawFacts, ReadableText, raw_facts, readable_text
from ingest.rows import load_csv_records, load_rows
from ingest.time_sql import (
    TimeReading,
    configured_reading,
    has_offset_sql,
    naive_text_sql,
    text_time_sql,
    time_reading,
    typed_time_sql,
)

INDEX_VERSION = 2
UNREADABLE_PREFIX = "unreadable-"
UNKEYED_PREFIX = "unkeyed-"  # a file none of whose rows has a readable key: each row is quarantined with its rule


@dataclass(frozen=True)
class IndexedFile:
    """One export file with its fingerprint, how to read it, and its row count per partition key."""

    uri: str
    name: str
    size: int
    mtime: float
    sha256: str
    rows: int
    partitions: dict[str, int] = field(default_factory=dict)
    home: str = ""  # partition that holds the rows whose key cannot be read
    lines: int | None = None  # raw non-empty data lines (CSV), counted from the bytes
    reader: str = "csv"  # csv: DuckDB's typed reader | records: line by line | rows: JSON lines, Parquet
    encoding: str = ""
    encoding_how: str = ""  # declared | bom | ascii | utf-8 | detected | fallback
    compression: str = ""
    time_reading: str = "naive"  # see ingest.time_sql.TimeReading
    padded_tags: bool = False  # some tag has blanks around it: the standardiser trims before matching
    numeric_quality: bool = False  # every quality is a decimal integer: the reader types it (see ingest.stage)
    unreadable: str = ""  # why the file cannot be read at all, and the fix ('' when readable)
    config: str = ""  # digest of the source options this entry was computed with
    etag: str = ""  # the store's version tag when it gives one (see ingest.files.FileStamp)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.uri, self.size, self.mtime, self.etag)


@dataclass(frozen=True)
class StagedScan:
    """What the single typed pass over a CSV file found (`ingest.stage`): rows per partition key (None: rows whose
    key cannot be read), the records it saw (its raw lines), how many it rejected as not UTF-8, and whether tags
    had to be trimmed."""

    partitions: dict[str | None, int]
    records: int
    invalid_utf8: int
    padded_tags: bool = False
    numeric_quality: bool = False


Stager = Callable[[SourceFile, ReadableText, list[str], TimeReading], StagedScan | None]


@dataclass(frozen=True)
class _Counts:
    partitions: dict[str | None, int]
    with_offset: int = 0
    naive: int = 0
    castable: int = 0  # of the timestamps with an offset, those DuckDB's typed reader takes as written
    padded_tags: int = 0  # tags with blanks around them (the typed tag reader would call them unknown)
    numeric_quality: bool = False  # the typed pass read every quality as a number


def options_digest(source: SourceConfig) -> str:
    """What of a source's configuration decides how its files are read and partitioned."""
    relevant = source.model_dump(
        mode="json", exclude={"quality", "steward", "personal_data", "description", "owner", "system", "units"}
    )
    text = json.dumps({"v": INDEX_VERSION, **relevant}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def unreadable_key(source: SourceConfig, name: str) -> str:
    """The partition an unreadable file feeds: its own file partition, or one named after it."""
    key = partition_key_for_file(name)
    return key if source.partitioning == "file" else UNREADABLE_PREFIX + key


def index_files(
    source: SourceConfig, files: list[SourceFile], layout: Layout, scratch: Path, stage: Stager | None = None
) -> list[IndexedFile]:
    """Index entries for `files`, reading only those not in the layout's index cache; the cache is rewritten whole
    when it changed.

    With `stage`, a CSV file whose time reading the configuration decides is indexed by the standardiser's own
    typed pass, staged for it to publish (one parse in all); otherwise it is counted from its text."""
    cache = _read_cache(layout, source.name)
    digest = options_digest(source)
    entries: list[IndexedFile] = []
    for file in files:
        entry = cache.get(file.fingerprint)
        if entry is None or entry.config != digest:
            entry = index_file(source, file, scratch, stage)
        entries.append(entry)
    current = {e.fingerprint: e for e in entries}
    if current != cache:  # unchanged (the usual case on a run with nothing new): no write
        _write_cache(layout, source.name, current)
    return entries


def index_file(source: SourceConfig, file: SourceFile, scratch: Path, stage: Stager | None = None) -> IndexedFile:
    """Read one file and count its rows per partition; a file that cannot be read gets an entry saying why."""
    digest = options_digest(source)
    with ThreadPoolExecutor(max_workers=1) as pool:
        facts = pool.submit(raw_facts, file.uri)
        try:
            try:
                if source.format is FileFormat.CSV:
                    entry = _index_csv(source, file, scratch, digest, facts, stage)
                else:
                    entry = _index_rows(source, file, digest, facts)
            except duckdb.Error as exc:  # a shape of file the options do not describe; never stops the others
                first = str(exc).splitlines()[0]
                fix = "check the source's csv and timestamp options against the file"
                raise SourceFileError(file.uri, f"DuckDB could not read it: {first}", fix=fix) from exc
        except SourceFileError as exc:
            if exc.retryable:
                raise
            found = facts.result()
            key = unreadable_key(source, file.name)
            lines = found.lines.non_empty
            return IndexedFile(
                file.uri, file.name, file.size, file.mtime, found.sha256, lines, {key: lines}, key,
                lines=lines, reader="none", unreadable=exc.reason, config=digest, etag=file.etag,
            )  # fmt: skip
    return entry


def _index_csv(
    source: SourceConfig, file: SourceFile, scratch: Path, digest: str, facts: Future[RawFacts], stage: Stager | None
) -> IndexedFile:
    token = _token(file.fingerprint, digest)
    text = readable_text(file, source.csv, scratch, token, original_lines=lambda: facts.result().lines)
    try:
        counted = _count_text(source, file, text, stage)
        sampled_utf8 = source.csv.encoding == "auto" and text.encoding_how in {"ascii", "utf-8"}
        # the original's bytes were checked beside its sha256: no read of its own when the text is the original
        whole_utf8 = facts.result().utf8 if not text.temporary else is_utf8(text.path)
        if sampled_utf8 and (counted.invalid_utf8 or not whole_utf8):
            recheck = recheck_utf8(text.path)  # the sample missed legacy-encoded lines far into the file
            if recheck is not None:
                text.discard()
                options = source.csv.model_copy(update={"encoding": recheck.encoding})
                text = readable_text(file, options, scratch, token)
                text = dataclasses.replace(text, encoding_how=f"{recheck.how} (whole file)")
                counted = _count_text(source, file, text, stage)
    except SourceFileError:
        text.discard()
        raise
    if counted.staged:  # the standardiser takes the staged scan: a scratch copy of the text is not needed again
        text.discard()
    return _entry(
        source, file, facts.result().sha256, counted.counts, digest,
        lines=counted.lines, reader=counted.reader, encoding=text.encoding, encoding_how=text.encoding_how,
        compression=text.compression,
    )  # fmt: skip


@dataclass(frozen=True)
class _Counted:
    counts: _Counts
    lines: int  # raw non-empty data lines
    reader: str
    invalid_utf8: int  # lines DuckDB's reader rejected as not UTF-8
    staged: bool = False  # counted by the standardiser's typed pass, whose output is staged


def _count_text(source: SourceConfig, file: SourceFile, text: ReadableText, stage: Stager | None) -> _Counted:
    """Header checked, rows counted per partition, and the reader the file needs: DuckDB's when its records are
    the raw lines one to one, else record by record (whose records must cover every raw line).

    The typed pass (`stage`) counts when the time reading does not depend on the file's content; it declines
    (records that are not the raw lines, or a file the typed reader gives up on) and the text is counted instead."""
    header = read_header(text.path, source.csv, file.uri)
    problem = missing_columns_problem(source, header)
    if problem is not None:
        raise SourceFileError(file.uri, problem[0], fix=problem[1])
    preamble = source.csv.skip_rows + (1 if source.csv.header else 0)
    invalid_utf8 = 0
    if not source.needs_line_numbers:
        reading = configured_reading(source, header)
        scanned = stage(file, text, header, reading) if stage is not None and reading is not None else None
        if scanned is not None:
            counts = _Counts(
                scanned.partitions, padded_tags=int(scanned.padded_tags), numeric_quality=scanned.numeric_quality
            )
            return _Counted(counts, scanned.records, "csv", scanned.invalid_utf8, staged=True)
        counted = _count_csv(source, text, header)
        data_lines = text.lines.data_lines(preamble)  # counted meanwhile on the sha256 thread
        if counted is not None:
            counts, records, invalid_utf8 = counted
            if records == data_lines:
                return _Counted(counts, data_lines, "csv", invalid_utf8)
    counts, records, spans = _count_records(source, text, header)
    data_lines = text.lines.data_lines(preamble)
    if spans != data_lines:
        raise RowsLostError(source.name, file.name, data_lines, spans, 0)
    return _Counted(counts, data_lines, "records", invalid_utf8)


def _index_rows(source: SourceConfig, file: SourceFile, digest: str, facts: Future[RawFacts]) -> IndexedFile:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        fields, _ = load_rows(con, file, source.format, "idx_rows")
        problem = missing_columns_problem(source, fields)
        if problem is not None:
            raise SourceFileError(file.uri, problem[0], fix=problem[1])
        counts = _count_table(con, source, "idx_rows", fields)
    except duckdb.Error as exc:
        raise SourceFileError(file.uri, f"DuckDB could not read it: {exc}", fix="check the file") from exc
    finally:
        con.close()
    return _entry(source, file, facts.result().sha256, counts, digest, reader="rows")


def _entry(
    source: SourceConfig, file: SourceFile, sha: str, counts: _Counts, digest: str, **how: str | int | None
) -> IndexedFile:
    reading = time_reading(source, counts.with_offset, counts.naive, counts.castable).value
    total = sum(counts.partitions.values())
    common = dict(
        time_reading=reading,
        config=digest,
        padded_tags=counts.padded_tags > 0,
        numeric_quality=counts.numeric_quality,
        etag=file.etag,
        **how,
    )
    if source.partitioning == "file":
        key = partition_key_for_file(file.name)
        return IndexedFile(file.uri, file.name, file.size, file.mtime, sha, total, {key: total}, key, **common)  # type: ignore[arg-type]
    if not counts.partitions:  # a header without rows: the file feeds no partition
        return IndexedFile(file.uri, file.name, file.size, file.mtime, sha, 0, {}, "", **common)  # type: ignore[arg-type]
    keyed = {k: n for k, n in counts.partitions.items() if k is not None}
    home = min(keyed) if keyed else UNKEYED_PREFIX + partition_key_for_file(file.name)
    partitions = dict(keyed)
    if None in counts.partitions:
        partitions[home] = partitions.get(home, 0) + counts.partitions[None]
    return IndexedFile(file.uri, file.name, file.size, file.mtime, sha, total, partitions, home, **common)  # type: ignore[arg-type]


def key_columns(source: SourceConfig) -> list[str]:
    """The export columns the partition key is read from, joined with a blank when several (a date and a time);
    none: one partition per file, or the entity is the line number."""
    if source.partitioning == "day":
        return source.source_columns(source.time_column or "ts")
    if source.partitioning == "entity" and source.sequence is not None:
        return source.source_columns(source.sequence.entities[0])
    return []


def _entity_is_line(source: SourceConfig) -> bool:
    return (
        source.partitioning == "entity"
        and source.sequence is not None
        and (source.column_source(source.sequence.entities[0]).line_number)
    )


def _time_columns(source: SourceConfig, header: list[str]) -> list[str]:
    columns = source.source_columns(source.time_column or "ts")
    return columns if source.is_timed and columns and all(c in header for c in columns) else []


def reject_key_sql(source: SourceConfig, header: list[str], columns: list[str]) -> tuple[str, list[str]]:
    """SQL of a rejected line's key text (from its raw fields) and its parameters; NULL without key columns."""
    if not columns or any(c not in header for c in columns):
        return "NULL::VARCHAR", []
    fields = [reject_field_sql(header.index(c)) for c in columns]
    return joined_sql(fields), reject_field_params(source.csv) * len(fields)


def key_of_text_sql(source: SourceConfig, raw_sql: str, reading: TimeReading = TimeReading.TEXT) -> str:
    """A row's partition key from the raw text of its key column; NULL when it cannot be read.

    `reading` is how the standardiser will read the time (the same value must land in the same partition): a
    file without offsets parses as the CSV reader does, cheaper than the text path that checks offsets."""
    if source.partitioning == "day":
        if reading is TimeReading.NAIVE:
            return f"({typed_time_sql(source, naive_text_sql(source, raw_sql), reading).utc})::DATE::VARCHAR"
        return f"({text_time_sql(source, raw_sql).utc})::DATE::VARCHAR"
    if source.partitioning == "entity" and source.sequence is not None:
        type_ = source.schema_[source.sequence.entities[0]]
        return entity_key_sql(f"TRY_CAST(trim({raw_sql}) AS {type_})")
    return "NULL"


def _count_csv(source: SourceConfig, text: ReadableText, header: list[str]) -> tuple[_Counts, int, int] | None:
    """Rows per partition through DuckDB's reader, all columns as text; the records it saw (good and bad), and
    how many of them it rejected as not UTF-8.

    None when DuckDB's parser gives up on the file (a lone carriage return, say): it is then read record by
    record, which splits lines at line feeds only.
    """
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        call, params = read_csv_call(
            dict.fromkeys(header, "VARCHAR"), source.csv, timestamp_format=None, rejects=("idx_rej", "idx_scan")
        )
        by, time_columns = key_columns(source), _time_columns(source, header)
        key_sql = key_of_text_sql(source, "s.k") if by else "NULL"
        k_raw = joined_sql([f"s.{quote_ident(c)}" for c in by]) if by else "NULL"
        t_raw = joined_sql([f"s.{quote_ident(c)}" for c in time_columns]) if time_columns else "NULL::VARCHAR"
        tag = _padded_tag_column(source, header)
        padded_raw = padded_sql(f"s.{quote_ident(tag)}") if tag else "false"
        # count per distinct key text first: parsing and mapping to UTC then runs once per value, not per row
        inner = (
            f"SELECT {t_raw} AS t, {t_raw} AS k" if by and by == time_columns else f"SELECT {t_raw} AS t, {k_raw} AS k"
        )
        try:
            con.execute(
                f"CREATE TEMP TABLE idx_groups AS {inner}, count(*) AS n, "
                f"count(*) FILTER (WHERE {padded_raw}) AS padded FROM {call} s GROUP BY ALL",
                [text.path, *params],
            )
        except duckdb.Error:
            return None
        offset = has_offset_sql("t")
        found = con.execute(
            f"SELECT sum(n) FILTER (WHERE {offset}), sum(n) FILTER (WHERE t IS NOT NULL AND NOT {offset}), "
            f"sum(n) FILTER (WHERE {offset} AND TRY_CAST(t AS TIMESTAMPTZ) IS NOT NULL), sum(padded) FROM idx_groups"
        ).fetchall()[0]
        with_offset, naive, castable, padded = (int(v or 0) for v in found)
        reading = time_reading(source, with_offset, naive, castable)
        key_sql = key_of_text_sql(source, "s.k", reading) if by else "NULL"
        rows = con.execute(f"SELECT {key_sql} AS key, sum(n) FROM idx_groups s GROUP BY key").fetchall()
        partitions: dict[str | None, int] = {key: int(n) for key, n in rows}
        field_sql, reject_params = reject_key_sql(source, header, by)
        rejected = con.execute(
            f"SELECT {key_of_text_sql(source, 's.f')} AS key, count(*) FROM (SELECT {field_sql} AS f FROM "
            "(SELECT DISTINCT ON (line) line, csv_line FROM idx_rej) s) s GROUP BY key",
            reject_params,
        ).fetchall()
        invalid = con.execute(
            "SELECT count(DISTINCT line) FROM idx_rej WHERE error_type IN ('INVALID UNICODE', 'INVALID ENCODING')"
        ).fetchall()[0][0]
    finally:
        con.close()
    for key, n in rejected:
        partitions[key] = partitions.get(key, 0) + int(n)
    return _Counts(partitions, with_offset, naive, castable, padded), sum(partitions.values()), int(invalid)


def padded_sql(text_sql: str) -> str:
    """Whether a text starts or ends with a blank (LIKE on both ends: far cheaper per row than comparing a trim)."""
    ends = [f"{text_sql} LIKE '{b}%' OR {text_sql} LIKE '%{b}'" for b in (" ", "\t", "\u00a0", "\r")]
    return "(" + " OR ".join(ends) + ")"


def _padded_tag_column(source: SourceConfig, header: list[str]) -> str | None:
    """The tag column whose blanks the index counts: only historian_long tags are typed by the reader."""
    if source.kind is not SourceKind.HISTORIAN_LONG or not source.trim_keys:
        return None
    column = source.source_column("tag")
    return column if column in header else None


def _count_records(source: SourceConfig, text: ReadableText, header: list[str]) -> tuple[_Counts, int, int]:
    """Rows per partition of a file read record by record; and its records and the raw lines they cover."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        records, spans = load_csv_records(con, text.path, source.csv, header, "idx_rows")
        return _count_table(con, source, "idx_rows", header), records, spans
    finally:
        con.close()


def _count_table(con: duckdb.DuckDBPyConnection, source: SourceConfig, table: str, fields: list[str]) -> _Counts:
    """Rows per partition of a row-path table; rows that are not records (`_bad`) go with unreadable keys."""
    by = key_columns(source)
    if _entity_is_line(source) and source.sequence is not None:
        key_sql = entity_key_sql(f"CAST(s._line AS {source.schema_[source.sequence.entities[0]]})")
    elif not by or any(c not in fields for c in by):
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()
        return _Counts({None: int(rows[0][0])} if rows and rows[0][0] else {})
    else:
        key_sql = key_of_text_sql(source, joined_sql([f"s.{quote_ident(c)}" for c in by]))
    rows = con.execute(
        f"SELECT CASE WHEN s._bad IS NULL THEN {key_sql} END AS k, count(*) FROM {table} s GROUP BY k"
    ).fetchall()
    return _Counts({k: int(n) for k, n in rows})


def readable_entry(entry: IndexedFile, source: SourceConfig, scratch: Path, count: bool = False) -> ReadableText:
    """An indexed file as local UTF-8 text again, decoded as discovery decided (discovery's copy when it kept one);
    `count`: with its raw line count."""
    options = source.csv
    if options.encoding == "auto" and entry.encoding:
        options = options.model_copy(update={"encoding": entry.encoding})
    found = source_file(entry)
    return readable_text(found, options, scratch, _token(entry.fingerprint, entry.config), count=count)


def source_file(entry: IndexedFile) -> SourceFile:
    """An indexed file as discovery found it (to read it again)."""
    return SourceFile(entry.uri, entry.name, entry.size, entry.mtime, "://" not in entry.uri, entry.etag)


def _token(fingerprint: str, digest: str) -> str:
    """Names the scratch copies of one version of a file read with one set of options."""
    return hashlib.sha256(f"{fingerprint}|{digest}".encode()).hexdigest()[:32]


def cached_entries(layout: Layout, source: SourceConfig) -> list[IndexedFile]:
    """The index entries discovery last wrote for a source (its current files)."""
    return list(_read_cache(layout, source.name).values())


def indexed(layout: Layout, source: SourceConfig, files: list[SourceFile]) -> dict[str, IndexedFile]:
    """The index entries of `files` already computed with the source's current options, by fingerprint: what is
    known of them without reading any of them."""
    cache, digest = _read_cache(layout, source.name), options_digest(source)
    return {f.fingerprint: e for f in files if (e := cache.get(f.fingerprint)) is not None and e.config == digest}


def _read_cache(layout: Layout, source: str) -> dict[str, IndexedFile]:
    text = layout.read_text(layout.index_file(source))
    if text is None:
        return {}
    try:
        raw = json.loads(text)
        return {key: IndexedFile(**value) for key, value in raw.items()}
    except (json.JSONDecodeError, TypeError):
        return {}


def _write_cache(layout: Layout, source: str, entries: dict[str, IndexedFile]) -> None:
    """Rewritten whole by every discovery, partition steps side by side included (one step on every machine: the
    last writer's entries stand, and a missing entry only costs reading that file again)."""
    text = json.dumps({k: asdict(v) for k, v in entries.items()}, indent=1)
    layout.commit_text(layout.index_file(source), text)
