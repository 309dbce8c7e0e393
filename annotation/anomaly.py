"""Pre-labels for fault segments: a robust z-score detector and the way back from Label Studio's regions.

A channel's robust z is |x - median| / (1.4826 * MAD) against a baseline (the channel over its equipment-day,
or one given). The detector marks spans where any channel's z exceeds the threshold, merges spans closer than
`min_duration_s` and keeps those lasting at least `min_duration_s`. The window's z is the highest level some
channel holds without a break for `min_duration_s` (one spike is not a fault), so a window's score and the
spans agree: a channel above the threshold for the whole duration gives both a span and a z above it.

Readings are a long frame: `tag` (str), `time_ms` (epoch milliseconds, UTC) and `value` (float).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from annotation.labeling import FROM_NAME, TO_NAME
from annotation.tasks import Prediction
from config.errors import PlantdataError

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation
MEAN_AD_TO_SIGMA = 1.2533  # sqrt(pi / 2): the same for the mean absolute deviation, used when MAD is 0
MODEL = "robust-z-1"
READING_COLUMNS = ("tag", "time_ms", "value")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class AnomalyError(PlantdataError):
    """Readings or Label Studio results that the detector cannot read (a caller bug, retrying will not help)."""


@dataclass(frozen=True)
class Baseline:
    """A channel's centre and robust spread (in its unit); `scale` 0 means the channel never moved."""

    median: float
    scale: float


@dataclass(frozen=True)
class Span:
    """A detected fault span, bounds in epoch milliseconds (sample times), with the highest z inside."""

    start_ms: int
    end_ms: int
    peak_z: float


@dataclass(frozen=True)
class Detection:
    """What the detector found on one window: its spans and the window's sustained z."""

    spans: tuple[Span, ...]
    z: float


def baselines(readings: pl.DataFrame) -> dict[str, Baseline]:
    """Median and robust spread of each tag's values (1.4826 MAD; 1.2533 mean absolute deviation if MAD is 0)."""
    _check(readings)
    stats = (
        readings.filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan())
        .group_by("tag")
        .agg(
            pl.col("value").median().alias("median"),
            (pl.col("value") - pl.col("value").median()).abs().median().alias("mad"),
            (pl.col("value") - pl.col("value").median()).abs().mean().alias("mean_ad"),
        )
    )
    result: dict[str, Baseline] = {}
    for tag, median, mad, mean_ad in stats.iter_rows():
        scale = MAD_TO_SIGMA * mad if mad > 0 else MEAN_AD_TO_SIGMA * mean_ad
        result[tag] = Baseline(float(median), float(scale))
    return result


