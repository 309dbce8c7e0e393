"""From pulled annotations to a labels table: who said what, how much they agree, and what was decided.

One row per annotation, with the task's agreement and consensus repeated on each row, so a consumer can take
the consensus (`DISTINCT task_key, consensus_*`) or the raw answers. Annotations by people who are not in the
annotation file, or whose clearance does not cover the dataset's grade, are left out and counted: the
open-source server cannot hide a project from its other users, so this is where clearance is enforced.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from annotation.agreement import project_agreement
from annotation.consensus import Consensus, ConsensusMethod, decide
from annotation.labels import Judgement, Segment
from annotation.projects import AnnotationFile, ProjectSpec, TaskKind
from annotation.results import choice_of, segments_of
from config.people import Role

SCHEMA = pa.schema(
    [
        ("task_key", pa.string()),
        ("task_id", pa.int64()),
        ("source_dataset", pa.string()),
        ("source_version", pa.int32()),
        ("row_keys", pa.string()),
        ("annotation_id", pa.int64()),
        ("annotator", pa.string()),
        ("role", pa.string()),
        ("label", pa.string()),
        ("component", pa.string()),
        ("segments", pa.string()),
        ("annotated_at", pa.timestamp("us", tz="UTC")),
        ("updated_at", pa.timestamp("us", tz="UTC")),
        ("lead_time_s", pa.float64()),
        ("prediction_model_version", pa.string()),
        ("prelabel_accepted", pa.bool_()),
        ("task_agreement", pa.float64()),
        ("consensus_label", pa.string()),
        ("consensus_component", pa.string()),
        ("consensus_segments", pa.string()),
        ("consensus_method", pa.string()),
    ]
)


@dataclass(frozen=True)
class LabelsSummary:
    table: pa.Table
    progress: dict[str, Any]
    consensus: dict[str, Consensus]
    excluded: dict[str, int]  # annotator -> annotations left out (unknown person or not cleared)


def build_labels(
    rows: Sequence[dict[str, Any]],
    spec: ProjectSpec,
    people: AnnotationFile,
    grade: int,
    tasks_on_server: int,
) -> LabelsSummary:
    """The labels table and progress of one project from its pulled annotation rows."""
    allowed: dict[str, str] = {}
    for person in people.annotators(spec, grade):
        allowed[person.email] = Role.ANNOTATOR.value
    for person in people.reviewers(spec, grade):
        allowed[person.email] = Role.REVIEWER.value
    kept, excluded = [], Counter[str]()
    for row in rows:
        if row["was_cancelled"]:
            continue
        if row["annotator"] not in allowed:
            excluded[row["annotator"]] += 1
            continue
        kept.append(row)
    kept.sort(key=lambda r: (r["task_key"], r["updated_at"], r["annotation_id"]))
    by_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in kept:
        by_task[row["task_key"]].append(row)
    segments_task = spec.kind is TaskKind.SENSOR_FAULTS
    judgements: list[Judgement] = []
    decided: dict[str, Consensus] = {}
    components: dict[str, str | None] = {}
    out: list[dict[str, Any]] = []
    for key, task_rows in by_task.items():
        task_judgements = [_judgement(r, allowed[r["annotator"]], segments_task) for r in task_rows]
        judgements += task_judgements
        consensus = decide(task_judgements, min_annotators=min(2, spec.overlap), threshold=spec.agreement_threshold)
        decided[key] = consensus
        components[key] = _component_consensus(task_rows, allowed, consensus, spec)
        for row, judgement in zip(task_rows, task_judgements, strict=True):
            out.append(_row(row, judgement, consensus, components[key], allowed[row["annotator"]], spec))
    agreement = project_agreement(judgements)
    methods = Counter(c.method.value for c in decided.values())
    progress = {
        "tasks": tasks_on_server,
        "annotated_tasks": sum(c.annotators >= min(2, spec.overlap) for c in decided.values()),
        "annotations": len(kept),
        "annotators": len({r["annotator"] for r in kept if allowed[r["annotator"]] == Role.ANNOTATOR.value}),
        "alpha": agreement.alpha,
        "mean_task_agreement": agreement.mean_task_agreement,
        "mean_segment_iou": agreement.mean_segment_iou,
        "kappa_pairs": [
            {"a": p.annotator_a, "b": p.annotator_b, "tasks": p.tasks, "kappa": p.kappa, "observed": p.observed}
            for p in agreement.pairs
        ],
        "consensus": {m.value: methods.get(m.value, 0) for m in ConsensusMethod},
        "prelabel_acceptance": prelabel_acceptance(kept),
    }
    return LabelsSummary(pa.Table.from_pylist(out, schema=SCHEMA), progress, decided, dict(excluded))


def prelabel_acceptance(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per model version: annotations made on a pre-labelled task, and how many kept the pre-label unchanged."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        version = row.get("prediction_model_version")
        if not version:
            continue
        seen[version]["annotations"] += 1
        seen[version]["accepted_unchanged"] += int(_unchanged(row))
    return {
        version: {
            "annotations": counts["annotations"],
            "accepted_unchanged": counts["accepted_unchanged"],
            "rate": counts["accepted_unchanged"] / counts["annotations"],
        }
        for version, counts in sorted(seen.items())
    }


def _unchanged(row: dict[str, Any]) -> bool:
    """The expert submitted what the model proposed: same choices, same labelled spans (to the second)."""
    if row.get("prediction_result") is None:
        return False
    return _canonical(json.loads(row["result"])) == _canonical(json.loads(row["prediction_result"]))


def _canonical(result: list[dict[str, Any]]) -> list[tuple[str, str]]:
    items = []
    for item in result:
        value = dict(item.get("value") or {})
        for bound in ("start", "end"):
            if isinstance(value.get(bound), int | float):
                value[bound] = round(float(value[bound]) / (1000 if abs(value[bound]) > 1e11 else 1))
        value.pop("instant", None)
        items.append((str(item.get("from_name")), json.dumps(value, sort_keys=True)))
    return sorted(items)


def _judgement(row: dict[str, Any], role: str, segments_task: bool) -> Judgement:
    result = json.loads(row["result"])
    if segments_task:
        return Judgement(row["task_key"], row["annotator"], role, None, tuple(segments_of(result)))
    return Judgement(row["task_key"], row["annotator"], role, choice_of(result, primary=True))


def _component_consensus(
    rows: list[dict[str, Any]], allowed: dict[str, str], consensus: Consensus, spec: ProjectSpec
) -> str | None:
    """The failed component, decided like the failure mode (a reviewer's, else the agreed one), for work orders."""
    if spec.kind is not TaskKind.WORK_ORDER_FAILURE or consensus.method in (
        ConsensusMethod.PENDING_REVIEW,
        ConsensusMethod.INSUFFICIENT,
    ):
        return None
    answers = [
        Judgement(
            r["task_key"], r["annotator"], allowed[r["annotator"]], choice_of(json.loads(r["result"]), "component")
        )
        for r in rows
    ]
    decided = decide(answers, min_annotators=min(2, spec.overlap), threshold=0.0)
    return decided.label


def _row(
    row: dict[str, Any],
    judgement: Judgement,
    consensus: Consensus,
    component: str | None,
    role: str,
    spec: ProjectSpec,
) -> dict[str, Any]:
    dataset, _, version = row["source"].rpartition("@v")
    result = json.loads(row["result"])
    return {
        "task_key": row["task_key"],
        "task_id": row["task_id"],
        "source_dataset": dataset,
        "source_version": int(version) if version.isdigit() else None,
        "row_keys": row["row_keys"],
        "annotation_id": row["annotation_id"],
        "annotator": row["annotator"],
        "role": role,
        "label": judgement.choice,
        "component": choice_of(result, "component") if spec.kind is TaskKind.WORK_ORDER_FAILURE else None,
        "segments": _segments_json(judgement.segments)
        if judgement.segments or spec.kind is TaskKind.SENSOR_FAULTS
        else None,
        "annotated_at": row["created_at"],
        "updated_at": row["updated_at"],
        "lead_time_s": row["lead_time_s"],
        "prediction_model_version": row.get("prediction_model_version"),
        "prelabel_accepted": _unchanged(row) if row.get("prediction_model_version") else None,
        "task_agreement": consensus.agreement,
        "consensus_label": consensus.label,
        "consensus_component": component,
        "consensus_segments": _segments_json(consensus.segments) if spec.kind is TaskKind.SENSOR_FAULTS else None,
        "consensus_method": consensus.method.value,
    }


def _segments_json(segments: Sequence[Segment]) -> str:
    return json.dumps([{"start": s.start, "end": s.end, "label": s.label} for s in segments])
