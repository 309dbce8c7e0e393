"""Materialise every source's assets, for all their partitions, through Dagster in-process; then publish.

Runs execute in this process but belong to the workspace's code location (`pipelines.location`), so Dagster's UI
lists them under their jobs and on the Overview timeline.

A bad export never stops the plant: a file that cannot be read is quarantined whole, a partition that fails
the gate is held back, and every other file, partition and source goes on and is published. What went
wrong is collected per source (`problems`: the run must end non-zero; `warnings`: said loudly, not fatal).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.execution.execution_result import ExecutionResult
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from assets.catalog import catalog_key
from assets.gated import GATE_VERDICT, gated_key
from assets.ingest import partitions_for, standardised_key
from config.kinds import READING_KINDS
from config.layout import Layout
from config.locks import exclusive
from config.sources import SourceConfig, SourcesFile, load_sources
from ingest.manifest import read_manifests
from ingest.runner import discover_source, ordered_sources, retire_stale_partitions
from pipelines.definitions import build_definitions
from pipelines.jobs import PUBLISH_JOB, job_name
from pipelines.ledger import Ledger, privacy_inputs, register_state, work_key
from pipelines.location import execute_in_location
from pipelines.parallel import Parallel, partitions_job_name, standardise_spread
from pipelines.partitions import add_missing_partitions
from pipelines.reclaim import owner_tags, reclaim_dead_runs
from pipelines.settings import dagster_home_of, prepare_dagster_home
from quality import history
from quality.evaluate import quarantine_summary
from quality.gate import suite_for
from quality.published import gated_partitions


@dataclass(frozen=True)
class SourceRun:
    """What one source's run did (`skipped`: nothing changed since the ledger's last record, no Dagster run)."""

    source: str
    partitions: int
    success: bool
    run_id: str | None
    error: str | None
    problems: list[str] = field(default_factory=list)  # each makes the run end non-zero
    warnings: list[str] = field(default_factory=list)
    removed_by_gate: int = 0  # canonical rows the gate quarantined (error-severity row rules) in this run
    unit: str = "rows"  # what a canonical row is: readings for historians (a wide row holds many)
    skipped: bool = False


def instance_for(root: str | Path) -> dg.DagsterInstance:
    """Dagster's instance in the data root. Opened in a turn: the first opening creates the instance's SQLite
    tables, and two runs starting together on a fresh data root would both try ('table runs already exists').

    A data root on object storage has no Dagster home of its own: each machine names its instance (Postgres, a run
    launcher) with DAGSTER_HOME, as every Dagster process does; without one, the working folder's `dagster/`."""
    home = prepare_dagster_home(*dagster_home_of(Layout.at(root)))
    os.environ["DAGSTER_HOME"] = str(home)
    with exclusive(home / ".instance.lock"):
        return dg.DagsterInstance.get()


