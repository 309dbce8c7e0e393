"""Splits without leakage: by time, by group (equipment, unit, line, entity) or both, with a gap in time.

An example is assigned whole: it lands in a split only if its whole span lies inside that split's interval, so
no window spans a boundary; examples in the gap or across a boundary are dropped. `check_disjoint` then proves
on the assigned rows that the splits share no key, no group (group splits) and no time (time splits, gap kept),
and refuses to build otherwise. Adversarial validation (a classifier telling train from test) is reported.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl

from task_datasets.errors import LeakError, TaskDatasetError
from task_datasets.spec import SplitsSpec, parse_duration

SPLITS = ("train", "validation", "test")
SPLIT = "split"
GROUP = "group"
MIN_ROWS_FOR_AUC = 10


def assign_splits(frame: pl.DataFrame, spec: SplitsSpec) -> pl.DataFrame:
    """`frame` (with `window_start`, `window_end`, `group`) with a `split` column; rows in no split are dropped."""
    gap = parse_duration(spec.gap) if spec.gap else timedelta(0)
    start, end = pl.col("window_start"), pl.col("window_end")
    in_time: dict[str, pl.Expr] = {s: pl.lit(True) for s in SPLITS}
    if spec.method in ("time", "time+group"):
        test_at = spec.test
        validation_at = spec.validation
        first = validation_at if validation_at is not None else test_at
        in_time["train"] = end <= pl.lit(first) - gap
        in_time["validation"] = (
            (start >= pl.lit(validation_at)) & (end <= pl.lit(test_at) - gap) if validation_at else pl.lit(False)
        )
        in_time["test"] = start >= pl.lit(test_at)
    in_group: dict[str, pl.Expr] = {s: pl.lit(True) for s in SPLITS}
    if spec.method in ("group", "time+group"):
        test_groups = spec.test if spec.method == "group" else spec.test_groups
        validation_groups = spec.validation if spec.method == "group" else spec.validation_groups
        groups = sorted(set(frame[GROUP].drop_nulls().to_list()))
        test_set = _matching(groups, test_groups if isinstance(test_groups, list) else [])
        validation_set = _matching(groups, validation_groups if isinstance(validation_groups, list) else [])
        both = sorted(test_set & validation_set)
        if both:
            raise LeakError(f"groups {both} are held out for both validation and test; name each in one split only")
        in_group["test"] = pl.col(GROUP).is_in(sorted(test_set))
        in_group["validation"] = pl.col(GROUP).is_in(sorted(validation_set))
        in_group["train"] = ~pl.col(GROUP).is_in(sorted(test_set | validation_set))
    split = pl.lit(None, dtype=pl.String)
    for name in reversed(SPLITS):
        split = pl.when(in_time[name] & in_group[name]).then(pl.lit(name)).otherwise(split)
    assigned = frame.with_columns(split.alias(SPLIT)).filter(pl.col(SPLIT).is_not_null())
    wanted = [s for s in SPLITS if s != "validation" or spec.validation is not None or spec.validation_groups]
    for name in wanted:
        if assigned.filter(pl.col(SPLIT) == name).is_empty():
            raise TaskDatasetError(
                f"the {name} split is empty: no example falls inside it; move the boundaries or groups under "
                "splits so that each split holds examples"
            )
    return assigned


def check_disjoint(frame: pl.DataFrame, spec: SplitsSpec, key: str) -> None:
    """Refuse (LeakError) when two splits share a key, a group (group splits) or time (time splits, gap kept)."""
    problems: list[str] = []
    present = [s for s in SPLITS if not frame.filter(pl.col(SPLIT) == s).is_empty()]
    shared_keys = frame.group_by(key).agg(pl.col(SPLIT).n_unique().alias("n")).filter(pl.col("n") > 1)
    if shared_keys.height:
        problems.append(f"{shared_keys.height} example key(s) in more than one split, e.g. {shared_keys[key][0]}")
    gap = parse_duration(spec.gap) if spec.gap else timedelta(0)
    for i, earlier in enumerate(present):
        for later in present[i + 1 :]:
            a, b = frame.filter(pl.col(SPLIT) == earlier), frame.filter(pl.col(SPLIT) == later)
            if spec.method in ("group", "time+group"):
                common = sorted(set(a[GROUP].to_list()) & set(b[GROUP].to_list()))
                if common:
                    problems.append(f"{earlier} and {later} share group(s) {common[:5]}")
            if spec.method in ("time", "time+group"):
                last: Any = a["window_end"].max()
                first: Any = b["window_start"].min()
                if last is not None and first is not None and last + gap > first:
                    problems.append(f"{earlier} ends at {last}, less than the gap {spec.gap or 'PT0S'} before {later}")
    if problems:
        raise LeakError(
            "splits would leak: " + "; ".join(problems) + ". Fix splits in the spec (boundaries, gap or groups)"
        )


def class_balance(frame: pl.DataFrame, column: str, classes: Sequence[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name in SPLITS:
        rows = frame.filter(pl.col(SPLIT) == name)
        if rows.is_empty():
            continue
        counts = dict(rows[column].value_counts().iter_rows()) if classes else {}
        out[name] = {c: int(counts.get(c, 0)) for c in classes} if classes else {"rows": rows.height}
    return out


def texts_seen_in_train(frame: pl.DataFrame, text: str) -> dict[str, int]:
    """Per split other than train: rows whose text appears word for word in train. Templated texts (a PM round)
    are genuinely shared by different records, so this is reported, not refused; a model may score by recall."""
    seen = set(frame.filter(pl.col(SPLIT) == "train")[text].drop_nulls().to_list())
    return {
        name: int(frame.filter(pl.col(SPLIT) == name)[text].is_in(list(seen)).sum())
        for name in SPLITS[1:]
        if not frame.filter(pl.col(SPLIT) == name).is_empty()
    }


def adversarial_auc(frame: pl.DataFrame, encode: Callable[[pl.DataFrame], Any], random_state: int = 0) -> float | None:
    """Cross-validated ROC AUC of a classifier telling train rows from test rows (0.5: indistinguishable).

    A high value is a leakage signal (or a shift the task must live with); it is reported, not enforced.
    """
    from sklearn.ensemble import RandomForestClassifier  # type: ignore[import-untyped]
    from sklearn.model_selection import cross_val_score  # type: ignore[import-untyped]

    train, test = frame.filter(pl.col(SPLIT) == "train"), frame.filter(pl.col(SPLIT) == "test")
    if min(train.height, test.height) < MIN_ROWS_FOR_AUC:
        return None
    both = pl.concat([train, test])
    is_test = np.array([0] * train.height + [1] * test.height)
    model = RandomForestClassifier(n_estimators=50, max_depth=6, random_state=random_state, n_jobs=1)
    scores = cross_val_score(model, encode(both), is_test, cv=3, scoring="roc_auc")
    return round(float(np.mean(scores)), 4)


def _matching(groups: list[str], patterns: list[str]) -> set[str]:
    """Groups named exactly or by a glob pattern (`valve2/*`)."""
    return {g for g in groups if any(fnmatch.fnmatchcase(g, p) for p in patterns)}
