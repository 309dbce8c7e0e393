"""The whole annotation loop against a real Label Studio server, with agreement values computed by hand.

Six inspection records are released to the catalog; two annotators (real users on the server, signed up
through its invite flow) answer through the API as scripted below; a reviewer settles the two disagreements;
the Dagster sensor sees the changes and the labels asset pulls and publishes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from annotation.accounts import admin_client, client_for
from annotation.labeling import INSPECTION_DECISION, INSPECTION_RECORD
from annotation.loop import Loop, project_id_of, pull_labels, push, status
from annotation.projects import ProjectSpec
from annotation.results import choice_result
from annotation.settings import LabelStudioSettings
from annotation.simulate import Answer, SimulatedAccounts, simulate_review
from catalog.queries import show_dataset
from config.layout import Layout
from config.sources import load_sources
from pipelines.definitions import build_definitions
from pipelines.run import run_all

ROWS = [  # inspection_id, value, lower, upper, result: QI-3 and QI-5 are recorded wrongly
    ("QI-1", 100.2, 98.5, 101.5, "PASS"),
    ("QI-2", 99.0, 98.5, 101.5, "PASS"),
    ("QI-3", 102.9, 98.5, 101.5, "PASS"),
    ("QI-4", 2.5, 2.0, 3.0, "PASS"),
    ("QI-5", 2.4, 2.0, 3.0, "FAIL"),
    ("QI-6", 3.4, 2.0, 3.0, "FAIL"),
]
# What the two annotators submit. They disagree on QI-2 and QI-5.
ANNA = {"QI-1": "accept", "QI-2": "accept", "QI-3": "reject", "QI-4": "accept", "QI-5": "reject", "QI-6": "accept"}
TOM = {"QI-1": "accept", "QI-2": "reject", "QI-3": "reject", "QI-4": "accept", "QI-5": "accept", "QI-6": "accept"}
TRUTH = {"QI-1": "accept", "QI-2": "accept", "QI-3": "reject", "QI-4": "accept", "QI-5": "reject", "QI-6": "accept"}

# By hand, over the 6 tasks both labelled:
#   observed agreement po = 4/6 (QI-1, 3, 4, 6); each annotator: accept 4, reject 2
#   Cohen's kappa: pe = (4/6)(4/6) + (2/6)(2/6) = 20/36; kappa = (24/36 - 20/36) / (1 - 20/36) = 4/16 = 0.25
#   Krippendorff's alpha (nominal): 12 pairable values, accept 8, reject 4; the 2 disagreeing units give
#   o(accept,reject) = o(reject,accept) = 2, so Do = 4/12; De = 2 * 8 * 4 / (12 * 11) = 64/132;
#   alpha = 1 - (4/12) / (64/132) = 1 - 132/192 = 0.3125
KAPPA, ALPHA = 0.25, 0.3125

PEOPLE = """
people:
  - {email: anna@plant.example, name: Anna Weber, role: annotator, department: QA, clearance: 2, simulated: true}
  - {email: tom@plant.example, name: Tom Nowak, role: annotator, department: QA, clearance: 2, simulated: true}
  - {email: low@plant.example, name: Low Clear, role: annotator, department: QA, clearance: 1, simulated: true}
  - {email: rev@plant.example, name: Petra Hoff, role: reviewer, department: QA, clearance: 3, simulated: true}
projects:
  - {name: qi_review, kind: inspection_review, dataset: inspections, overlap: 2, batch: 50}
simulation:
  experts: [{email: rev@plant.example, noise: 0}]
