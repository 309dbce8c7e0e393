"""Sensor-fault tasks: which windows of an equipment's readings experts see, and what Label Studio shows them.

Windows have a fixed length and start at multiples of it (since the epoch, UTC), so the same rows always make
the same window and the same task key. Candidates come from alarms and work orders of the equipment, from the
windows the robust z detector scores highest, and from random windows spread over the days (the negatives
that keep the labelled set honest). A task shows every channel of the equipment on one time axis (epoch
milliseconds, each channel held at its last reading, as a historian records on change), thinned for display
above `max_points`; the labelled-dataset export reads the window again at full rate (`full_rate_window`).

The historian is read lazily, one equipment-day or one window at a time, never the whole release.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
from tsdownsample import MinMaxLTTBDownsampler

from annotation.anomaly import Baseline, RobustZDetector, baselines
from annotation.labeling import TIME_COLUMN, channel_columns
from annotation.tasks import Release, TaskItem, stable_key
from config.errors import PlantdataError

Reason = Literal["alarm", "work_order", "anomaly", "random"]
REASON_ORDER: tuple[Reason, ...] = ("alarm", "work_order", "anomaly", "random")  # a window's main reason first
BAD_QUALITY = "bad"
MAX_EVIDENCE = 20
DAY_MS = 86_400_000
# tsdownsample ships no type hints: its downsampler is used through this typed name
_DOWNSAMPLER: Callable[[], Any] = MinMaxLTTBDownsampler

log = logging.getLogger(__name__)


class SensorWindowError(PlantdataError):
    """A release, window or argument the task builder cannot use; the message names it and the fix."""


@dataclass(frozen=True)
class Window:
    """One candidate window of one equipment: [start, end) in UTC, why it was picked, and its detector z."""

    equipment: str
    start: datetime
    end: datetime
    reason: Reason
    reasons: tuple[Reason, ...] = ()
    evidence: tuple[str, ...] = ()
    z: float = 0.0

    @property
    def day(self) -> date:
        return self.start.date()


@dataclass
class _Pick:
    reasons: set[Reason] = field(default_factory=set)
    evidence: list[str] = field(default_factory=list)

    def add(self, reason: Reason, evidence: str | None = None) -> None:
        self.reasons.add(reason)
        if evidence and len(self.evidence) < MAX_EVIDENCE and evidence not in self.evidence:
            self.evidence.append(evidence)


def equipment_channels(historian: Release, equipment: str) -> dict[str, str | None]:
    """The equipment's tags in the release, sorted, with their unit (the last one given): the project's channels."""
    frame = (
        _scan(historian)
        .filter(pl.col("equipment_id") == equipment)
        .group_by("tag")
        .agg(pl.col("unit").drop_nulls().last())
        .sort("tag")
        .collect(engine="streaming")
    )
    if frame.is_empty():
        raise SensorWindowError(f"{historian.dataset} v{historian.version} has no readings of equipment {equipment}")
    return {str(tag): (str(unit) if unit is not None else None) for tag, unit in frame.iter_rows()}


def candidate_windows(
    historian: Release,
    *,
    equipment: str,
    window: timedelta,
    alarms: Release | None,
    work_orders: Release | None,
    negatives: int,
    seed: int,
    anomalies: int = 5,
    detector: RobustZDetector | None = None,
    baseline: Mapping[str, Baseline] | None = None,
) -> list[Window]:
    """Windows of `equipment` worth labelling, one per aligned start, sorted by start.

    - alarm: the window holding an alarm event of the equipment (or of one of its tags);
    - work_order: the window holding a work order's report time, the one before it (the lead-up to the
      failure) and the one holding its close time;
    - anomaly: the `anomalies` windows not picked above with the highest sustained robust z;
    - random: `negatives` windows among the rest, drawn with `seed` and spread evenly over the days.

    Only windows holding readings are returned. A window picked for several reasons keeps them all in
    `reasons`, the first of alarm > work_order > anomaly > random as `reason`. Windows are scored against each
    equipment-day's own median and MAD unless `baseline` (per tag, e.g. from a known healthy period) is given.
    """
    if negatives < 0 or anomalies < 0:
        raise SensorWindowError(f"negatives ({negatives}) and anomalies ({anomalies}) cannot be negative")
    window_ms = _window_ms(window)
    detector = detector or RobustZDetector(label="fault")
    scan = _scan(historian)
    scores = _score_windows(scan, equipment, window_ms, detector, baseline)
    if not scores:
        raise SensorWindowError(f"{historian.dataset} v{historian.version} has no readings of equipment {equipment}")
    first, last = min(scores), max(scores) + window_ms
    picks: dict[int, _Pick] = {}

    def pick(start: int, reason: Reason, evidence: str) -> None:
        if start in scores:
            picks.setdefault(start, _Pick()).add(reason, evidence)

    if alarms is not None:
        tags = list(equipment_channels(historian, equipment))
        for at, text in _alarm_events(alarms, equipment, tags, first, last):
            pick(_align(at, window_ms), "alarm", text)
    if work_orders is not None:
        for reported, closed, text in _work_order_events(work_orders, equipment, first - window_ms, last + window_ms):
            start = _align(reported, window_ms)
            for at in (start - window_ms, start) + ((_align(closed, window_ms),) if closed is not None else ()):
                pick(at, "work_order", text)
    ranked = sorted((start for start in scores if start not in picks and scores[start] > 0), key=lambda s: -scores[s])
    for start in ranked[:anomalies]:
        pick(start, "anomaly", f"sustained robust z {scores[start]:.1f} ({detector.model_version})")
    for start in _spread_over_days([s for s in sorted(scores) if s not in picks], negatives, seed):
        pick(start, "random", f"random, seed {seed}")
    return [
        Window(
            equipment=equipment,
            start=_datetime(start),
            end=_datetime(start + window_ms),
            reason=next(r for r in REASON_ORDER if r in chosen.reasons),
            reasons=tuple(r for r in REASON_ORDER if r in chosen.reasons),
            evidence=tuple(chosen.evidence),
            z=round(scores[start], 4),
        )
        for start, chosen in sorted(picks.items())
    ]


def build_tasks(
    project: str,
    historian: Release,
    windows: Iterable[Window],
    *,
    labels: Sequence[str],
    max_points: int = 10_000,
    detector: RobustZDetector,
    channels: Sequence[str] | None = None,
    baseline: Mapping[str, Baseline] | None = None,
) -> list[TaskItem]:
    """One Label Studio task per window (duplicates dropped), pre-labelled by `detector`.

    `channels` are the project's channels (its labeling configuration's); by default every tag of the window's
    equipment (`equipment_channels`). A channel without readings in a window is sent as nulls. Readings of bad
    quality are left out of the display and of the detector; windows without readings are skipped. The detector
    compares each window with its equipment-day (median and MAD per tag) unless `baseline` is given.
    """
    if detector.label not in labels:
        raise SensorWindowError(f"the detector's label {detector.label!r} is not one of the project labels {labels}")
    if max_points < 16:
        raise SensorWindowError(f"max_points must be at least 16, got {max_points}")
    scan = _scan(historian)
    known: dict[str, list[str]] = {}
    days: dict[tuple[str, date], dict[str, Baseline]] = {}
    tasks: dict[str, TaskItem] = {}
    for window in windows:
        if window.equipment not in known:
            known[window.equipment] = list(channels or equipment_channels(historian, window.equipment))
        tags = known[window.equipment]
        start_ms, end_ms = _epoch_ms(window.start), _epoch_ms(window.end)
        row_keys = {
            "equipment_id": window.equipment,
            "start": _iso(start_ms),
            "end": _iso(end_ms),
            "channels": sorted(tags),
        }
        key = stable_key(project, historian.dataset, row_keys)
        if key in tasks:
            continue
        rows = _readings(scan, window.equipment, start_ms, end_ms, tags=tags)
        good = _good(rows)
        if good.is_empty():
            log.warning("skipping %s %s: no readings of good quality", window.equipment, row_keys["start"])
            continue
        day_key = (window.equipment, window.day)
        if baseline is None and day_key not in days:
            day_ms = _align(start_ms, DAY_MS)
            days[day_key] = baselines(_good(_readings(scan, window.equipment, day_ms, day_ms + DAY_MS, tags=tags)))
        prediction, detection = detector.predict(good, baseline if baseline is not None else days[day_key])
        series, shown = _display_series(good, tags, max_points)
        per_channel = dict(rows.group_by("tag").len().iter_rows())
        thinned = shown < good["time_ms"].n_unique()
        tasks[key] = TaskItem(
            key=key,
            data={
                "ts": series,
                "equipment": window.equipment,
                "window_start": row_keys["start"],
                "window_end": row_keys["end"],
            },
            release=historian,
            row_keys=row_keys,
            stratum=window.equipment,
            reason=window.reason,
            prediction=prediction,
            uncertainty=round(detector.uncertainty(detection.z), 6),
            extra={
                "full_rate_points": rows.height,
                "full_rate_points_per_channel": {tag: int(per_channel.get(tag, 0)) for tag in tags},
                "bad_quality_points": rows.height - good.height,
                "display_points": shown,
                "downsampled": thinned,
                "downsampler": "tsdownsample.MinMaxLTTBDownsampler" if thinned else None,
                "channel_columns": channel_columns(tags),
                "window_z": round(detection.z, 4),
                "reasons": list(window.reasons or (window.reason,)),
                "evidence": list(window.evidence),
            },
        )
    return list(tasks.values())


def full_rate_window(historian: Release, row_keys: dict[str, Any]) -> pl.DataFrame:
    """Every release row of a task's window at full rate (all columns, bad quality included), by tag and time."""
    missing = [k for k in ("equipment_id", "start", "end", "channels") if k not in row_keys]
    if missing:
        raise SensorWindowError(f"row_keys lack {missing}; expected those written by build_tasks, got {row_keys}")
    start_ms = _epoch_ms(_parse_iso(row_keys["start"]))
    end_ms = _epoch_ms(_parse_iso(row_keys["end"]))
    scan = _scan(historian)
    return (
        scan.filter(
            (pl.col("equipment_id") == row_keys["equipment_id"])
            & pl.col("tag").is_in(list(row_keys["channels"]))
            & _ts_between(scan, start_ms, end_ms)
        )
        .sort("tag", "ts")
        .collect()
    )