def run_all(
    sources_file: Path,
    root: str | Path,
    on_source: Callable[[SourceConfig, int], None] | None = None,
    log_level: str = "CRITICAL",
    parallel: Parallel | None = None,
) -> list[SourceRun]:
    """Discover and ingest every source, registers first; a failing source does not stop the others.

    With `parallel`, a source's partitions are standardised side by side through that executor first (one step
    each), then its ingest job runs the checks and the gate over the range, as it would have after standardising
    them itself (pipelines/parallel.py)."""
    sources = load_sources(sources_file)
    layout = Layout.at(root)
    definitions = build_definitions(sources_file, root)
    opened: list[dg.DagsterInstance] = []

    def dagster() -> dg.DagsterInstance:
        """Dagster's instance, opened when first needed (about 2 s: a run with nothing new needs none)."""
        if not opened:
            opened.append(instance_for(root))
            reclaim_dead_runs(opened[0])
        return opened[0]

    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    ledger = Ledger(layout)
    ran = 0
    outcomes = []
    for source in ordered_sources(sources):
        discovery = discover_source(sources, source, layout)
        keys = discovery.partitions
        if on_source:
            on_source(source, len(keys))
        if not keys:
            outcomes.append(_nothing_to_ingest(sources, source, len(discovery.files)))
            continue
        partitions_name = partitions_for(source).name or ""
        for stale in retire_stale_partitions(layout, discovery):
            dagster().delete_dynamic_partition(partitions_name, stale)
        unit = "readings" if source.kind in READING_KINDS else "rows"
        register = register_state(layout, source)
        works = {key: work_key(source, discovery, key, register) for key in keys}
        ledger.forget_missing(source.name, keys)
        outdated = ledger.outdated(source.name, works)
        if not outdated:
            # nothing changed (every partition was run, so Dagster knows them): say what still stands, do no work
            problems, warnings = _standing_findings(source, layout)
            outcomes.append(SourceRun(source.name, len(keys), True, None, None, problems, warnings, 0, unit, True))
            continue
        instance = dagster()
        add_missing_partitions(instance, source, keys)
        known = instance.get_dynamic_partitions(partitions_name)
        todo = [key for key in known if key in outdated]
        ran += 1
        first, last = known.index(todo[0]), known.index(todo[-1])  # the run covers a range: from the first to the last
        job = definitions.resolve_job_def(job_name(source))
        tags = {
            ASSET_PARTITION_RANGE_START_TAG: known[first],
            ASSET_PARTITION_RANGE_END_TAG: known[last],
            **owner_tags(),
        }
        standardised_by = None
        if parallel is not None:
            span = list(known[first : last + 1])
            standardised_by, failed = _standardise_elsewhere(
                definitions, source, span, instance, parallel, (sources_file, root), run_config, tags
            )
            if failed is not None:
                outcomes.append(SourceRun(source.name, len(known), False, standardised_by, failed, unit=unit))
                continue
        result = execute_in_location(
            job,
            instance,
            tags=tags,
            run_config=run_config,
            asset_selection=[gated_key(source.name)] if parallel is not None else None,
            asset_check_selection=_checks_of(definitions, gated_key(source.name)) if parallel is not None else None,
        )
        if result.success:  # a failed step (a gated write, say) leaves its partitions to the next run
            for key in known[first : last + 1]:
                if key in works:
                    ledger.record(source.name, key, works[key])
            ledger.save()
        error = None if result.success else _first_error(result)
        problems, warnings = _findings(source, layout, result, standardised_by)
        if len(todo) < len(known):  # partitions left alone keep what they had
            standing, standing_warnings = _standing_findings(source, layout, exclude=set(known[first : last + 1]))
            problems, warnings = problems + standing, warnings + standing_warnings
        removed = _removed_by_gate(result)
        outcomes.append(
            SourceRun(source.name, len(known), result.success, result.run_id, error, problems, warnings, removed, unit)
        )
    # publish whatever passed the gate: gated/ holds only partitions that passed, whatever else failed
    published = [s for s in ordered_sources(sources) if gated_partitions(layout, s.name)]
    if published:
        inputs = ledger.publish_inputs(sources, [s.name for s in published], privacy_inputs(sources, layout))
        if not ran and ledger.published(inputs):
            outcomes.append(SourceRun("catalog", len(published), True, None, None, skipped=True))
            return outcomes
        publish = definitions.resolve_job_def(PUBLISH_JOB)
        result = execute_in_location(
            publish,
            dagster(),
            tags=owner_tags(),
            run_config=run_config,
            asset_selection=[catalog_key(s.name) for s in published],
        )
        error = None if result.success else _first_error(result)
        if result.success:
            ledger.record_published(inputs)
            ledger.save()
        outcomes.append(SourceRun("catalog", len(published), result.success, result.run_id, error))
    return outcomes


