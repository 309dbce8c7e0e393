"""Simulated experts, labelled as such: scripts that annotate through the real server as distinct users.

Each simulated person (marked `simulated: true` in the annotation file) signs up through the server's invite
flow once and then logs in with its own token, so every annotation is the server's own record of that user.
Answers come from an oracle that knows the demo plant's ground truth, with per-expert noise and bias; a
pre-label close enough to the intended answer is submitted unchanged, as a busy expert would. Simulated
experts never write a labels dataset: labels reach the catalog only through a pull, like real ones.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from label_studio_sdk import LabelStudio

from annotation.accounts import Account, admin_client, client_for, ensure_account
from annotation.agreement import segment_iou
from annotation.labeling import (
    INSPECTION_DECISION,
    INSPECTION_RECORD,
    WORK_ORDER_COMPONENT,
    WORK_ORDER_FAILURE_MODE,
    WORK_ORDER_TEXT,
)
from annotation.labels import Segment
from annotation.projects import AnnotationFile, ProjectSpec, SimulatedExpert, TaskKind
from annotation.push import ROWS_FIELD
from annotation.results import choice_of, choice_result, segment_result, segments_of
from annotation.settings import LabelStudioSettings
from config.layout import Layout
from config.people import Person

SENSOR_FROM, SENSOR_TO = "label", "ts"


@dataclass(frozen=True)
class Answer:
    """What an expert means to submit for one task."""

    choice: str | None = None
    component: str | None = None
    segments: tuple[Segment, ...] = ()


class Oracle(Protocol):
    """Knows the right answer for a task (the demo's ground truth, or a test's fixture)."""

    def answer(self, spec: ProjectSpec, data: dict[str, Any], row_keys: dict[str, Any]) -> Answer | None: ...


@dataclass(frozen=True)
class SimulationReport:
    annotations: int
    by_annotator: dict[str, int]
    prelabels_kept: int


class SimulatedAccounts:
    """Passwords of the simulated users, created once and kept in the data root (mode 0600 on a folder), never in code.

    The Label Studio server is shared, so every machine must use the password a user signed up with: the file is a
    record of the data root's store (`layout`; a folder of this machine when none is given), read from the store each
    time, never from a machine's cache."""

    def __init__(self, path: Path, layout: Layout | None = None) -> None:
        self.path = path
        self.layout = layout or Layout(path.parent)

    @property
    def where(self) -> str:
        """The file's path, or its URL on object storage."""
        return self.layout.store.url(self.layout.name(self.path))

    def password(self, email: str) -> str:
        text = self.layout.read_text(self.path)
        known: dict[str, str] = json.loads(text) if text is not None else {}
        if email not in known:
            known[email] = secrets.token_urlsafe(18)
            self.layout.commit_text(self.path, json.dumps(known, indent=2))
            if not self.layout.remote:
                os.chmod(self.path, 0o600)
        return known[email]

    def account(self, settings: LabelStudioSettings, person: Person) -> Account:
        first, _, last = person.name.partition(" ")
        return ensure_account(settings, person.email, self.password(person.email), first, last)


def simulate_annotators(
    settings: LabelStudioSettings,
    project_id: int,
    spec: ProjectSpec,
    people: AnnotationFile,
    grade: int,
    oracle: Oracle,
    accounts: SimulatedAccounts,
    limit: int | None = None,
) -> SimulationReport:
    """Let the cleared simulated annotators annotate the project's tasks until each has `overlap` annotations.

    Annotators take tasks round-robin (task i goes to annotators i, i+1, ...), so each pair shares tasks.
    """
    experts = {e.email: e for e in people.simulation.experts}
    cleared = [p for p in people.annotators(spec, grade) if p.simulated and p.email in experts]
    if len(cleared) < spec.overlap:
        raise ValueError(
            f"project {spec.name}: overlap {spec.overlap} needs that many simulated annotators cleared for grade "
            f"{grade}; found {[p.email for p in cleared]}"
        )
    clients = {p.email: (accounts.account(settings, p), p) for p in cleared}
    rng = np.random.default_rng(people.simulation.seed + project_id)
    done: dict[str, int] = {}
    kept = 0
    for index, task in enumerate(_tasks(admin_client(settings), project_id, limit)):
        authors = {_author(a) for a in task.get("annotations") or []}
        for offset in range(len(cleared)):
            if sum(a.id in authors for a, _ in clients.values()) >= spec.overlap:
                break
            person = cleared[(index + offset) % len(cleared)]
            account, _ = clients[person.email]
            if account.id in authors:
                continue
            result, unchanged = _answer(task, spec, oracle, experts[person.email], rng)
            if result is None:
                break
            client_for(settings, account.token).annotations.create(
                id=int(task["id"]), result=result, lead_time=float(rng.uniform(20, 120))
            )
            authors.add(account.id)
            done[person.email] = done.get(person.email, 0) + 1
            kept += unchanged
    return SimulationReport(sum(done.values()), done, kept)


