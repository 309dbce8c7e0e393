"""Work-order and inspection tasks built from small releases written here, their interfaces, and the spec rule."""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from annotation.inspection_rule import SpecRule, SpecRuleError
from annotation.labeling import LabelingConfigError, inspection_config, work_order_config
from annotation.records import TaskBuildError, inspection_tasks, read_release, work_order_tasks
from annotation.tasks import Release, TaskItem
from annotation.text_model import FailureModeModel

UTC = dt.UTC


def write_release(root: Path, dataset: str, rows: list[dict[str, Any]], version: int = 1) -> Release:
    """Rows split over two hive day folders, as the catalog publishes them."""
    location = root / dataset / f"v{version}"
    frame = pl.DataFrame(rows)
    half = len(rows) // 2
    for day, part in (("2024-03-01", frame[:half]), ("2024-03-02", frame[half:])):
        folder = location / f"day={day}"
        folder.mkdir(parents=True, exist_ok=True)
        part.write_parquet(folder / "part-0.parquet")
    return Release(dataset, version, location)


def work_orders(n: int = 6) -> list[dict[str, Any]]:
    texts = ["Bearing noisy, replaced bearing", "Seal leaking at pump", "Lagerschaden am Motor"]
    return [
        {
            "wo_id": f"WO-{i:03d}",
            "equipment_id": f"P-{i % 2}",
            "ts": dt.datetime(2024, 3, 1, i, tzinfo=UTC),
            "wo_type": "Corrective" if i % 3 else "preventive",
            "failure_mode": ["bearing_wear", "seal_leak", None][i % 3],
            "description": texts[i % 3],
        }
        for i in range(n)
    ]


def inspections() -> list[dict[str, Any]]:
    rows = [
        ("QI-1", "torque", 5.0, 0.0, 10.0, "PASS", None),
        ("QI-2", "torque", 12.0, 0.0, 10.0, "PASS", None),
        ("QI-3", "fill", 100.95, 99.0, 101.0, "PASS", None),
        ("QI-4", "fill", None, 99.0, 101.0, "FAIL", "NOVAL"),
    ]
    return [
        {
            "inspection_id": i,
            "order_id": "FA-1",
            "timestamp": dt.datetime(2024, 3, 1, k, tzinfo=UTC),
            "characteristic": c,
            "measured_value": v,
            "lower_spec": lo,
            "upper_spec": hi,
            "result": r,
            "defect_code": d,
        }
        for k, (i, c, v, lo, hi, r, d) in enumerate(rows)
    ]


def config_names(config: str) -> tuple[set[str], set[str]]:
    """The tag names of an interface and the task data fields it reads ($field)."""
    root = ET.fromstring(config)
    names = {el.attrib["name"] for el in root.iter() if "name" in el.attrib}
    fields = set(re.findall(r"\$(\w+)", config))
    return names, fields


def assert_fits(config: str, items: list[TaskItem]) -> None:
    """Every field the interface reads is in the task data; every pre-label names its tags and listed choices."""
    names, fields = config_names(config)
    root = ET.fromstring(config)
    choices = {c.attrib["name"]: {x.attrib["value"] for x in c.iter("Choice")} for c in root.iter("Choices")}
    for item in items:
        assert fields <= set(item.data), fields - set(item.data)
        assert item.prediction is not None
        for result in item.prediction.result:
            assert {result["from_name"], result["to_name"]} <= names
            assert set(result["value"]["choices"]) <= choices[result["from_name"]]


@pytest.fixture
def model() -> FailureModeModel:
    return FailureModeModel.fit(
        ["bearing noise", "bearing hot", "Lager defekt", "seal leak", "leaking seal", "Dichtung undicht"],
        ["bearing_wear"] * 3 + ["seal_leak"] * 3,
        components=["bearing"] * 3 + ["seal"] * 3,
    )


