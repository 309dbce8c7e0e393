"""Asset checks on standardised sources: nothing lost between the export files and the Parquet, per partition."""

import warnings
from collections.abc import Iterator

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation

from assets.ingest import partitions_for, standardised_key
from assets.partition_checks import PartitionVerdict, check_outputs, evaluations, latest_materializations
from assets.resources import PlantdataResource
from config.sources import SourceConfig, SourcesFile
from ingest.manifest import manifest_keys
from ingest.runner import discover_source
from ingest.verify import recount

ROWS_BALANCE = "rows_balance"


def build_rows_balance_check(sources: SourcesFile, source: SourceConfig) -> dg.AssetChecksDefinition:
    key = standardised_key(source.name)
    check = dg.AssetCheckKey(key, ROWS_BALANCE)
    with warnings.catch_warnings():  # partitioned checks are a preview in Dagster 1.13
        warnings.simplefilter("ignore", dg.PreviewWarning)

        @dg.asset_check(  # type: ignore[arg-type]  # a generator of evaluations per partition: Dagster accepts it
            asset=key,
            name=ROWS_BALANCE,
            blocking=True,
            partitions_def=partitions_for(source),
            description="For every materialised partition, rows in the export files (counted from the raw text) "
            "equal rows in the published Parquet plus rows in the quarantine, recounted from disk, and every text "
            "file's rows add up to its raw line count. A partition that does not add up stops the run before the gate.",
        )
        def rows_balance(
            context: dg.AssetCheckExecutionContext, plantdata: PlantdataResource
        ) -> Iterator[dg.Output[None] | AssetCheckEvaluation]:
            layout = plantdata.layout()
            discovery = discover_source(sources, source, layout)
            published = sorted(manifest_keys(layout, source.name))
            balances = [recount(source, discovery.files, k, layout) for k in published]
            verdicts = [
                PartitionVerdict(
                    b.key,
                    passed=b.ok,
                    description=None
                    if b.ok
                    else f"{b.rows_in} rows in the export files, {b.rows_out} published + {b.rows_quarantined} "
                    "quarantined"
                    + (
                        f"; not matching their raw line count: {', '.join(b.unbalanced_files)}"
                        if b.unbalanced_files
                        else ""
                    ),
                    metadata={"rows_in": b.rows_in, "rows_out": b.rows_out, "rows_quarantined": b.rows_quarantined},
                )
                for b in balances
            ]
            if not verdicts:  # nothing to recount: fail closed on the run's partitions
                verdicts = [
                    PartitionVerdict(k, passed=False, description="no partition has been published yet")
                    for k in _run_partitions(context)
                ]
            yield from check_outputs(context.op_execution_context.assets_def, [check])
            targets = latest_materializations(context.instance, key, [v.partition for v in verdicts])
            yield from evaluations(check, verdicts, dg.AssetCheckSeverity.ERROR, targets, blocking=True)

    return rows_balance


def _run_partitions(context: dg.AssetCheckExecutionContext) -> list[str]:
    op = context.op_execution_context
    return list(op.partition_keys) if op.has_partition_key_range or op.has_partition_key else []
