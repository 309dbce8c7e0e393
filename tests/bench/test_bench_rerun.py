"""`plantdata bench rerun` at a small size: a run, a run with nothing new, a run with one new day."""

from __future__ import annotations

from pathlib import Path

from bench.rerun import run_rerun_bench


def test_rerun_bench_times_a_no_change_rerun_and_a_new_day(tmp_path: Path) -> None:
    [history] = run_rerun_bench([1], tags=40, folder=tmp_path, periods=(60, 120))["histories"]
    assert history["days"] == 1
    assert history["dagster_runs_full"] >= 6, history  # every source ran, and the publication
    assert history["dagster_runs_no_change"] == 0, history  # nothing new: no run at all
    assert history["dagster_runs_new_day"] >= 2, history  # the per-day sources ran for the new day, then published
    assert (tmp_path / "rerun-1d" / "ledger.json").exists()