def test_work_order_keys_are_stable_unique_and_per_project(tmp_path: Path) -> None:
    v1 = write_release(tmp_path, "wo", work_orders())
    v2 = write_release(tmp_path, "wo", list(reversed(work_orders())), version=2)
    first = work_order_tasks("p", v1)
    assert len({t.key for t in first}) == len(first) == 6
    assert [t.key for t in work_order_tasks("p", v1)] == [t.key for t in first]
    assert {t.key for t in work_order_tasks("p", v2)} == {t.key for t in first}  # new version, same rows
    assert not {t.key for t in work_order_tasks("q", v1)} & {t.key for t in first}
    assert [t.row_keys for t in first] == [{"wo_id": f"WO-{i:03d}"} for i in range(6)]  # oldest first


def test_work_order_data_without_model(tmp_path: Path) -> None:
    items = work_order_tasks("p", write_release(tmp_path, "wo", work_orders()))
    first = items[1]
    assert first.data == {
        "text": "Seal leaking at pump",
        "wo_id": "WO-001",
        "equipment_id": "P-1",
        "created": "2024-03-01T01:00:00+00:00",
        "wo_type": "Corrective",
        "cmms_failure_mode": "seal_leak",
    }
    assert items[2].data["cmms_failure_mode"] == ""
    assert (first.stratum, first.reason, first.prediction, first.uncertainty) == ("P-1", "work_order", None, 0.5)


def test_work_order_predictions(tmp_path: Path, model: FailureModeModel) -> None:
    release = write_release(tmp_path, "wo", work_orders())
    items = work_order_tasks("p", release, include_types=["corrective"], model=model)
    assert [t.data["wo_id"] for t in items] == ["WO-001", "WO-002", "WO-004", "WO-005"]  # case-insensitive types
    for item in items:
        assert item.prediction is not None
        assert item.prediction.model_version == model.model_version
        assert math.isclose(item.uncertainty, 1 - item.prediction.score)
        fm, comp = item.prediction.result
        assert fm["from_name"] == "failure_mode" and fm["to_name"] == "text" and fm["type"] == "choices"
        assert comp["from_name"] == "component" and comp["value"]["choices"][0] in {"bearing", "seal"}
    leak = next(t for t in items if t.data["text"] == "Seal leaking at pump")
    assert leak.prediction is not None and leak.prediction.result[0]["value"] == {"choices": ["seal_leak"]}
    assert_fits(work_order_config(list(model.classes), list(model.component_classes), ["symptom"]), items)


def test_work_order_release_errors(tmp_path: Path) -> None:
    rows = work_orders()
    rows[3]["wo_id"] = rows[0]["wo_id"]
    with pytest.raises(TaskBuildError, match="WO-000"):
        work_order_tasks("p", write_release(tmp_path, "dup", rows))
    with pytest.raises(TaskBuildError, match="notes"):
        work_order_tasks("p", write_release(tmp_path, "wo", work_orders()), text_column="notes")
    with pytest.raises(TaskBuildError, match="no Parquet file"):
        read_release(Release("none", 1, tmp_path / "missing"), ["x"])


def test_inspection_tasks(tmp_path: Path) -> None:
    release = write_release(tmp_path, "qi", inspections())
    items = inspection_tasks("p", release, rule=SpecRule())
    assert [t.row_keys for t in items] == [{"inspection_id": f"QI-{i}"} for i in range(1, 5)]
    assert len({t.key for t in items}) == 4
    assert [t.stratum for t in items] == ["torque", "torque", "fill", "fill"]
    decisions = [t.prediction.result[0]["value"]["choices"][0] for t in items if t.prediction]
    assert decisions == ["accept", "reject", "accept", "reject"]
    first = items[0]
    assert first.data["measured_value"] == "5.0" and first.data["defect_code"] == ""
    assert first.data["record"]["lower_spec"] == "0.0" and first.data["day"] == "2024-03-01"
    assert all(isinstance(v, str) for k, v in first.data.items() if k != "record")
    assert "QI-1" in first.data["summary"] and "torque" in first.data["summary"]
    assert "NOVAL" in items[3].data["summary"] and "missing" in items[3].extra["rule_reason"]
    assert items[2].uncertainty > items[0].uncertainty  # 100.95 is near the limit 101 on a band of 2
    assert first.reason == "record"
    assert_fits(inspection_config(), items)
    assert all(t.prediction is None for t in inspection_tasks("p", release))


