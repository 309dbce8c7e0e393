"""The annotation file: who labels, and which Label Studio projects exist, as configuration.

One YAML file (named by `annotation:` in the sources file, relative to it) lists the people and the projects.
A project says which released dataset it labels, the task kind, the labels offered, how many annotators see
each task (overlap), the agreement below which a reviewer decides, and who may annotate and review.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.errors import ConfigError
from config.people import Person, Role

_DURATION = re.compile(r"^(?P<n>\d+)\s*(?P<unit>s|min|h|d)$")
_UNITS = {"s": "seconds", "min": "minutes", "h": "hours", "d": "days"}


class TaskKind(StrEnum):
    SENSOR_FAULTS = "sensor_faults"  # fault segments on multichannel sensor windows
    WORK_ORDER_FAILURE = "work_order_failure"  # failure mode and failed component of work orders
    INSPECTION_REVIEW = "inspection_review"  # accept or reject quality-inspection records


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectSpec(_Strict):
    """One Label Studio project, created or updated idempotently from this entry (matched by `name`)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    kind: TaskKind
    dataset: str = Field(description="the released catalog dataset whose rows are labelled")
    description: str = ""
    overlap: int = Field(2, ge=1, le=10, description="annotators per task")
    agreement_threshold: float = Field(0.7, ge=0, le=1, description="tasks below it go to a reviewer")
    annotators: list[str] = Field(default_factory=list, description="e-mails; empty: every cleared annotator")
    reviewers: list[str] = Field(default_factory=list, description="e-mails; empty: every cleared reviewer")
    batch: int = Field(20, ge=1, description="tasks per push unless --limit says otherwise")
    random_share: float = Field(0.2, ge=0, le=1, description="share of each batch drawn at random")
    seed: int = 0
    # sensor_faults
    equipment: str | None = None
    window: str = "2h"
    labels: list[str] = Field(default_factory=list)
    alarms: str | None = Field(None, description="released alarms dataset: windows around alarms")
    work_orders: str | None = Field(None, description="released work-order dataset: windows around work orders")
    max_points: int = Field(10_000, ge=100, description="points per channel shown; the export keeps full rate")
    # work_order_failure
    failure_modes: list[str] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)
    span_labels: list[str] = Field(default_factory=list)
    work_order_types: list[str] | None = None

    @field_validator("window")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not _DURATION.match(value.strip()):
            raise ValueError(f"window {value!r} is not a duration; write e.g. 30min, 2h or 1d")
        return value.strip()

    @model_validator(mode="after")
    def _kind_needs(self) -> ProjectSpec:
        if self.kind is TaskKind.SENSOR_FAULTS and (not self.equipment or not self.labels):
            raise ValueError(f"project {self.name}: sensor_faults needs `equipment` and `labels`")
        if self.kind is TaskKind.WORK_ORDER_FAILURE and not self.failure_modes:
            raise ValueError(f"project {self.name}: work_order_failure needs `failure_modes`")
        return self

    @property
    def window_length(self) -> timedelta:
        match = _DURATION.match(self.window)
        assert match is not None  # validated
        return timedelta(**{_UNITS[match["unit"]]: int(match["n"])})

    @property
    def title(self) -> str:
        """The project's title in Label Studio: how a re-push finds the project it created before."""
        return f"plantdata: {self.name}"


class SimulatedExpert(_Strict):
    """How one simulated expert errs: `noise` is the chance of a wrong answer; a wrong class is `prefers` when
    given (a personal bias), else drawn at random; segment bounds move by `shift_s` plus up to `jitter_s`."""

    email: str
    noise: float = Field(0.1, ge=0, le=1)
    prefers: str | None = None
    shift_s: float = 0.0
    jitter_s: float = Field(60.0, ge=0)


class SimulationOptions(_Strict):
    """Simulated experts for the demo and the tests: scripts that log in as people marked `simulated: true`
    and annotate through the server's API from the demo's ground truth. They never write a labels dataset."""

    seed: int = 7
    experts: list[SimulatedExpert] = Field(default_factory=list)


class AnnotationFile(_Strict):
    version: int = 1
    people: list[Person] = Field(default_factory=list)
    projects: list[ProjectSpec] = Field(default_factory=list)
    simulation: SimulationOptions = Field(default_factory=SimulationOptions)
    path: Path = Path("annotation.yaml")

    @model_validator(mode="after")
    def _references(self) -> AnnotationFile:
        emails = [p.email for p in self.people]
        if len(set(emails)) != len(emails):
            raise ValueError("people: each e-mail may appear once")
        names = [p.name for p in self.projects]
        if len(set(names)) != len(names):
            raise ValueError("projects: each name may appear once")
        known = {p.email: p for p in self.people}
        for expert in self.simulation.experts:
            if expert.email not in known or not known[expert.email].simulated:
                raise ValueError(f"simulation: {expert.email} must be a person marked simulated: true")
        for project in self.projects:
            for role, emails_of_role in (("annotators", project.annotators), ("reviewers", project.reviewers)):
                unknown = [e for e in emails_of_role if e not in known]
                if unknown:
                    raise ValueError(f"project {project.name}: {role} {unknown} are not in people")
        return self

    def project(self, name: str) -> ProjectSpec:
        for project in self.projects:
            if project.name == name:
                return project
        raise ConfigError(
            str(self.path), f"projects[{name}]", "no such project", f"use one of {[p.name for p in self.projects]}"
        )

    def person(self, email: str) -> Person:
        for person in self.people:
            if person.email == email:
                return person
        raise KeyError(email)

    def annotators(self, project: ProjectSpec, grade: int) -> list[Person]:
        """People who may annotate `project`'s tasks: named (or, if none are named, every annotator) and cleared
        for the grade of the dataset they would see."""
        return self._cleared(project.annotators, Role.ANNOTATOR, grade)

    def reviewers(self, project: ProjectSpec, grade: int) -> list[Person]:
        return self._cleared(project.reviewers, Role.REVIEWER, grade)

    def _cleared(self, named: list[str], role: Role, grade: int) -> list[Person]:
        chosen = [self.person(e) for e in named] if named else [p for p in self.people if p.role is role]
        return [p for p in chosen if p.may_see(grade)]


def load_annotation(path: str | Path) -> AnnotationFile:
    """Read and validate an annotation file; raise `ConfigError` naming the file, key and fix."""
    path = Path(path)
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            str(path), "(file)", "file not found", "create it or fix `annotation:` in the sources file"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), "(file)", f"not valid YAML ({exc})", "fix the YAML syntax") from None
    if not isinstance(raw, dict):
        raise ConfigError(str(path), "(top level)", "expected a mapping", "start the file with 'people:'")
    try:
        return AnnotationFile.model_validate({**raw, "path": path.resolve()})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(str(path), where, first["msg"], "see the annotation file reference in README.md") from None
