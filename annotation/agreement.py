"""Inter-annotator agreement: how far experts' labels can be trusted before they become training data.

Only judgements given in the annotator role are measured (a reviewer settles disagreements, so counting them
would inflate agreement), and only each annotator's latest judgement per task. Classification tasks are
compared on `choice`, segment tasks on the label-aware IoU of their time spans.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import fmean

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score  # type: ignore[import-untyped]  # scikit-learn ships no type hints

from annotation.labels import Judgement, Segment, latest_per_annotator, one_task

Interval = tuple[float, float]


@dataclass(frozen=True)
class PairAgreement:
    """Agreement of two annotators over the `tasks` classification tasks both answered."""

    annotator_a: str
    annotator_b: str
    tasks: int
    kappa: float | None
    observed: float


@dataclass(frozen=True)
class ProjectAgreement:
    """Agreement of a whole labelling project, as a steward reads it before accepting the labels."""

    tasks: int
    annotated_tasks: int
    alpha: float | None
    mean_task_agreement: float | None
    pairs: list[PairAgreement]
    mean_segment_iou: float | None


def _choices(judgements: Iterable[Judgement]) -> dict[str, dict[str, str]]:
    """Annotator -> task -> latest choice, over annotator judgements that have a choice."""
    table: dict[str, dict[str, str]] = defaultdict(dict)
    for judgement in latest_per_annotator(judgements):
        if judgement.choice is not None:
            table[judgement.annotator][judgement.task_key] = judgement.choice
    return table


def krippendorff_alpha(judgements: Iterable[Judgement]) -> float | None:
    """Nominal Krippendorff's alpha of the annotators' choices; missing ratings are allowed.

    Alpha (not Fleiss' kappa) because annotators label different subsets of the tasks. Only tasks with at
    least two ratings ("pairable" units) count. None, not 1.0, when alpha is undefined: with fewer than two
    pairable tasks there is too little to measure, and when every pairable rating is the same category the
    expected disagreement is zero and alpha = 1 - D_o / D_e is 0/0. Such data cannot tell agreement from a
    team that never sees anything but "normal"; reporting 1.0 would pass it as perfectly reliable.
    """
    table = _choices(judgements)
    per_task: dict[str, list[str]] = defaultdict(list)
    for ratings in table.values():
        for task, choice in ratings.items():
            per_task[task].append(choice)
    pairable = [task for task, values in per_task.items() if len(values) >= 2]
    categories = sorted({value for task in pairable for value in per_task[task]})
    if len(pairable) < 2 or len(categories) < 2:
        return None
    # Integer codes in a float matrix: string matrices make numpy spell NaN "nan", which a label could be.
    code = {category: index for index, category in enumerate(categories)}
    annotators = sorted(table)
    tasks = sorted(pairable)
    matrix = np.full((len(annotators), len(tasks)), np.nan)
    for row, annotator in enumerate(annotators):
        for column, task in enumerate(tasks):
            if task in table[annotator]:
                matrix[row, column] = code[table[annotator][task]]
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))


def cohen_kappa_pairs(judgements: Iterable[Judgement]) -> list[PairAgreement]:
    """Cohen's kappa of every annotator pair that shares a classification task, sorted by (a, b).

    Per pair because one careless or miscalibrated expert shows up here while alpha only drops a little.
    Kappa is None with fewer than two shared tasks, or when both used one and the same category only
    (expected agreement is 1, kappa is 0/0); `observed` is then still the share of identical choices.
    """
    table = _choices(judgements)
    pairs: list[PairAgreement] = []
    for a, b in itertools.combinations(sorted(table), 2):
        shared = sorted(table[a].keys() & table[b].keys())
        if not shared:
            continue
        labels_a = [table[a][task] for task in shared]
        labels_b = [table[b][task] for task in shared]
        observed = sum(x == y for x, y in zip(labels_a, labels_b, strict=True)) / len(shared)
        kappa: float | None = None
        if len(shared) >= 2 and not (len(set(labels_a)) == 1 and set(labels_a) == set(labels_b)):
            value = float(cohen_kappa_score(labels_a, labels_b))
            kappa = None if math.isnan(value) else value
        pairs.append(PairAgreement(a, b, len(shared), kappa, observed))
    return pairs


def merged_intervals(segments: Iterable[Segment]) -> dict[str, list[Interval]]:
    """Label -> the union of its spans as sorted, disjoint intervals (overlapping or touching spans merge)."""
    by_label: dict[str, list[Interval]] = defaultdict(list)
    for segment in segments:
        by_label[segment.label].append((segment.start, segment.end))
    merged: dict[str, list[Interval]] = {}
    for label, spans in by_label.items():
        out: list[Interval] = []
        for start, end in sorted(spans):
            if out and start <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        merged[label] = out
    return merged


def _length(intervals: Sequence[Interval]) -> float:
    return sum(end - start for start, end in intervals)


def _intersection(a: Sequence[Interval], b: Sequence[Interval]) -> float:
    """Length of the overlap of two sorted lists of disjoint intervals (a two-pointer walk)."""
    total, i, j = 0.0, 0, 0
    while i < len(a) and j < len(b):
        total += max(0.0, min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def segment_iou(a: Sequence[Segment], b: Sequence[Segment]) -> float:
    """Label-aware IoU of two annotators' segments on one task.

    Per label, the annotator's spans are first merged (marking the same second twice is not more
    evidence); IoU = sum of intersections / sum of unions over labels, so a span with the wrong label counts
    as disagreement. Both empty is 1.0 (both say "no fault"), one empty is 0.0. When no span has a
    duration (only instants) the answer is 1.0 if both marked the same instants with the same labels, else 0.0.
    """
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    merged_a, merged_b = merged_intervals(a), merged_intervals(b)
    intersection = union = 0.0
    for label in merged_a.keys() | merged_b.keys():
        spans_a, spans_b = merged_a.get(label, []), merged_b.get(label, [])
        overlap = _intersection(spans_a, spans_b)
        intersection += overlap
        union += _length(spans_a) + _length(spans_b) - overlap
    if union == 0.0:
        return 1.0 if merged_a == merged_b else 0.0
    return intersection / union


def is_classification(judgements: Sequence[Judgement]) -> bool:
    """A task is compared on its choice when every judgement has one, else on its segments."""
    return all(judgement.choice is not None for judgement in judgements)


def task_agreement(judgements: Iterable[Judgement]) -> float | None:
    """Agreement on one task: the share of annotator pairs choosing alike, or their mean segment IoU.

    Pairwise, so it reads the same for two annotators or five. None with fewer than two annotators.
    """
    _, listed = one_task(judgements)
    answers = latest_per_annotator(listed)
    if len(answers) < 2:
        return None
    pairs = list(itertools.combinations(answers, 2))
    if is_classification(answers):
        return sum(x.choice == y.choice for x, y in pairs) / len(pairs)
    return fmean(segment_iou(x.segments, y.segments) for x, y in pairs)


def project_agreement(judgements: Iterable[Judgement]) -> ProjectAgreement:
    """Every agreement figure of a project at once: alpha, per-pair kappa, per-task means.

    `annotated_tasks` have at least two annotators; the means are over those. `mean_segment_iou` is over
    segment tasks only and None in a classification project.
    """
    listed = list(judgements)
    by_task: dict[str, list[Judgement]] = defaultdict(list)
    for judgement in listed:
        by_task[judgement.task_key].append(judgement)
    task_scores: list[float] = []
    segment_scores: list[float] = []
    for task_judgements in by_task.values():
        score = task_agreement(task_judgements)
        if score is None:
            continue
        task_scores.append(score)
        if not is_classification(latest_per_annotator(task_judgements)):
            segment_scores.append(score)
    return ProjectAgreement(
        tasks=len(by_task),
        annotated_tasks=len(task_scores),
        alpha=krippendorff_alpha(listed),
        mean_task_agreement=fmean(task_scores) if task_scores else None,
        pairs=cohen_kappa_pairs(listed),
        mean_segment_iou=fmean(segment_scores) if segment_scores else None,
    )
