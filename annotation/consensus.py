"""Consensus: the one label a task carries into the dataset, and how it was reached.

A reviewer's word is final. Otherwise the annotators decide when they agree well enough (`threshold` on the
task's pairwise agreement): all alike is unanimous, else a strict majority wins; a tie, no majority or weak
agreement goes to a reviewer. Segment tasks take the spans that more than half the annotators marked alike.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from annotation.agreement import Interval, is_classification, merged_intervals, task_agreement
from annotation.labels import AnnotationError, Judgement, Role, Segment, latest_per_annotator, one_task


class ConsensusMethod(StrEnum):
    """How a task's consensus was reached."""

    UNANIMOUS = "unanimous"
    MAJORITY = "majority"
    REVIEWER = "reviewer"
    PENDING_REVIEW = "pending_review"
    INSUFFICIENT = "insufficient"


@dataclass(frozen=True)
class Consensus:
    """The decided label and segments of one task; None / () while it waits for annotators or a reviewer."""

    task_key: str
    label: str | None
    segments: tuple[Segment, ...]
    method: ConsensusMethod
    agreement: float | None
    annotators: int


def _segments(by_label: dict[str, list[Interval]]) -> tuple[Segment, ...]:
    spans = [Segment(start, end, label) for label, intervals in by_label.items() for start, end in intervals]
    return tuple(sorted(spans, key=lambda s: (s.start, s.end, s.label)))


def majority_segments(answers: Sequence[Judgement]) -> tuple[Segment, ...]:
    """The spans where more than half of `answers` marked the same label, by a sweep over interval endpoints.

    Each annotator's spans are merged per label first, so overlapping spans of one annotator count once.
    Adjacent majority spans of a label join into one segment.
    """
    events: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for answer in answers:
        for label, intervals in merged_intervals(answer.segments).items():
            for start, end in intervals:
                events[label] += [(start, +1), (end, -1)]
    needed = len(answers) / 2
    result: dict[str, list[Interval]] = {}
    for label, points in events.items():
        spans: list[Interval] = []
        depth, opened = 0, 0.0
        # At one instant, ends (-1) sort before starts (+1); a span ending where another starts never
        # stacks, and the touching majority spans it produces are joined below.
        for position, step in sorted(points):
            was_majority = depth > needed
            depth += step
            if not was_majority and depth > needed:
                opened = position
            elif was_majority and depth <= needed and position > opened:
                if spans and spans[-1][1] == opened:
                    spans[-1] = (spans[-1][0], position)
                else:
                    spans.append((opened, position))
        if spans:
            result[label] = spans
    return _segments(result)


def decide(judgements: Iterable[Judgement], *, min_annotators: int = 2, threshold: float = 0.7) -> Consensus:
    """Decide one task's label from its judgements (any order of roles; later judgements replace earlier ones).

    Args:
        judgements: every judgement of one task, oldest first.
        min_annotators: annotator judgements needed before the annotators can decide (at least 1).
        threshold: the task agreement (see `task_agreement`) at or above which they decide, in [0, 1].
    """
    if min_annotators < 1 or not 0.0 <= threshold <= 1.0:
        raise AnnotationError(f"min_annotators={min_annotators}, threshold={threshold}: need >= 1 and within [0, 1]")
    task_key, listed = one_task(judgements)
    answers = latest_per_annotator(listed)
    agreement = task_agreement(listed)

    def consensus(method: ConsensusMethod, label: str | None = None, segments: tuple[Segment, ...] = ()) -> Consensus:
        return Consensus(task_key, label, segments, method, agreement, len(answers))

    reviews = [judgement for judgement in listed if judgement.role == Role.REVIEWER]
    if reviews:
        return consensus(ConsensusMethod.REVIEWER, reviews[-1].choice, reviews[-1].segments)
    if len(answers) < min_annotators:
        return consensus(ConsensusMethod.INSUFFICIENT)
    if agreement is not None and agreement < threshold:
        return consensus(ConsensusMethod.PENDING_REVIEW)
    if is_classification(answers):
        counts = Counter(answer.choice for answer in answers).most_common()
        label, votes = counts[0]
        if len(counts) == 1:
            return consensus(ConsensusMethod.UNANIMOUS, label)
        if votes > len(answers) / 2:
            return consensus(ConsensusMethod.MAJORITY, label)
        return consensus(ConsensusMethod.PENDING_REVIEW)
    # One annotator (min_annotators=1) has no agreement to measure and agrees with themself.
    if agreement is None or agreement == 1.0:
        return consensus(ConsensusMethod.UNANIMOUS, segments=_segments(merged_intervals(answers[0].segments)))
    return consensus(ConsensusMethod.MAJORITY, segments=majority_segments(answers))


def needs_review(consensus: Consensus) -> bool:
    """True when only a reviewer can settle the task; an `insufficient` task waits for annotators instead."""
    return consensus.method == ConsensusMethod.PENDING_REVIEW
