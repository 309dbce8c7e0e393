"""Runs of `plantdata run` belong to the code location workspace.yaml loads, and carry per-partition results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.workspace.load import location_origins_from_yaml_paths

from config.layout import Layout
from pipelines.location import LOCATION_NAME, location_origin, remote_job_origin
from pipelines.run import instance_for, run_all
from tests.conftest import HISTORIAN_SOURCES, REPO

# the first day is clean; the second has a duplicate reading (a row rule of error severity: its rows are
# quarantined, the day goes on); a freshness rule of one hour holds back the newest day only
READINGS = (
    "timestamp,tag,value\n2024-03-30 10:00:00,T1,1\n2024-03-30 11:00:00,T1,2\n"
    "2024-03-31 10:00:00,T1,1\n2024-03-31 10:00:00,T1,1\n2024-03-31 11:00:00,T1,3\n"
)


def test_the_location_is_the_one_workspace_yaml_loads() -> None:
    [loaded] = location_origins_from_yaml_paths([str(REPO / "workspace.yaml")])
    ours = location_origin()
    assert loaded.location_name == ours.location_name == LOCATION_NAME
    target, expected = loaded.loadable_target_origin, ours.loadable_target_origin
    assert (target.module_name, target.attribute) == (expected.module_name, expected.attribute)
    assert (REPO / str(target.working_directory)).resolve() == Path(str(expected.working_directory))


def _partition_checks(instance: dg.DagsterInstance, check: dg.AssetCheckKey, days: list[str]) -> dict[str, str]:
    statuses = {}
    for day in days:
        [record] = instance.event_log_storage.get_asset_check_execution_history(
            check, limit=1, partition_filter=PartitionKeyFilter(key=day)
        )
        statuses[day] = record.status.value
    return statuses


def test_runs_have_the_location_origin_and_per_partition_materializations_and_checks(
    write: Callable[..., Path], layout: Layout
) -> None:
    write("hist/1.csv", READINGS)
    sources = write("sources.yaml", HISTORIAN_SOURCES + "    quality: {freshness_hours: 1}\n")
    [hist, catalog] = run_all(sources, layout.root)
    freshness = "freshness (the newest row is at most 1.0 h old)"
    assert hist.problems == [f"partition 2024-03-31 held back by the gate: {freshness}"]
    instance = instance_for(layout.root)
    for outcome, job in ((hist, "ingest_hist"), (catalog, "publish_catalog")):
        run = instance.get_run_by_id(str(outcome.run_id))
        assert run is not None and run.remote_job_origin == remote_job_origin(job)
        assert run.job_code_origin is not None and run.job_code_origin.job_name == job
        label = {".dagster/repository": f"__repository__@{LOCATION_NAME}"}  # how the UI asks for a job's runs
        assert instance.get_run_ids(dg.RunsFilter(job_name=job, tags=label)) == [outcome.run_id]
    assert instance.get_run_by_id(str(hist.run_id)).tags["dagster/asset_partition_range_end"] == "2024-03-31"  # type: ignore[union-attr]

    days = ["2024-03-30", "2024-03-31"]
    standardised, gated = dg.AssetKey(["standardised", "hist"]), dg.AssetKey(["gated", "hist"])

    def metadata(asset: dg.AssetKey, day: str) -> dict[str, object]:
        filtered = dg.AssetRecordsFilter(asset, asset_partitions=[day])
        [record] = instance.fetch_materializations(filtered, limit=1).records
        assert record.run_id == hist.run_id and record.asset_materialization is not None
        return {k: v.value for k, v in record.asset_materialization.metadata.items()}

    assert [metadata(standardised, d)["rows_in"] for d in days] == [2, 3]  # not the run's 5, each its own
    assert [metadata(standardised, d)["rows_out"] for d in days] == [2, 3]
    first = metadata(gated, days[0])
    assert (first["published"], first["dagster/row_count"], first["rows_quarantined_by_gate"]) == (True, 2, 0)
    held = metadata(gated, days[1])
    assert held["published"] is False and held["held_back_by"] == ["freshness"]

    checks = {
        (gated, "gate_verdict"): {"2024-03-30": "SUCCEEDED", "2024-03-31": "FAILED"},
        (standardised, "freshness"): {"2024-03-30": "SUCCEEDED", "2024-03-31": "FAILED"},
        (standardised, "duplicate_reading"): {"2024-03-30": "SUCCEEDED", "2024-03-31": "FAILED"},
        (standardised, "rows_balance"): {"2024-03-30": "SUCCEEDED", "2024-03-31": "SUCCEEDED"},
    }
    for (asset, name), expected in checks.items():
        assert _partition_checks(instance, dg.AssetCheckKey(asset, name), days) == expected, name
    severities = {}
    for name in ("freshness", "duplicate_reading"):
        [record] = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(standardised, name), limit=1, partition_filter=PartitionKeyFilter(key=days[1])
        )
        assert record.event is not None and record.event.dagster_event is not None
        evaluation = record.event.dagster_event.event_specific_data
        severities[name] = (evaluation.severity, evaluation.description)  # type: ignore[union-attr]
    assert severities["freshness"][0] == dg.AssetCheckSeverity.ERROR
    assert severities["freshness"][1].startswith("partition held back: ")
    assert severities["duplicate_reading"] == (
        dg.AssetCheckSeverity.WARN,  # a row rule quarantines rows: the UI shows a warning, not a blocking error
        "1 of 3 rows quarantined; the partition goes on",
    )
    every_check = [dg.AssetCheckKey(asset, name) for asset, name in checks]
    infos = instance.event_log_storage.get_asset_check_partition_info(every_check)
    assert {(i.check_key.name, i.partition_key) for i in infos} == {(c.name, d) for c in every_check for d in days}
    assert all(i.is_current for i in infos), "each partition's check judges that partition's latest materialization"
    removed = first["rows_quarantined_by_gate"]
    assert hist.removed_by_gate == removed == 0  # the held-back day's duplicate never reached gated/
