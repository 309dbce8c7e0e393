"""Work follows what changed: a run with nothing new does no work; a new day, an edited file, a changed rule or a
lost gate verdict make exactly the partitions they touch run again."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from config.layout import Layout
from pipelines.cli import main
from pipelines.run import instance_for, run_all

SOURCES = """
sources:
  - name: hist
    kind: historian_long
    system: historian
    owner: process
    location: hist/*.csv
    columns: {{ts: timestamp}}
    quality: {{max_dirty_rate: {dirty}}}
"""


def _day(day: str, value: float = 1.5) -> str:
    return f"timestamp,tag,value,quality\n{day} 10:00:00,T1,{value},Good\n{day} 10:00:01,T1,{value + 0.1},Good\n"


def _versions(layout: Layout) -> int:
    listed = CliRunner().invoke(main, ["catalog", "list", "--json"], env={"PLANTDATA_HOME": str(layout.root)})
    [dataset] = json.loads(listed.output)
    return int(dataset["version"])


def _ran(outcomes: list, source: str = "hist") -> bool:  # type: ignore[type-arg]
    [outcome] = [o for o in outcomes if o.source == source]
    return not outcome.skipped


def test_work_follows_what_changed(write: Callable[..., Path], layout: Layout) -> None:
    for day in ("2024-05-01", "2024-05-02"):
        write(f"hist/{day}.csv", _day(day))
    path = write("sources.yaml", SOURCES.format(dirty=0.05))
    first = run_all(path, layout.root)
    assert all(o.success for o in first) and _ran(first) and _ran(first, "catalog")
    assert _versions(layout) == 1
    runs = len(instance_for(layout.root).get_run_records())

    again = run_all(path, layout.root)
    assert all(o.success for o in again)
    assert not _ran(again) and not _ran(again, "catalog"), "nothing changed: nothing runs"
    assert len(instance_for(layout.root).get_run_records()) == runs

    write("hist/2024-05-03.csv", _day("2024-05-03"))  # a new day
    manifests = layout.manifests("hist")
    before = {p.name: p.stat().st_mtime_ns for p in manifests.glob("*.json")}
    new_day = run_all(path, layout.root)
    assert _ran(new_day) and _ran(new_day, "catalog")
    after = {p.name: p.stat().st_mtime_ns for p in manifests.glob("*.json")}
    assert after["2024-05-03.json"] and {k: after[k] for k in before} == before, "only the new day was standardised"
    assert _versions(layout) == 2

    write("hist/2024-05-01.csv", _day("2024-05-01", value=2.5))  # an export corrected in place
    corrected = run_all(path, layout.root)
    assert _ran(corrected) and _versions(layout) == 3

    evaluations = sorted((layout.quality("hist") / "2024-05-02").glob("*.json"))
    evaluations[-1].unlink()  # the gate's newest verdict lost (a run killed after standardising, say)
    assert _ran(run_all(path, layout.root)), "no verdict for the content: judge it again"
    assert not _ran(run_all(path, layout.root))

    path = write("sources.yaml", SOURCES.format(dirty=0.01))  # a rule changed: every partition is judged again
    before = {p.name: p.stat().st_mtime_ns for p in manifests.glob("*.json")}
    changed = run_all(path, layout.root)
    assert _ran(changed)
    after = {p.name: p.stat().st_mtime_ns for p in manifests.glob("*.json")}
    assert all(after[k] != before[k] for k in before), "every partition ran with the new rule"

    (layout.catalog() / "CURRENT").unlink()  # the catalog lost: publish again even though no source changed
    for snapshot in layout.catalog().glob("catalog-*.duckdb"):
        snapshot.unlink()
    republished = run_all(path, layout.root)
    assert not _ran(republished) and _ran(republished, "catalog")
    assert _versions(layout) == 1
