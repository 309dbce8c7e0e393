"""The code location as Dagster loads it: assets, checks, jobs, sensors, and an in-process run."""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import fsspec
import pytest
from dagster._core.event_api import PartitionKeyFilter

from config.errors import ConfigError
from config.layout import Layout
from pipelines.definitions import build_definitions
from pipelines.run import instance_for, run_all
from tests.conftest import REPO

SOURCES = """
sources:
  - {name: register, kind: asset_register, system: ERP, owner: m, location: reg.csv}
  - name: hist
    kind: historian_long
    system: historian
    owner: process
    location: hist/*.csv
    register: register
    columns: {ts: timestamp}
"""
REGISTER = "node_id,parent_id,level,tag,unit\nP-1,,equipment,,\nMP1,P-1,measurement_point,T1,bar\n"


@pytest.fixture
def plant(write: Callable[..., Path]) -> Path:
    write("reg.csv", REGISTER)
    write(
        "hist/1.csv",
        "timestamp,tag,value\n2024-03-30 10:00:00,T1,1\n2024-03-31 10:00:00,T1,2\n2024-03-31 11:00:00,T9,3\n",
    )
    return write("sources.yaml", SOURCES)


def test_the_demo_code_location_loads() -> None:
    defs = build_definitions(REPO / "demo_plant" / "sources.yaml", Path("/nonexistent"))
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    names = ("asset_register", "historian", "alarms", "production_orders", "inspections", "work_orders")
    projects = ("pump_faults", "work_order_failures", "inspection_review")  # demo_plant/annotation.yaml
    tasks = ("demo_pump_fault_diagnosis", "demo_bearing_rul", "demo_work_order_failure_modes")  # demo_plant/datasets
    assert keys == {f"{layer}/{n}" for n in names for layer in ("standardised", "gated", "catalog")} | {
        f"labels/{p}" for p in projects
    } | {f"task_datasets/{t}" for t in tasks}
    assert graph.get(dg.AssetKey(["task_datasets", "demo_pump_fault_diagnosis"])).parent_keys == {
        dg.AssetKey([layer, n])
        for layer in ("gated", "catalog")
        for n in ("historian", "asset_register", "work_orders", "alarms")
    } | {dg.AssetKey(["labels", "pump_faults"])}
    assert graph.get(dg.AssetKey(["labels", "pump_faults"])).parent_keys == {dg.AssetKey(["catalog", "historian"])}
    historian = dg.AssetKey(["standardised", "historian"])
    checks = {k.name for k in graph.asset_check_keys if k.asset_key == historian}
    assert {
        "rows_balance",
        "schema",
        "duplicate_reading",
        "physical_range",
        "stuck_signal",
        "spike",
        "gap_before",
    } <= checks
    sensors = {s.name for s in defs.sensors or []}
    assert len(sensors) == 15  # per source: new files, publish after gate; per annotation project: updates
    assert {f"labels_{p}_updates" for p in projects} <= sensors
    assert graph.get(dg.AssetKey(["standardised", "historian"])).parent_keys == {
        dg.AssetKey(["standardised", "asset_register"])
    }
    assert graph.get(dg.AssetKey(["gated", "historian"])).parent_keys == {dg.AssetKey(["standardised", "historian"])}


