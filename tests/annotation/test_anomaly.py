"""The robust z detector on synthetic readings whose faults are planted at known times."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from label_studio_sdk.label_interface import LabelInterface

from annotation.anomaly import Baseline, RobustZDetector, segments_from_result
from annotation.labeling import sensor_faults_config

T0 = 1_711_756_800_000  # 2024-03-30T00:00:00Z in epoch ms
HOUR_S = 3600


def readings(
    seconds: int = HOUR_S,
    *,
    tags: tuple[str, ...] = ("A", "B", "C"),
    period_s: int = 1,
    steps: tuple[tuple[str, int, int, float], ...] = (),
    seed: int = 7,
) -> pl.DataFrame:
    """Gaussian noise (sd 1) per tag; each step (tag, from s, to s, height) adds `height` on [from, to)."""
    rng = np.random.default_rng(seed)
    frames = []
    for tag in tags:
        offsets = np.arange(0, seconds, period_s)
        values = rng.normal(10.0, 1.0, offsets.size)
        for step_tag, start, end, height in steps:
            if step_tag == tag:
                values[(offsets >= start) & (offsets < end)] += height
        frames.append(pl.DataFrame({"tag": tag, "time_ms": T0 + offsets * 1000, "value": values}))
    return pl.concat(frames)


def test_planted_step_found_within_one_sample() -> None:
    detector = RobustZDetector(label="fault")
    frame = readings(steps=(("B", 1200, 1800, 12.0),))
    prediction, detection = detector.predict(frame)
    assert len(detection.spans) == 1
    span = detection.spans[0]
    assert abs(span.start_ms - (T0 + 1_200_000)) <= 1000
    assert abs(span.end_ms - (T0 + 1_800_000)) <= 1000
    assert detection.z > detector.threshold
    assert prediction.score > 0.5
    assert prediction.model_version == "robust-z-1:thr=4.0:min=60s"
    [region] = prediction.result
    assert region["from_name"] == "label" and region["to_name"] == "ts" and region["type"] == "timeserieslabels"
    assert region["value"] == {
        "start": span.start_ms,
        "end": span.end_ms,
        "instant": False,
        "timeserieslabels": ["fault"],
    }


def test_planted_step_on_a_slow_channel_within_its_sample_period() -> None:
    detector = RobustZDetector(label="fault")
    frame = readings(tags=("SLOW",), period_s=10, steps=(("SLOW", 1205, 2405, -9.0),))
    (span,) = detector.detect(frame).spans
    assert abs(span.start_ms - (T0 + 1_205_000)) <= 10_000
    assert abs(span.end_ms - (T0 + 2_405_000)) <= 10_000


def test_pure_noise_gives_no_span_and_a_confident_normal() -> None:
    detector = RobustZDetector(label="fault")
    for seed in range(5):
        prediction, detection = detector.predict(readings(seconds=4 * HOUR_S, seed=seed))
        assert prediction.result == []
        assert detection.z < detector.threshold
        assert 0.5 < prediction.score <= 1.0


def test_short_bursts_are_ignored_and_close_ones_merged() -> None:
    detector = RobustZDetector(label="fault", min_duration_s=60)
    short = readings(steps=(("A", 600, 630, 15.0),))
    assert detector.detect(short).spans == ()
    # two 90 s bursts 30 s apart on different channels: one span from the first start to the second end
    close = readings(steps=(("A", 600, 690, 15.0), ("C", 720, 810, 15.0)))
    (span,) = detector.detect(close).spans
    assert (span.start_ms, span.end_ms) == (T0 + 600_000, T0 + 809_000)


def test_given_baseline_is_used_and_flat_channels_are_skipped() -> None:
    detector = RobustZDetector(label="fault")
    frame = readings(tags=("A",))
    shifted = {"A": Baseline(median=0.0, scale=1.0)}  # the whole window sits 10 sd above this baseline
    (span,) = detector.detect(frame, shifted).spans
    assert (span.start_ms, span.end_ms) == (T0, T0 + (HOUR_S - 1) * 1000)
    flat = pl.DataFrame({"tag": "F", "time_ms": T0 + np.arange(600) * 1000, "value": 3.0})
    assert detector.detect(flat).spans == ()


def test_result_round_trips_through_segments_from_result() -> None:
    detector = RobustZDetector(label="bearing_wear")
    prediction, detection = detector.predict(readings(steps=(("A", 300, 900, 20.0), ("B", 2000, 2300, -20.0))))
    assert len(detection.spans) == 2
    assert segments_from_result(prediction.result) == [
        (span.start_ms / 1000, span.end_ms / 1000, "bearing_wear") for span in detection.spans
    ]


def test_segments_from_result_reads_what_label_studio_may_store() -> None:
    result = [
        {"type": "choices", "value": {"choices": ["x"]}},
        {
            "type": "timeserieslabels",
            "value": {"start": "1711767481000", "end": 1711767485000, "timeserieslabels": ["a"]},
        },
        {
            "type": "timeserieslabels",
            "value": {
                "start": "2024-03-30T02:58:00Z",
                "end": "2024-03-30T03:00:00.500Z",
                "timeserieslabels": ["b", "c"],
            },
        },
    ]
    assert segments_from_result(result) == [
        (1711767480.0, 1711767600.5, "b"),
        (1711767480.0, 1711767600.5, "c"),
        (1711767481.0, 1711767485.0, "a"),
    ]


def test_uncertainty_peaks_at_the_threshold() -> None:
    detector = RobustZDetector(label="fault", threshold=4.0)
    assert detector.uncertainty(4.0) == pytest.approx(1.0)
    assert detector.uncertainty(0.0) == 0.0
    assert detector.uncertainty(400.0) < 0.02
    assert detector.uncertainty(2.0) == pytest.approx(detector.uncertainty(8.0))  # symmetric in ratio
    assert detector.uncertainty(3.0) > detector.uncertainty(2.0)


def test_window_scores_are_keyed_by_aligned_starts() -> None:
    detector = RobustZDetector(label="fault")
    frame = readings(seconds=2 * HOUR_S, steps=(("A", 4000, 4600, 12.0),))
    scores = detector.window_scores(frame, 30 * 60_000)
    assert sorted(scores) == [T0 + k * 1_800_000 for k in range(4)]
    assert max(scores, key=lambda k: scores[k]) == T0 + 2 * 1_800_000  # 4000 s falls in the third half hour
    assert scores[T0 + 2 * 1_800_000] > 4.0 > max(scores[T0], scores[T0 + 1_800_000])


def test_prediction_passes_label_studio_validation() -> None:
    detector = RobustZDetector(label="bearing_wear")
    prediction, _ = detector.predict(readings(steps=(("A", 300, 900, 20.0),)))
    interface = LabelInterface(sensor_faults_config(["A", "B", "C"], ["bearing_wear", "cavitation"]))
    assert interface.validate_prediction({"result": prediction.result}, return_errors=True) == []