# --- reading ---------------------------------------------------------------------------------------------------


def _scan(release: Release) -> pl.LazyFrame:
    files = sorted(Path(release.location).glob("**/*.parquet"))
    if not files:
        raise SensorWindowError(
            f"{release.dataset} v{release.version}: no Parquet files under {release.location}; "
            "point the release at its folder in releases/<dataset>/v<n>/"
        )
    return pl.scan_parquet(files, hive_partitioning=True)


def _ts_between(scan: pl.LazyFrame, start_ms: int, end_ms: int, column: str = "ts") -> pl.Expr:
    """[start, end) on a timestamp column, with or without time zone (naive ones are UTC)."""
    dtype = scan.collect_schema()[column]
    start, end = _datetime(start_ms), _datetime(end_ms)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    return (pl.col(column) >= start) & (pl.col(column) < end)


def _readings(
    scan: pl.LazyFrame,
    equipment: str,
    start_ms: int,
    end_ms: int,
    *,
    tags: Sequence[str] | None = None,
) -> pl.DataFrame:
    """tag, time_ms, value, quality_class of one equipment in [start, end), sorted by tag and time."""
    names = scan.collect_schema().names()
    condition = (pl.col("equipment_id") == equipment) & _ts_between(scan, start_ms, end_ms)
    if tags is not None:
        condition &= pl.col("tag").is_in(list(tags))
    quality = pl.col("quality_class") if "quality_class" in names else pl.lit(None, dtype=pl.String)
    return (
        scan.filter(condition)
        .select(
            pl.col("tag").cast(pl.String),
            pl.col("ts").dt.epoch("ms").alias("time_ms"),
            pl.col("value").cast(pl.Float64),
            quality.cast(pl.String).alias("quality_class"),
        )
        .sort("tag", "time_ms")
        .collect()
    )


