"""Building task datasets from small releases: versions, reproducible hashes, leak refusal, the gate, the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from catalog.queries import lineage
from catalog.store import CatalogStore
from config.layout import Layout
from task_datasets.build import build
from task_datasets.errors import GateRefusedError, LeakError, TaskDatasetError
from task_datasets.views import diff, list_task_datasets
from tests.task_datasets.releases import publish_fixture, verdict, write_spec


@pytest.fixture
def released(layout: Layout) -> Layout:
    publish_fixture(layout)
    return layout


def _split(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(folder / "data" / f"{name}.parquet")


def test_a_build_writes_a_documented_version_with_disjoint_splits(released: Layout, tmp_path: Path) -> None:
    result = build(write_spec(tmp_path), released)
    assert (result.name, result.version, result.new) == ("test_pumps", 1, True)
    names = sorted(p.name for p in result.folder.iterdir())
    assert names == ["croissant.json", "data", "datasheet.html", "datasheet.md", "manifest.json"]
    manifest = json.loads((result.folder / "manifest.json").read_text(encoding="utf-8"))
    train, validation, test = (_split(result.folder, s) for s in ("train", "validation", "test"))
    assert [f["rows"] for f in manifest["files"]] == [train.height, validation.height, test.height]
    # whole windows only, and the gap (2 h) between splits holds on the data written
    gap = validation["window_start"].min() - train["window_end"].max()
    assert gap.total_seconds() >= 2 * 3600
    assert (test["window_start"].min() - validation["window_end"].max()).total_seconds() >= 2 * 3600
    assert set(train["example_key"]).isdisjoint(test["example_key"])
    assert manifest["splits"]["disjoint"] is True
    assert manifest["splits"]["class_balance"]["train"] == {"high_vibration": 4, "normal": 32}
    assert manifest["labels"]["provenance"] == {"rule": train.height + validation.height + test.height}
    assert manifest["baseline"]["metric"] == "macro_f1" and manifest["baseline"]["value"] == 1.0
    assert 0.0 <= manifest["splits"]["adversarial_auc"] <= 1.0
    assert "_max__VIB" not in train.columns  # the rule's signal never becomes a feature
    assert [s["dataset"] for s in manifest["sources"]] == ["hist", "register"]
    assert manifest["security"]["grade"] == "2"  # the highest of its sources (2 and 1), with each reason
    assert any("hist v1 is grade 2" in r for r in manifest["security"]["reasons"])
    assert manifest["quality"]["dimensions"] == {"completeness": 90.0}  # the weakest source's


def test_building_again_from_the_same_inputs_gives_the_same_hashes(released: Layout, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    first = build(spec, released)
    assert build(spec, released) == first.__class__(first.name, 1, first.folder, False, first.content_sha256)
    changed_text = write_spec(tmp_path, extra="# a comment: a new spec, the same data\n")
    second = build(changed_text, released)
    assert (second.version, second.new) == (2, True)
    assert second.content_sha256 == first.content_sha256
    a = json.loads((first.folder / "manifest.json").read_text(encoding="utf-8"))
    b = json.loads((second.folder / "manifest.json").read_text(encoding="utf-8"))
    assert [f["sha256"] for f in a["files"]] == [f["sha256"] for f in b["files"]]
    assert (first.folder / "manifest.json").exists()  # the first version was not touched


def test_a_spec_that_would_leak_is_refused_and_nothing_is_written(released: Layout, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    text = spec.read_text(encoding="utf-8")
    text = text.replace("method: time", "method: group\n  group_by: equipment")
    text = text.replace("validation: 2024-01-01T20:00:00Z", "validation: [P-1]").replace(
        "test: 2024-01-02T06:00:00Z", "test: [P-1, P-2]"
    )
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(LeakError, match=r"P-1.*both validation and test"):
        build(spec, released)
    assert not list(released.task_datasets().glob("*/v*"))


def test_check_disjoint_refuses_rows_that_share_time_or_groups() -> None:
    from datetime import UTC, datetime, timedelta

    from task_datasets.spec import SplitsSpec
    from task_datasets.splits import check_disjoint

    at = datetime(2024, 1, 1, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "example_key": ["a", "b", "c"],
            "window_start": [at, at + timedelta(hours=1), at + timedelta(minutes=30)],
            "window_end": [at + timedelta(hours=1), at + timedelta(hours=2), at + timedelta(minutes=90)],
            "group": ["P-1", "P-2", "P-1"],
            "split": ["train", "train", "test"],
        }
    )
    spec = SplitsSpec(method="time+group", group_by="equipment", test=at, test_groups=["P-1"])
    with pytest.raises(LeakError) as refused:
        check_disjoint(frame, spec, "example_key")
    assert "share group(s) ['P-1']" in str(refused.value) and "less than the gap" in str(refused.value)


def test_a_partition_that_failed_the_gate_refuses_the_build(released: Layout, tmp_path: Path) -> None:
    verdict(released, "hist", "2024-01-02", passed=False)
    with pytest.raises(
        GateRefusedError, match=r"hist v1 partition 2024-01-02: it failed error-severity checks row_count"
    ):
        build(write_spec(tmp_path), released)
    assert not list(released.task_datasets().glob("*/v*"))


def test_a_partition_the_gate_never_judged_refuses_the_build(released: Layout, tmp_path: Path) -> None:
    for evaluation in (released.quality("hist") / "2024-01-01").glob("*.json"):
        evaluation.unlink()
    with pytest.raises(GateRefusedError, match="verdict unknown"):
        build(write_spec(tmp_path), released)


def test_versions_are_listed_in_the_catalog_and_diffed(released: Layout, tmp_path: Path) -> None:
    build(write_spec(tmp_path), released)
    build(write_spec(tmp_path, threshold=9.0, aggregates="[mean, max, std]"), released)
    [listed] = list_task_datasets(CatalogStore(released.catalog()))
    assert (listed["name"], listed["version"], listed["security_grade"]) == ("test_pumps", 2, 2)
    assert set(listed["rows_per_split"]) == {"train", "validation", "test"}
    assert listed["quality_overall"] is not None and listed["quality_grade"] is not None
    assert listed["baseline_metric"] is None  # train holds one class at the new threshold: nothing to learn
    edges = {
        (e["from_kind"], e["from_id"], e["to_kind"]) for e in lineage(CatalogStore(released.catalog()), "test_pumps")
    }
    assert {("dataset_version", "hist@1", "release"), ("dataset_version", "register@1", "release")} <= edges
    assert ("release", str(listed["location"]), "dataset_version") in edges
    changes = diff(released, "test_pumps", 1, 2)
    assert changes["schema"]["added"] == ["VIB__std"] and changes["schema"]["removed"] == []
    assert changes["rows"]["train"]["added"] == changes["rows"]["train"]["removed"] == 0
    assert changes["rows"]["train"]["unchanged"] == 0  # a new column changes every row
    shift = changes["labels"]["train"]
    assert shift["classes"]["high_vibration"] == {"from": 4, "to": 0} and shift["total_variation"] > 0
    assert changes["baseline"]["from"]["value"] == 1.0 and changes["baseline"]["to"]["value"] is None


def test_two_builds_side_by_side_take_distinct_versions(released: Layout, tmp_path: Path) -> None:
    import subprocess
    import sys

    specs = []
    for threshold in (5.0, 9.0):
        folder = tmp_path / f"t{threshold}"
        folder.mkdir()
        specs.append(write_spec(folder, threshold=threshold))
    code = (
        "import sys; from pathlib import Path; from config.layout import Layout; from task_datasets.build import build;"
        "print(build(Path(sys.argv[1]), Layout(Path(sys.argv[2]))).version)"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", code, str(s), str(released.root)], stdout=subprocess.PIPE, text=True)
        for s in specs
    ]
    versions = sorted(int(run.communicate(timeout=300)[0].strip()) for run in runs)
    assert versions == [1, 2] and all(run.returncode == 0 for run in runs)
    folders = sorted(p.name for p in (released.task_datasets() / "test_pumps").iterdir())
    assert folders == [".build.lock", "v1", "v2"]  # no staging folder left behind
    [listed] = list_task_datasets(CatalogStore(released.catalog()))
    assert listed["version"] == 2


def test_a_time_and_group_split_holds_out_both(released: Layout, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    text = spec.read_text(encoding="utf-8").replace("  method: time", "  method: time+group\n  group_by: unit")
    text = text.replace("  validation: 2024-01-01T20:00:00Z\n", "")
    spec.write_text(text.replace("  gap: PT2H", "  gap: PT2H\n  test_groups: [U-1]"), encoding="utf-8")
    with pytest.raises(TaskDatasetError, match="the train split is empty"):
        build(spec, released)  # both pumps are in unit U-1: holding it out for test leaves train nothing
    spec.write_text(
        text.replace("group_by: unit", "group_by: equipment").replace(
            "  gap: PT2H", "  gap: PT2H\n  test_groups: [P-2]"
        ),
        encoding="utf-8",
    )
    result = build(spec, released)
    train, test = _split(result.folder, "train"), _split(result.folder, "test")
    assert set(train["group"]) == {"P-1"} and set(test["group"]) == {"P-2"}
    assert (test["window_start"].min() - train["window_end"].max()).total_seconds() >= 2 * 3600
    assert not (result.folder / "data" / "validation.parquet").exists()  # the spec asks for none


def test_a_version_whose_registration_failed_is_registered_by_the_next_build(
    released: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import task_datasets.registry

    def disk_full(paths: list[str]) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(task_datasets.registry, "profile", disk_full)
    spec = write_spec(tmp_path)
    with pytest.raises(OSError, match="no space left"):
        build(spec, released)
    store = CatalogStore(released.catalog())
    assert (released.task_datasets() / "test_pumps" / "v1" / "manifest.json").exists()  # committed, not listed
    assert list_task_datasets(store) == []
    monkeypatch.undo()
    again = build(spec, released)
    assert (again.version, again.new) == (1, False)  # the same data: v1, now registered, no v2
    [listed] = list_task_datasets(store)
    assert listed["version"] == 1


def test_texts_seen_in_train_are_counted_per_split() -> None:
    from task_datasets.splits import texts_seen_in_train

    frame = pl.DataFrame(
        {
            "text": ["PM round, no findings", "seal leaking", "PM round, no findings", "bearing noise", "seal leaking"],
            "split": ["train", "train", "test", "test", "validation"],
        }
    )
    assert texts_seen_in_train(frame, "text") == {"validation": 1, "test": 1}
