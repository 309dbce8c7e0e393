"""Agreement figures checked against values computed by hand in the comments."""

from __future__ import annotations

import pytest

from annotation.agreement import (
    PairAgreement,
    cohen_kappa_pairs,
    krippendorff_alpha,
    project_agreement,
    segment_iou,
    task_agreement,
)
from annotation.labels import AnnotationError, Judgement, Segment

BEAR, CAV, NORM = "bearing_fault", "cavitation", "normal"

# Two annotators, ten tasks. Confusion table (rows: ana, columns: bob):
#
#                bob: bear  cav  norm | ana total
#   ana: bear          2     1     0  |   3
#   ana: cav           0     2     1  |   3
#   ana: norm          1     0     3  |   4
#   bob total          3     3     4  |  10
_ANA = [BEAR, BEAR, BEAR, CAV, CAV, CAV, NORM, NORM, NORM, NORM]
_BOB = [BEAR, BEAR, CAV, CAV, CAV, NORM, NORM, NORM, NORM, BEAR]
TWO_RATERS = [Judgement(f"t{i}", "ana@plant", "annotator", c) for i, c in enumerate(_ANA)] + [
    Judgement(f"t{i}", "bob@plant", "annotator", c) for i, c in enumerate(_BOB)
]


def choice(task: str, who: str, label: str, role: str = "annotator") -> Judgement:
    return Judgement(task, who, role, label)


def test_cohen_kappa_by_hand() -> None:
    # po = (2 + 2 + 3) / 10 = 0.7
    # pe = sum over categories of (ana share x bob share) = 0.3*0.3 + 0.3*0.3 + 0.4*0.4 = 0.34
    # kappa = (po - pe) / (1 - pe) = 0.36 / 0.66 = 6/11
    assert cohen_kappa_pairs(TWO_RATERS) == [
        PairAgreement("ana@plant", "bob@plant", 10, pytest.approx(6 / 11, abs=1e-9), pytest.approx(0.7, abs=1e-9))
    ]


def test_krippendorff_alpha_by_hand_two_raters() -> None:
    # Coincidences o_ck (each unit with m = 2 ratings adds 1/(m-1) = 1 per ordered pair of values):
    #   o_bear,bear = 2*2 = 4, o_cav,cav = 2*2 = 4, o_norm,norm = 2*3 = 6
    #   off-diagonal: bear/cav 1+0, cav/norm 1+0, norm/bear 1+0 -> each ordered cell 1, sum over c != k = 6
    # Marginals n_c: bear 4+1+1 = 6, cav 6, norm 6+1+1 = 8; n = 20
    # alpha = 1 - (n - 1) * sum_{c!=k} o_ck / sum_{c!=k} n_c n_k
    #       = 1 - 19 * 6 / (20^2 - (6^2 + 6^2 + 8^2)) = 1 - 114 / 264 = 150/264 = 25/44
    assert krippendorff_alpha(TWO_RATERS) == pytest.approx(25 / 44, abs=1e-9)


MISSING = [
    # t1: all three say x; t2: ana x, bob y; t3: ana y, cid y; t4: bob y, cid x; t5: ana only (not pairable)
    choice("t1", "ana", "x"),
    choice("t1", "bob", "x"),
    choice("t1", "cid", "x"),
    choice("t2", "ana", "x"),
    choice("t2", "bob", "y"),
    choice("t3", "ana", "y"),
    choice("t3", "cid", "y"),
    choice("t4", "bob", "y"),
    choice("t4", "cid", "x"),
    choice("t5", "ana", "y"),
]


def test_krippendorff_alpha_with_missing_ratings_by_hand() -> None:
    # t1 has m = 3: 6 ordered pairs x-x, each weighted 1/(m-1) = 1/2 -> o_xx += 3
    # t2: o_xy += 1, o_yx += 1;  t3: o_yy += 2;  t4: o_xy += 1, o_yx += 1;  t5: m = 1, ignored
    # o_xx = 3, o_yy = 2, o_xy = o_yx = 2; n_x = 5, n_y = 4, n = 9
    # alpha = 1 - (n - 1) * (o_xy + o_yx) / (2 n_x n_y) = 1 - 8 * 4 / 40 = 0.2
    assert krippendorff_alpha(MISSING) == pytest.approx(0.2, abs=1e-9)


def test_alpha_ignores_reviewers_and_takes_each_annotators_latest_answer() -> None:
    noisy = [
        choice("t2", "bob", "x"),  # replaced by bob's later "y" in MISSING
        *MISSING,
        choice("t1", "rev", "y", role="reviewer"),
        choice("t2", "rev", "y", role="reviewer"),
        choice("t4", "rev", "y", role="reviewer"),
    ]
    assert krippendorff_alpha(noisy) == pytest.approx(0.2, abs=1e-9)


def test_kappa_pairs_over_shared_tasks_with_missing_ratings() -> None:
    # ana/bob share t1, t2: (x,x), (x,y): po = 1/2; pe = 1 * 1/2 + 0 * 1/2 = 1/2 -> kappa 0
    # ana/cid share t1, t3: (x,x), (y,y): po = 1, pe = 1/2 -> kappa 1
    # bob/cid share t1, t4: (x,x), (y,x): po = 1/2, pe = 1/2 * 1 -> kappa 0
    assert cohen_kappa_pairs(MISSING) == [
        PairAgreement("ana", "bob", 2, 0.0, 0.5),
        PairAgreement("ana", "cid", 2, 1.0, 1.0),
        PairAgreement("bob", "cid", 2, 0.0, 0.5),
    ]


