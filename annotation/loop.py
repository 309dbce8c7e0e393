"""The annotation loop in four verbs, shared by the CLI and the Dagster assets: push, simulate, pull, status.

push: tasks from the latest catalog release of the project's dataset, pre-labelled by the current model and
chosen by active learning (most uncertain first, a random share, spread over equipment), into a project
created from configuration. pull: annotations back incrementally, agreement and consensus computed, and the
labels published to the catalog as a dataset with lineage to the release they label.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import polars as pl
import pyarrow as pa
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from annotation.accounts import admin_client
from annotation.anomaly import RobustZDetector
from annotation.dataset import LabelsSummary, build_labels
from annotation.inspection_rule import SpecRule
from annotation.labeling import inspection_config, sensor_faults_config, work_order_config
from annotation.projects import AnnotationFile, ProjectSpec, TaskKind, load_annotation
from annotation.pull import PullStore, pull, server_clock
from annotation.push import PushResult, ensure_project, existing_tasks, push_tasks
from annotation.records import inspection_tasks, work_order_tasks
from annotation.review import review_marks, update_review_queue
from annotation.selection import choose_batch
from annotation.sensor_windows import build_tasks, candidate_windows, equipment_channels, full_rate_window
from annotation.settings import LabelStudioError, LabelStudioSettings
from annotation.simulate import Oracle, SimulatedAccounts, SimulationReport, simulate_annotators, simulate_review
from annotation.tasks import Release, TaskItem
from annotation.text_model import ColdStartError, FailureModeModel, weak_labels
from catalog.labels import LabelsPublication, PublishedLabels, effective_grade, publish_labels, release_of
from catalog.store import CatalogStore
from config.layout import Layout
from config.locks import turn
from config.sources import SourcesFile

NO_FAILURE = "no_failure"


class ServerDownError(LabelStudioError):
    """Label Studio did not answer: retrying later helps."""

    retryable = True


class NoProjectError(LabelStudioError):
    """The project was never pushed to this server."""


@dataclass(frozen=True)
class Loop:
    """What every verb needs: the server, the data root, the catalog and the annotation file."""

    settings: LabelStudioSettings
    layout: Layout
    annotation: AnnotationFile

    @classmethod
    def from_sources(cls, settings: LabelStudioSettings, sources: SourcesFile, layout: Layout) -> Loop:
        if sources.annotation is None:
            raise LabelStudioError(
                f"{sources.path}: no `annotation:` file is named, so there are no annotation projects; add "
                "`annotation: annotation.yaml` (people and projects) to the sources file"
            )
        return cls(settings, layout, load_annotation(sources.resolve(sources.annotation)))

    @property
    def store(self) -> CatalogStore:
        return CatalogStore.of(self.layout)

    def pull_store(self, project: str) -> PullStore:
        return PullStore(self.layout.root / "annotation" / project, self.layout)

    def accounts(self) -> SimulatedAccounts:
        return SimulatedAccounts(self.layout.root / "annotation" / ".simulated-accounts.json", self.layout)


@dataclass(frozen=True)
class PushReport:
    project: str
    release: str
    candidates: int
    pushed: PushResult
    model_version: str | None
    annotators: list[str]


@dataclass(frozen=True)
class PullReport:
    project: str
    tasks_fetched: int
    annotations: int
    changed: int
    summary: LabelsSummary
    published: PublishedLabels | None


def push(loop: Loop, name: str, limit: int | None = None) -> PushReport:
    """Push the next batch of `name`'s tasks (at most `limit`, else the project's `batch`)."""
    spec = loop.annotation.project(name)
    version, location = release_of(loop.store, spec.dataset)
    release = Release(spec.dataset, version, location)
    grade = effective_grade(loop.store, spec.dataset)
    cleared = loop.annotation.annotators(spec, grade)
    if not cleared:
        raise LabelStudioError(
            f"project {name}: no annotator is cleared for {spec.dataset}'s security grade {grade}; raise a person's "
            f"clearance in {loop.annotation.path} or have the CDO review the dataset's grade"
        )
    # one push of a project at a time: the keys listed below are still the server's when the batch is imported
    # (a turn on the data root's store: machines sharing a data root on object storage share the server too)
    lock = loop.layout.name(loop.pull_store(name).folder / ".push.lock")
    with turn(loop.layout.store, lock), _server(loop.settings):
        client = admin_client(loop.settings)
        candidates, model_version = _candidates(loop, spec, release)
        config = _label_config(spec, release)
        project_id = ensure_project(client, spec, config)
        there = set(existing_tasks(client, project_id))
        batch = choose_batch(
            candidates,
            size=limit or spec.batch,
            already_pushed=there,
            random_share=spec.random_share,
            seed=spec.seed,
        )
        result = push_tasks(client, project_id, batch, there)
    return PushReport(
        name, f"{spec.dataset}@v{version}", len(candidates), result, model_version, [p.email for p in cleared]
    )


def simulate(loop: Loop, name: str, oracle: Oracle, limit: int | None = None) -> dict[str, SimulationReport]:
    """Simulated annotators annotate; the labels are pulled; a simulated reviewer settles disagreements."""
    spec = loop.annotation.project(name)
    grade = effective_grade(loop.store, spec.dataset)
    with _server(loop.settings):
        project_id = project_id_of(admin_client(loop.settings), spec)
        annotators = simulate_annotators(
            loop.settings, project_id, spec, loop.annotation, grade, oracle, loop.accounts(), limit
        )
        report = pull_labels(loop, name, publish=False)
        pending = sorted(
            {
                int(task_id)
                for task_id, method in zip(
                    report.summary.table.column("task_id").to_pylist(),
                    report.summary.table.column("consensus_method").to_pylist(),
                    strict=True,
                )
                if method == "pending_review"
            }
        )
        review = simulate_review(
            loop.settings, project_id, spec, loop.annotation, grade, oracle, loop.accounts(), pending
        )
    return {"annotators": annotators, "reviewer": review}


def pull_labels(loop: Loop, name: str, *, publish: bool = True, run_id: str | None = None) -> PullReport:
    """Pull `name`'s annotations since the last pull; with `publish`, publish the labels dataset.

    One pull of a project at a time (the CLI and a Dagster run may both try): the store is merged in a turn.
    """
    spec = loop.annotation.project(name)
    store = loop.pull_store(name)
    with turn(loop.layout.store, loop.layout.name(store.folder / ".pull.lock")), _server(loop.settings):
        client = admin_client(loop.settings)
        project_id = project_id_of(client, spec)
        fetched = pull(client, project_id, store, server_now=server_clock(loop.settings.url))
        tasks_on_server = _task_count(client, project_id)
        store.commit(store.tasks, json.dumps({"tasks": tasks_on_server}).encode())
        rows = store.read_rows()
        grade = effective_grade(loop.store, spec.dataset)
        summary = build_labels(rows, spec, loop.annotation, grade, tasks_on_server)
        table = summary.table.to_pydict()
        task_ids = dict(zip(table["task_key"], table["task_id"], strict=True))
        marks = review_marks({task_ids[k]: c for k, c in summary.consensus.items() if k in task_ids})
        update_review_queue(client, project_id, marks, store.review, loop.layout)
    sources = {r["source"] for r in rows}
    version = max((int(s.rpartition("@v")[2]) for s in sources if "@v" in s), default=None)
    published = None
    if publish and version is not None and summary.table.num_rows:
        release = Release(spec.dataset, version, release_of(loop.store, spec.dataset, version)[1])
        published = publish_labels(
            loop.store,
            loop.layout,
            LabelsPublication(
                dataset=f"labels_{name}",
                project=name,
                description=f"Expert labels ({spec.kind.value}) of {spec.dataset} from Label Studio project {name}",
                source_dataset=spec.dataset,
                source_version=version,
                table=summary.table,
                progress=summary.progress,
                people=loop.annotation.people,
                extra_tables=_full_rate_windows(spec, release, summary),
            ),
            run_id=run_id or f"annotate-{uuid.uuid4().hex[:12]}",
        )
    return PullReport(
        name, fetched.tasks_fetched, fetched.annotations_total, fetched.annotations_changed, summary, published
    )


def _full_rate_windows(spec: ProjectSpec, release: Release, summary: LabelsSummary) -> dict[str, pa.Table]:
    """For sensor projects, the full-rate readings of every labelled window (tasks show a downsampled view)."""
    if spec.kind is not TaskKind.SENSOR_FAULTS or not summary.table.num_rows:
        return {}
    windows = []
    labelled = summary.table.to_pydict()
    for task_key, row_keys in sorted(set(zip(labelled["task_key"], labelled["row_keys"], strict=True))):
        frame = full_rate_window(release, json.loads(row_keys))
        windows.append(frame.with_columns(pl.lit(task_key).alias("task_key")))
    return {"windows": pl.concat(windows, how="diagonal_relaxed").to_arrow()} if windows else {}


def status(loop: Loop, name: str) -> dict[str, Any]:
    """Progress of one project from what was pulled last (run `annotate pull` first for fresh numbers)."""
    spec = loop.annotation.project(name)
    store = loop.pull_store(name)
    rows, state = store.read_rows(), store.read_state()
    tasks = int(store.read_json(store.tasks).get("tasks", 0))
    grade = effective_grade(loop.store, spec.dataset)
    summary = build_labels(rows, spec, loop.annotation, grade, tasks_on_server=tasks)
    per_annotator: dict[str, int] = {}
    for row in summary.table.to_pylist():
        per_annotator[row["annotator"]] = per_annotator.get(row["annotator"], 0) + 1
    return {
        "project": name,
        "kind": spec.kind.value,
        "dataset": spec.dataset,
        "grade": grade,
        "pulled_at": state.get("cursor"),
        "annotations_per_annotator": dict(sorted(per_annotator.items())),
        "excluded_annotations": summary.excluded,
        **summary.progress,
    }


def project_id_of(client: LabelStudio, spec: ProjectSpec) -> int:
    project: Any
    for project in client.projects.list():
        if project.title == spec.title and project.id is not None:
            return int(project.id)
    raise NoProjectError(
        f"project {spec.name} is not on the server yet; run `plantdata annotate push --project {spec.name}`"
    )


def _task_count(client: LabelStudio, project_id: int) -> int:
    project = client.projects.get(id=project_id)
    return int(getattr(project, "task_number", 0) or 0)


def _candidates(loop: Loop, spec: ProjectSpec, release: Release) -> tuple[list[TaskItem], str | None]:
    if spec.kind is TaskKind.SENSOR_FAULTS:
        assert spec.equipment is not None
        detector = RobustZDetector(label=spec.labels[0])
        windows = candidate_windows(
            release,
            equipment=spec.equipment,
            window=spec.window_length,
            alarms=_context(loop, spec.alarms),
            work_orders=_context(loop, spec.work_orders),
            negatives=max(2, spec.batch // 4),
            seed=spec.seed,
            detector=detector,
        )
        channels = list(equipment_channels(release, spec.equipment))
        items = build_tasks(
            spec.name,
            release,
            windows,
            labels=spec.labels,
            max_points=spec.max_points,
            detector=detector,
            channels=channels,
        )
        return items, detector.model_version
    if spec.kind is TaskKind.WORK_ORDER_FAILURE:
        model = _text_model(loop, spec, release)
        items = work_order_tasks(spec.name, release, include_types=spec.work_order_types, model=model)
        return items, model.model_version if model else None
    rule = SpecRule()
    return inspection_tasks(spec.name, release, rule=rule), rule.model_version


def _text_model(loop: Loop, spec: ProjectSpec, release: Release) -> FailureModeModel | None:
    """The newest model: trained on the experts' consensus when it has two classes, else on the CMMS's own
    failure modes (weak labels; work orders of other types count as `no_failure` when that class is offered)."""
    orders = work_order_tasks(spec.name, release)  # the release read once, without a model
    rows = loop.pull_store(spec.name).read_rows()
    if rows:
        texts_by_key = {i.key: str(i.data.get("text", "")) for i in orders}
        grade = effective_grade(loop.store, spec.dataset)
        summary = build_labels(rows, spec, loop.annotation, grade, 0)
        decided = [
            (texts_by_key[k], c.label)
            for k, c in summary.consensus.items()
            if c.label is not None and k in texts_by_key
        ]
        try:
            return FailureModeModel.fit([t for t, _ in decided], [lbl for _, lbl in decided])
        except ColdStartError:
            pass
    texts, labels = weak_labels(release)
    if NO_FAILURE in spec.failure_modes:
        others = [i for i in orders if str(i.data.get("wo_type", "")).lower() != "corrective"]
        texts += [str(i.data.get("text", "")) for i in others]
        labels += [NO_FAILURE] * len(others)
    try:
        return FailureModeModel.fit(texts, labels)
    except ColdStartError:
        return None


def _context(loop: Loop, dataset: str | None) -> Release | None:
    if dataset is None:
        return None
    version, location = release_of(loop.store, dataset)
    return Release(dataset, version, location)


def _label_config(spec: ProjectSpec, release: Release) -> str:
    if spec.kind is TaskKind.SENSOR_FAULTS:
        assert spec.equipment is not None
        units = equipment_channels(release, spec.equipment)
        return sensor_faults_config(list(units), spec.labels, units=units)
    if spec.kind is TaskKind.WORK_ORDER_FAILURE:
        return work_order_config(spec.failure_modes, spec.components, spec.span_labels)
    return inspection_config()


@contextlib.contextmanager
def _server(settings: LabelStudioSettings) -> Iterator[None]:
    """Turns 'the server does not answer' into a retryable error that says what to do."""
    try:
        yield
    except (httpx.TransportError, ApiError) as error:
        if isinstance(error, ApiError) and (error.status_code or 0) < 502:
            raise
        raise ServerDownError(
            f"Label Studio at {settings.url} does not answer ({error}); start it with `make labelstudio` "
            "(runs retry with backoff)"
        ) from error
