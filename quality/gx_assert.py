"""Great Expectations 1.x asserts the rule metrics DuckDB computed, and keeps Data Docs.

dagster-ge does not support GX 1.x, and GX's SQL datasource on DuckDB loses results (it closes pooled
connections); so DuckDB computes each rule's unexpected share over the Parquet, and one GX checkpoint
per gate run validates a small table of those metrics: one expectation per rule, one row per partition.
GX's verdict is the gate's verdict, taken from each result's `success` and failing closed when an expectation
raises or cannot say which partition failed. Data Docs are rebuilt from the newest validations only (GX #11542).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from config.locks import exclusive
from quality.data_docs import build_offline_data_docs
from quality.evaluate import PartitionEvaluation

KEEP_VALIDATIONS = 50


def assert_with_gx(evaluations: list[PartitionEvaluation], gx_root: Path, suite_name: str) -> Path:
    """Set every RuleResult.passed from a GX checkpoint run; return the Data Docs index.

    The GX project is one store for every source: runs side by side take turns on it (pruning validations while
    another run builds Data Docs would break the site)."""
    with exclusive(gx_root / ".plantdata.lock"):
        return _assert_with_gx(evaluations, gx_root, suite_name)


def _assert_with_gx(evaluations: list[PartitionEvaluation], gx_root: Path, suite_name: str) -> Path:
    import great_expectations
    import pandas as pd

    gx: Any = great_expectations  # GX 1.x re-exports its expectations without declaring them to type checkers

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    rows = [
        {"partition": e.key, "rule": r.name, "unexpected_percent": r.unexpected_percent}
        for e in evaluations
        for r in e.results
    ]
    if not rows:
        return gx_root
    frame = pd.DataFrame(rows)
    context = _context(gx, gx_root)
    allowed: dict[str, float] = {r.name: r.allowed_percent for e in evaluations for r in e.results}
    suite = gx.ExpectationSuite(name=suite_name)
    for rule, limit in sorted(allowed.items()):
        suite.add_expectation(
            gx.expectations.ExpectColumnValuesToBeBetween(
                column="unexpected_percent",
                min_value=0.0,
                max_value=limit + 1e-9,
                row_condition=f'rule=="{rule}"',
                condition_parser="pandas",
                meta={"rule": rule},
            )
        )
    suite = context.suites.add_or_update(suite)
    batch = _batch_definition(context, suite_name)
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(name=suite_name, validation_definitions=[validation], result_format="COMPLETE", actions=[])
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = checkpoint.run(batch_parameters={"dataframe": frame})
    verdicts = _verdicts(result, frame, set(allowed))
    for evaluation in evaluations:
        for rule_result in evaluation.results:
            rule_result.passed = verdicts.get((evaluation.key, rule_result.name), False)
    _prune(gx_root)
    return build_offline_data_docs(context, gx_root)


def _verdicts(result: Any, frame: Any, rules: set[str]) -> dict[tuple[str, str], bool]:
    """GX's verdict per (partition, rule), failing closed: a rule whose expectation raised, is missing from the
    result, or failed without naming the rows it failed on, fails in every partition; a rule passes only where
    its expectation succeeded or did not list the partition's row as unexpected."""
    partitions = {str(p) for p in frame["partition"]}
    verdicts: dict[tuple[str, str], bool] = {}
    seen: set[str] = set()
    for run in result.run_results.values():
        for outcome in run.results:
            rule = str(outcome.expectation_config.meta["rule"])
            seen.add(rule)
            raised = bool((outcome.exception_info or {}).get("raised_exception"))
            listed = outcome.result.get("unexpected_index_list")
            failing = {str(frame.loc[_index(i), "partition"]) for i in listed or []}
            decided = not raised and listed is not None and (bool(outcome.success) or bool(failing))
            for partition in partitions:
                verdicts[(partition, rule)] = decided and partition not in failing
    for rule in rules - seen:
        for partition in partitions:
            verdicts[(partition, rule)] = False
    return verdicts


def _context(gx: Any, root: Path) -> Any:
    root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(root.parent))
    context.variables.progress_bars = {"globally": False}
    return context


def _batch_definition(context: Any, name: str) -> Any:
    try:
        source = context.data_sources.get("plantdata_rule_metrics")
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas("plantdata_rule_metrics")
    try:
        asset = source.get_asset(name)
    except LookupError:
        asset = source.add_dataframe_asset(name)
    try:
        return asset.get_batch_definition("partitions")
    except (KeyError, LookupError):
        return asset.add_batch_definition_whole_dataframe("partitions")


def _index(index: Any) -> int:
    return int(index[0] if isinstance(index, list | tuple) else index)


def _prune(root: Path) -> None:
    """Keep the newest validation results only, so Data Docs stay fast after thousands of runs."""
    store = root / "uncommitted" / "validations"
    results = sorted(store.rglob("*.json"), key=lambda p: p.stat().st_mtime) if store.is_dir() else []
    for stale in results[:-KEEP_VALIDATIONS]:
        stale.unlink(missing_ok=True)
    site = root / "uncommitted" / "data_docs" / "local_site" / "validations"
    pages = sorted(site.rglob("*.html"), key=lambda p: p.stat().st_mtime) if site.is_dir() else []
    for stale in pages[:-KEEP_VALIDATIONS]:
        stale.unlink(missing_ok=True)
