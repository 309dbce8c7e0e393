"""Per-source quality options: the `quality:` block of a source in the sources file."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warn"]


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