def _manifest_findings(source: SourceConfig, manifests: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Unreadable export files (problems) and partitions mostly quarantined (warnings), from their manifests."""
    problems: list[str] = []
    warnings: list[str] = []
    for manifest in manifests:
        for unreadable in manifest.get("unreadable", []):
            problems.append(f"unreadable file {unreadable['file']}: {unreadable['cause']}")
        share = manifest["rows_quarantined"] / manifest["rows_in"] if manifest["rows_in"] else 0.0
        if share > source.quality.quarantine_alert_share and not manifest.get("unreadable"):
            summary = quarantine_summary(
                manifest["rows_in"],
                manifest["rows_quarantined"],
                manifest.get("top_rule"),
                manifest.get("example", {}),
                source.quality.quarantine_alert_share,
            )
            warnings.append(f"partition {manifest['key']}: {summary}")
    return problems, warnings


def _standing_findings(
    source: SourceConfig, layout: Layout, exclude: set[str] | None = None
) -> tuple[list[str], list[str]]:
    """What still holds for partitions that did not run: unreadable files, partitions mostly quarantined, and
    partitions the gate's newest evaluation holds back."""
    skip = exclude or set()
    manifests = {m["key"]: m for m in read_manifests(layout, source.name) if m["key"] not in skip}
    problems, warnings = _manifest_findings(source, list(manifests.values()))
    meaning = {rule.name: rule.description for rule in suite_for(source)}
    for evaluation in history.latest(layout, source.name):
        held = manifests.get(evaluation.key)
        if held is None or held.get("unreadable") or evaluation.content != held.get("content"):
            continue
        rules = sorted({r.name for r in evaluation.blocking_failures})
        if rules:
            why = "; ".join(f"{rule} ({meaning.get(rule, 'see quality report')})" for rule in rules)
            problems.append(f"partition {evaluation.key} held back by the gate: {why}")
    return problems, warnings


def _nothing_to_ingest(sources: SourcesFile, source: SourceConfig, files: int) -> SourceRun:
    location = sources.resolve_location(source)
    if files == 0:
        problem = f"nothing found: no file matches {location}; check the location (and ${{PLANTDATA_HOME}})"
    else:
        problem = f"{files} file(s) match {location} but hold no rows (header only?)"
    return SourceRun(source.name, 0, files > 0, None, None, [] if files else [problem], [problem] if files else [])


def _standardise_elsewhere(
    definitions: dg.Definitions,
    source: SourceConfig,
    keys: list[str],
    instance: dg.DagsterInstance,
    parallel: Parallel,
    where: tuple[Path, str | Path],
    run_config: dict[str, Any],
    tags: dict[str, str],
) -> tuple[str, str | None]:
    """Standardise `keys` side by side through the parallel executor, then recount and judge them (the
    standardised asset's checks) in a run of their own: what a whole ingest run does before its gate. Returns the
    standardising run's id, and the first error when either run failed (the gate must not run then)."""
    sources_file, root = where
    spread = standardise_spread(
        partitions_job_name(source), keys, instance, parallel, sources_file, root, run_config, owner_tags()
    )
    if not spread.success:
        return spread.run_id, _first_error(spread)
    job = definitions.resolve_job_def(job_name(source))
    checked = execute_in_location(
        job, instance, tags, run_config, [], _checks_of(definitions, standardised_key(source.name))
    )
    return spread.run_id, None if checked.success else _first_error(checked)


def _checks_of(definitions: dg.Definitions, asset: dg.AssetKey) -> list[dg.AssetCheckKey]:
    """The checks of one asset. With partitions standardised elsewhere (`--parallel`), the standardised asset's
    checks (the blocking recount, the quality rules) run in a run of their own before the gate's, in the order a
    whole ingest run gives them."""
    checks = definitions.resolve_asset_graph().asset_check_keys
    return sorted((k for k in checks if k.asset_key == asset), key=lambda k: k.to_user_string())


def _findings(
    source: SourceConfig, layout: Layout, result: ExecutionResult, standardised_by: str | None = None
) -> tuple[list[str], list[str]]:
    """Problems (unreadable files, partitions the gate held back) and warnings (partitions mostly quarantined);
    the manifests are those of the run that standardised (`standardised_by`, when not the gate's own)."""
    this_run = [m for m in read_manifests(layout, source.name) if m["run_id"] == (standardised_by or result.run_id)]
    explained = {m["key"] for m in this_run if m.get("unreadable")}  # held back because of the file named
    meaning = {rule.name: rule.description for rule in suite_for(source)}
    problems, warnings = _manifest_findings(source, this_run)
    held: dict[str, list[str]] = {}
    for evaluation in result.get_asset_check_evaluations():  # one per partition the run gated
        key = evaluation.partition
        if evaluation.check_name == GATE_VERDICT and not evaluation.passed and key and key not in explained:
            listed = evaluation.metadata.get("held_back_by")
            value = listed.value if isinstance(listed, dg.JsonMetadataValue) else None
            held[key] = [str(rule) for rule in value] if isinstance(value, list) else []
    for key, rules in sorted(held.items()):
        why = "; ".join(f"{rule} ({meaning.get(rule, 'see quality report')})" for rule in rules)
        problems.append(f"partition {key} held back by the gate: {why or 'see the Dagster run'}")
    return problems, warnings


def _removed_by_gate(result: ExecutionResult) -> int:
    """Rows the gate quarantined in this run: the sum over the gated partitions' materializations."""
    removed = 0
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key.path[0] == "gated":
            count = materialization.metadata.get("rows_quarantined_by_gate")
            removed += int(count.value) if isinstance(count, dg.IntMetadataValue) and count.value else 0
    return removed


def _first_error(result: ExecutionResult | dg.JobExecutionResult) -> str:
    """The user-facing cause of a failed run: the error of its first failed step."""
    for event in result.get_step_failure_events():
        failure = event.step_failure_data.error
        if failure is not None:
            cause = failure
            while cause.cause is not None and cause.cls_name in {"DagsterExecutionStepExecutionError"}:
                cause = cause.cause
            return f"{cause.cls_name}: {cause.message.strip()}"
    return "the run failed; see the Dagster run log"
