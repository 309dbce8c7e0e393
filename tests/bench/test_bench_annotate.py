"""`plantdata bench annotate` against a real Label Studio it starts itself: it measures what it says, and our push
and pull keep their promises at the benchmark's scale (no timing is asserted: speed belongs to `make bench`)."""

from __future__ import annotations

import json

import psutil
from click.testing import CliRunner

from config.layout import Layout
from pipelines.cli import main

TASKS = 200


def test_annotate_bench_pushes_once_and_pulls_only_what_changed(layout: Layout) -> None:
    run = CliRunner().invoke(main, ["bench", "annotate", "--tasks", str(TASKS), "--json"])
    assert run.exit_code == 0, run.output
    result = json.loads(run.output)

    assert result["tasks"] == TASKS and result["server"] == "started for the run"
    assert result["pushed"] == result["with_prediction"] == TASKS
    assert result["repush_created"] == 0 and result["repush_already_there"] == TASKS, "a re-push creates nothing"
    assert result["pull_full_tasks"] == result["annotations"] == TASKS == result["server_export_tasks"]

    changed = result["changed_annotations"]
    assert changed == TASKS // 100
    assert result["pull_incremental_tasks"] == result["pull_incremental_changed"] == changed, "only the changed tasks"
    assert result["store_rows"] == result["store_distinct_annotations"] == TASKS, "one row per annotation"
    assert result["store_changed_as_on_server"] is True
    assert result["store_rows_with_prediction"] == TASKS, "predictions pulled on the full and the incremental path"

    for key in ("server_bulk_import_s", "push_s", "repush_s", "pull_full_s", "pull_incremental_s", "server_export_s"):
        assert result[key] > 0, key
    for ratio, ours, theirs in (
        ("push_vs_import", "push_s", "server_bulk_import_s"),
        ("pull_vs_export", "pull_full_s", "server_export_s"),
    ):
        assert abs(result[ratio] - result[ours] / result[theirs]) < 0.01 * result[ratio] + 0.01, ratio
    assert result["server_start_s"] > 0 and result["peak_rss_mb"] > 0 and result["server_rss_mb"] > 0
    data_dir = str(layout.root / "bench" / "annotate" / "labelstudio")
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if data_dir in (p.info["cmdline"] or [])]
    assert not left, "the server started for the run was stopped"
