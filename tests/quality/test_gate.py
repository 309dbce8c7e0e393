"""The quality gate on small, hand-made partitions: each rule catches what it is meant for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from config.layout import Layout
from config.sources import load_sources
from pipelines.run import instance_for, run_all
from quality import history
from quality.dimensions import dimension_scores, grade
from quality.gate import evaluate_source, publish_gated
from quality.published import gate_quarantine_files
from quality.report import source_report
from tests.conftest import HISTORIAN_SOURCES, ingest_all, read_output

REGISTER = """
node_id,parent_id,level,name,equipment_type,tag,unit,low_limit,high_limit,safety_related
P-1,,equipment,Pump,pump,,,,,false
MP1,P-1,measurement_point,Flow,,T1,m3/h,0,100,false
MP2,P-1,measurement_point,Speed,,T2,rpm,0,3000,false
"""
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
    quality: {stuck_after_s: 60, spike_sigma: 6}
"""


def _historian_csv() -> str:
    lines = ["timestamp,tag,value,quality"]
    for second in range(0, 600, 10):  # T1 wobbles around 50, with one spike and one duplicate
        value = 50 + (second % 30) / 10
        if second == 300:
            value = 95.0  # a spike inside the limits
        lines.append(f"2024-03-30 10:{second // 60:02d}:{second % 60:02d},T1,{value},192")
        if second == 120:
            lines.append(lines[-1])  # exact duplicate
    lines.append("2024-03-30 11:00:00,T1,150.0,192")  # outside 0-100
    for second in range(0, 300, 10):  # T2 stuck at 1480 for 5 min
        lines.append(f"2024-03-30 10:{second // 60:02d}:{second % 60:02d},T2,1480.0,Bad")
    lines.append("2099-01-01 00:00:00,T2,1500.0,192")  # in the future
    return "\n".join(lines) + "\n"


@pytest.fixture
def plant(write: Callable[..., Path], layout: Layout) -> Path:
    write("reg.csv", REGISTER)
    write("hist/h.csv", _historian_csv())
    path = write("sources.yaml", SOURCES)
    ingest_all(path, layout)
    return path


def _results(plant: Path, layout: Layout) -> dict[str, tuple[int, int, bool]]:
    source = load_sources(plant).get("hist")
    evaluations = evaluate_source(source, ["2024-03-30"], layout, "run-1")
    return {r.name: (r.evaluated, r.unexpected, r.passed) for r in evaluations[0].results}


def test_each_reading_rule_catches_its_defect(plant: Path, layout: Layout) -> None:
    results = _results(plant, layout)
    rows = 60 + 1 + 1 + 30  # T1 samples + duplicate + out of range + T2 samples (future row is 2099's partition)
    assert results["duplicate_reading"] == (rows, 1, False)
    assert results["physical_range"] == (rows, 1, False)
    assert results["spike"][1] == 1
    assert results["stuck_signal"][1] == 24  # readings at 60 s..290 s, once unchanged for stuck_after_s=60
    assert results["quality_code"][1] == 30  # T2 is exported with quality "Bad": class bad is not accepted
    assert results["schema"] == (8, 0, True)
    assert results["not_empty"] == (1, 0, True)
    assert results["readable"] == (1, 0, True)
    assert results["finite_value"][1] == 0
    future = evaluate_source(load_sources(plant).get("hist"), ["2099-01-01"], layout, "run-2")[0]
    assert {r.name: r.unexpected for r in future.results}["future_timestamp"] == 1


def test_gate_moves_error_rows_to_quarantine_and_keeps_balance(plant: Path, layout: Layout) -> None:
    source = load_sources(plant).get("hist")
    evaluate_source(source, ["2024-03-30"], layout, "run-1")
    [published] = publish_gated(source, ["2024-03-30"], layout).published
    assert (published.rows_standardised, published.rows_gated, published.rows_quarantined) == (92, 90, 2)
    gate_rows = duckdb.execute(
        "SELECT rule, raw, source_file, line FROM read_parquet(?) ORDER BY rule",
        [[str(f) for f in gate_quarantine_files(layout, "hist", "day", "2024-03-30")]],
    ).fetchall()
    assert [r[0] for r in gate_rows] == ["duplicate_reading", "physical_range"]
    assert '"value":150.0' in gate_rows[1][1]
    assert [(r[2], r[3]) for r in gate_rows] == [("h.csv", 15), ("h.csv", 63)], "rows keep their file and line"
    gated = duckdb.execute("SELECT tag, ts, value FROM read_parquet(?)", [published.path]).fetchall()
    standardised = duckdb.execute(
        "SELECT tag, ts, value FROM read_parquet(?, filename = true) ORDER BY filename, file_row_number",
        [sorted(str(p) for p in (layout.root / "standardised" / "hist" / "day=2024-03-30").glob("*.parquet"))],
    ).fetchall()
    kept = iter(standardised)
    assert all(row in kept for row in gated), "gated keeps the standardised order (no sort: same files, same bytes)"
    assert len(standardised) - len(gated) == 2
    assert len({(t, ts) for t, ts, _ in gated}) == len(gated), "no duplicate readings remain"