@pytest.mark.parametrize(
    ("value", "lower", "upper", "result", "decision", "score"),
    [
        (5.0, 0.0, 10.0, "PASS", "accept", 1.0),
        (15.0, 0.0, 10.0, "FAIL", "accept", 1.0),
        (15.0, 0.0, 10.0, "pass", "reject", 1.0),
        (5.0, 0.0, 10.0, "fail", "reject", 1.0),
        (10.0, 0.0, 10.0, " ok ", "accept", 0.5),  # at the limit: inside, but a coin toss
        (9.5, 0.0, 10.0, "i.o.", "accept", 0.75),  # 5 % of the band from the limit, half of near_share
        (-0.5, 0.0, 10.0, "NOK", "accept", 0.75),
        (5.0, None, 10.0, "PASS", "reject", 0.5),
        (5.0, 0.0, None, "PASS", "reject", 0.5),
        (None, 0.0, 10.0, "PASS", "reject", 0.5),
        (float("nan"), 0.0, 10.0, "PASS", "reject", 0.5),
        (5.0, 10.0, 0.0, "PASS", "reject", 0.5),  # limits swapped
        (5.0, 0.0, 10.0, "maybe", "reject", 0.5),
        (5.0, 0.0, 10.0, None, "reject", 0.5),
    ],
)
def test_spec_rule_table(
    value: float | None, lower: float | None, upper: float | None, result: str | None, decision: str, score: float
) -> None:
    verdict = SpecRule().judge(value, lower, upper, result)
    assert (verdict.decision, verdict.score) == (decision, pytest.approx(score))
    assert verdict.uncertainty == pytest.approx(1 - score)


def test_spec_rule_uncertainty_falls_with_distance_to_the_limit() -> None:
    rule = SpecRule()
    uncertainties = [rule.judge(v, 0.0, 10.0, "PASS").uncertainty for v in (10.0, 9.9, 9.7, 9.0, 5.0)]
    assert uncertainties == sorted(uncertainties, reverse=True) and len(set(uncertainties)) == 4
    assert rule.model_version != SpecRule(near_share=0.2).model_version
    with pytest.raises(SpecRuleError):
        SpecRule(near_share=0)


def test_configs_refuse_empty_or_repeated_classes() -> None:
    with pytest.raises(LabelingConfigError, match="failure_modes"):
        work_order_config([], ["bearing"], [])
    with pytest.raises(LabelingConfigError, match="seal"):
        work_order_config(["a"], ["seal", "seal"], [])
    names, _ = config_names(work_order_config(["a & b"], ["<x>"], []))
    assert "spans" not in names  # no span block without span labels
    assert 'value="a &amp; b"' in work_order_config(["a & b"], ["x"], ["s"])


def test_demo_releases(demo_run: Path) -> None:
    releases = demo_run / "releases"
    rule = SpecRule()
    qi = Release("inspections", 1, releases / "inspections" / "v1")
    rows = pl.scan_parquet(releases / "inspections" / "v1" / "**" / "*.parquet").select(pl.len()).collect().item()
    items = inspection_tasks("demo", qi, rule=rule)
    assert len(items) == rows == len({t.key for t in items})
    assert_fits(inspection_config(), items)
    wo = Release("work_orders", 1, releases / "work_orders" / "v1")
    wo_rows = pl.scan_parquet(releases / "work_orders" / "v1" / "**" / "*.parquet").select(pl.len()).collect().item()
    assert len(work_order_tasks("demo", wo)) == wo_rows
