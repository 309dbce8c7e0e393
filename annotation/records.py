"""Task builders for record-shaped data: maintenance work orders and quality-inspection records.

One task per release row, keyed by the row's id (`stable_key`), so rebuilding from the same release or a later
version of it gives the same keys and a re-push never duplicates a task. Pre-labels come from a text model
(work orders) or a rule (inspections); `uncertainty` is 1 - the probability of the predicted class, 0.5 when
there is no pre-label. Interfaces and control names are in `annotation.labeling`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from annotation.labeling import (
    INSPECTION_DECISION,
    INSPECTION_RECORD,
    WORK_ORDER_COMPONENT,
    WORK_ORDER_FAILURE_MODE,
    WORK_ORDER_TEXT,
)
from annotation.tasks import Prediction, Release, TaskItem, stable_key
from config.errors import PlantdataError

if TYPE_CHECKING:
    from annotation.inspection_rule import SpecRule
    from annotation.text_model import FailureModeModel

NO_PREDICTION_UNCERTAINTY = 0.5


class TaskBuildError(PlantdataError):
    """A release cannot be turned into tasks; the message names the release, the column or rows, and the fix."""


def read_release(release: Release, required: Sequence[str], optional: Sequence[str] = ()) -> pl.DataFrame:
    """The rows of a release (all its Parquet files, hive folder keys such as `day` as columns).

    `required` columns must exist; `optional` ones are added as nulls when the release lacks them. Other columns
    are kept.

    Raises:
        TaskBuildError: no Parquet file under the release folder, or a required column missing.
    """
    files = sorted(release.location.glob("**/*.parquet"))
    if not files:
        raise TaskBuildError(
            f"{release.dataset} v{release.version}: no Parquet file under {release.location}. "
            "Fix: pass the release folder the catalog published (releases/<dataset>/v<n>)"
        )
    lazy = pl.scan_parquet(files, hive_partitioning=True)
    names = lazy.collect_schema().names()
    missing = [c for c in required if c not in names]
    if missing:
        raise TaskBuildError(
            f"{release.dataset} v{release.version}: column(s) {missing} not in the release (it has {names}). "
            "Fix: pass the release's names for them (id_column=..., text_column=..., time_column=...)"
        )
    added = [pl.lit(None, dtype=pl.String).alias(c) for c in optional if c not in names]
    return lazy.with_columns(added).collect() if added else lazy.collect()


def _check_ids(frame: pl.DataFrame, release: Release, id_column: str) -> None:
    nulls = frame[id_column].null_count()
    repeated = frame.filter(pl.col(id_column).is_duplicated())[id_column].unique().sort().head(5).to_list()
    if nulls or repeated:
        raise TaskBuildError(
            f"{release.dataset} v{release.version}: {id_column} must identify each row, but {nulls} row(s) have "
            f"none and {repeated} (first 5) repeat. Fix: pass a unique id column as id_column, or repair the "
            "release (the quality gate's duplicates and completeness rules should have held these rows back)"
        )


def _text(value: Any) -> str:
    """A field as annotators read it: nothing for null, ISO 8601 for times, shortest round-trip for floats."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _choices(from_name: str, to_name: str, choice: str) -> dict[str, Any]:
    return {"from_name": from_name, "to_name": to_name, "type": "choices", "value": {"choices": [choice]}}


