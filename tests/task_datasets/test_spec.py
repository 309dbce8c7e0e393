"""Spec files: the shipped ones load; errors name the file, the key path and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.errors import ConfigError
from task_datasets.spec import load_spec, parse_duration
from tests.task_datasets.releases import write_spec

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*REPO.glob("demo_plant/datasets/*.yaml"), *REPO.glob("examples/skab/datasets/*.yaml")])


def test_the_shipped_specs_load() -> None:
    names = {load_spec(path).name for path in SHIPPED}
    assert names == {
        "demo_pump_fault_diagnosis",
        "demo_bearing_rul",
        "demo_work_order_failure_modes",
        "skab_anomaly_detection",
    }


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    path = write_spec(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "key", "fix"),
    [
        ("  window: PT1H", "  window: PT1H\n  windw: PT2H", "examples.windw", "remove it or correct its spelling"),
        ("  window: PT1H", "  window: one hour", "examples.window", "correct the value"),
        ("precedence: [rule]", "precedence: [rule, alarms]", "labels", "correct the value"),
        ("task: classification", "task: clustering", "task", "use one of the listed values"),
        ("  method: time", "  method: group", "splits", "correct the value"),
        ("kind: windows", "kind: images", "examples", "use one of the listed values"),
        ("  readings: readings\n", "  readings: readingz\n", "(top level)", "correct the value"),
    ],
)
def test_errors_name_the_file_the_key_and_the_fix(tmp_path: Path, old: str, new: str, key: str, fix: str) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(ConfigError) as error:
        load_spec(path)
    assert error.value.file == str(path)
    assert error.value.key == key
    assert fix in error.value.fix
    assert str(path) in str(error.value)


def test_messages_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"precedence names 'alarms' but the spec has no labels\.alarms section"):
        load_spec(_broken(tmp_path, "precedence: [rule]", "precedence: [rule, alarms]"))
    with pytest.raises(ConfigError, match="a group split needs group_by"):
        load_spec(_broken(tmp_path, "  method: time", "  method: group"))
    with pytest.raises(ConfigError, match="refer to source 'readingz'"):
        load_spec(_broken(tmp_path, "  readings: readings\n", "  readings: readingz\n"))
    with pytest.raises(ConfigError, match=r"examples\.window: 'one hour' is not an ISO 8601 duration such as PT10M"):
        load_spec(_broken(tmp_path, "  window: PT1H", "  window: one hour"))
    with pytest.raises(ConfigError, match="group_by unit is found through the asset register"):
        load_spec(_unit_without_register(tmp_path))
    with pytest.raises(ConfigError, match="line 2"):
        load_spec(_broken(tmp_path, "title: Test pump faults", "title: [unclosed"))


def _unit_without_register(tmp_path: Path) -> Path:
    path = _broken(tmp_path, "  asset_register: register\n", "")
    text = path.read_text(encoding="utf-8").replace("  method: time", "  method: time\n  group_by: unit")
    path.write_text(text, encoding="utf-8")
    return path


def test_durations_are_iso_8601() -> None:
    assert parse_duration("PT10M").total_seconds() == 600
    assert parse_duration("P1DT2H").total_seconds() == 26 * 3600
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_duration("10 minutes")
