"""Quality checks on each standardised asset: one Dagster check per rule of the source's suite.

Error-severity partition rules block the partition that fails them: the gate holds it back from `gated/`
while the run's other partitions go on (Dagster's blocking checks would stop the whole run, good days
included); `gated/<source>` reports that verdict as its own check. Row rules never block: the gate
quarantines the rows they flag and the partition goes on.
"""

import dagster as dg

from assets.ingest import source_pool, standardised_key
from assets.resources import PlantdataResource
from config.sources import SourceConfig
from ingest.manifest import read_manifests
from quality.evaluate import PartitionEvaluation, RuleResult
from quality.gate import evaluate_source, suite_for

SAMPLE_LIMIT = 5


def build_quality_checks(source: SourceConfig) -> dg.AssetChecksDefinition:
    key = standardised_key(source.name)
    rules = suite_for(source)
    specs = [
        dg.AssetCheckSpec(
            name=rule.name,
            asset=key,
            blocking=False,  # the gate blocks per partition (see gated/<source>'s gate_verdict), not per run
            description=f"[{rule.dimension.value} · {rule.level} · {rule.severity}] {rule.description}",
        )
        for rule in rules
    ]

    @dg.multi_asset_check(specs=specs, name=f"{source.name}_quality", can_subset=False, pool=source_pool(source))
    def quality_checks(context: dg.AssetCheckExecutionContext, plantdata: PlantdataResource):  # type: ignore[no-untyped-def]
        layout = plantdata.layout()
        manifests = read_manifests(layout, source.name)
        this_run = [m["key"] for m in manifests if m["run_id"] == context.run.run_id]
        keys = this_run or [m["key"] for m in manifests]
        evaluations = evaluate_source(source, keys, layout, context.run.run_id)
        for rule in rules:
            yield _check_result(key, rule.name, evaluations)

    return quality_checks


def _check_result(asset: dg.AssetKey, name: str, evaluations: list[PartitionEvaluation]) -> dg.AssetCheckResult:
    found: list[tuple[str, RuleResult]] = [(e.key, r) for e in evaluations for r in e.results if r.name == name]
    failed = [(key, r) for key, r in found if not r.passed]
    blocking = any(r.severity == "error" and r.level == "partition" for _, r in found)
    sample = [dict(row, partition=key) for key, r in failed for row in r.sample][:SAMPLE_LIMIT]
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=name,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(failed)} of {len(found)} partition(s) failed: "
            + "; ".join(f"{key}: {r.detail or f'{r.unexpected} of {r.evaluated}'}" for key, r in failed[:5])
            if failed
            else None
        ),
        metadata={
            "partitions": len(found),
            "failed_partitions": dg.MetadataValue.json([key for key, _ in failed]),
            "evaluated": sum(r.evaluated for _, r in found),
            "unexpected": sum(r.unexpected for _, r in found),
            "dimension": found[0][1].dimension if found else "",
            "sample_failing_rows": dg.MetadataValue.json(sample),
        },
    )