@dataclass(frozen=True, kw_only=True)
class RobustZDetector:
    """Robust z-score fault detector; `label` is the TimeSeriesLabels value its spans carry."""

    label: str
    threshold: float = 4.0
    min_duration_s: float = 60.0

    def __post_init__(self) -> None:
        if not (self.threshold > 0 and math.isfinite(self.threshold)):
            raise AnomalyError(f"threshold must be a positive number, got {self.threshold}")
        if not (self.min_duration_s >= 0 and math.isfinite(self.min_duration_s)):
            raise AnomalyError(f"min_duration_s must be zero or more seconds, got {self.min_duration_s}")
        if not self.label.strip():
            raise AnomalyError("the detector's label is blank; give one of the project's labels")

    @property
    def model_version(self) -> str:
        """Names the method and its parameters, so predictions of different settings are told apart."""
        return f"{MODEL}:thr={self.threshold}:min={self.min_duration_s:g}s"

    @property
    def _min_ms(self) -> float:
        return self.min_duration_s * 1000.0

    def detect(self, readings: pl.DataFrame, baseline: Mapping[str, Baseline] | None = None) -> Detection:
        """Spans and sustained z of one window of readings; `baseline` defaults to the window's own."""
        runs: list[tuple[int, int]] = []
        z_window = 0.0
        series = list(_scored(readings, baseline if baseline is not None else baselines(readings)))
        for times, z in series:
            z_window = max(z_window, float(np.max(_sustained(times, z, self._min_ms), initial=0.0)))
            runs.extend(_runs(times, z > self.threshold))
        spans = []
        for start, end in _merge(runs, self._min_ms):
            if end - start >= self._min_ms:
                peak = max(
                    (float(z[(t >= start) & (t <= end)].max(initial=0.0)) for t, z in series),
                    default=0.0,
                )
                spans.append(Span(start, end, peak))
        return Detection(tuple(spans), z_window)

    def window_scores(
        self, readings: pl.DataFrame, window_ms: int, baseline: Mapping[str, Baseline] | None = None
    ) -> dict[int, float]:
        """The sustained z of every window (keyed by its start, a multiple of `window_ms`) holding readings.

        A level counts for the window where it starts; windows whose readings never hold long enough get 0.
        """
        if window_ms <= 0:
            raise AnomalyError(f"window_ms must be positive, got {window_ms}")
        scores: dict[int, float] = {}
        for times, z in _scored(readings, baseline if baseline is not None else baselines(readings)):
            starts = (times // window_ms) * window_ms
            levels = _sustained(times, z, self._min_ms)
            frame = pl.DataFrame({"start": starts, "level": np.where(np.isfinite(levels), levels, 0.0)})
            for start, level in frame.group_by("start").agg(pl.col("level").max()).iter_rows():
                scores[start] = max(scores.get(start, 0.0), float(level))
        for start in np.unique((readings["time_ms"].to_numpy() // window_ms) * window_ms).tolist():
            scores.setdefault(int(start), 0.0)
        return scores

    def fault_probability(self, z: float) -> float:
        """z mapped onto [0, 1): 0.5 at the threshold, towards 1 far above it, 0 at z = 0."""
        return z / (z + self.threshold) if z > 0 else 0.0

    def uncertainty(self, z: float) -> float:
        """1 when the window's z sits on the threshold, towards 0 far from it on either side."""
        return 1.0 - abs(2.0 * self.fault_probability(z) - 1.0)

    def predict(
        self, readings: pl.DataFrame, baseline: Mapping[str, Baseline] | None = None
    ) -> tuple[Prediction, Detection]:
        """A Label Studio pre-label (TimeSeriesLabels regions in epoch ms) and the detection behind it.

        `score` is the confidence in the prediction as given: the fault probability when it marks spans, one
        minus it when it marks none (a window just below the threshold is an unsure "normal").
        """
        detection = self.detect(readings, baseline)
        probability = self.fault_probability(detection.z)
        result = [
            {
                "from_name": FROM_NAME,
                "to_name": TO_NAME,
                "type": "timeserieslabels",
                "value": {
                    "start": span.start_ms,
                    "end": span.end_ms,
                    "instant": False,
                    "timeserieslabels": [self.label],
                },
            }
            for span in detection.spans
        ]
        score = probability if result else 1.0 - probability
        return Prediction(self.model_version, round(score, 6), result), detection


def segments_from_result(result: Iterable[Mapping[str, Any]]) -> list[tuple[float, float, str]]:
    """Label Studio TimeSeriesLabels regions as (start, end, label) in epoch seconds, sorted.

    Bounds are read as epoch milliseconds when numeric (what our configuration stores) and as ISO 8601 when
    they are dates (a configuration with a `timeFormat`); other result types are skipped. A region with several
    labels gives one segment per label.
    """
    segments: list[tuple[float, float, str]] = []
    for item in result:
        if str(item.get("type", "")).lower() != "timeserieslabels":
            continue
        value = item.get("value")
        if not isinstance(value, Mapping) or "start" not in value or "end" not in value:
            raise AnomalyError(f"timeserieslabels result {item.get('id', '?')} has no value.start/value.end: {item}")
        start, end = _epoch_seconds(value["start"]), _epoch_seconds(value["end"])
        if start > end:
            start, end = end, start
        labels = value.get("timeserieslabels") or []
        segments.extend((start, end, str(label)) for label in labels)
    return sorted(segments)


def _epoch_seconds(bound: Any) -> float:
    if isinstance(bound, bool):
        raise AnomalyError(f"a region bound is a boolean: {bound!r}")
    if isinstance(bound, int | float):
        return float(bound) / 1000.0
    text = str(bound).strip()
    try:
        return float(text) / 1000.0
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise AnomalyError(f"region bound {bound!r} is neither epoch milliseconds nor an ISO 8601 date") from error
    if moment.tzinfo is None:
        raise AnomalyError(f"region bound {bound!r} has no time zone; expected UTC such as 2024-03-30T02:58:00Z")
    return moment.timestamp()


def _check(readings: pl.DataFrame) -> None:
    missing = [c for c in READING_COLUMNS if c not in readings.columns]
    if missing:
        raise AnomalyError(f"readings lack columns {missing}; expected {list(READING_COLUMNS)}")


def _scored(readings: pl.DataFrame, baseline: Mapping[str, Baseline]) -> Iterable[tuple[IntArray, FloatArray]]:
    """Per tag with a baseline that moves: sample times (sorted) and robust z."""
    _check(readings)
    clean = readings.filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan()).sort("tag", "time_ms")
    for (tag,), group in clean.group_by("tag", maintain_order=True):
        base = baseline.get(str(tag))
        if base is None or base.scale <= 0:
            continue
        times = group["time_ms"].cast(pl.Int64).to_numpy()
        z = np.abs(group["value"].to_numpy().astype(np.float64) - base.median) / base.scale
        yield times, z


def _runs(times: IntArray, flags: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(first, last) sample time of each run of consecutive flagged samples."""
    if not flags.any():
        return []
    padded = np.concatenate(([False], flags, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(times[a]), int(times[b - 1])) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _merge(runs: list[tuple[int, int]], gap_ms: float) -> list[tuple[int, int]]:
    """Overlapping runs, and runs separated by less than `gap_ms`, joined into one."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(runs):
        if merged and start - merged[-1][1] < gap_ms:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _sustained(times: IntArray, z: FloatArray, duration_ms: float) -> FloatArray:
    """For each sample i, the lowest z from i to the first sample at least `duration_ms` later (-inf if none).

    So the largest value is the highest level the channel holds without a break for the duration. A sparse
    table answers the range minima in O(n log n).
    """
    n = len(z)
    if n == 0:
        return np.empty(0, dtype=np.float64)
    ends = np.maximum(np.searchsorted(times, times + duration_ms, side="left"), np.arange(n))
    valid = ends < n
    first = np.arange(n)[valid]
    last = ends[valid]
    table = [z]
    while (1 << len(table)) <= n:
        prev, half = table[-1], 1 << (len(table) - 1)
        table.append(np.minimum(prev[:-half], prev[half:]))
    out = np.full(n, -np.inf)
    if first.size:
        level = np.floor(np.log2(last - first + 1)).astype(np.int64)
        values = np.empty(first.size)
        for k in np.unique(level).tolist():
            pick = level == k
            row = table[k]
            values[pick] = np.minimum(row[first[pick]], row[last[pick] - (1 << k) + 1])
        out[first] = values
    return out
