"""The `plantdata` command line as a data engineer uses it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from config.layout import Layout
from pipelines.cli import main
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
        }
    ]
    assert "2 rows in, 1 out, 1 quarantined" in ran.output


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
