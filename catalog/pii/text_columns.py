"""The text columns of a set of Parquet files, each with its distinct values and how many rows hold each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb

from config.sql import path_list


def text_value_counts(files: list[Path]) -> Iterator[tuple[str, dict[str, int]]]:
    """`(column, {value: rows})` per VARCHAR column, NULLs left out: scanning each distinct value once is what
    keeps a long, repetitive work-order history fast."""
    if not files:
        return
    relation = f"read_parquet({path_list(files)}, hive_partitioning = false)"
    with duckdb.connect() as con:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        for column in [str(row[0]) for row in described if str(row[1]) == "VARCHAR"]:
            ident = '"' + column.replace('"', '""') + '"'
            counted = con.execute(f"SELECT {ident}, count(*) FROM {relation} WHERE {ident} IS NOT NULL GROUP BY ALL")
            yield column, {str(value): int(rows) for value, rows in counted.fetchall()}