def simulate_review(
    settings: LabelStudioSettings,
    project_id: int,
    spec: ProjectSpec,
    people: AnnotationFile,
    grade: int,
    oracle: Oracle,
    accounts: SimulatedAccounts,
    task_ids: Sequence[int],
) -> SimulationReport:
    """A simulated reviewer settles the given tasks (those whose annotators disagreed) with the right answer."""
    reviewers = [p for p in people.reviewers(spec, grade) if p.simulated]
    if not reviewers or not task_ids:
        return SimulationReport(0, {}, 0)
    reviewer = reviewers[0]
    account = accounts.account(settings, reviewer)
    client = client_for(settings, account.token)
    admin = admin_client(settings)
    honest = SimulatedExpert(email=reviewer.email, noise=0.0, jitter_s=0.0)
    rng = np.random.default_rng(people.simulation.seed)
    count = 0
    for task_id in task_ids:
        task = admin.tasks.get(id=str(task_id)).dict()
        if account.id in {_author(a) for a in task.get("annotations") or []}:
            continue
        result, _ = _answer(task, spec, oracle, honest, rng)
        if result is not None:
            client.annotations.create(id=int(task_id), result=result, lead_time=float(rng.uniform(30, 90)))
            count += 1
    return SimulationReport(count, {reviewer.email: count} if count else {}, 0)


def _tasks(client: LabelStudio, project_id: int, limit: int | None) -> list[dict[str, Any]]:
    listed: Any = client.tasks.list(project=project_id, fields="all", page_size=500)
    tasks: list[dict[str, Any]] = [t.dict() for t in listed]
    tasks.sort(key=lambda t: int(t["id"]))
    return tasks[:limit] if limit else tasks


def _author(annotation: dict[str, Any]) -> int:
    author = annotation.get("completed_by")
    return int(author["id"] if isinstance(author, dict) else author or -1)


def _answer(
    task: dict[str, Any], spec: ProjectSpec, oracle: Oracle, expert: SimulatedExpert, rng: np.random.Generator
) -> tuple[list[dict[str, Any]] | None, bool]:
    """The result this expert submits and whether it is the pre-label unchanged."""
    data = task.get("data") or {}
    truth = oracle.answer(spec, data, json.loads(data.get(ROWS_FIELD) or "{}"))
    if truth is None:
        return None, False
    meant = _err(truth, spec, expert, rng)
    prediction = (task.get("predictions") or [None])[0]
    if prediction and _close_enough(meant, prediction.get("result") or [], spec):
        return list(prediction["result"]), True
    return _result(meant, spec, milliseconds=_milliseconds(data)), False


def _err(truth: Answer, spec: ProjectSpec, expert: SimulatedExpert, rng: np.random.Generator) -> Answer:
    wrong = bool(rng.random() < expert.noise)
    if spec.kind is TaskKind.SENSOR_FAULTS:
        segments = []
        for segment in truth.segments:
            shift = expert.shift_s + float(rng.uniform(-expert.jitter_s, expert.jitter_s))
            label = _other(segment.label, spec.labels, expert, rng) if wrong else segment.label
            start, end = segment.start + shift, segment.end + shift
            segments.append(Segment(min(start, end), max(start, end), label))
        return Answer(segments=tuple(segments))
    options = spec.failure_modes if spec.kind is TaskKind.WORK_ORDER_FAILURE else ["accept", "reject"]
    choice = _other(truth.choice, options, expert, rng) if wrong and truth.choice else truth.choice
    return Answer(choice=choice, component=truth.component)


def _other(right: str | None, options: Sequence[str], expert: SimulatedExpert, rng: np.random.Generator) -> str:
    if expert.prefers and expert.prefers != right and expert.prefers in options:
        return expert.prefers
    others = [o for o in options if o != right]
    return str(others[int(rng.integers(len(others)))]) if others else str(right)


def _close_enough(meant: Answer, predicted: list[dict[str, Any]], spec: ProjectSpec) -> bool:
    """Would an expert keep the model's proposal? Same class; or the same spans to within 80 % overlap."""
    if spec.kind is TaskKind.SENSOR_FAULTS:
        return segment_iou(meant.segments, segments_of(predicted)) >= 0.8
    primary = choice_of(predicted, primary=True)
    if spec.kind is TaskKind.WORK_ORDER_FAILURE:
        return primary == meant.choice and choice_of(predicted, WORK_ORDER_COMPONENT) == meant.component
    return primary == meant.choice


def _result(answer: Answer, spec: ProjectSpec, *, milliseconds: bool) -> list[dict[str, Any]]:
    if spec.kind is TaskKind.SENSOR_FAULTS:
        return [segment_result(s, SENSOR_FROM, SENSOR_TO, milliseconds=milliseconds) for s in answer.segments]
    if spec.kind is TaskKind.WORK_ORDER_FAILURE:
        result = [choice_result(WORK_ORDER_FAILURE_MODE, WORK_ORDER_TEXT, str(answer.choice))]
        if answer.component:
            result.append(choice_result(WORK_ORDER_COMPONENT, WORK_ORDER_TEXT, answer.component))
        return result
    return [choice_result(INSPECTION_DECISION, INSPECTION_RECORD, str(answer.choice))]


def _milliseconds(data: dict[str, Any]) -> bool:
    times = ((data.get("ts") or {}).get("time") or [0]) if isinstance(data.get("ts"), dict) else [0]
    return bool(times) and isinstance(times[0], int | float) and abs(times[0]) > 1e11
