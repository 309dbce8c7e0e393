"""Per-source quality options: the `quality:` block of a source in the sources file."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warn"]
DimensionName = Literal["conformity", "completeness", "accuracy", "consistency", "timeliness", "accessibility"]


class DeclaredExpectation(BaseModel):
    """A Great Expectations 1.x expectation an engineer adds to a source: it judges every partition's rows, gates
    like a built-in partition rule (an `error` one that fails holds the partition back) and counts in its
    dimension. For example `{type: ExpectColumnValuesToBeBetween, kwargs: {column: torque_nm, min_value: 0,
    max_value: 400}, dimension: accuracy}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(
        pattern=r"^Expect[A-Za-z0-9]+$", description="the GX class name, e.g. ExpectColumnValuesToBeBetween"
    )
    kwargs: dict[str, Any] = Field(default_factory=dict, description="the expectation's arguments")
    name: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$", description="rule name (default from type)")
    dimension: DimensionName = "conformity"
    severity: Severity = "error"
    description: str | None = None

    @property
    def rule_name(self) -> str:
        """`name`, else `gx_` + the class in snake case + the column it looks at."""
        if self.name:
            return self.name
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", self.type.removeprefix("Expect")).lower()
        column = self.kwargs.get("column") or "_".join(map(str, self.kwargs.get("column_list", [])))
        return re.sub(r"[^a-z0-9_]", "_", f"gx_{snake}" + (f"_{column}" if column else "").lower())

    @property
    def kwargs_json(self) -> str:
        return json.dumps(self.kwargs, sort_keys=True, default=str)


class QualityOptions(BaseModel):
    """Overrides of the kind's default suite; every field has a default that suits plant data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    disable: list[str] = Field(default_factory=list, description="rule names to skip")
    severity: dict[str, Severity] = Field(default_factory=dict, description="rule name -> error|warn")
    stuck_after_s: int = Field(default=1800, gt=0, description="identical values for this long = stuck")
    spike_sigma: float = Field(default=4.0, gt=0, description="excursion beyond k robust standard deviations")
    spike_min_span: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="a spike also leaves its neighbours by this share of the register's span (high - low limit)",
    )
    gap_periods: int = Field(default=10, gt=1, description="gap = no sample for N median sampling periods")
    freshness_hours: float | None = Field(default=None, gt=0, description="newest row at most this old")
    max_export_latency_hours: float | None = Field(
        default=None, gt=0, description="a reading's export file is written at most this long after the reading"
    )
    min_completeness: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="readings: share of rows with a usable value below which the partition is held back "
        "(fail closed: a day whose values are all missing is not published)",
    )
    row_count_tolerance: float = Field(default=0.5, gt=0, description="rows within +-x of the history median")
    max_dirty_rate: float = Field(default=0.01, ge=0, le=1, description="quarantined share of rows_in")
    accepted_quality: list[Literal["good", "uncertain", "bad"]] = Field(
        default_factory=lambda: ["good", "uncertain"],  # type: ignore[arg-type]
        description="quality classes a reading may have",
    )
    quarantine_alert_share: float = Field(
        default=0.2, ge=0, le=1, description="above this share of a partition's rows quarantined, say so loudly"
    )
    unique: list[str] = Field(default_factory=list, description="key columns that must be unique")
    value_sets: dict[str, list[str]] = Field(default_factory=dict, description="column -> allowed values")
    expectations: list[DeclaredExpectation] = Field(
        default_factory=list, description="Great Expectations 1.x expectations on each partition's rows"
    )
