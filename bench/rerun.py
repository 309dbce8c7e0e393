"""`plantdata bench rerun`: what `plantdata run` costs when nothing changed, and when one new day arrives.

For each history length the demo plant is generated with one day more than asked; the newest day's historian and
alarm exports are held back. `plantdata run` (the CLI, in a process of its own: what an engineer waits for) then
runs over the history, again at once with nothing new, and once more after the held-back day is put in place.
The first run is the baseline the other two are compared with.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from demo_plant import generate

SOURCES = Path(__file__).resolve().parent.parent / "demo_plant" / "sources.yaml"
TARGET_NO_CHANGE_S = 5.0
PER_DAY = ("historian", "alarms")  # the demo's exports written one file per day


def _run(root: Path) -> float:
    env = {**os.environ, "PLANTDATA_HOME": str(root), "DAGSTER_HOME": str(root / "dagster")}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "from pipelines.cli import entrypoint; entrypoint()", "run", "--sources", str(SOURCES)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: the demo's planted defects hold partitions back, by design
        raise RuntimeError(f"plantdata run failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return round(elapsed, 2)


def _one(days: int, tags: int, folder: Path, periods: tuple[int, int]) -> dict[str, Any]:
    root = folder / f"rerun-{days}d"
    shutil.rmtree(root, ignore_errors=True)
    plant = root / "demo"
    generate(plant, days=days + 1, tags=tags, min_period_s=periods[0], max_period_s=periods[1])
    held = root / "held-back"
    newest = max(p.stem.rsplit("_", 1)[-1] for p in (plant / "historian").glob("historian_*.csv"))
    for kind in PER_DAY:
        for path in (plant / kind).glob(f"*_{newest}.csv"):
            (held / kind).mkdir(parents=True, exist_ok=True)
            path.rename(held / kind / path.name)
    full = _run(root)
    after_full = _dagster_runs(root)
    unchanged = _run(root)
    after_unchanged = _dagster_runs(root)
    for kind in PER_DAY:
        for path in (held / kind).glob("*.csv"):
            path.rename(plant / kind / path.name)
    new_day = _run(root)
    return {
        "days": days,
        "tags": tags,
        "sampling_periods_s": list(periods),
        "full_run_s": full,
        "no_change_rerun_s": unchanged,
        "new_day_run_s": new_day,
        "no_change_ratio_to_full": round(unchanged / full, 3),
        "new_day_ratio_to_full": round(new_day / full, 3),
        "no_change_within_target": unchanged <= TARGET_NO_CHANGE_S,
        "dagster_runs_full": after_full,
        "dagster_runs_no_change": after_unchanged - after_full,
        "dagster_runs_new_day": _dagster_runs(root) - after_unchanged,
    }


def _dagster_runs(root: Path) -> int:
    """How many runs the data root's Dagster instance has recorded."""
    from pipelines.run import instance_for

    return len(instance_for(root).get_run_records())


def run_rerun_bench(days: list[int], tags: int, folder: Path, periods: tuple[int, int] = (1, 10)) -> dict[str, Any]:
    """`periods`: the demo's shortest and longest sampling period, s (its default: 1 and 10)."""
    return {"target_no_change_s": TARGET_NO_CHANGE_S, "histories": [_one(d, tags, folder, periods) for d in days]}
