"""Remaining useful life: each equipment's windows in order (a sequence axis) up to its failure work order.

The target is the time from a window's end to the failure, in hours; windows after the failure (the repair and
the new part) belong to no sequence and are dropped, so nothing after the failure is ever a feature.
"""

from __future__ import annotations

import duckdb
import polars as pl

from task_datasets.errors import TaskDatasetError
from task_datasets.inputs import ReleasedInput
from task_datasets.spec import FailureSpec

SEQUENCE = "sequence_index"


def rul_targets(windows: pl.DataFrame, orders: ReleasedInput, failure: FailureSpec, column: str) -> pl.DataFrame:
    """Windows before each equipment's first matching failure, with `column` = hours left and `sequence_index`."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        found = con.sql(
            "SELECT DISTINCT equipment_id AS equipment, ts AS failure_at FROM read_parquet(?) "
            "WHERE wo_type IN (SELECT unnest(?)) AND failure_mode IN (SELECT unnest(?)) ORDER BY ALL",
            params=[[str(f) for f in orders.files], failure.types, failure.failure_modes],
        ).pl()
    finally:
        con.close()
    joined = (  # each window with the next failure of its equipment
        windows.join(found, on="equipment", how="inner")
        .filter(pl.col("window_end") <= pl.col("failure_at"))
        .sort("failure_at")
        .group_by("equipment", "entity", "window_start", maintain_order=True)
        .first()
    )
    if joined.is_empty():
        raise TaskDatasetError(
            f"no window ends before a {failure.failure_modes} work order in {orders.dataset} v{orders.version}; "
            "check examples.equipment and examples.failure"
        )
    hours = (pl.col("failure_at") - pl.col("window_end")).dt.total_seconds() / 3600.0
    return (
        joined.sort("equipment", "entity", "window_start")
        .with_columns(
            hours.alias(column), pl.int_range(pl.len()).over("equipment", "entity", "failure_at").alias(SEQUENCE)
        )
        .drop("failure_at")
    )
