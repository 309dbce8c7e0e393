"""The labels table: clearance enforced where labels come back, consensus per task, pre-label acceptance."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from annotation.dataset import build_labels
from annotation.labeling import INSPECTION_DECISION, INSPECTION_RECORD
from annotation.projects import AnnotationFile, ProjectSpec
from annotation.results import choice_result
from config.people import Person

SPEC = ProjectSpec(name="qi", kind="inspection_review", dataset="inspections", overlap=2)
PEOPLE = AnnotationFile(
    people=[
        Person(email="a@p.example", name="A", role="annotator", department="QA", clearance=2),
        Person(email="b@p.example", name="B", role="annotator", department="QA", clearance=2),
        Person(email="low@p.example", name="Low", role="annotator", department="QA", clearance=1),
        Person(email="rev@p.example", name="Rev", role="reviewer", department="QA", clearance=3),
    ],
    projects=[SPEC],
)
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _row(annotation_id: int, task: int, who: str, decision: str, predicted: str | None = "accept") -> dict[str, Any]:
    result = json.dumps([choice_result(INSPECTION_DECISION, INSPECTION_RECORD, decision)])
    prediction = json.dumps([choice_result(INSPECTION_DECISION, INSPECTION_RECORD, predicted)]) if predicted else None
    return {
        "annotation_id": annotation_id,
        "task_id": task,
        "task_key": f"qi:{task}",
        "source": "inspections@v3",
        "row_keys": json.dumps({"inspection_id": f"QI-{task}"}),
        "annotator_id": 0,
        "annotator": who,
        "result": result,
        "was_cancelled": False,
        "lead_time_s": 10.0,
        "created_at": T0 + dt.timedelta(minutes=annotation_id),
        "updated_at": T0 + dt.timedelta(minutes=annotation_id),
        "prediction_model_version": "rule-1" if predicted else None,
        "prediction_result": prediction,
        "task_updated_at": T0,
    }


def test_annotations_by_people_not_cleared_for_the_grade_or_unknown_are_left_out_and_counted() -> None:
    rows = [
        _row(1, 1, "a@p.example", "accept"),
        _row(2, 1, "b@p.example", "accept"),
        _row(3, 1, "low@p.example", "reject"),  # clearance 1 < grade 2
        _row(4, 1, "stranger@p.example", "reject"),  # not in the annotation file
    ]
    summary = build_labels(rows, SPEC, PEOPLE, grade=2, tasks_on_server=1)
    assert summary.excluded == {"low@p.example": 1, "stranger@p.example": 1}
    assert summary.table.column("annotator").to_pylist() == ["a@p.example", "b@p.example"]
    assert summary.consensus["qi:1"].method == "unanimous"
    at_grade_1 = build_labels(rows, SPEC, PEOPLE, grade=1, tasks_on_server=1)
    assert at_grade_1.excluded == {"stranger@p.example": 1}  # cleared at grade 1: counted, and disagrees
    assert at_grade_1.table.num_rows == 3


def test_a_reviewer_settles_a_disagreement_and_acceptance_counts_unchanged_pre_labels() -> None:
    rows = [
        _row(1, 1, "a@p.example", "accept"),
        _row(2, 1, "b@p.example", "reject"),
        _row(3, 2, "a@p.example", "reject"),
        _row(4, 2, "b@p.example", "reject"),
        _row(5, 1, "rev@p.example", "reject"),
    ]
    summary = build_labels(rows, SPEC, PEOPLE, grade=2, tasks_on_server=2)
    assert summary.consensus["qi:1"].method == "reviewer" and summary.consensus["qi:1"].label == "reject"
    assert summary.consensus["qi:2"].method == "unanimous"
    assert summary.progress["consensus"]["reviewer"] == 1
    # pre-label "accept" everywhere: kept unchanged by annotation 1 only
    assert summary.progress["prelabel_acceptance"] == {
        "rule-1": {"annotations": 5, "accepted_unchanged": 1, "rate": 0.2}
    }
    versions = set(summary.table.column("source_version").to_pylist())
    assert versions == {3}
    without_review = build_labels(rows[:4], SPEC, PEOPLE, grade=2, tasks_on_server=2)
    assert without_review.consensus["qi:1"].method == "pending_review"
    assert without_review.consensus["qi:1"].label is None