def test_kappa_is_none_when_undefined() -> None:
    one_shared = [choice("t1", "ana", "x"), choice("t1", "bob", "y")]
    all_normal = [choice(t, who, NORM) for t in ("t1", "t2", "t3") for who in ("ana", "bob")]
    assert cohen_kappa_pairs(one_shared) == [PairAgreement("ana", "bob", 1, None, 0.0)]
    assert cohen_kappa_pairs(all_normal) == [PairAgreement("ana", "bob", 3, None, 1.0)]


def test_alpha_is_none_when_undefined() -> None:
    all_normal = [choice(t, who, NORM) for t in ("t1", "t2", "t3") for who in ("ana", "bob")]
    one_pairable = [choice("t1", "ana", "x"), choice("t1", "bob", "y"), choice("t2", "ana", "y")]
    # two categories overall, but the pairable tasks t1 and t2 hold "normal" only
    one_category_pairable = [*all_normal[:4], choice("t9", "ana", BEAR)]
    assert krippendorff_alpha(all_normal) is None
    assert krippendorff_alpha(one_pairable) is None
    assert krippendorff_alpha(one_category_pairable) is None
    assert krippendorff_alpha([]) is None


def seg(start: float, end: float, label: str = BEAR) -> Segment:
    return Segment(start, end, label)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # [0,10] vs [5,15]: intersection 5, union 15
        ([seg(0, 10)], [seg(5, 15)], 1 / 3),
        # bearing: inter 5, union 10; cavitation: inter 5, union 10 -> (5+5)/(10+10)
        ([seg(0, 10), seg(20, 30, CAV)], [seg(5, 10), seg(20, 25, CAV)], 0.5),
        # ana's overlapping spans merge to [0,10]; summing their lengths would give 10/12
        ([seg(0, 6), seg(4, 10)], [seg(0, 10)], 1.0),
        # the same span with a different label is no overlap at all
        ([seg(0, 10)], [seg(0, 10, CAV)], 0.0),
        # disjoint spans of one label
        ([seg(0, 10)], [seg(10, 20)], 0.0),
        ([], [], 1.0),
        ([seg(0, 10)], [], 0.0),
        ([], [seg(0, 10)], 0.0),
        # instants only: equal or not
        ([seg(5, 5)], [seg(5, 5)], 1.0),
        ([seg(5, 5)], [seg(6, 6)], 0.0),
    ],
)
def test_segment_iou(a: list[Segment], b: list[Segment], expected: float) -> None:
    assert segment_iou(a, b) == pytest.approx(expected, abs=1e-9)
    assert segment_iou(b, a) == pytest.approx(expected, abs=1e-9)


def test_task_agreement_classification_is_pairwise_share() -> None:
    # 4 annotators x, x, x, y: 3 of 6 pairs agree; reviewer and ana's earlier answer don't count
    task = [
        choice("t", "ana", "y"),
        choice("t", "ana", "x"),
        choice("t", "bob", "x"),
        choice("t", "cid", "x"),
        choice("t", "dan", "y"),
        choice("t", "rev", "y", role="reviewer"),
    ]
    assert task_agreement(task) == pytest.approx(0.5, abs=1e-9)
    assert task_agreement(task[:2]) is None


def test_task_agreement_segments_is_mean_pairwise_iou() -> None:
    # ana/bob 1/3, ana/cid 0 (no spans vs spans), bob/cid 0 -> mean 1/9
    task = [
        Judgement("t", "ana", "annotator", None, (seg(0, 10),)),
        Judgement("t", "bob", "annotator", None, (seg(5, 15),)),
        Judgement("t", "cid", "annotator", None, ()),
    ]
    assert task_agreement(task) == pytest.approx(1 / 9, abs=1e-9)


def test_task_agreement_refuses_judgements_of_several_tasks() -> None:
    with pytest.raises(AnnotationError, match="t1, t2"):
        task_agreement([choice("t1", "ana", "x"), choice("t2", "bob", "x")])


def test_project_agreement_classification() -> None:
    report = project_agreement(MISSING)
    # tasks t1..t5; t5 has one annotator. Task agreement: t1 1, t2 0, t3 1, t4 0 -> mean 0.5
    assert (report.tasks, report.annotated_tasks) == (5, 4)
    assert report.alpha == pytest.approx(0.2, abs=1e-9)
    assert report.mean_task_agreement == pytest.approx(0.5, abs=1e-9)
    assert [(p.annotator_a, p.annotator_b) for p in report.pairs] == [("ana", "bob"), ("ana", "cid"), ("bob", "cid")]
    assert report.mean_segment_iou is None


def test_project_agreement_segments() -> None:
    judgements = [
        Judgement("w1", "ana", "annotator", None, (seg(0, 10),)),
        Judgement("w1", "bob", "annotator", None, (seg(5, 15),)),
        Judgement("w2", "ana", "annotator", None, ()),
        Judgement("w2", "bob", "annotator", None, ()),
        Judgement("w3", "ana", "annotator", None, (seg(0, 1),)),
    ]
    report = project_agreement(judgements)
    # w1: 1/3, w2: 1 (both "no fault"); w3 has one annotator
    assert (report.tasks, report.annotated_tasks) == (3, 2)
    assert report.mean_segment_iou == pytest.approx(2 / 3, abs=1e-9)
    assert report.mean_task_agreement == pytest.approx(2 / 3, abs=1e-9)
    assert report.alpha is None
    assert report.pairs == []


def test_invalid_values_are_refused() -> None:
    with pytest.raises(AnnotationError, match="start <= end"):
        Segment(10, 5, BEAR)
    with pytest.raises(AnnotationError, match="role 'Reviewer'"):
        Judgement("t", "ana", "Reviewer", "x")
