"""What the time-series rules of a partition need from the rest of the source: history, window and export times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

from quality.timeseries_scores import TagProfile, reference


def series_inputs(
    partitioning: str, key: str, manifests: dict[str, dict[str, Any]], profiles: dict[str, dict[str, list[Any]]]
) -> dict[str, Any]:
    """PartitionInput's `history`, `window` and `exported` for partition `key`.

    - history: per-tag reference from the profiles of earlier partitions (nearest first);
    - window: for day partitions, the UTC day's start (end) when the day before (after) has data too: a tag that
      starts late or stops early there misses readings; at the ends of the data nothing is assumed;
    - exported: each export file's modification time, as the manifest recorded it.
    """
    earlier = [
        {tag: TagProfile.from_list(values) for tag, values in profiles[k].items()}
        for k in sorted((k for k in profiles if k < key), reverse=True)
        if profiles[k]
    ]
    with_rows = [k for k, m in manifests.items() if m.get("rows_out")]
    window: tuple[datetime | None, datetime | None] = (None, None)
    bounds = None
    if partitioning == "day":
        try:
            day = datetime.combine(date.fromisoformat(key), datetime.min.time(), tzinfo=UTC)
        except ValueError:
            day = None
        if day is not None:
            bounds = (day, day + timedelta(days=1))
            before, after = ((day + timedelta(days=d)).date().isoformat() for d in (-1, 1))
            window = (day if before in with_rows else None, bounds[1] if after in with_rows else None)
    files = manifests.get(key, {}).get("files", [])
    exported = {str(f["name"]): float(f["modified"]) for f in files if f.get("modified") is not None}
    return {"history": reference(earlier), "window": window, "exported": exported, "day": bounds}


def covered_share(
    con: duckdb.DuckDBPyConnection,
    day: tuple[datetime, datetime] | None,
    window: tuple[datetime | None, datetime | None],
) -> float:
    """The share of a day partition's day that its data can cover: the whole day, except at the source's first
    (last) day, which starts (ends) with its first (last) row. 1.0 for other partitionings or without `ts`."""
    if day is None or (window[0] is not None and window[1] is not None):
        return 1.0
    if "ts" not in {str(row[0]) for row in con.execute("DESCRIBE base").fetchall()}:
        return 1.0
    found = con.execute("SELECT min(ts), max(ts) FROM base").fetchone()
    if found is None or found[0] is None:
        return 1.0
    start = window[0] or max(day[0], found[0])
    end = window[1] or min(day[1], found[1])
    return min(max((end - start).total_seconds() / (day[1] - day[0]).total_seconds(), 0.0), 1.0)
