"""Consensus decisions, one per method, on hand-made tasks."""

from __future__ import annotations

import pytest

from annotation.consensus import Consensus, ConsensusMethod, decide, majority_segments, needs_review
from annotation.labels import AnnotationError, Judgement, Segment

BEAR, CAV = "bearing_fault", "cavitation"


def vote(who: str, label: str | None, role: str = "annotator", *segments: Segment) -> Judgement:
    return Judgement("task-7", who, role, label, segments)


def spans(who: str, *segments: Segment) -> Judgement:
    return vote(who, None, "annotator", *segments)


def seg(start: float, end: float, label: str = BEAR) -> Segment:
    return Segment(start, end, label)


def test_unanimous_classification() -> None:
    result = decide([vote("ana", BEAR), vote("bob", BEAR)])
    assert result == Consensus("task-7", BEAR, (), ConsensusMethod.UNANIMOUS, 1.0, 2)
    assert not needs_review(result)


def test_majority_classification() -> None:
    # 4 x bearing, 1 x cavitation: 6 of 10 pairs agree = 0.6
    task = [vote(who, BEAR) for who in ("ana", "bob", "cid", "dan")] + [vote("eve", CAV)]
    assert decide(task, threshold=0.6) == Consensus("task-7", BEAR, (), ConsensusMethod.MAJORITY, 0.6, 5)
    # below the default threshold 0.7 the same votes go to a reviewer
    below = decide(task)
    assert (below.method, below.label, below.agreement) == (ConsensusMethod.PENDING_REVIEW, None, 0.6)
    assert needs_review(below)


def test_tie_goes_to_review_even_above_threshold() -> None:
    # 2 x bearing, 2 x cavitation: 2 of 6 pairs agree
    tie = decide([vote("ana", BEAR), vote("bob", BEAR), vote("cid", CAV), vote("dan", CAV)], threshold=0.3)
    assert (tie.method, tie.label) == (ConsensusMethod.PENDING_REVIEW, None)
    assert tie.agreement == pytest.approx(1 / 3, abs=1e-9)
    # a plurality (2 of 4) is not a strict majority either
    plurality = decide([vote("ana", BEAR), vote("bob", BEAR), vote("cid", CAV), vote("dan", "normal")], threshold=0.1)
    assert (plurality.method, plurality.label) == (ConsensusMethod.PENDING_REVIEW, None)


def test_reviewer_overrides_a_unanimous_majority_and_the_latest_review_wins() -> None:
    task = [
        vote("ana", BEAR),
        vote("rev1", "normal", "reviewer"),
        vote("bob", BEAR),
        vote("rev2", CAV, "reviewer"),
        vote("cid", BEAR),
    ]
    assert decide(task) == Consensus("task-7", CAV, (), ConsensusMethod.REVIEWER, 1.0, 3)


def test_reviewer_decides_even_without_enough_annotators() -> None:
    result = decide([vote("rev", BEAR, "reviewer", seg(1, 2))])
    assert result == Consensus("task-7", BEAR, (seg(1, 2),), ConsensusMethod.REVIEWER, None, 0)


def test_insufficient_counts_each_annotator_once() -> None:
    # ana answered twice: still one annotator
    result = decide([vote("ana", CAV), vote("ana", BEAR)])
    assert result == Consensus("task-7", None, (), ConsensusMethod.INSUFFICIENT, None, 1)
    assert not needs_review(result)
    assert decide([vote("ana", BEAR), vote("bob", BEAR)], min_annotators=3).method == ConsensusMethod.INSUFFICIENT
    assert decide([vote("ana", BEAR)], min_annotators=1).method == ConsensusMethod.UNANIMOUS


def test_segments_unanimous_when_iou_is_one() -> None:
    # bob's two touching spans cover the same seconds as ana's one
    result = decide([spans("ana", seg(0, 10)), spans("bob", seg(0, 5), seg(5, 10))])
    assert result == Consensus("task-7", None, (seg(0, 10),), ConsensusMethod.UNANIMOUS, 1.0, 2)
    nothing = decide([spans("ana"), spans("bob")])
    assert (nothing.method, nothing.segments) == (ConsensusMethod.UNANIMOUS, ())


def test_segments_majority_sweep_with_three_annotators() -> None:
    # bearing coverage: [0,5) 1, [5,8) 2, [8,10) 3, [10,15) 2, [15,20) 1 -> more than 1.5 on [5,15]
    # cavitation [0,3] is marked by cid only
    task = [spans("ana", seg(0, 10)), spans("bob", seg(5, 15)), spans("cid", seg(8, 20), seg(0, 3, CAV))]
    # pairwise IoU: ana/bob 5/15; ana/cid (2 + 0)/(20 + 3); bob/cid (7 + 0)/(15 + 3)
    agreement = (1 / 3 + 2 / 23 + 7 / 18) / 3
    result = decide(task, threshold=0.25)
    assert result.method == ConsensusMethod.MAJORITY
    assert result.segments == (seg(5, 15),)
    assert result.agreement == pytest.approx(agreement, abs=1e-9)
    assert decide(task).method == ConsensusMethod.PENDING_REVIEW


def test_majority_sweep_counts_an_annotators_overlapping_spans_once_and_joins_touching_spans() -> None:
    # ana marked [2,8] twice over; alone she is no majority of three
    assert majority_segments([spans("ana", seg(0, 10), seg(2, 8)), spans("bob", seg(20, 30)), spans("cid")]) == ()
    # [0,5] by ana+cid, [5,10] by bob+cid: one majority span [0,10]; cavitation [3,6] by ana+bob
    task = [
        spans("ana", seg(0, 5), seg(3, 6, CAV)),
        spans("bob", seg(5, 10), seg(4, 9, CAV)),
        spans("cid", seg(0, 10)),
    ]
    assert majority_segments(task) == (seg(0, 10), seg(4, 6, CAV))


def test_below_threshold_is_pending_review() -> None:
    result = decide([spans("ana", seg(0, 10)), spans("bob", seg(5, 15))])
    assert result == Consensus("task-7", None, (), ConsensusMethod.PENDING_REVIEW, pytest.approx(1 / 3), 2)
    assert needs_review(result)


def test_decide_refuses_bad_input() -> None:
    with pytest.raises(AnnotationError, match="exactly one task"):
        decide([])
    with pytest.raises(AnnotationError, match="threshold"):
        decide([vote("ana", BEAR)], threshold=1.5)
    with pytest.raises(AnnotationError, match="min_annotators"):
        decide([vote("ana", BEAR)], min_annotators=0)