def test_run_all_materialises_every_partition_and_checks_balance(plant: Path, layout: Layout) -> None:
    outcomes = run_all(plant, layout.root)
    assert [(o.source, o.partitions, o.success) for o in outcomes] == [
        ("register", 1, True),
        ("hist", 2, True),
        ("catalog", 2, True),
    ]
    instance = instance_for(layout.root)
    hist = dg.AssetKey(["standardised", "hist"])
    assert instance.get_materialized_partitions(hist) == {"2024-03-30", "2024-03-31"}
    counts = {}  # each partition's materialization carries its own counts (T9 is not in the register)
    for day in ("2024-03-30", "2024-03-31"):
        [record] = instance.fetch_materializations(dg.AssetRecordsFilter(hist, asset_partitions=[day]), limit=1).records
        metadata = record.asset_materialization.metadata if record.asset_materialization else {}
        counts[day] = tuple(metadata[k].value for k in ("rows_in", "rows_out", "rows_quarantined"))
    assert counts == {"2024-03-30": (1, 1, 0), "2024-03-31": (2, 1, 1)}
    balance = dg.AssetCheckKey(hist, "rows_balance")
    for day in ("2024-03-30", "2024-03-31"):
        [evaluation] = instance.event_log_storage.get_asset_check_execution_history(
            balance, limit=1, partition_filter=PartitionKeyFilter(key=day)
        )
        assert evaluation.status.value == "SUCCEEDED", day
    telemetry = (layout.root / "dagster" / "dagster.yaml").read_text()
    assert "enabled: false" in telemetry


def test_an_unreadable_file_is_reported_with_its_cause_and_fix(write: Callable[..., Path], layout: Layout) -> None:
    write("hist/1.csv", "time,tag,value\n2024-03-30 10:00:00,T1,1\n")
    path = write(
        "sources.yaml",
        "sources:\n  - {name: hist, kind: historian_long, system: historian, owner: p, "
        "location: hist/*.csv, partition: file}\n",
    )
    outcomes = run_all(path, layout.root)
    [unreadable] = outcomes[0].problems  # its partition is held back too: said once, with the cause
    assert unreadable.startswith("unreadable file 1.csv: column 'ts' (for 'ts') is not in the header")
    assert "Fix: map it under sources[hist].columns" in unreadable


