"""`plantdata bench curve`: the ingest cost curve over sizes (1M, 10M, 100M rows by default).

Each size is `bench ingest` (plantdata's ingest and a raw DuckDB COPY of the same CSV, each in a child process of its
own, so peak RSS is that child's; best of 3 turns per side, one turn from 100M rows); its CSV and outputs are
deleted before the next size (100M rows is 4.3 GB of CSV).
The cost is linear when it is a fixed cost plus a cost per row: every size between the smallest and the largest lies
within 10% of the line through those two (see `_line`); memory is bounded when plantdata's peak RSS stays within
1 GiB at every size.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bench.ingest import run_ingest_bench

SIZES = (1_000_000, 10_000_000, 100_000_000)
LINEAR_WITHIN = 0.10
RSS_LIMIT_MB = 1024.0


def run_ingest_curve(sizes: list[int], folder: Path, repeats: int = 3, once_from: int = SIZES[-1]) -> dict[str, Any]:
    """Sizes below `once_from` take `repeats` turns per side (each keeps its fastest: a load spike on a shared
    machine would otherwise decide a point); sizes from it on, one turn (100M rows take minutes a turn)."""
    points = []
    for rows in sorted(sizes):
        turns = 1 if rows >= once_from else repeats
        try:
            measured = run_ingest_bench(rows, folder, turns, floor=False)
        finally:
            shutil.rmtree(folder / "ingest", ignore_errors=True)
        points.append(
            {
                "rows": rows,
                "turns": turns,
                "seconds": measured["plantdata_s"],
                "rows_per_s": round(rows / measured["plantdata_s"]),
                "duckdb_copy_s": measured["duckdb_copy_s"],
                "ratio_to_copy": measured["ratio"],
                "peak_rss_mb": measured["peak_rss_mb"],
                "duckdb_peak_rss_mb": measured["duckdb_peak_rss_mb"],
                "rows_out": measured["rows_out"],
                "rows_quarantined": measured["rows_quarantined"],
            }
        )
    result: dict[str, Any] = {"points": points}
    if len(points) >= 2:
        small, large = points[-2], points[-1]
        per_row = (large["seconds"] / large["rows"]) / (small["seconds"] / small["rows"])
        result["per_row_ratio"] = round(per_row, 3)  # seconds per row, largest size over the next largest
        result.update(_line(points))
    result["rss_within_1gib"] = all(p["peak_rss_mb"] <= RSS_LIMIT_MB for p in points)
    return result


def _line(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether the cost is linear: a fixed cost plus a cost per row. The line runs through the smallest and largest
    sizes; every size between must lie within 10% of it. A fixed cost makes the cost per row fall as files grow,
    which is still linear; with only two sizes, the larger's cost per row must not exceed the smaller's by 10%."""
    first, last = points[0], points[-1]
    per_row = (last["seconds"] - first["seconds"]) / (last["rows"] - first["rows"])
    fixed = first["seconds"] - per_row * first["rows"]
    inner = points[1:-1]
    off = [abs(p["seconds"] / (fixed + per_row * p["rows"]) - 1) for p in inner]
    linear = (
        all(o <= LINEAR_WITHIN for o in off)
        if inner
        else (last["seconds"] / last["rows"]) <= (1 + LINEAR_WITHIN) * (first["seconds"] / first["rows"])
    )
    return {
        "fixed_s": round(fixed, 3),
        "per_million_rows_s": round(per_row * 1e6, 4),
        "largest_off_line": round(max(off), 3) if off else None,
        "linear_within_10pct": linear,
    }


def curve_lines(result: dict[str, Any]) -> list[str]:
    """The curve as a table for the terminal."""
    lines = [
        f"{'rows':>12} {'seconds':>9} {'rows/s':>11} {'COPY s':>8} {'ratio':>6} {'peak RSS MB':>12} {'COPY RSS MB':>12}"
    ]
    for p in result["points"]:
        lines.append(
            f"{p['rows']:>12,} {p['seconds']:>9.2f} {p['rows_per_s']:>11,} {p['duckdb_copy_s']:>8.2f} "
            f"{p['ratio_to_copy']:>6.2f} {p['peak_rss_mb']:>12.0f} {p['duckdb_peak_rss_mb']:>12.0f}"
        )
    if "per_row_ratio" in result:
        verdict = "yes" if result["linear_within_10pct"] else "NO"
        off = result["largest_off_line"]
        lines.append(
            f"linear within 10% ({result['fixed_s']} s + {result['per_million_rows_s']} s per million rows"
            + (f"; sizes between off that line by at most {off:.1%}" if off is not None else "")
            + f"; s/row largest over next {result['per_row_ratio']}): {verdict}"
        )
    lines.append(f"peak RSS within 1 GiB at every size: {'yes' if result['rss_within_1gib'] else 'NO'}")
    return lines