"""


class Truth:
    def answer(self, spec: ProjectSpec, data: dict[str, Any], row_keys: dict[str, Any]) -> Answer | None:
        return Answer(choice=TRUTH[str(row_keys["inspection_id"])])


@pytest.fixture
def plant(write: Callable[..., Path], layout: Layout) -> Path:
    lines = ["inspection_id,timestamp,characteristic,measured_value,lower_spec,upper_spec,result"]
    lines += [f"{i},2024-03-30T0{n}:00:00Z,fill,{v},{lo},{hi},{r}" for n, (i, v, lo, hi, r) in enumerate(ROWS)]
    write("qms/inspections.csv", "\n".join(lines) + "\n")
    write("annotation.yaml", PEOPLE)
    sources = write(
        "sources.yaml",
        """
        annotation: annotation.yaml
        sources:
          - name: inspections
            kind: table
            system: QMS
            owner: Quality assurance
            location: qms/inspections.csv
            timestamp: {timezone: data}
            time_column: timestamp
            schema: {inspection_id: VARCHAR, timestamp: TIMESTAMP, characteristic: VARCHAR,
                     measured_value: DOUBLE, lower_spec: DOUBLE, upper_spec: DOUBLE, result: VARCHAR}
        """,
    )
    outcomes = run_all(sources, layout.root)
    assert all(o.success for o in outcomes), outcomes
    return sources


def _loop(plant: Path, layout: Layout, settings: LabelStudioSettings) -> Loop:
    return Loop.from_sources(settings, load_sources(plant), layout)


def _annotate(settings: LabelStudioSettings, loop: Loop, email: str, answers: dict[str, str]) -> None:
    account = loop.accounts().account(settings, loop.annotation.person(email))
    client = client_for(settings, account.token)
    project_id = project_id_of(admin_client(settings), loop.annotation.project("qi_review"))
    for task in client.tasks.list(project=project_id, fields="all"):
        inspection = json.loads(task.data["plantdata_rows"])["inspection_id"]
        result = [choice_result(INSPECTION_DECISION, INSPECTION_RECORD, answers[inspection])]
        client.annotations.create(id=int(task.id), result=result, lead_time=12.0)


def test_the_loop_end_to_end(
    plant: Path, layout: Layout, label_studio: LabelStudioSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "URL": label_studio.url,
        "ADMIN_EMAIL": label_studio.admin_email,
        "ADMIN_PASSWORD": label_studio.admin_password,
        "ADMIN_TOKEN": label_studio.admin_token,
        "DATA_DIR": str(label_studio.data_dir),
    }.items():
        monkeypatch.setenv(f"PLANTDATA_LABEL_STUDIO_{name}", value)
    loop = _loop(plant, layout, label_studio)
    # the inspections release is grade 1 here: the annotator with clearance 1 is offered it too
    first = push(loop, "qi_review")
    assert first.pushed.created == 6 and first.pushed.with_prediction == 6
    again = push(loop, "qi_review")
    assert again.pushed.created == 0 and again.pushed.already_there == 0  # nothing left to choose: no duplicate
    client = admin_client(label_studio)
    project_id = project_id_of(client, loop.annotation.project("qi_review"))
    tasks = list(client.tasks.list(project=project_id, fields="all"))
    assert len(tasks) == 6
    assert all(t.predictions and t.predictions[0].model_version for t in tasks)

    _annotate(label_studio, loop, "anna@plant.example", ANNA)
    _annotate(label_studio, loop, "tom@plant.example", TOM)
    pulled = pull_labels(loop, "qi_review", publish=False)
    progress = pulled.summary.progress
    assert progress["annotations"] == 12
    assert progress["alpha"] == pytest.approx(ALPHA, abs=1e-9)
    [pair] = progress["kappa_pairs"]
    assert pair["kappa"] == pytest.approx(KAPPA, abs=1e-9) and pair["tasks"] == 6
    assert progress["consensus"]["unanimous"] == 4 and progress["consensus"]["pending_review"] == 2
    # the rule's pre-label (accept when the recorded result agrees with the limits): accept QI-1, 2, 4, 6 and
    # reject QI-3, 5, which is the truth; Anna keeps all 6 unchanged, Tom 4 (not QI-2, QI-5)
    [acceptance] = progress["prelabel_acceptance"].values()
    assert (acceptance["annotations"], acceptance["accepted_unchanged"]) == (12, 10)

    pending = sorted(
        {r["task_id"] for r in pulled.summary.table.to_pylist() if r["consensus_method"] == "pending_review"}
    )
    # the reviewer's queue on the server: a "Needs review" tab listing exactly the disagreements
    [view] = [v for v in client.views.list(project=project_id) if (v.data or {}).get("title") == "Needs review"]
    queued = sorted(int(t.id) for t in client.tasks.list(project=project_id, view=view.id))
    assert len(pending) == 2 and queued == pending
    review = simulate_review(
        label_studio,
        project_id,
        loop.annotation.project("qi_review"),
        loop.annotation,
        1,
        Truth(),
        SimulatedAccounts(layout.root / "annotation" / ".simulated-accounts.json"),
        pending,
    )
    assert review.annotations == 2

    # the sensor notices the change and the labels asset pulls and publishes
    definitions = build_definitions(plant, layout.root)
    sensor = definitions.resolve_sensor_def("labels_qi_review_updates")
    instance = dg.DagsterInstance.ephemeral()
    with dg.build_sensor_context(instance=instance, resources=definitions.resources) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult) and len(result.run_requests or []) == 1
    job = definitions.resolve_job_def("labels_qi_review")
    assert job.execute_in_process(instance=instance).success

    unchanged = pull_labels(loop, "qi_review")  # nothing new on the server: no new version
    assert unchanged.published is not None and not unchanged.published.new and unchanged.published.version == 1
    shown = show_dataset(loop.store, "labels_qi_review")
    assert shown["row_count"] == 14
    assert any(e["from_kind"] == "dataset_version" and e["from_id"] == "inspections@1" for e in shown["lineage"])
    [security] = shown["security"]
    source = show_dataset(loop.store, "inspections")
    assert security["grade"] == source["security"][0]["grade"]
    [progress_row] = source["annotation"]
    assert progress_row["project"] == "qi_review" and progress_row["annotations"] == 14
    labels = duckdb.sql(
        f"SELECT task_key, any_value(consensus_label), any_value(consensus_method) FROM "
        f"read_parquet('{shown['location']}/labels.parquet') GROUP BY task_key"
    ).fetchall()
    methods = sorted(m for _, _, m in labels)
    assert methods == ["reviewer", "reviewer", "unanimous", "unanimous", "unanimous", "unanimous"]
    assert sorted(label for _, label, _ in labels) == sorted(TRUTH.values())

    assert list(client.tasks.list(project=project_id, view=view.id)) == []  # settled: the queue is empty
    shown_status = status(loop, "qi_review")
    assert shown_status["annotations_per_annotator"] == {
        "anna@plant.example": 6,
        "rev@plant.example": 2,
        "tom@plant.example": 6,
    }
