"""What annotators hand back: plain, frozen values shared by the agreement and consensus layers.

No Label Studio types here: an adapter turns its tasks and annotations into `Judgement`s, so agreement and
consensus can be computed and tested over plain data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from config.errors import PlantdataError


class Role(StrEnum):
    """Who gave a judgement: annotators are measured against each other; a reviewer settles a task."""

    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"


class AnnotationError(PlantdataError):
    """Judgements that cannot be what an annotation tool hands back (a bug in the caller, retrying will not help)."""


@dataclass(frozen=True)
class Segment:
    """A labelled time span on a sensor window, in seconds since the epoch (UTC)."""

    start: float
    end: float
    label: str

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)) or self.start > self.end:
            raise AnnotationError(
                f"segment {self.label!r} runs from {self.start} to {self.end}; "
                "start and end must be finite with start <= end"
            )


@dataclass(frozen=True)
class Judgement:
    """One annotator's answer for one task.

    `choice` is the class label of a classification task (failure mode, accept/reject) and None for a pure
    segment task; `segments` are the time spans the annotator marked (empty: "no fault here").
    """

    task_key: str
    annotator: str
    role: str
    choice: str | None
    segments: tuple[Segment, ...] = ()

    def __post_init__(self) -> None:
        if self.role not in set(Role):
            raise AnnotationError(
                f"judgement of {self.annotator} on task {self.task_key} has role {self.role!r}; "
                f"expected one of {', '.join(Role)}"
            )


def latest_per_annotator(judgements: Iterable[Judgement], role: str = Role.ANNOTATOR) -> list[Judgement]:
    """The last judgement each person gave in `role`, in list order: a resubmitted answer replaces the earlier one.

    Counting an annotator twice on one task would make them agree with themselves.
    """
    latest: dict[tuple[str, str], Judgement] = {}
    for judgement in judgements:
        if judgement.role == role:
            latest[judgement.task_key, judgement.annotator] = judgement
    return list(latest.values())


def one_task(judgements: Iterable[Judgement]) -> tuple[str, list[Judgement]]:
    """The task key shared by `judgements` and the judgements as a list; refuses empty or mixed input."""
    listed = list(judgements)
    keys = {judgement.task_key for judgement in listed}
    if len(keys) != 1:
        found = ", ".join(sorted(keys)) or "none"
        raise AnnotationError(f"expected the judgements of exactly one task, got tasks: {found}")
    return keys.pop(), listed
