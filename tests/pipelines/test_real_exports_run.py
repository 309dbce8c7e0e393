"""A plant folder where some exports are broken: the good ones are published, the run names each bad one."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from click.testing import CliRunner
from dagster._core.event_api import PartitionKeyFilter

from config.layout import Layout
from pipelines.cli import main
from pipelines.run import instance_for

SOURCES = """
sources:
  - name: hist
    kind: historian_long
    system: historian
    owner: process
    location: hist/*
    columns: {ts: timestamp}
"""
GOOD = "timestamp,tag,value,quality\n{day} 10:00:00,T1,1.5,Good\n{day} 10:00:01,T1,1.6,Good\n"


def _plant(write: Callable[..., Path]) -> Path:
    write("hist/2024-05-01.csv", GOOD.format(day="2024-05-01"))
    write("hist/2024-05-02.csv.gz", gzip.compress(GOOD.format(day="2024-05-02").encode()))
    write("hist/2024-05-03.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\n")
    write("hist/2024-05-04.csv", "timestamp;tag;value\n2024-05-04 10:00:00;T1;1\n2024-05-04 10:00:01;T1;2\n")
    write("hist/2024-05-05.csv", "")
    return write("sources.yaml", SOURCES)


def test_good_files_are_published_and_the_run_names_each_bad_one(write: Callable[..., Path], layout: Layout) -> None:
    path = _plant(write)
    runner = CliRunner()
    ran = runner.invoke(main, ["run", "--sources", str(path)])
    output = " ".join(ran.output.split())
    assert ran.exit_code == 1, ran.output
    assert "unreadable file 2024-05-03.csv: it does not look like delimited text" in output
    assert "unreadable file 2024-05-04.csv: the header 'timestamp;tag;value' has fewer than two columns" in output
    assert "Fix: set csv.delimiter to the file's separator (it looks like ';')" in output
    assert "unreadable file 2024-05-05.csv: the file is empty" in output
    assert "Traceback" not in ran.output

    listed = runner.invoke(main, ["catalog", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [dataset] = json.loads(listed.output)
    assert dataset["name"] == "hist" and dataset["row_count"] == 4, "both good days, the compressed one included"

    status = runner.invoke(main, ["sources", "status", "--sources", str(path), "--json"])
    rows = {r["partition"]: r for r in json.loads(status.output)}
    assert all(r["balanced"] for r in rows.values())
    assert set(rows) == {
        "2024-05-01",
        "2024-05-02",
        "unreadable-2024-05-03.csv",
        "unreadable-2024-05-04.csv",
        "unreadable-2024-05-05.csv",
    }
    assert rows["unreadable-2024-05-04.csv"]["rows_in"] == rows["unreadable-2024-05-04.csv"]["rows_quarantined"] == 3
    assert rows["unreadable-2024-05-04.csv"]["alert"].startswith("unreadable file 2024-05-04.csv")
    assert rows["2024-05-02"]["rows_out"] == 2 and rows["2024-05-02"]["alert"] == ""

    instance = instance_for(layout.root)
    standardised, gated = dg.AssetKey(["standardised", "hist"]), dg.AssetKey(["gated", "hist"])
    readable, verdict = dg.AssetCheckKey(standardised, "readable"), dg.AssetCheckKey(gated, "gate_verdict")
    statuses = {}  # checks are evaluated per partition
    for key in rows:
        for check in (readable, verdict):
            [record] = instance.event_log_storage.get_asset_check_execution_history(
                check, limit=1, partition_filter=PartitionKeyFilter(key=key)
            )
            statuses[check.name, key] = record.status.value
            if check == readable and key == "unreadable-2024-05-04.csv":
                assert record.event is not None and record.event.dagster_event is not None
                description = record.event.dagster_event.event_specific_data.description  # type: ignore[union-attr]
                assert "export files quarantined whole: 2024-05-04.csv" in description
    good = {"2024-05-01", "2024-05-02"}
    assert statuses == {(name, key): "SUCCEEDED" if key in good else "FAILED" for name, key in statuses}
    assert sorted(p.name for p in layout.gated("hist").iterdir()) == ["day=2024-05-01", "day=2024-05-02"]

    runs_before = len(instance.get_run_records())
    unchanged = runner.invoke(main, ["run", "--sources", str(path)])  # nothing new: no work, the same verdict
    assert unchanged.exit_code == 1, unchanged.output
    output = " ".join(unchanged.output.split())
    assert "unchanged since the last run: no work" in output and "nothing changed since they were published" in output
    for name in ("2024-05-03.csv", "2024-05-04.csv", "2024-05-05.csv"):
        assert f"unreadable file {name}" in output
    assert len(instance.get_run_records()) == runs_before, "nothing changed: no Dagster run"

    fixed = write("hist/2024-05-04.csv", "timestamp,tag,value\n2024-05-04 10:00:00,T1,1\n")
    assert fixed.exists()
    (path.parent / "hist" / "2024-05-03.csv").unlink()
    (path.parent / "hist" / "2024-05-05.csv").unlink()
    again = runner.invoke(main, ["run", "--sources", str(path)])
    assert again.exit_code == 0, again.output
    [dataset] = json.loads(runner.invoke(main, ["catalog", "list", "--json"]).output)
    assert dataset["row_count"] == 5