def test_scores_grades_and_history(plant: Path, layout: Layout) -> None:
    source = load_sources(plant).get("hist")
    first = evaluate_source(source, ["2024-03-30"], layout, "run-1")[0]
    evaluate_source(source, ["2024-03-30"], layout, "run-2")
    # consistency: unit_consistency judges every tag against the register's unit (row_count_bounds has no history)
    assert set(first.scores) == {"conformity", "completeness", "accuracy", "timeliness", "accessibility", "consistency"}
    assert first.scores["accuracy"] < 100.0
    assert first.grade == grade(first.overall)
    assert [e.run_id for e in history.runs(layout, "hist", "2024-03-30")] == ["run-1", "run-2"]
    report = source_report(layout, "hist", "day")
    assert {p["partition"] for p in report["partitions"]} == {"2024-03-30"}
    failed = {f["rule"] for f in report["partitions"][0]["failed"]}
    assert {"duplicate_reading", "physical_range", "stuck_signal"} <= failed
    assert (layout.gx() / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()


def test_dimension_arithmetic_and_grade_thresholds() -> None:
    from quality.dimensions import Dimension, overall

    scores = dimension_scores([(Dimension.ACCURACY, 1.0), (Dimension.ACCURACY, 0.5), (Dimension.TIMELINESS, 0.9)])
    assert scores == {"accuracy": 50.0, "timeliness": 90.0}, "a dimension is the product of its rules' scores"
    assert dimension_scores([(Dimension.ACCURACY, 1.0), (Dimension.ACCURACY, 0.0)]) == {"accuracy": 0.0}
    assert overall({"accuracy": 50.0, "timeliness": 90.0}) == 60.0, "(mean 70 + weakest 50) / 2"
    five_perfect = {d.value: 100.0 for d in Dimension if d is not Dimension.COMPLETENESS}
    assert overall({**five_perfect, "completeness": 0.0}) < 70, "one dimension at 0 is grade D, not B (a mean: 83)"
    assert [grade(s) for s in (100, 95, 94.99, 85, 70, 69.9)] == ["A", "A", "B", "B", "C", "D"]


def _stale_plant(write: Callable[..., Path]) -> Path:
    """One reading from 2024 and a freshness rule of one hour: the blocking rule must fail."""
    write("hist/h.csv", "timestamp,tag,value\n2024-03-30 10:00:00,T1,1\n")
    return write("sources.yaml", HISTORIAN_SOURCES + "    quality: {freshness_hours: 1}\n")


def test_a_partition_rule_failure_blocks_publication(write: Callable[..., Path], layout: Layout) -> None:
    path = _stale_plant(write)
    ingest_all(path, layout)
    source = load_sources(path).get("hist")
    [evaluation] = evaluate_source(source, ["2024-03-30"], layout, "run-1")
    assert [r.name for r in evaluation.blocking_failures] == ["freshness"]
    outcome = publish_gated(source, ["2024-03-30"], layout)
    assert outcome.blocked == {"2024-03-30": ["freshness"]} and not outcome.published
    assert not (layout.gated("hist") / "day=2024-03-30").exists()


def test_in_dagster_a_blocked_partition_is_held_back_and_the_run_says_so(
    write: Callable[..., Path], layout: Layout
) -> None:
    path = _stale_plant(write)
    outcomes = run_all(path, layout.root)
    instance = instance_for(layout.root)
    standardised, gated = dg.AssetKey(["standardised", "hist"]), dg.AssetKey(["gated", "hist"])
    assert instance.get_materialized_partitions(standardised) == {"2024-03-30"}
    assert not (layout.gated("hist") / "day=2024-03-30").exists(), "the blocked day is not in gated/"
    for check in (dg.AssetCheckKey(standardised, "freshness"), dg.AssetCheckKey(gated, "gate_verdict")):
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key([check])[check]
        assert record.status.value == "FAILED", check
    [hist, *_] = outcomes
    assert hist.problems == [
        "partition 2024-03-30 held back by the gate: freshness (the newest row is at most 1.0 h old)"
    ]


def test_gate_passes_clean_data_through_dagster(plant: Path, layout: Layout) -> None:
    outcomes = run_all(plant, layout.root)
    assert all(o.success for o in outcomes)
    assert len(read_output(layout, "hist")) == 93
    gated = sorted(str(p) for p in layout.gated("hist").rglob("*.parquet"))
    found = duckdb.execute("SELECT count(*) FROM read_parquet(?)", [gated]).fetchone()
    assert (
        found is not None and found[0] == 90
    )  # 93 standardised minus the duplicate, the out-of-range value and the future row


def test_failing_row_samples_withhold_text_that_may_name_people(write: Callable[..., Path], layout: Layout) -> None:
    write("reg.csv", REGISTER)
    order = '{"wo_id": "WO-1", "equipment_id": "P-9", "ts": "2024-03-30 10:00:00", "technician": "Jonas Weber", '
    write("wo/1.jsonl", order + '"description": "Called Jonas Weber, +49 171 5550142"}\n')
    path = write(
        "sources.yaml",
        """
        sources:
          - {name: register, kind: asset_register, system: ERP, owner: m, location: reg.csv}
          - {name: orders, kind: work_orders, system: CMMS, owner: m, location: wo/*.jsonl, format: jsonl,
             register: register}
        """,
    )
    ingest_all(path, layout)
    [evaluation] = evaluate_source(load_sources(path).get("orders"), ["2024-03-30"], layout, "run-1")
    [unknown] = [r for r in evaluation.results if r.name == "equipment_in_register"]
    [sample] = unknown.sample
    assert (sample["wo_id"], sample["equipment_id"]) == ("WO-1", "P-9"), "codes stay visible for debugging"
    assert sample["technician"] == sample["description"] == "<withheld: may hold personal data>"
    kept = "\n".join(p.read_text(encoding="utf-8") for p in layout.quality("orders").rglob("*.json"))
    assert "Jonas Weber" not in kept and "5550142" not in kept


def test_the_gate_publishes_only_the_content_it_judged(plant: Path, layout: Layout) -> None:
    """Standardising again after the checks ran (a retry, a concurrent run) changes what `gated` would publish:
    the evaluation is bound to the files it judged, so publication is refused until the checks run again."""
    from ingest.runner import ingest_partitions
    from quality.errors import StaleEvaluationError

    sources = load_sources(plant)
    source = sources.get("hist")
    evaluate_source(source, ["2024-03-30"], layout, "run-1")
    ingest_partitions(sources, source, ["2024-03-30"], layout, "run-2")
    with pytest.raises(StaleEvaluationError, match="changed since its quality checks ran"):
        publish_gated(source, ["2024-03-30"], layout)
    evaluate_source(source, ["2024-03-30"], layout, "run-3")
    assert publish_gated(source, ["2024-03-30"], layout).published


def test_freshness_is_judged_on_the_newest_partition_and_never_deletes_gated_data(
    write: Callable[..., Path], layout: Layout
) -> None:
    write("hist/h.csv", "timestamp,tag,value\n2024-03-29 10:00:00,T1,1\n2024-03-30 10:00:00,T1,2\n")
    plain = write("sources.yaml", HISTORIAN_SOURCES)
    ingest_all(plain, layout)
    source = load_sources(plain).get("hist")
    evaluate_source(source, ["2024-03-29", "2024-03-30"], layout, "run-1")
    publish_gated(source, ["2024-03-29", "2024-03-30"], layout)
    gated = sorted(p.name for p in layout.gated("hist").iterdir())
    stale = load_sources(write("sources.yaml", HISTORIAN_SOURCES + "    quality: {freshness_hours: 1}\n")).get("hist")
    # re-running the old day alone: freshness is not about it
    [old] = evaluate_source(stale, ["2024-03-29"], layout, "run-2")
    assert not old.blocking_failures
    assert publish_gated(stale, ["2024-03-29"], layout).published
    # the newest day is stale: held back, but the data gated before stays
    [newest] = evaluate_source(stale, ["2024-03-30"], layout, "run-3")
    assert [r.name for r in newest.blocking_failures] == ["freshness"]
    assert publish_gated(stale, ["2024-03-30"], layout).blocked == {"2024-03-30": ["freshness"]}
    assert sorted(p.name for p in layout.gated("hist").iterdir()) == gated


def _gate_in_a_process_of_its_own(sources: str, root: str, keys: list[str]) -> list[str]:
    """What GX could not judge in a gate run of another process."""
    source = load_sources(Path(sources)).get("hist")
    evaluations = evaluate_source(source, keys, Layout(Path(root)), "second-process")
    return [r.detail for e in evaluations for r in e.results if "could not judge" in (r.detail or "")]


def test_a_process_that_judged_once_does_not_keep_other_processes_from_the_gx_project(
    plant: Path, layout: Layout
) -> None:
    """GX keeps its DuckDB connection for the life of the process: each judge run has a DuckDB file of its own and
    removes it, so a later gate in another process, given the project's turn, can open its own."""
    import multiprocessing

    keys = ["2024-03-30"]
    assert _gate_in_a_process_of_its_own(str(plant), str(layout.root), keys) == []
    assert not list((layout.gx() / "uncommitted").glob("plantdata-gate*")), "the run's DuckDB file is removed"
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_gate_in_a_process_of_its_own, (str(plant), str(layout.root), keys)) == []
