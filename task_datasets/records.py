"""Record examples: one row per record of a released table (a work order and its masked text)."""

from __future__ import annotations

import duckdb
import polars as pl

from config.sql import quote_ident
from task_datasets.errors import TaskDatasetError
from task_datasets.inputs import ReleasedInput
from task_datasets.spec import RecordsSpec


def build_records(released: ReleasedInput, spec: RecordsSpec) -> pl.DataFrame:
    """Columns `key`-column, `time` (as `window_start`/`window_end`), `equipment` (the group column), the text
    and the record's own label column; filtered by `where`."""
    wanted = [spec.key, spec.time, spec.group, spec.text, *([spec.label_column] if spec.label_column else [])]
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        files = [str(f) for f in released.files]
        columns = {r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [files]).fetchall()}
        missing = sorted({*wanted, *spec.where} - columns)
        if missing:
            raise TaskDatasetError(
                f"{released.dataset} v{released.version} has no column(s) {missing}; its columns are "
                f"{sorted(columns)}: correct examples in the spec"
            )
        conditions = " AND ".join(f"{quote_ident(c)}::VARCHAR IN (SELECT unnest(?))" for c in spec.where) or "true"
        select = ", ".join(quote_ident(c) for c in dict.fromkeys(wanted))
        frame = con.sql(
            f"SELECT {select} FROM read_parquet(?) WHERE {conditions} ORDER BY {quote_ident(spec.key)}",
            params=[files, *spec.where.values()],
        ).pl()
    finally:
        con.close()
    out: pl.DataFrame = frame.with_columns(
        window_start=pl.col(spec.time), window_end=pl.col(spec.time), equipment=pl.col(spec.group).cast(pl.String)
    )
    return out
