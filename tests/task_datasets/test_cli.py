"""`plantdata dataset build|list|show|diff --json` on small releases."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from config.layout import Layout
from pipelines.cli import main
from tests.task_datasets.releases import publish_fixture, write_spec


def _json(args: list[str]) -> object:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_dataset_commands_answer_in_json(layout: Layout, tmp_path: Path) -> None:
    publish_fixture(layout)
    built = _json(["dataset", "build", str(write_spec(tmp_path)), "--json"])
    assert isinstance(built, dict) and (built["name"], built["version"], built["new"]) == ("test_pumps", 1, True)
    again = _json(["dataset", "build", str(write_spec(tmp_path)), "--json"])
    assert isinstance(again, dict) and (again["version"], again["new"]) == (1, False)
    _json(["dataset", "build", str(write_spec(tmp_path, aggregates="[mean]")), "--json"])
    [listed] = _json(["dataset", "list", "--json"])  # type: ignore[misc]
    assert listed["name"] == "test_pumps" and listed["version"] == 2 and listed["security_grade"] == 2
    assert listed["rows_per_split"] == {"train": 36, "validation": 16, "test": 36}
    shown = _json(["dataset", "show", "test_pumps", "--version", "1", "--json"])
    assert isinstance(shown, dict) and shown["version"] == 1 and "croissant.json" in shown["documents"]
    changes = _json(["dataset", "diff", "test_pumps", "1", "2", "--json"])
    assert isinstance(changes, dict) and changes["schema"]["removed"] == ["VIB__max"]
    assert changes["rows"]["test"]["added"] == 0 and changes["same_content"] is False


def test_an_unknown_dataset_is_an_error_that_says_what_to_do(layout: Layout) -> None:
    result = CliRunner().invoke(main, ["dataset", "show", "nothing", "--json"])
    assert result.exit_code != 0
    assert "plantdata dataset list" in str(result.exception) + result.output
