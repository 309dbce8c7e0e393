"""Sensor-fault windows and tasks on a small synthetic historian written as a release, plus one demo check."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from label_studio_sdk.label_interface import LabelInterface

from annotation.anomaly import RobustZDetector
from annotation.labeling import channel_columns, sensor_faults_config
from annotation.sensor_windows import (
    Window,
    build_tasks,
    candidate_windows,
    equipment_channels,
    full_rate_window,
)
from annotation.tasks import Release

DAYS = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))
HOURS = 6  # readings from 00:00 to 06:00 each day
PERIODS = {"E1.FAST": 1, "E1.MID": 5, "E1.SLOW": 10}  # seconds between readings
STEP = (DAYS[1] + timedelta(hours=2, minutes=10), DAYS[1] + timedelta(hours=2, minutes=25))  # on E1.FAST
HALF_HOUR = timedelta(minutes=30)
LABELS = ["fault", "other"]


def _write(root: Path, frame: pl.DataFrame) -> Release:
    for (day,), part in frame.group_by(pl.col("ts").dt.date().alias("day")):
        folder = root / "v1" / f"day={day}"
        folder.mkdir(parents=True, exist_ok=True)
        part.drop("day", strict=False).write_parquet(folder / "part-0.parquet")
    return Release(root.name, 1, root / "v1")


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Release]:
    base = tmp_path_factory.mktemp("releases")
    rng = np.random.default_rng(3)
    frames = []
    for day in DAYS:
        for tag, period in {**PERIODS, "E2.ONLY": 2}.items():
            stamps = [day + timedelta(seconds=s) for s in range(0, HOURS * 3600, period)]
            values = rng.normal(50.0, 1.0, len(stamps))
            if tag == "E1.FAST":
                values[[STEP[0] <= t < STEP[1] for t in stamps]] += 15.0
            frames.append(
                pl.DataFrame(
                    {
                        "ts": pl.Series(stamps, dtype=pl.Datetime("us", "UTC")),
                        "tag": tag,
                        "value": values,
                        "quality": 192,
                        "quality_class": "good",
                        "equipment_id": tag.split(".")[0].replace("E", "E-"),
                        "unit": "bar",
                        "source_file": "synthetic.csv",
                    }
                )
            )
    historian = _write(base / "historian", pl.concat(frames))
    alarm_times = [DAYS[0] + timedelta(hours=1, minutes=5), DAYS[0] + timedelta(hours=1, minutes=20)]  # same window
    alarms = _write(
        base / "alarms",
        pl.DataFrame(
            {
                "ts": pl.Series([*alarm_times, DAYS[0] + timedelta(hours=3)], dtype=pl.Datetime("us", "UTC")),
                "tag": ["E1.MID", "E1.MID", "E2.ONLY"],
                "equipment_id": ["E-1", "E-1", "E-2"],
                "event_type": "HI",
                "priority": 2,
                "state": "ACTIVE",
                "message": "high",
            }
        ),
    )
    work_orders = _write(
        base / "work_orders",
        pl.DataFrame(
            {
                "wo_id": ["WO-1"],
                "equipment_id": ["E-1"],
                "ts": pl.Series([DAYS[1] + timedelta(hours=4, minutes=40)], dtype=pl.Datetime("us", "UTC")),
                "closed_at": pl.Series([DAYS[1] + timedelta(hours=5, minutes=10)], dtype=pl.Datetime("us", "UTC")),
                "wo_type": "corrective",
                "failure_mode": "seal_leak",
                "description": "leak",
            }
        ),
    )
    return {"historian": historian, "alarms": alarms, "work_orders": work_orders}


def windows(releases: dict[str, Release], **overrides: object) -> list[Window]:
    arguments: dict[str, object] = {
        "equipment": "E-1",
        "window": HALF_HOUR,
        "alarms": releases["alarms"],
        "work_orders": releases["work_orders"],
        "negatives": 4,
        "seed": 11,
        "anomalies": 1,
    }
    arguments.update(overrides)
    return candidate_windows(releases["historian"], **arguments)  # type: ignore[arg-type]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return DAYS[day] + timedelta(hours=hour, minutes=minute)


def test_windows_aligned_deduplicated_and_stable(releases: dict[str, Release]) -> None:
    found = windows(releases)
    starts = [w.start for w in found]
    assert starts == sorted(set(starts)), "one window per aligned start, sorted"
    assert all(w.start.timestamp() % HALF_HOUR.total_seconds() == 0 for w in found)
    assert all(w.end - w.start == HALF_HOUR and w.equipment == "E-1" for w in found)
    assert all(any(d <= w.start < d + timedelta(hours=HOURS) for d in DAYS) for w in found), "only windows with data"
    by_start = {w.start: w for w in found}
    # both alarms of E-1 fall in 01:00-01:30 of day 0: one window; E-2's alarm makes none
    assert by_start[at(0, 1)].reason == "alarm" and len(by_start[at(0, 1)].evidence) == 2
    assert at(0, 3) not in by_start or by_start[at(0, 3)].reason != "alarm"
    # the work order (reported 04:40, closed 05:10 on day 1): the lead-up, report and close windows
    assert {by_start[t].reason for t in (at(1, 4), at(1, 4, 30), at(1, 5))} == {"work_order"}
    # the planted step (day 1, 02:10-02:25) is the top anomaly
    assert by_start[at(1, 2)].reason == "anomaly" and by_start[at(1, 2)].z > 4
    randoms = [w for w in found if w.reason == "random"]
    assert len(randoms) == 4
    assert sorted(sum(1 for w in randoms if w.day == d.date()) for d in DAYS) == [2, 2], "spread over days"
    assert windows(releases) == found, "the same inputs give the same windows"
    assert windows(releases, seed=12) != found


def test_windows_without_alarms_or_work_orders(releases: dict[str, Release]) -> None:
    found = windows(releases, alarms=None, work_orders=None, negatives=0, anomalies=2)
    assert [w.reason for w in found] == ["anomaly", "anomaly"]
    assert at(1, 2) in {w.start for w in found}


def test_downsampling_keeps_ends_and_extremes_and_export_stays_full_rate(releases: dict[str, Release]) -> None:
    historian = releases["historian"]
    window = Window("E-1", at(1, 2), at(1, 3), "anomaly")
    detector = RobustZDetector(label="fault")
    (full,) = build_tasks("p", historian, [window], labels=LABELS, detector=detector)
    (thin,) = build_tasks("p", historian, [window], labels=LABELS, detector=detector, max_points=500)
    rows = full_rate_window(historian, thin.row_keys)
    columns = channel_columns(sorted(PERIODS))
    assert set(rows.columns) >= {"ts", "tag", "value", "quality", "quality_class", "equipment_id", "unit"}
    assert rows.height == sum(3600 // p for p in PERIODS.values()) == thin.extra["full_rate_points"]
    assert thin.extra["full_rate_points_per_channel"] == {tag: 3600 // p for tag, p in PERIODS.items()}

    assert not full.extra["downsampled"] and len(full.data["ts"]["time"]) == 3600
    series = thin.data["ts"]
    assert thin.extra["downsampled"] and len(series["time"]) == thin.extra["display_points"] <= 500
    assert set(series) == {"time", *columns.values()}
    assert all(len(v) == len(series["time"]) for v in series.values())
    assert series["time"] == sorted(series["time"])
    epoch_ms = rows["ts"].dt.epoch("ms")
    assert (series["time"][0], series["time"][-1]) == (epoch_ms.min(), epoch_ms.max())
    for tag, column in columns.items():
        values = rows.filter(pl.col("tag") == tag)["value"]
        assert min(series[column]) == values.min() and max(series[column]) == values.max(), tag
    # the planted step is still visible after thinning, and the pre-label marks it
    assert thin.prediction is not None and thin.prediction == full.prediction
    assert len(thin.prediction.result) == 1


def test_keys_stable_for_the_same_rows_and_different_otherwise(releases: dict[str, Release]) -> None:
    historian = releases["historian"]
    detector = RobustZDetector(label="fault")
    found = windows(releases)
    first = build_tasks("p", historian, found, labels=LABELS, detector=detector)
    again = build_tasks("p", historian, list(reversed(found)), labels=LABELS, detector=detector)
    assert sorted(t.key for t in first) == sorted(t.key for t in again)
    assert len({t.key for t in first}) == len(found) == len(first)
    assert build_tasks("p", historian, found + found[:2], labels=LABELS, detector=detector) == first
    other = build_tasks("q", historian, found[:1], labels=LABELS, detector=detector)
    assert other[0].key != first[0].key
    task = first[0]
    assert task.row_keys == {
        "equipment_id": "E-1",
        "start": found[0].start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": found[0].end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "channels": sorted(PERIODS),
    }
    assert task.stratum == "E-1" and task.reason == found[0].reason and 0 <= task.uncertainty <= 1
    assert task.data["window_start"] == task.row_keys["start"] and task.data["equipment"] == "E-1"


def test_tasks_match_the_labeling_config(releases: dict[str, Release]) -> None:
    historian = releases["historian"]
    channels = equipment_channels(historian, "E-1")
    assert channels == {"E1.FAST": "bar", "E1.MID": "bar", "E1.SLOW": "bar"}
    config = sensor_faults_config(list(channels), LABELS, units=channels)
    interface = LabelInterface(config)
    tasks = build_tasks("p", historian, windows(releases), labels=LABELS, detector=RobustZDetector(label="fault"))
    columns = set(channel_columns(list(channels)).values())
    assert any(t.prediction and t.prediction.result for t in tasks)
    for task in tasks:
        assert set(task.data["ts"]) == {"time", *columns}
        assert task.prediction is not None
        assert interface.validate_prediction({"result": task.prediction.result}, return_errors=True) == []
    json.dumps([t.data for t in tasks], allow_nan=False)  # plain JSON: no NaN, no datetimes


def test_demo_windows_of_p101_overlap_the_bearing_fault(demo_run: Path) -> None:
    releases = demo_run / "releases"
    faults = json.loads((demo_run / "demo" / "ground_truth" / "faults.json").read_text())
    fault = next(f for f in faults if f["fault_id"] == "F-001")
    start, end = (datetime.fromisoformat(fault[k]) for k in ("start_utc", "end_utc"))
    found = candidate_windows(
        Release("historian", 1, releases / "historian" / "v1"),
        equipment=fault["equipment_id"],
        window=timedelta(hours=2),
        alarms=Release("alarms", 1, releases / "alarms" / "v1"),
        work_orders=Release("work_orders", 1, releases / "work_orders" / "v1"),
        negatives=4,
        seed=0,
    )
    assert any(w.start < end and start < w.end for w in found)
    assert any(w.start < end and start < w.end for w in found if w.reason in ("alarm", "anomaly"))
