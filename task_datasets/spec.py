"""A task dataset's spec: declarative YAML validated by pydantic, errors that name the file, the key and the fix.

A spec says which released source datasets (a version or "latest") and label projects a task dataset is built
from, how examples are cut (time-series windows, sequences up to a failure, or records), what the target is,
where labels come from and which source wins when they disagree, and how the examples are split.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from catalog.vocabulary import Scenario
from config.errors import ConfigError
from config.sources import key_path, read_mapping

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$")

Task = Literal["classification", "regression", "anomaly_detection", "text_classification"]
LabelSource = Literal["expert_consensus", "work_orders", "alarms", "rule"]
Aggregate = Literal["mean", "std", "min", "max", "last"]
GroupBy = Literal["equipment", "unit", "line", "entity"]
Version = int | Literal["latest"]


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration of days, hours, minutes and seconds (`PT10M`, `P1DT2H`)."""
    match = _DURATION.match(text)
    if match is None or text in {"P", "PT"}:
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT10M, PT1H or P1D")
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    return timedelta(
        days=parts.get("d", 0), hours=parts.get("h", 0), minutes=parts.get("m", 0), seconds=parts.get("s", 0)
    )


def _duration(text: str) -> str:
    parse_duration(text)
    return text


Duration = Annotated[str, AfterValidator(_duration), Field(description="ISO 8601 duration, e.g. PT10M")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRef(_Strict):
    """A released source dataset (`releases/<dataset>/v<n>/`), by version number or "latest"."""

    dataset: str
    version: Version = "latest"


class ExpertConsensus(_Strict):
    """Labels decided by the experts of an annotation project (`releases/labels_<project>/v<n>/labels.parquet`)."""

    project: str
    version: Version = "latest"
    min_agreement: float = Field(0.0, ge=0, le=1, description="tasks whose experts agree less are not used")
    map: dict[str, str] = Field(default_factory=dict, description="expert label -> target class (else as is)")
    unmarked: str | None = Field(None, description="class of a window the experts saw and marked no fault in")


class WorkOrderLabels(_Strict):
    """A work order of these types labels its equipment's examples from `lead` before it was opened until closed."""

    source: str = Field(description="key of `sources` naming the work orders")
    types: list[str] = ["corrective"]
    lead: Duration = "PT0S"
    map: dict[str, str] = Field(default_factory=dict, description="failure_mode -> target class (else as is)")


class AlarmRule(_Strict):
    signal: str = Field(description="the tag's signal (P101.VIB_RMS -> VIB_RMS)")
    alarm_types: list[str]
    label: str


class AlarmLabels(_Strict):
    """An active alarm on an example's equipment and signal during the example labels it."""

    source: str
    rules: list[AlarmRule]


class RuleLabel(_Strict):
    """The fallback: a threshold on a signal (its maximum over the example), else the default class."""

    default: str
    signal: str | None = None
    above: float | None = None
    label: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> RuleLabel:
        given = [self.signal is not None, self.above is not None, self.label is not None]
        if any(given) and not all(given):
            raise ValueError("a threshold rule needs signal, above and label together (or none of them)")
        return self


class LabelsSpec(_Strict):
    precedence: list[LabelSource] = Field(min_length=1)
    expert_consensus: ExpertConsensus | None = None
    work_orders: WorkOrderLabels | None = None
    alarms: AlarmLabels | None = None
    rule: RuleLabel | None = None

    @model_validator(mode="after")
    def _configured(self) -> LabelsSpec:
        if len(set(self.precedence)) != len(self.precedence):
            raise ValueError("precedence names a label source twice")
        for name in self.precedence:
            if getattr(self, name) is None:
                raise ValueError(f"precedence names {name!r} but the spec has no labels.{name} section")
        return self


class WindowsSpec(_Strict):
    """Fixed time windows over resampled readings of each equipment's signals (tag -> equipment via the register)."""

    kind: Literal["windows"] = "windows"
    readings: str = Field(description="key of `sources` naming the readings")
    asset_register: str | None = Field(None, description="key of `sources` naming the asset register")
    equipment: list[str] = Field(min_length=1)
    signals: list[str] = Field(min_length=1)
    window: Duration
    step: Duration | None = None
    resample: Duration = "PT1M"
    aggregates: list[Aggregate] = ["mean", "std", "min", "max"]


class FailureSpec(_Strict):
    """The failure that ends a sequence: the first matching work order on the equipment."""

    source: str
    failure_modes: list[str] = Field(min_length=1)
    types: list[str] = ["corrective"]


class SequenceSpec(WindowsSpec):
    """Windows in order (a sequence axis) up to the failure work order; the target is the time left, in hours."""

    kind: Literal["sequence"] = "sequence"  # type: ignore[assignment]
    failure: FailureSpec


class RecordsSpec(_Strict):
    """One example per record of a released table, e.g. a work order with its masked text."""

    kind: Literal["records"] = "records"
    source: str
    key: str
    time: str
    group: str
    text: str
    label_column: str | None = Field(None, description="the record's own label (used by the work_orders source)")
    where: dict[str, list[str]] = Field(default_factory=dict, description="keep rows whose column is one of these")


class TargetSpec(_Strict):
    column: str = "label"
    kind: Literal["class", "number"]
    classes: list[str] = Field(default_factory=list)


class SplitsSpec(_Strict):
    method: Literal["time", "group", "time+group"]
    group_by: GroupBy | None = None
    gap: Duration | None = None
    validation: datetime | list[str] | None = Field(None, description="time split: first instant; group: groups")
    test: datetime | list[str] = Field(description="time split: first instant of test; group split: its groups")
    validation_groups: list[str] = Field(default_factory=list)
    test_groups: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _coherent(self) -> SplitsSpec:
        timed = self.method in ("time", "time+group")
        if self.method in ("group", "time+group") and self.group_by is None:
            raise ValueError(f"a {self.method} split needs group_by (equipment, unit, line or entity)")
        if timed and not isinstance(self.test, datetime):
            raise ValueError("a time split needs test: the first instant of the test split (ISO 8601 with offset)")
        if timed and self.validation is not None and not isinstance(self.validation, datetime):
            raise ValueError("a time split needs validation: an instant (ISO 8601 with offset)")
        if self.method == "group" and not isinstance(self.test, list):
            raise ValueError("a group split needs test: the list of groups held out for test")
        if isinstance(self.validation, datetime) and isinstance(self.test, datetime) and self.validation >= self.test:
            raise ValueError("validation must start before test")
        if self.method == "time+group" and not self.test_groups:
            raise ValueError("a time+group split needs test_groups")
        return self


class BaselineSpec(_Strict):
    model: Literal["random_forest", "tfidf_logistic_regression"]
    metric: Literal["macro_f1", "mae", "anomaly_f1"]


class TaskSpec(_Strict):
    name: str
    title: str
    description: str
    task: Task
    scenario: Scenario
    license: str
    sources: dict[str, SourceRef] = Field(min_length=1)
    examples: Annotated[WindowsSpec | SequenceSpec | RecordsSpec, Field(discriminator="kind")]
    target: TargetSpec
    labels: LabelsSpec | None = None
    splits: SplitsSpec
    baseline: BaselineSpec | None = None
    facts: dict[str, str] = Field(default_factory=dict, description="extra prose for the datasheet")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("name must be lower case letters, digits and underscores, starting with a letter")
        return value

    @model_validator(mode="after")
    def _references(self) -> TaskSpec:
        examples = self.examples
        named = [examples.source] if isinstance(examples, RecordsSpec) else [examples.readings, examples.asset_register]
        if isinstance(examples, SequenceSpec):
            named.append(examples.failure.source)
        if self.labels is not None:
            named += [s.source for s in (self.labels.work_orders, self.labels.alarms) if s is not None]
        for key in named:
            if key is not None and key not in self.sources:
                raise ValueError(f"examples or labels refer to source {key!r}, which is not under sources")
        if self.target.kind == "class" and not self.target.classes:
            raise ValueError("a class target needs target.classes")
        if self.task == "regression" and self.target.kind != "number":
            raise ValueError("a regression task needs target.kind: number")
        by = self.splits.group_by
        if isinstance(examples, RecordsSpec) and by not in (None, "equipment"):
            raise ValueError("records are grouped by examples.group: use splits.group_by: equipment")
        if not isinstance(examples, RecordsSpec) and by in ("unit", "line") and examples.asset_register is None:
            raise ValueError(f"group_by {by} is found through the asset register: name it in examples.asset_register")
        if self.labels is None and not isinstance(examples, SequenceSpec):
            raise ValueError("examples other than sequences need a labels section")
        return self


def load_spec(path: str | Path) -> TaskSpec:
    """Read and validate a spec file; raise `ConfigError` naming the file, the key path and the fix."""
    path = Path(path)
    raw = read_mapping(path, "pass an existing spec file", "start the file with 'name:'")
    try:
        return TaskSpec.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        kind, message = error["type"], error["msg"].removeprefix("Value error, ")
        key = key_path(raw, tuple(loc for loc in error["loc"] if not _is_union_tag(loc)))
        if kind == "extra_forbidden":
            raise ConfigError(str(path), key, "unknown key", "remove it or correct its spelling") from None
        if kind == "missing":
            raise ConfigError(str(path), key, "required key is missing", "add it") from None
        if kind in {"enum", "literal_error", "union_tag_invalid"}:
            raise ConfigError(str(path), key, message, "use one of the listed values") from None
        raise ConfigError(str(path), key, message, "correct the value as described") from None


def spec_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_union_tag(loc: int | str) -> bool:
    """Pydantic puts the discriminator's value (`windows`) or a union member's type in the location: not a key."""
    return loc in {"windows", "sequence", "records", "datetime", "list[str]", "int", "function-after[_complete()]"}