def _good(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.filter(
        (pl.col("quality_class").is_null() | (pl.col("quality_class") != BAD_QUALITY))
        & pl.col("value").is_not_null()
        & pl.col("value").is_not_nan()
    )


def _score_windows(
    scan: pl.LazyFrame,
    equipment: str,
    window_ms: int,
    detector: RobustZDetector,
    baseline: Mapping[str, Baseline] | None,
) -> dict[int, float]:
    """Sustained z of every window holding readings, computed one equipment-day at a time (day baselines)."""
    bounds = (
        scan.filter(pl.col("equipment_id") == equipment)
        .select(pl.col("ts").dt.epoch("ms").min().alias("lo"), pl.col("ts").dt.epoch("ms").max().alias("hi"))
        .collect(engine="streaming")
    )
    lo, hi = bounds.row(0)
    scores: dict[int, float] = {}
    if lo is None or hi is None:
        return scores
    for day_ms in range(_align(int(lo), DAY_MS), int(hi) + 1, DAY_MS):
        rows = _good(_readings(scan, equipment, day_ms, day_ms + DAY_MS))
        if rows.is_empty():
            continue
        reference = baseline if baseline is not None else baselines(rows)
        for start, z in detector.window_scores(rows, window_ms, reference).items():
            scores[start] = max(scores.get(start, 0.0), z)
    return scores


def _alarm_events(
    alarms: Release, equipment: str, tags: Sequence[str], start_ms: int, end_ms: int
) -> list[tuple[int, str]]:
    scan = _scan(alarms)
    names = scan.collect_schema().names()
    mine = pl.lit(False)
    if "equipment_id" in names:
        mine |= pl.col("equipment_id") == equipment
    if "tag" in names:
        mine |= pl.col("tag").is_in(list(tags))
    described = [c for c in ("tag", "event_type", "state") if c in names]
    frame = (
        scan.filter(mine & _ts_between(scan, start_ms, end_ms))
        .select(pl.col("ts").dt.epoch("ms").alias("time_ms"), *[pl.col(c).cast(pl.String) for c in described])
        .sort("time_ms")
        .collect()
    )
    return [
        (int(row[0]), " ".join(["alarm", *(str(v) for v in row[1:] if v is not None), "at", _iso(int(row[0]))]))
        for row in frame.iter_rows()
    ]


def _work_order_events(
    work_orders: Release, equipment: str, start_ms: int, end_ms: int
) -> list[tuple[int, int | None, str]]:
    scan = _scan(work_orders)
    names = scan.collect_schema().names()
    closed = pl.col("closed_at").dt.epoch("ms") if "closed_at" in names else pl.lit(None, dtype=pl.Int64)
    described = [c for c in ("wo_id", "wo_type", "failure_mode") if c in names]
    inside = _ts_between(scan, start_ms, end_ms)
    if "closed_at" in names:
        inside |= _ts_between(scan, start_ms, end_ms, column="closed_at")
    frame = (
        scan.filter((pl.col("equipment_id") == equipment) & inside)
        .select(
            pl.col("ts").dt.epoch("ms").alias("time_ms"),
            closed.alias("closed_ms"),
            *[pl.col(c).cast(pl.String) for c in described],
        )
        .sort("time_ms")
        .collect()
    )
    events = []
    for row in frame.iter_rows():
        words = " ".join(str(v) for v in row[2:] if v is not None)
        events.append((int(row[0]), row[1], f"work order {words} reported {_iso(int(row[0]))}"))
    return events


# --- display -----------------------------------------------------------------------------------------------------


def _display_series(good: pl.DataFrame, tags: Sequence[str], max_points: int) -> tuple[dict[str, list[Any]], int]:
    """The window on one time axis for Label Studio's TimeSeries, and the number of time points shown.

    Each channel is held at its last reading (its first reading fills the start); above `max_points` time points,
    the points kept are the union of each channel's MinMaxLTTB choice, the first and last, and each channel's
    minimum and maximum, with the per-channel budget as large as the union allows.
    """
    columns = channel_columns(list(tags))
    wide = (
        good.filter(pl.col("tag").is_in(list(tags)))
        .with_columns(pl.col("tag").replace_strict(columns, return_dtype=pl.String))
        .pivot(on="tag", index="time_ms", values="value", aggregate_function="last")
        .sort("time_ms")
    )
    present = [c for c in columns.values() if c in wide.columns]
    wide = wide.with_columns([pl.col(c).forward_fill().backward_fill() for c in present])
    if wide.height > max_points:
        times = wide["time_ms"].to_numpy()
        keep = _thin(times, [wide[c].to_numpy().astype(np.float64) for c in present], max_points)
        wide = wide[keep]
    series: dict[str, list[Any]] = {TIME_COLUMN: [int(t) for t in wide["time_ms"].to_list()]}
    for column in columns.values():
        series[column] = wide[column].to_list() if column in wide.columns else [None] * wide.height
    return series, wide.height


def _thin(times: np.ndarray[Any, Any], channels: list[np.ndarray[Any, Any]], max_points: int) -> list[int]:
    """Row indices to show: at most `max_points`, first/last and every channel's extremes always among them."""
    n = len(times)
    must = {0, n - 1}
    for values in channels:
        must.update((int(np.argmin(values)), int(np.argmax(values))))
    downsampler = _DOWNSAMPLER()

    def union(n_out: int) -> set[int]:
        chosen = set(must)
        for values in channels:
            chosen.update(int(i) for i in downsampler.downsample(times, values, n_out=n_out))
        return chosen

    low, high = 4, max(4, max_points - len(must))
    best = sorted(must)
    while low <= high:  # the largest per-channel budget whose union still fits
        middle = (low + high) // 2
        chosen = union(middle)
        if len(chosen) <= max_points:
            best, low = sorted(chosen), middle + 1
        else:
            high = middle - 1
    return best


# --- time ----------------------------------------------------------------------------------------------------------


def _spread_over_days(starts: list[int], count: int, seed: int) -> list[int]:
    """`count` of `starts` drawn with `seed`, taking one per day in turn so every day gets its share."""
    rng = random.Random(seed)
    by_day: dict[int, list[int]] = {}
    for start in starts:
        by_day.setdefault(_align(start, DAY_MS), []).append(start)
    for day in sorted(by_day):
        rng.shuffle(by_day[day])
    chosen: list[int] = []
    while len(chosen) < count and any(by_day.values()):
        for day in rng.sample(sorted(by_day), len(by_day)):
            if by_day[day] and len(chosen) < count:
                chosen.append(by_day[day].pop())
    return chosen


def _window_ms(window: timedelta) -> int:
    ms = window / timedelta(milliseconds=1)
    if ms <= 0 or ms != int(ms):
        raise SensorWindowError(f"window must be a positive whole number of milliseconds, got {window}")
    return int(ms)


def _align(ms: int, step: int) -> int:
    return (ms // step) * step


def _epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise SensorWindowError(f"{moment} has no time zone; windows are in UTC")
    return round(moment.timestamp() * 1000)


def _datetime(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def _iso(ms: int) -> str:
    moment = _datetime(ms)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def _parse_iso(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError as error:
        raise SensorWindowError(f"{text!r} is not an ISO 8601 time such as 2024-03-30T02:00:00Z") from error
    if moment.tzinfo is None:
        raise SensorWindowError(f"{text!r} has no time zone; row keys are written in UTC (...Z)")
    return moment