def work_order_tasks(
    project: str,
    release: Release,
    *,
    id_column: str = "wo_id",
    text_column: str = "description",
    time_column: str = "ts",
    equipment_column: str = "equipment_id",
    type_column: str = "wo_type",
    cmms_column: str = "failure_mode",
    include_types: list[str] | None = None,
    model: FailureModeModel | None = None,
) -> list[TaskItem]:
    """One `work_order_failure` task per work order of `release`, oldest first.

    Args:
        project: the annotation project the keys belong to.
        release: a work-order release (its description already masked by the catalog).
        id_column, text_column, time_column: the work order id, its free text and its creation time.
        equipment_column, type_column, cmms_column: equipment (the stratum), work-order type and the
            CMMS-entered failure mode; each is optional (empty when the release lacks it).
        include_types: keep only these work-order types (case-insensitive), e.g. ["corrective"]; None keeps all.
        model: pre-labels failure mode (and component); without it tasks carry no prediction.

    Raises:
        TaskBuildError: a named column is missing, or ids are missing or repeated.
    """
    required = [id_column, text_column, time_column] + ([type_column] if include_types is not None else [])
    frame = read_release(release, required, [equipment_column, type_column, cmms_column])
    if include_types is not None:
        wanted = [t.lower() for t in include_types]
        frame = frame.filter(pl.col(type_column).cast(pl.String).str.to_lowercase().is_in(wanted))
    _check_ids(frame, release, id_column)
    frame = frame.sort([time_column, id_column], nulls_last=True)
    texts = [t or "" for t in frame[text_column].cast(pl.String).to_list()]
    predictions = model.predict(texts) if model is not None and texts else []
    items = []
    for i, row in enumerate(frame.iter_rows(named=True)):
        row_keys = {id_column: row[id_column]}
        prediction, uncertainty = None, NO_PREDICTION_UNCERTAINTY
        if model is not None:
            guess = predictions[i]
            result = [_choices(WORK_ORDER_FAILURE_MODE, WORK_ORDER_TEXT, guess.failure_mode)]
            if guess.component is not None:
                result.append(_choices(WORK_ORDER_COMPONENT, WORK_ORDER_TEXT, guess.component))
            prediction = Prediction(model.model_version, guess.probability, result)
            uncertainty = 1.0 - guess.probability
        equipment = _text(row[equipment_column])
        items.append(
            TaskItem(
                key=stable_key(project, release.dataset, row_keys),
                data={
                    "text": texts[i],
                    "wo_id": _text(row[id_column]),
                    "equipment_id": equipment,
                    "created": _text(row[time_column]),
                    "wo_type": _text(row[type_column]),
                    "cmms_failure_mode": _text(row[cmms_column]),
                },
                release=release,
                row_keys=row_keys,
                stratum=equipment,
                reason="work_order",
                prediction=prediction,
                uncertainty=uncertainty,
            )
        )
    return items


def inspection_tasks(
    project: str,
    release: Release,
    *,
    rule: SpecRule | None = None,
    id_column: str = "inspection_id",
    time_column: str = "timestamp",
    characteristic_column: str = "characteristic",
    value_column: str = "measured_value",
    lower_column: str = "lower_spec",
    upper_column: str = "upper_spec",
    result_column: str = "result",
    defect_column: str = "defect_code",
) -> list[TaskItem]:
    """One `inspection_review` task per inspection record of `release`, oldest first.

    Task data: every field of the record as text, flat (Data Manager columns) and as the mapping `record` (the
    table the interface shows), plus a one-line `summary`. The stratum is the characteristic. With `rule`, the
    pre-label is its accept/reject verdict and `extra["rule_reason"]` says why.

    Raises:
        TaskBuildError: a named column is missing (`defect_column` is optional), or ids are missing or repeated.
    """
    required = [id_column, time_column, characteristic_column, value_column, lower_column, upper_column]
    frame = read_release(release, [*required, result_column], [defect_column])
    _check_ids(frame, release, id_column)
    frame = frame.sort([time_column, id_column], nulls_last=True)
    items = []
    for row in frame.iter_rows(named=True):
        record = {name: _text(value) for name, value in row.items()}
        summary = (
            f"{record[id_column]} · {record[time_column]} · {record[characteristic_column]} = "
            f"{record[value_column] or '(no value)'}, spec [{record[lower_column] or '?'}, "
            f"{record[upper_column] or '?'}], recorded {record[result_column] or '(nothing)'}"
            + (f", defect {record[defect_column]}" if record[defect_column] else "")
        )
        row_keys = {id_column: row[id_column]}
        prediction, uncertainty, extra = None, NO_PREDICTION_UNCERTAINTY, {}
        if rule is not None:
            verdict = rule.judge(row[value_column], row[lower_column], row[upper_column], row[result_column])
            result = [_choices(INSPECTION_DECISION, INSPECTION_RECORD, verdict.decision)]
            prediction, uncertainty = Prediction(rule.model_version, verdict.score, result), verdict.uncertainty
            extra = {"rule_reason": verdict.reason}
        flat = {name: text for name, text in record.items() if name not in ("summary", "record")}
        items.append(
            TaskItem(
                key=stable_key(project, release.dataset, row_keys),
                data={**flat, "summary": summary, "record": record},
                release=release,
                row_keys=row_keys,
                stratum=record[characteristic_column],
                reason="record",
                prediction=prediction,
                uncertainty=uncertainty,
                extra=extra,
            )
        )
    return items
