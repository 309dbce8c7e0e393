"""The task-dataset asset: found beside the sources file, downstream of its inputs, refusing a failed gate."""

from __future__ import annotations

import textwrap
from pathlib import Path

import dagster as dg
import pytest

from assets.task_datasets import task_dataset_key
from config.errors import ConfigError
from config.layout import Layout
from pipelines.definitions import build_definitions
from tests.task_datasets.releases import publish_fixture, verdict, write_spec

SOURCES = """
sources:
  - {name: register, kind: asset_register, system: ERP, owner: m, location: reg.csv}
  - {name: hist, kind: historian_long, system: historian, owner: p, location: hist/*.csv, register: register}
"""


def _materialize(layout: Layout, tmp_path: Path) -> dg.ExecuteInProcessResult:
    (tmp_path / "datasets").mkdir(exist_ok=True)
    write_spec(tmp_path / "datasets")
    sources = tmp_path / "sources.yaml"
    sources.write_text(textwrap.dedent(SOURCES), encoding="utf-8")
    defs = build_definitions(sources, layout.root)
    key = task_dataset_key("test_pumps")
    graph = defs.resolve_asset_graph()
    assert graph.get(key).parent_keys == {
        dg.AssetKey([layer, name]) for layer in ("gated", "catalog") for name in ("hist", "register")
    }
    return dg.materialize(
        [defs.resolve_assets_def(key)],
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_the_asset_builds_a_version(layout: Layout, tmp_path: Path) -> None:
    publish_fixture(layout)
    result = _materialize(layout, tmp_path)
    assert result.success
    [materialization] = result.asset_materializations_for_node("task_datasets__test_pumps")
    assert materialization.metadata["version"].value == 1
    assert materialization.metadata["rows_per_split"].value == {"train": 36, "validation": 16, "test": 36}


def test_the_asset_fails_on_a_partition_that_failed_the_gate(layout: Layout, tmp_path: Path) -> None:
    publish_fixture(layout)
    verdict(layout, "hist", "2024-01-01", passed=False)
    result = _materialize(layout, tmp_path)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "hist v1 partition 2024-01-01: it failed error-severity checks" in str(failure.step_failure_data.error)
    assert not list(layout.task_datasets().glob("*/v*"))


def test_the_asset_is_requested_again_when_an_input_is_materialised(tmp_path: Path) -> None:
    (tmp_path / "datasets").mkdir()
    write_spec(tmp_path / "datasets")
    sources = tmp_path / "sources.yaml"
    sources.write_text(textwrap.dedent(SOURCES), encoding="utf-8")
    defs = build_definitions(sources, tmp_path / "home")
    key = task_dataset_key("test_pumps")
    selection = dg.AssetSelection.assets(key)
    instance = dg.DagsterInstance.ephemeral()
    first = dg.evaluate_automation_conditions(defs, instance, asset_selection=selection)
    assert first.get_num_requested(key) == 0  # nothing upstream happened yet
    instance.report_runless_asset_event(dg.AssetMaterialization(dg.AssetKey(["catalog", "hist"])))
    second = dg.evaluate_automation_conditions(defs, instance, asset_selection=selection, cursor=first.cursor)
    assert second.get_num_requested(key) == 1  # a new release of an input: build again
    third = dg.evaluate_automation_conditions(defs, instance, asset_selection=selection, cursor=second.cursor)
    assert third.get_num_requested(key) == 0  # handled once, not on every tick


def test_a_spec_reading_a_dataset_the_sources_file_lacks_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "datasets").mkdir()
    spec = write_spec(tmp_path / "datasets")
    spec.write_text(spec.read_text(encoding="utf-8").replace("dataset: hist,", "dataset: historian,"), "utf-8")
    sources = tmp_path / "sources.yaml"
    sources.write_text(textwrap.dedent(SOURCES), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        build_definitions(sources, tmp_path / "home")
    assert (error.value.file, error.value.key) == (str(spec), "sources.readings.dataset")
    assert "'historian' is not a source of" in str(error.value) and "name one of" in error.value.fix
