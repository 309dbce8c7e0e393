"""`plantdata bench curve` and `bench planning` at small sizes: they measure what they say (no timing asserted)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.curve import SIZES, _line, curve_lines, run_ingest_curve
from bench.ingest import START, TAGS
from bench.planning import run_planning_bench


def test_curve_measures_each_size_and_deletes_its_inputs(tmp_path: Path) -> None:
    result = run_ingest_curve([4000, 2000], tmp_path, repeats=2, once_from=4000)
    points = result["points"]
    assert [(p["rows"], p["turns"]) for p in points] == [(2000, 2), (4000, 1)]
    assert all(p["rows_out"] == p["rows"] and p["rows_quarantined"] == 0 for p in points)
    small, large = points
    expected = (large["seconds"] / large["rows"]) / (small["seconds"] / small["rows"])
    assert abs(result["per_row_ratio"] - expected) < 0.001
    two_sizes_linear = large["seconds"] / large["rows"] <= 1.1 * small["seconds"] / small["rows"]
    assert result["linear_within_10pct"] == two_sizes_linear and result["largest_off_line"] is None
    assert result["rss_within_1gib"] == all(p["peak_rss_mb"] <= 1024 for p in points)
    assert not (tmp_path / "ingest").exists(), "each size's CSV and outputs are deleted"
    text = "\n".join(curve_lines(result))
    assert "linear within 10%" in text and "peak RSS within 1 GiB" in text


def _points(seconds: dict[int, float]) -> list[dict[str, float]]:
    return [{"rows": rows, "seconds": s} for rows, s in seconds.items()]


def test_a_fixed_cost_plus_a_cost_per_row_is_linear_and_a_growing_cost_per_row_is_not() -> None:
    # 0.05 s fixed + 0.16 s per million rows: the cost per row falls by a fifth from 1M to 10M, and it is linear
    affine = _line(_points({1_000_000: 0.21, 3_000_000: 0.53 * 1.05, 10_000_000: 1.65}))
    assert affine["linear_within_10pct"] and affine["largest_off_line"] == 0.05
    assert affine["fixed_s"] == 0.05 and affine["per_million_rows_s"] == 0.16
    # the cost per row doubles from 1M to 10M: the size between lies far off the line through the ends
    growing = _line(_points({1_000_000: 0.2, 3_000_000: 0.7, 10_000_000: 4.0}))
    assert not growing["linear_within_10pct"] and growing["largest_off_line"] > 0.1
    # two sizes: the larger may not cost more than 10% more per row
    assert _line(_points({1_000_000: 0.2, 10_000_000: 2.1}))["linear_within_10pct"]
    assert not _line(_points({1_000_000: 0.2, 10_000_000: 2.3}))["linear_within_10pct"]


def test_the_largest_bench_input_spans_no_clock_change() -> None:
    """Every size does the same work per row: no naive reading falls in a spring-forward gap (quarantined) or an
    autumn overlap."""
    berlin = ZoneInfo("Europe/Berlin")
    first = dt.datetime.fromisoformat(START).replace(tzinfo=berlin)
    last = first + dt.timedelta(seconds=max(SIZES) // TAGS)
    assert first.utcoffset() == last.utcoffset()


def test_planning_bench_decides_every_partition_without_work(tmp_path: Path) -> None:
    result = run_planning_bench(days=3, sources=2, folder=tmp_path)
    assert result["partitions"] == result["partitions_up_to_date"] == 6
    assert result["runs_requested_by_first_ticks"] == 6, "a sensor with no cursor asks for every partition"
    assert result["dagster_runs_first_run"] == 1, "the first run only published: the build left nothing to ingest"
    assert result["dagster_runs_no_change"] == 0
    home = tmp_path / "planning-3d-2s" / "home"
    assert (home / "catalog" / "CURRENT").exists()
    assert sorted(p.name for p in (home / "gated" / "line1").iterdir()) == [
        "day=2025-01-01",
        "day=2025-01-02",
        "day=2025-01-03",
    ]
