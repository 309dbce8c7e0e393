"""Quality checks on each standardised asset: one Dagster check per rule of the source's suite, per partition.

What a failing rule does decides how its check shows in Dagster's UI:
- a partition rule of error severity **holds the partition back**: the gate keeps it out of `gated/` while the
  run's other partitions go on (Dagster's blocking checks would stop the whole run, good days included);
  `gated/<source>` reports that verdict as its own check. Shown as a failure (severity ERROR).
- a row rule of error severity **quarantines rows**: the gate moves the rows it flags to the quarantine and the
  partition goes on. Shown as a warning (WARN): nothing is held back.
- a rule of warn severity **warns**: nothing moves. Shown as a warning (WARN).
"""

from collections.abc import Iterator

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation

from assets.ingest import partitions_for, source_pool, standardised_key
from assets.partition_checks import (
    PartitionVerdict,
    check_outputs,
    evaluations,
    latest_materializations,
    partitioned_check_spec,
)
from assets.resources import PlantdataResource
from config.sources import SourceConfig
from ingest.manifest import read_manifests
from quality.evaluate import PartitionEvaluation, RuleResult
from quality.gate import evaluate_source, suite_for
from quality.rules import Rule

SAMPLE_LIMIT = 5
HOLDS_BACK = "holds the partition back"
QUARANTINES = "quarantines failing rows"
WARNS = "warns"


def consequence(level: str, severity: str) -> str:
    """What a rule's failure does to the data: the label its check carries in the UI."""
    if severity == "error":
        return HOLDS_BACK if level == "partition" else QUARANTINES
    return WARNS


def check_severity(level: str, severity: str) -> dg.AssetCheckSeverity:
    """Only a rule that holds a partition back fails as an error; the others warn."""
    return dg.AssetCheckSeverity.ERROR if consequence(level, severity) == HOLDS_BACK else dg.AssetCheckSeverity.WARN


def build_quality_checks(source: SourceConfig) -> dg.AssetChecksDefinition:
    key = standardised_key(source.name)
    rules = suite_for(source)
    specs = [
        partitioned_check_spec(
            rule.name,
            key,
            partitions_for(source),
            description=f"[{rule.dimension.value} · {rule.level} rule · {_label(rule)}] {rule.description}",
            metadata={
                "dimension": rule.dimension.value,
                "level": rule.level,
                "severity": rule.severity,
                "on_failure": _label(rule),
            },
        )
        for rule in rules
    ]

    @dg.multi_asset_check(specs=specs, name=f"{source.name}_quality", can_subset=False, pool=source_pool(source))
    def quality_checks(
        context: dg.AssetCheckExecutionContext, plantdata: PlantdataResource
    ) -> Iterator[dg.Output[None] | AssetCheckEvaluation]:
        layout = plantdata.layout()
        manifests = read_manifests(layout, source.name)
        this_run = [m["key"] for m in manifests if m["run_id"] == context.run.run_id]
        keys = this_run or [m["key"] for m in manifests]
        judged = evaluate_source(source, keys, layout, context.run.run_id)
        checks = [dg.AssetCheckKey(key, rule.name) for rule in rules]
        yield from check_outputs(context.op_execution_context.assets_def, checks)
        targets = latest_materializations(context.instance, key, keys)
        for rule, check in zip(rules, checks, strict=True):
            verdicts = [_verdict(e, r) for e in judged for r in e.results if r.name == rule.name]
            yield from evaluations(check, verdicts, check_severity(rule.level, rule.severity), targets)

    return quality_checks


def _label(rule: Rule) -> str:
    return consequence(rule.level, rule.severity)


def _verdict(evaluation: PartitionEvaluation, result: RuleResult) -> PartitionVerdict:
    """One rule on one partition: what it found, in the words of what its failure does."""
    label = consequence(result.level, result.severity)
    found = result.detail or f"{result.unexpected} of {result.evaluated} rows failed"
    if label == QUARANTINES and result.unexpected:  # the gate moves flagged rows, within the allowance too
        description = f"{result.unexpected} of {result.evaluated} rows quarantined; the partition goes on"
    elif result.passed:
        description = None
    elif label == HOLDS_BACK:
        description = f"partition held back: {found}"
    else:
        description = f"warning: {found}"
    return PartitionVerdict(
        evaluation.key,
        passed=result.passed,
        description=description,
        metadata={
            "evaluated": result.evaluated,
            "unexpected": result.unexpected,
            "unexpected_percent": round(result.unexpected_percent, 4),
            "dimension": result.dimension,
            "on_failure": label,
            "sample_failing_rows": dg.MetadataValue.json(result.sample[:SAMPLE_LIMIT]),
        },
    )
