"""The `plantdata` command line as a data engineer uses it."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from config.layout import Layout
from demo_plant.generator import MAX_PERIOD_S, required_kinds
from demo_plant.register import minimum_tags
from pipelines.cli import entrypoint, main
from pipelines.cli.common import emit
from tests.conftest import HISTORIAN_SOURCES, REPO

SOURCES = HISTORIAN_SOURCES


def test_run_then_status_json(write: Callable[..., Path], layout: Layout) -> None:
    write("hist/1.csv", "timestamp,tag,value\n2024-03-30 10:00:00,T1,1\n2024-03-30 10:00:01,T1,oops\n")
    path = write("sources.yaml", SOURCES)
    runner = CliRunner()
    ran = runner.invoke(main, ["run", "--sources", str(path)])
    assert ran.exit_code == 0, ran.output
    status = runner.invoke(main, ["sources", "status", "--sources", str(path), "--json"])
    assert status.exit_code == 0, status.output
    rows = json.loads(status.output)
    assert [
        (r["source"], r["partition"], r["rows_in"], r["rows_out"], r["rows_quarantined"], r["balanced"]) for r in rows
    ] == [("hist", "2024-03-30", 2, 1, 1, True)]
    assert rows[0]["files"] == ["1.csv"]
    assert rows[0]["rules"] == {"unparseable_value": 1}
    summary = runner.invoke(main, ["sources", "status", "--sources", str(path), "--json", "--summary"])
    assert json.loads(summary.output) == [
        {
            "source": "hist",
            "partitions": 1,
            "files": 1,
            "rows_in": 2,
            "rows_out": 1,
            "rows_quarantined": 1,
            "balanced": True,
            "rules": {"unparseable_value": 1},
            "unreadable_files": [],
            "unreadable": "-",
        }
    ]
    assert "2 rows in, 1 out, 1 quarantined" in ran.output
    assert rows[0]["alert"].startswith("MOSTLY QUARANTINED (over 20%): 1 of 2 rows (50%)"), "said plainly"
    assert "top rule unparseable_value, e.g. 1.csv line 3" in rows[0]["alert"]
    assert "MOSTLY QUARANTINED" in " ".join(ran.output.split()), "the console says so too"


def test_sources_list_json_reads_the_skab_example() -> None:
    result = CliRunner().invoke(
        main, ["sources", "list", "--json", "--sources", str(REPO / "examples" / "skab" / "sources.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert [(s["name"], s["kind"], s["partitioning"]) for s in json.loads(result.output)] == [
        ("skab", "historian_wide", "day")
    ]


def test_a_config_mistake_is_one_clear_line(write: Callable[..., Path]) -> None:
    path = write("sources.yaml", SOURCES.replace("owner: process", "owner: process\n    colums: {}"))
    result = CliRunner().invoke(main, ["sources", "list", "--sources", str(path)])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception)
    assert "sources[hist].colums" in str(result.exception)


def test_a_quality_report_of_a_source_the_file_lacks_names_the_file_and_its_sources(
    write: Callable[..., Path],
) -> None:
    path = write("sources.yaml", SOURCES)
    result = CliRunner().invoke(main, ["quality", "report", "--sources", str(path), "--source", "extruder"])
    assert result.exit_code == 2, result.output
    assert "Invalid value for --source: no source 'extruder'" in result.output
    assert str(path) in " ".join(result.output.split()) and "['hist']" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("options", "option", "limit"),
    [
        (["--tags", "20"], "--tags", f"at least {minimum_tags(required_kinds())[1]}"),
        (["--days", "0"], "--days", "at least 1"),
        (["--min-period", "0"], "--min-period", "at least 1"),
        (["--min-period", "30", "--max-period", "10"], "--max-period", "shortest sampling period (30 s)"),
        (["--max-period", "86400"], "--max-period", f"at most {MAX_PERIOD_S} s"),
    ],
)
def test_demo_arguments_too_small_are_usage_errors(tmp_path: Path, options: list[str], option: str, limit: str) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "generate", "--out", str(out), *options])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert option in result.output and limit in result.output
    assert not out.exists(), "nothing is written for arguments the plant cannot be built with"


def test_brackets_in_an_error_message_are_printed_as_they_are(
    write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write("sources.yaml", SOURCES + '    "Rotational speed [rpm]": {}\n')  # a column name as a key
    monkeypatch.setattr(sys, "argv", ["plantdata", "sources", "list", "--sources", str(path)])
    with pytest.raises(SystemExit) as exited:
        entrypoint()
    assert exited.value.code == 2
    printed = " ".join(capsys.readouterr().err.split())  # Rich wraps lines at the console's width
    assert "sources[hist].Rotational speed [rpm]: unknown key" in printed


def test_brackets_in_table_cells_are_printed_as_they_are(capsys: pytest.CaptureFixture[str]) -> None:
    emit([{"column": "Rotational speed [rpm]", "unit [si]": "[/]"}], False, ["column", "unit [si]"])
    printed = capsys.readouterr().out
    assert "Rotational speed [rpm]" in printed and "unit [si]" in printed and "[/]" in printed
