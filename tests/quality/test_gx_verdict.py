"""Great Expectations judges the data: the rows of each partition, the flags of the one-pass evaluation, and the
expectations an engineer declares in the sources file; its verdict decides the gate and it fails closed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from config.layout import Layout
from config.sources import load_sources
from quality.gate import evaluate_source, publish_gated
from tests.conftest import ingest_all

SOURCES = """
sources:
  - name: torque
    kind: table
    system: QMS
    owner: quality
    location: torque/*.csv
    time_column: ts
    timestamp: {{format: '%Y-%m-%d %H:%M:%S', timezone: UTC}}
    schema: {{serial: VARCHAR, ts: TIMESTAMP, torque_nm: DOUBLE}}
    quality:
      expectations:
        - {{type: {kind}, kwargs: {kwargs}, dimension: accuracy}}
"""
BETWEEN = "{column: torque_nm, min_value: 0, max_value: 400}"


def _plant(write: Callable[..., Path], layout: Layout, kind: str, kwargs: str) -> Path:
    good = "serial,ts,torque_nm\n" + "".join(f"S{i},2024-03-30 10:00:{i:02d},{200 + i}\n" for i in range(20))
    bad = "serial,ts,torque_nm\n" + "".join(f"S{i},2024-03-31 10:00:{i:02d},{200 + i}\n" for i in range(19))
    write("torque/a.csv", good)
    write("torque/b.csv", bad + "S19,2024-03-31 10:00:19,4500\n")  # a torque in mN·m: out of range
    path = write("sources.yaml", SOURCES.format(kind=kind, kwargs=kwargs))
    ingest_all(path, layout)
    return path


def test_a_declared_expectation_on_a_table_source_blocks_the_bad_partition(
    write: Callable[..., Path], layout: Layout
) -> None:
    path = _plant(write, layout, "ExpectColumnValuesToBeBetween", BETWEEN)
    source = load_sources(path).get("torque")
    days = ["2024-03-30", "2024-03-31"]
    evaluations = {e.key: e for e in evaluate_source(source, days, layout, "run-7")}
    rule = "gx_column_values_to_be_between_torque_nm"
    good = {r.name: r for r in evaluations["2024-03-30"].results}[rule]
    bad = {r.name: r for r in evaluations["2024-03-31"].results}[rule]
    assert (good.passed, good.evaluated, good.unexpected) == (True, 20, 0)
    assert (bad.passed, bad.evaluated, bad.unexpected) == (False, 20, 1), "GX's counts, not a guess"
    assert bad.sample == [{"value": 4500.0}]
    assert evaluations["2024-03-31"].scores["accuracy"] < evaluations["2024-03-30"].scores["accuracy"] == 100.0
    outcome = publish_gated(source, days, layout)
    assert [p.key for p in outcome.published] == ["2024-03-30"]
    assert outcome.blocked == {"2024-03-31": [rule]}
    assert not (layout.gated("torque") / "day=2024-03-31").exists()


def test_suites_are_saved_readable_and_validations_name_source_partition_and_run(
    write: Callable[..., Path], layout: Layout
) -> None:
    path = _plant(write, layout, "ExpectColumnValuesToBeBetween", BETWEEN)
    evaluate_source(load_sources(path).get("torque"), ["2024-03-30"], layout, "run-8")
    folder = layout.gx() / "expectations"
    suites = {str(p.relative_to(folder)): json.loads(p.read_text()) for p in folder.rglob("*.json")}
    assert {"torque/rows.json", "torque/flags.json", "torque/facts.json"} <= set(suites), "one file per suite"
    declared = [e for e in suites["torque/rows.json"]["expectations"] if e["meta"]["rule"].startswith("gx_")]
    assert declared[0]["type"] == "expect_column_values_to_be_between"
    assert declared[0]["kwargs"]["max_value"] == 400
    names = {
        json.loads(p.read_text())["meta"]["run_id"]["run_name"]
        for p in (layout.gx() / "uncommitted" / "validations").rglob("*.json")
    }
    assert names == {"source=torque__partition=2024-03-30__dagster_run=run-8"}


def test_an_expectation_that_cannot_run_fails_closed(write: Callable[..., Path], layout: Layout) -> None:
    """A declared expectation on a column the source does not have raises in GX: it cannot say the data is good,
    so its rule fails and, being an error, holds the partition back."""
    path = _plant(write, layout, "ExpectColumnValuesToBeBetween", "{column: no_such_column, min_value: 0}")
    source = load_sources(path).get("torque")
    [evaluation] = evaluate_source(source, ["2024-03-30"], layout, "run-9")
    results = {r.name: r for r in evaluation.results}
    assert results["gx_column_values_to_be_between_no_such_column"].passed is False
    assert results["not_empty"].passed is True, "the other rules are still judged"
    assert publish_gated(source, ["2024-03-30"], layout).blocked == {
        "2024-03-30": ["gx_column_values_to_be_between_no_such_column"]
    }


def test_an_unknown_expectation_class_fails_closed(write: Callable[..., Path], layout: Layout) -> None:
    path = _plant(write, layout, "ExpectTheMoonToBeCheese", "{column: torque_nm}")
    source = load_sources(path).get("torque")
    [evaluation] = evaluate_source(source, ["2024-03-30"], layout, "run-10")
    assert {r.name: r.passed for r in evaluation.results}["gx_the_moon_to_be_cheese_torque_nm"] is False
