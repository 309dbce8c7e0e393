"""What a task builder hands to the pusher: one item to label, its provenance and its pre-label.

Builders (sensor windows, work orders, inspections) know the data; the pusher knows Label Studio.
This module is the contract between them, so that neither imports the other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Release:
    """A published catalog release: the only data annotators may see (personal data already treated)."""

    dataset: str
    version: int
    location: Path  # the release folder holding Parquet files (hive folders such as day=YYYY-MM-DD)


@dataclass(frozen=True)
class Prediction:
    """A model's pre-label in Label Studio's result format; `score` is the model's confidence in [0, 1]."""

    model_version: str
    score: float
    result: list[dict[str, Any]]


@dataclass(frozen=True)
class TaskItem:
    """One item to label.

    `key` is stable across runs (same release rows -> same key), so a re-push never duplicates a task;
    `row_keys` locate the labelled rows in the release (for example equipment and window bounds, or a work
    order id); `uncertainty` in [0, 1] is how unsure the current model is (active learning picks high first).
    """

    key: str
    data: dict[str, Any]
    release: Release
    row_keys: dict[str, Any]
    stratum: str
    reason: str  # alarm | work_order | anomaly | random | record
    prediction: Prediction | None = None
    uncertainty: float = 0.5
    extra: dict[str, Any] = field(default_factory=dict)


def stable_key(project: str, dataset: str, row_keys: dict[str, Any]) -> str:
    """A task id from the project, the dataset and the row keys (not the version: a new release of the
    same rows is the same item to label)."""
    digest = hashlib.sha256(json.dumps([project, dataset, row_keys], sort_keys=True, default=str).encode())
    return f"{project}:{digest.hexdigest()[:20]}"
