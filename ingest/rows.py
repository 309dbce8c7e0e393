"""The row path: exports loaded into DuckDB with every row's line number and raw text, fields as text.

JSON lines and Parquet always take it; so does a CSV file whose records span lines (see csv_records), or
whose source needs line numbers. These are small in plants (work orders, registers, run-to-failure tables)
or rare, so we keep exact line numbers for every row, good or bad.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pyarrow as pa

from config.kinds import FileFormat
from config.sources import CsvOptions
from config.sql import sql_literal
from ingest.columns import quote_ident
from ingest.csv_records import read_records
from ingest.errors import SourceFileError
from ingest.files import SourceFile
from ingest.readable import open_text_stream

_BATCH = 100_000


def load_rows(con: duckdb.DuckDBPyConnection, file: SourceFile, fmt: FileFormat, table: str) -> tuple[list[str], int]:
    """Create `table` (_line, _raw, _bad, _detail, then one VARCHAR column per field); return the field names and
    row count.

    `_bad` names the rule for lines that are not records at all (broken JSON); such rows have no fields.
    """
    if fmt is FileFormat.PARQUET:
        return _load_parquet(con, file, table)
    return _load_jsonl(con, file, table)


def load_csv_records(
    con: duckdb.DuckDBPyConnection, path: str, options: CsvOptions, header: list[str], table: str
) -> tuple[int, int]:
    """`table` like `load_rows`, from a local UTF-8 CSV read record by record; return (records, lines they span)."""
    preamble = options.skip_rows + (1 if options.header else 0)
    columns = ["_line", "_raw", "_bad", "_detail", *header]
    schema = pa.schema([("_line", pa.int64()), *((f"c{i}", pa.string()) for i in range(1, len(columns)))])
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({', '.join(_column_defs(columns))})")
    records = spans = 0
    batch: list[list[Any]] = [[] for _ in columns]
    for record in read_records(path, options, len(header), preamble):
        records, spans = records + 1, spans + record.span
        values = record.fields or [None] * len(header)
        row = [record.line, record.raw, record.rule, record.detail or None, *values]
        for target, value in zip(batch, row, strict=True):
            target.append(value)
        if len(batch[0]) >= _BATCH:
            _append(con, table, pa.Table.from_arrays([pa.array(b) for b in batch], schema=schema))
            batch = [[] for _ in columns]
    if batch[0]:
        _append(con, table, pa.Table.from_arrays([pa.array(b) for b in batch], schema=schema))
    return records, spans


def _column_defs(columns: list[str]) -> list[str]:
    return [f"{quote_ident(c)} {'BIGINT' if c == '_line' else 'VARCHAR'}" for c in columns]


def _append(con: duckdb.DuckDBPyConnection, table: str, arrow: pa.Table) -> None:
    con.register(f"{table}_batch", arrow)
    con.execute(f"INSERT INTO {table} SELECT * FROM {table}_batch")
    con.unregister(f"{table}_batch")


def _load_parquet(con: duckdb.DuckDBPyConnection, file: SourceFile, table: str) -> tuple[list[str], int]:
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [file.uri]).fetchall()
    except duckdb.Error as exc:
        raise SourceFileError(file.uri, f"not a readable Parquet file ({exc})") from exc
    fields = [row[0] for row in described]
    idents = [quote_ident(f) for f in fields]
    raw = "json_object(" + ", ".join(f"{sql_literal(f)}, {i}" for f, i in zip(fields, idents, strict=True)) + ")"
    casts = ", ".join(f"{i}::VARCHAR AS {i}" for i in idents)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT file_row_number + 1 AS _line, {raw}::VARCHAR AS _raw, "
        f"NULL::VARCHAR AS _bad, NULL::VARCHAR AS _detail, {casts} FROM read_parquet(?, file_row_number = true)",
        [file.uri],
    )
    count = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return fields, int(count[0]) if count else 0


def _load_jsonl(con: duckdb.DuckDBPyConnection, file: SourceFile, table: str) -> tuple[list[str], int]:
    lines: list[int] = []
    raws: list[str] = []
    bad: list[str | None] = []
    records: list[dict[str, Any]] = []
    fields: dict[str, None] = {}
    try:
        with open_text_stream(file.uri, file.name) as handle:
            for number, raw_bytes in enumerate(handle, start=1):
                try:
                    text = raw_bytes.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:  # JSON is UTF-8: a line that is not is kept, not published garbled
                    lines.append(number)
                    raws.append(raw_bytes.decode("utf-8", errors="replace").rstrip("\r\n"))
                    bad.append("invalid_encoding")
                    records.append({})
                    continue
                if not text.strip():
                    continue
                lines.append(number)
                raws.append(text)
                try:
                    record = json.loads(text)
                except json.JSONDecodeError:
                    record = None
                if not isinstance(record, dict):
                    bad.append("invalid_json")
                    records.append({})
                    continue
                bad.append(None)
                records.append(record)
                fields.update(dict.fromkeys(record))
    except FileNotFoundError as exc:
        raise SourceFileError(file.uri, "the file disappeared while being read", retryable=True) from exc
    columns: dict[str, list[Any]] = {"_line": lines, "_raw": raws, "_bad": bad, "_detail": [None] * len(lines)}
    for field in fields:
        columns[field] = [_as_text(r.get(field)) for r in records]
    arrow = pa.table({k: pa.array(v, type=pa.int64() if k == "_line" else pa.string()) for k, v in columns.items()})
    con.register(f"{table}_arrow", arrow)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {table}_arrow")
    con.unregister(f"{table}_arrow")
    return list(fields), len(lines)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
