"""Re-runs replace partitions, unreadable files fail loudly, and the recount notices lost rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from config.layout import Layout
from config.sources import load_sources
from ingest.manifest import partition_files, read_manifests
from ingest.runner import discover_source, ingest_partitions
from ingest.verify import recount
from tests.conftest import HISTORIAN_SOURCES, ingest_all, read_output

SOURCES = HISTORIAN_SOURCES
DAY1 = "timestamp,tag,value\n2024-03-30 10:00:00,T1,1\n2024-03-30 23:59:59,T1,2\n2024-03-31 00:00:00,T1,bad\n"
DAY2 = "timestamp,tag,value\n2024-03-31 00:00:01,T1,3\n"


def test_rerun_replaces_partitions_instead_of_appending(write: Callable[..., Path], layout: Layout) -> None:
    write("hist/1.csv", DAY1)
    write("hist/2.csv", DAY2)
    path = write("sources.yaml", SOURCES)
    first = ingest_all(path, layout)["hist"]
    files_before = sorted(layout.standardised("hist").rglob("*.parquet"))
    second = ingest_all(path, layout)["hist"]
    files_after = sorted(layout.standardised("hist").rglob("*.parquet"))
    assert len(files_after) == len(files_before) and not set(files_after) & set(files_before), "replaced, not added"
    assert [(r.key, r.rows_in, r.rows_out, r.rows_quarantined) for r in second] == [
        (r.key, r.rows_in, r.rows_out, r.rows_quarantined) for r in first
    ]
    assert len(read_output(layout, "hist")) == 3
    assert len(read_output(layout, "hist", "quarantine")) == 1
    # a file spanning midnight feeds two days; the 31st also gets its bad line (attributed by its time text)
    assert {r.key: r.rows_in for r in second} == {"2024-03-30": 2, "2024-03-31": 2}
    assert not list(layout.scratch().glob("hist-*")), "scratch folders are removed"


def test_one_partition_can_be_rematerialised_alone(write: Callable[..., Path], layout: Layout) -> None:
    write("hist/1.csv", DAY1)
    write("hist/2.csv", DAY2)
    path = write("sources.yaml", SOURCES)
    ingest_all(path, layout)
    sources = load_sources(path)
    results = ingest_partitions(sources, sources.get("hist"), ["2024-03-31"], layout, "again")
    assert [(r.key, r.rows_out, r.rows_quarantined) for r in results] == [("2024-03-31", 1, 1)]
    assert len(read_output(layout, "hist")) == 3
    runs = {m["key"]: m["run_id"] for m in read_manifests(layout, "hist")}
    assert runs == {"2024-03-30": "test", "2024-03-31": "again"}


def test_a_removed_export_file_leaves_no_stale_rows(write: Callable[..., Path], layout: Layout) -> None:
    write("hist/1.csv", DAY1)
    second = write("hist/2.csv", DAY2)
    path = write("sources.yaml", SOURCES)
    ingest_all(path, layout)
    second.unlink()
    ingest_all(path, layout)
    assert sorted(r["value"] for r in read_output(layout, "hist")) == [1.0, 2.0]


def test_a_changed_file_is_indexed_again(write: Callable[..., Path], layout: Layout) -> None:
    path = write("sources.yaml", SOURCES)
    write("hist/1.csv", DAY1)
    ingest_all(path, layout)
    write("hist/1.csv", DAY1 + "2024-03-30 11:00:00,T1,7\n")
    results = ingest_all(path, layout)["hist"]
    assert {r.key: r.rows_in for r in results} == {"2024-03-30": 3, "2024-03-31": 1}
    cache = json.loads(layout.index_file("hist").read_text())
    assert len(cache) == 1, "the cache keeps entries for current files only"


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (b"", "empty"),
        (b"timestamp;tag;value\n2024-03-30 10:00:00;T1;1\n", "delimiter"),
        (b"time,tag,value\n2024-03-30 10:00:00,T1,1\n", "'timestamp'"),
        (b"timestamp,tag,tag\n", "repeats column names"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "NUL bytes"),
    ],
)
def test_an_unreadable_file_is_quarantined_whole_and_the_others_go_on(
    write: Callable[..., Path], layout: Layout, content: bytes, cause: str
) -> None:
    write("hist/1.csv", DAY1)
    write("hist/broken.csv", content)
    path = write("sources.yaml", SOURCES)
    results = {r.key: r for r in ingest_all(path, layout)["hist"]}
    assert sorted(r["value"] for r in read_output(layout, "hist")) == [1.0, 2.0], "the good file is published"
    [broken] = [r for r in results.values() if r.unreadable]
    assert broken.key == "unreadable-broken.csv"
    assert [u["file"] for u in broken.unreadable] == ["broken.csv"]
    assert cause in broken.unreadable[0]["cause"] and "Fix:" in broken.unreadable[0]["cause"]
    assert all(r.balanced for r in results.values())
    [record] = [q for q in read_output(layout, "hist", "quarantine") if q["rule"] == "unreadable_file"]
    assert record["source_file"] == "broken.csv" and record["file_size"] == len(content)
    raw_lines = [line for line in content.split(b"\n") if line.strip(b"\r")]
    assert record["rows"] == broken.rows_in == len(raw_lines), "it stands for its raw lines: the balance holds"


def test_recount_detects_rows_missing_from_disk(write: Callable[..., Path], layout: Layout) -> None:
    write("hist/1.csv", DAY1)
    path = write("sources.yaml", SOURCES)
    ingest_all(path, layout)
    sources = load_sources(path)
    source = sources.get("hist")
    files = discover_source(sources, source, layout).files
    assert recount(source, files, "2024-03-31", layout).ok
    for piece in (layout.quarantine("hist") / "day=2024-03-31").glob("*.parquet"):
        piece.unlink()
    broken = recount(source, files, "2024-03-31", layout)
    assert not broken.ok
    assert (broken.rows_in, broken.rows_out, broken.rows_quarantined) == (1, 0, 0)


def test_a_crash_before_the_manifest_swap_leaves_the_old_partition_whole(
    write: Callable[..., Path], layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New files are moved in beside the old ones; until the manifest is swapped, readers see the old version."""
    import ingest.standardise

    write("hist/1.csv", DAY1)
    path = write("sources.yaml", SOURCES)
    ingest_all(path, layout)
    sources = load_sources(path)
    source = sources.get("hist")
    before = {key: partition_files(layout, "hist", "day", key) for key in ("2024-03-30", "2024-03-31")}
    write("hist/1.csv", DAY1.replace(",1\n", ",7\n"))

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("killed between the moves and the manifest swap")

    monkeypatch.setattr(ingest.standardise, "write_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        ingest_partitions(sources, source, None, layout, "crashed")
    assert {key: partition_files(layout, "hist", "day", key) for key in before} == before
    assert all(p.exists() for files in before.values() for p in files), "the old version is whole"
    assert len(list(layout.standardised("hist").rglob("*.parquet"))) > sum(map(len, before.values())), "new ones too"
    monkeypatch.undo()
    ingest_all(path, layout)
    assert sorted(r["value"] for r in read_output(layout, "hist")) == [2.0, 7.0]
    listed = {p for key in before for p in partition_files(layout, "hist", "day", key)}
    assert set(layout.standardised("hist").rglob("*.parquet")) == listed, "the next run removes what the crash left"