def _tick(sensor: dg.SensorDefinition, context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Call the sensor as the daemon does, before it adds the requested partitions and launches runs."""
    result = sensor(context)
    if isinstance(result, dg.SkipReason):
        return dg.SensorResult(skip_reason=result, cursor=context.cursor)
    assert isinstance(result, dg.SensorResult)
    return result


def _index(defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
    """Run the indexing job the sensor asked for, as the daemon would."""
    result = defs.resolve_job_def("index_hist").execute_in_process(instance=instance)
    assert result.success


def test_sensor_requests_each_new_partition_once(plant: Path, layout: Layout, write: Callable[..., Path]) -> None:
    defs = build_definitions(plant, layout.root)
    sensor = defs.resolve_sensor_def("hist_new_files")
    instance = instance_for(layout.root)
    resources = {"plantdata": defs.resources["plantdata"]}  # type: ignore[index]
    unknown = _tick(sensor, dg.build_sensor_context(instance=instance, resources=resources, definitions=defs))
    [index_run] = unknown.run_requests or []  # a file the index does not know yet: indexed in a run, not on the tick
    assert index_run.job_name == "index_hist" and index_run.partition_key is None
    assert json.loads(unknown.cursor or "{}") == {}, "its partitions are requested once it is indexed"
    _index(defs, instance)
    first = _tick(sensor, dg.build_sensor_context(instance=instance, resources=resources, definitions=defs))
    assert first.run_requests is not None
    assert sorted(r.partition_key for r in first.run_requests) == ["2024-03-30", "2024-03-31"]
    assert {r.job_name for r in first.run_requests} == {"ingest_hist"}
    again = _tick(sensor, dg.build_sensor_context(instance=instance, resources=resources, definitions=defs))
    assert again.run_requests is not None
    assert sorted(r.run_key for r in again.run_requests) == sorted(r.run_key for r in first.run_requests)
    assert not first.dynamic_partitions_requests, "the indexing run registered the partitions"
    assert instance.get_dynamic_partitions("hist_days") == ["2024-03-30", "2024-03-31"]
    quiet = _tick(
        sensor, dg.build_sensor_context(instance=instance, resources=resources, definitions=defs, cursor=first.cursor)
    )
    assert not quiet.run_requests and quiet.skip_reason is not None
    write("hist/2.csv", "timestamp,tag,value\n2024-04-01 00:00:00,T1,4\n")
    pending = _tick(
        sensor, dg.build_sensor_context(instance=instance, resources=resources, definitions=defs, cursor=first.cursor)
    )
    assert [r.job_name for r in pending.run_requests or []] == ["index_hist"]
    _index(defs, instance)
    later = _tick(
        sensor, dg.build_sensor_context(instance=instance, resources=resources, definitions=defs, cursor=first.cursor)
    )
    assert later.run_requests is not None
    assert [r.partition_key for r in later.run_requests] == ["2024-04-01"]
    assert json.loads(later.cursor or "{}").keys() >= {str(plant.parent / "hist" / "2.csv")}


def test_sensor_decides_from_file_stamps_without_reading_any_file(
    plant: Path, layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tick opens no export file (open, fsspec and DuckDB fail on them), and a file whose content changed behind
    an unchanged size and mtime is not read again: only its listing is looked at."""
    defs = build_definitions(plant, layout.root)
    sensor = defs.resolve_sensor_def("hist_new_files")
    instance = instance_for(layout.root)
    resources = {"plantdata": defs.resources["plantdata"]}  # type: ignore[index]
    exports = str(plant.parent)
    real_open = builtins.open

    def refuse(path: object, *args: object, **kwargs: object) -> object:
        if str(path).startswith(exports) and not str(path).endswith(".yaml"):
            raise AssertionError(f"the sensor opened {path} on a tick")
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    def tick(cursor: str | None) -> dg.SensorResult:
        with monkeypatch.context() as patched:
            patched.setattr(builtins, "open", refuse)
            patched.setattr(fsspec, "open", lambda *a, **k: refuse(a[0]))
            patched.setattr(duckdb, "connect", lambda *a, **k: refuse(exports + "/duckdb"))
            context = dg.build_sensor_context(instance=instance, resources=resources, definitions=defs, cursor=cursor)
            return _tick(sensor, context)

    assert [r.job_name for r in tick(None).run_requests or []] == ["index_hist"]
    _index(defs, instance)
    first = tick(None)
    assert sorted(r.partition_key for r in first.run_requests or []) == ["2024-03-30", "2024-03-31"]
    export = plant.parent / "hist" / "1.csv"
    stamp = export.stat()
    text = export.read_text()
    export.write_text(text.replace("2024-03-31 11:00:00", "2024-04-09 11:00:00"))  # same size, another day
    os.utime(export, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    quiet = tick(first.cursor)
    assert not quiet.run_requests and quiet.skip_reason is not None, "same stamp: not looked at again"
    os.utime(export, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000_000))
    changed = tick(first.cursor)
    assert [r.job_name for r in changed.run_requests or []] == ["index_hist"], "a new stamp: indexed in a run"


def test_publication_follows_each_gating_run(plant: Path, layout: Layout) -> None:
    defs = build_definitions(plant, layout.root)
    sensor = defs.resolve_sensor_def("hist_publish_after_gate")
    instance = instance_for(layout.root)
    quiet = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
    assert not quiet.run_requests, "nothing gated yet"
    [ingest] = [o for o in run_all(plant, layout.root) if o.source == "hist"]
    tick = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
    [request] = tick.run_requests or []
    assert request.asset_selection == [dg.AssetKey(["catalog", "hist"])]
    assert request.run_key == f"hist:publish-after:{ingest.run_id}"
    again = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs, cursor=tick.cursor))
    assert not again.run_requests, "the same gating run is published once"


def test_an_annotation_project_naming_an_unknown_dataset_is_a_config_error(write: Callable[..., Path]) -> None:
    write("reg.csv", REGISTER)
    write("annotation.yaml", "projects: [{name: qi, kind: inspection_review, dataset: inspektions}]\n")
    sources = write("sources.yaml", "annotation: annotation.yaml\n" + SOURCES.lstrip("\n"))
    with pytest.raises(ConfigError, match=r"projects\[qi\]\.dataset.*'inspektions' is not a source"):
        build_definitions(sources, Path("/nonexistent"))
