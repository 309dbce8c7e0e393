"""The embedded demo plant through the whole spine: every planted defect ends where it should.

Row-level defects that make a row unreadable or unlinkable are quarantined by the spine with the
rule meant for them; defects that are still valid readings (duplicates, out-of-order rows, gaps,
stuck sensors, spikes, unknown equipment in a work order) are published unchanged for the quality
gate to judge, and the unit mix-up is converted to the register's unit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from config.layout import Layout
from demo_plant import generate
from ingest.standardise import PartitionResult
from tests.conftest import REPO, ingest_all, read_output

QUARANTINED = {
    "dst_nonexistent_time": "nonexistent_local_time",
    "malformed_non_numeric": "unparseable_value",
    "malformed_missing_column": "missing_columns",
    "unknown_tag": "unknown_tag",
    "truncated_file": "missing_columns",
    "broken_json": "invalid_json",
}
PUBLISHED = {"duplicate_row", "out_of_order_row", "stuck_sensor", "spike", "gap_tag", "gap_plant"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Layout, dict[str, list[PartitionResult]], Path]:
    root = tmp_path_factory.mktemp("demo")
    layout = Layout(root / "home")
    plant = generate(layout.demo(), days=2, tags=40, min_period_s=20, max_period_s=40)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLANTDATA_HOME", str(layout.root))
        results = ingest_all(REPO / "demo_plant" / "sources.yaml", layout)
    return layout, results, plant.out_dir


def _defects(out_dir: Path) -> list[dict[str, Any]]:
    return list(json.loads((out_dir / "ground_truth" / "defects.json").read_text()))


def _source_of(file: str) -> str:
    return {"historian": "historian", "cmms": "work_orders", "alarms": "alarms"}[file.split("/", maxsplit=1)[0]]


def test_every_source_balances(demo: tuple[Layout, dict[str, list[PartitionResult]], Path]) -> None:
    _, results, _ = demo
    assert set(results) == {"asset_register", "historian", "alarms", "production_orders", "inspections", "work_orders"}
    for partitions in results.values():
        assert partitions, "every demo source yields partitions"
        assert all(p.balanced for p in partitions)


def test_unreadable_defects_are_quarantined_by_their_rule(
    demo: tuple[Layout, dict[str, list[PartitionResult]], Path],
) -> None:
    layout, _, out_dir = demo
    planted = [d for d in _defects(out_dir) if d["defect"] in QUARANTINED]
    assert {d["defect"] for d in planted} == set(QUARANTINED)
    for defect in planted:
        source = _source_of(defect["file"])
        name = defect["file"].split("/", 1)[1]
        found = {(q["line"], q["rule"]) for q in read_output(layout, source, "quarantine") if q["source_file"] == name}
        for line in defect["lines"]:
            assert (line, QUARANTINED[defect["defect"]]) in found, defect


def test_valid_but_suspicious_rows_are_published_for_the_gate(
    demo: tuple[Layout, dict[str, list[PartitionResult]], Path],
) -> None:
    layout, _, out_dir = demo
    quarantined = {(q["source_file"], q["line"]) for q in read_output(layout, "historian", "quarantine")}
    planted = [d for d in _defects(out_dir) if d["defect"] in PUBLISHED]
    assert {d["defect"] for d in planted} == PUBLISHED
    for defect in planted:
        name = defect["file"].split("/", 1)[1]
        for line in defect["lines"]:
            assert (name, line) not in quarantined, defect
    duplicates = [d for d in planted if d["defect"] == "duplicate_row"]
    rows = read_output(layout, "historian")
    keys = [(r["ts"], r["tag"]) for r in rows]
    assert len(keys) - len(set(keys)) >= len(duplicates)


def test_the_fahrenheit_tag_is_converted_to_the_register_unit(
    demo: tuple[Layout, dict[str, list[PartitionResult]], Path],
) -> None:
    layout, _, out_dir = demo
    mixup = next(d for d in _defects(out_dir) if d["defect"] == "unit_mixup")
    raw_mean = duckdb.execute(
        "SELECT avg(TRY_CAST(value AS DOUBLE)) FROM read_csv(?, all_varchar = true, null_padding = true) WHERE tag = ?",
        [str(out_dir / mixup["file"]), mixup["tag"]],
    ).fetchone()
    published = [r for r in read_output(layout, "historian") if r["tag"] == mixup["tag"]]
    assert published and {r["unit"] for r in published} == {"degC"}
    mean_c = sum(float(r["value"]) for r in published) / len(published)  # type: ignore[arg-type]
    assert raw_mean is not None
    assert mean_c == pytest.approx((raw_mean[0] - 32) * 5 / 9, rel=0.02)


def test_every_reading_is_linked_to_its_equipment(demo: tuple[Layout, dict[str, list[PartitionResult]], Path]) -> None:
    layout, _, _ = demo
    register = {r["tag"]: r["parent_id"] for r in read_output(layout, "asset_register") if r["tag"]}
    rows = read_output(layout, "historian")
    assert rows
    assert all(r["equipment_id"] == register[r["tag"]] for r in rows)


def test_mes_export_in_cp1252_with_decimal_commas(demo: tuple[Layout, dict[str, list[PartitionResult]], Path]) -> None:
    layout, results, _ = demo
    orders = read_output(layout, "production_orders")
    assert orders and not read_output(layout, "production_orders", "quarantine")
    assert any("ü" in str(o["product"]) or "ö" in str(o["product"]) for o in orders)
    assert all(isinstance(o["scrap_rate"], float) for o in orders if o["scrap_rate"] is not None)
    assert sum(r.rows_out for r in results["production_orders"]) == len(orders)


GATE_RULE = {
    "duplicate_row": "duplicate_reading",
    "stuck_sensor": "stuck_signal",
    "gap_tag": "gap_before",
}


def _raw_line(out_dir: Path, file: str, line: int) -> list[str]:
    with (out_dir / file).open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if number == line:
                return text.rstrip("\n").split(",")
    raise AssertionError(f"{file} has no line {line}")


def test_the_gate_catches_each_planted_defect_with_its_rule(
    demo: tuple[Layout, dict[str, list[PartitionResult]], Path],
) -> None:
    from config.sources import load_sources
    from ingest.manifest import read_manifests
    from quality.gate import evaluate_source

    layout, _, out_dir = demo
    sources = load_sources(REPO / "demo_plant" / "sources.yaml")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLANTDATA_HOME", str(layout.root))
        for name in ("historian", "work_orders"):
            keys = [m["key"] for m in read_manifests(layout, name)]
            evaluate_source(sources.get(name), keys, layout, "gate-test")
    flags = [str(p) for p in layout.quality("historian").rglob("*.flags.parquet")]
    flagged = duckdb.execute("SELECT * FROM read_parquet(?, union_by_name = true)", [flags]).fetchall()
    names = [
        d[0] for d in duckdb.execute("SELECT * FROM read_parquet(?, union_by_name = true) LIMIT 0", [flags]).description
    ]
    rows = [dict(zip(names, row, strict=True)) for row in flagged]

    def caught(tag: str, value: float, rule: str) -> bool:
        return any(r["tag"] == tag and r["value"] == pytest.approx(value) and r[f"flag_{rule}"] for r in rows)

    for defect in _defects(out_dir):
        rule = GATE_RULE.get(defect["defect"])
        if defect["defect"] == "spike":
            rule = "physical_range" if "outside" in defect["detail"] else "spike"
        if rule is None:
            continue
        line = defect["lines"][-1]
        _, tag, value, _ = _raw_line(out_dir, defect["file"], line)
        assert caught(tag, float(value), rule), (defect, rule)
    wo_flags = [str(p) for p in layout.quality("work_orders").rglob("*.flags.parquet")]
    unknown = next(d for d in _defects(out_dir) if d["defect"] == "unknown_equipment_id")
    record = json.loads((out_dir / unknown["file"]).read_text().splitlines()[unknown["lines"][0] - 1])
    found = duckdb.execute(
        "SELECT count(*) FROM read_parquet(?, union_by_name = true) WHERE wo_id = ? AND flag_equipment_in_register",
        [wo_flags, record["wo_id"]],
    ).fetchone()
    assert found == (1,)
