"""The single pass: discovery types a CSV file once into a staged scan, the standardiser publishes it without
reading the file again, and the result is the one the two-pass path (count the text, then type it) gives."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import ingest.index
import ingest.runner
import ingest.stage
from config.layout import Layout
from config.sources import load_sources
from ingest.index import cached_entries
from ingest.runner import discover_source, ingest_partitions, register_for
from ingest.standardise import standardise
from ingest.verify import recount
from tests.conftest import ingest_all, read_output

SOURCES = """
sources:
  - {name: register, kind: asset_register, system: ERP, owner: m, location: reg.csv}
  - name: hist
    kind: historian_long
    system: historian
    owner: process
    location: hist/*.csv
    register: register
    columns: {ts: timestamp}
    timestamp: {format: "%Y-%m-%d %H:%M:%S", timezone: Europe/Berlin}
"""
REGISTER = "node_id,parent_id,level,tag,unit\nP-1,,equipment,,\nMP1,P-1,measurement_point,T1,bar\n"
EXPORT = (
    "timestamp,tag,value,quality\n"
    "2024-03-30 10:00:00,T1,1.5,192\n"
    "2024-03-30 11:00:00, T1 ,2.5,192\n"  # a padded tag: trimmed, published
    "2024-03-31 02:30:00,T1,3,192\n"  # clocks jumped forward: this local time does not exist
    "2024-03-31 10:00:00,T9,4,192\n"  # not in the register
    "2024-03-31 11:00:00,T1,abc,192\n"  # not a number
    "2024-03-31 12:00:00,T1,5,192,extra\n"  # one field too many
    "2024-03-31 13:00:00,T1,6,oops\n"  # not a quality code
    "2024-03-31 14:00:00,T1,7,192\n"
    "2024-04-01 08:00:00,T1,8,192\n"
)


@pytest.fixture
def sources_path(write: Callable[..., Path]) -> Path:
    write("reg.csv", REGISTER)
    write("hist/1.csv", EXPORT)
    return write("sources.yaml", SOURCES)


def _outcome(path: Path, layout: Layout) -> tuple[object, ...]:
    results = ingest_all(path, layout)["hist"]
    parts = [(r.key, r.rows_in, r.rows_out, r.rows_quarantined, r.rules) for r in results]
    good = sorted(json.dumps(r, default=str, sort_keys=True) for r in read_output(layout, "hist"))
    bad = sorted(
        json.dumps({k: r[k] for k in ("source_file", "line", "rule", "detail", "raw")}, sort_keys=True)
        for r in read_output(layout, "hist", "quarantine")
    )
    return parts, good, bad


def test_the_single_pass_gives_what_the_two_pass_path_gives(
    sources_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    single = _outcome(sources_path, Layout(tmp_path / "single"))
    with monkeypatch.context() as patched:  # no staged scan: the text is counted, then typed
        patched.setattr(ingest.runner, "stage_csv", lambda *args: None)
        two_pass = _outcome(sources_path, Layout(tmp_path / "two-pass"))
    assert single == two_pass
    parts, good, bad = single
    # a local time that does not exist has no day: it goes to the file's home partition, its first day
    assert [p[:4] for p in parts] == [("2024-03-30", 3, 2, 1), ("2024-03-31", 5, 1, 4), ("2024-04-01", 1, 1, 0)]
    assert len(good) == 4 and len(bad) == 5
    quarantined = [json.loads(b) for b in bad]
    assert {q["line"]: q["rule"] for q in quarantined} == {
        4: "nonexistent_local_time",
        5: "unknown_tag",
        6: "unparseable_value",
        7: "too_many_columns",
        8: "unknown_quality_code",
    }
    assert all(q["raw"] == EXPORT.splitlines()[q["line"] - 1] and q["source_file"] == "1.csv" for q in quarantined)
    assert any('"tag": "T1"' in g and '"value": 2.5' in g for g in good), "the padded tag was trimmed"


def test_the_export_is_parsed_once(sources_path: Path, layout: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery's typed pass is the only parse: the text is never counted apart, and the standardiser publishes
    every partition with the export gone (it reads the staged scan, not the file)."""

    def no_text_count(*args: object) -> None:
        raise AssertionError("the export was parsed a second time, to count it")

    monkeypatch.setattr(ingest.index, "_count_csv", no_text_count)
    sources = load_sources(sources_path)
    ingest_partitions(sources, sources.get("register"), None, layout, "test")
    historian = sources.get("hist")
    discovery = discover_source(sources, historian, layout)
    (sources_path.parent / "hist" / "1.csv").unlink()
    results = standardise(
        historian, discovery.files, discovery.partitions, layout, register_for(sources, historian, layout)
    )
    assert sum(r.rows_in for r in results) == 9 == sum(r.rows_out + r.rows_quarantined for r in results)
    assert all(r.balanced for r in results)
    assert not list(layout.staged("hist").iterdir()), "a scan whose partitions were all taken is removed"
    assert all(recount(historian, discovery.files, r.key, layout).ok for r in results)


def test_partitions_taken_one_by_one_and_again(sources_path: Path, layout: Layout) -> None:
    """Each partition takes its own pieces of the staged scan; one taken already is scanned again, alike."""
    sources = load_sources(sources_path)
    ingest_partitions(sources, sources.get("register"), None, layout, "test")
    historian = sources.get("hist")
    counts = {}
    for key in ("2024-03-31", "2024-03-30", "2024-04-01", "2024-03-31"):
        [result] = ingest_partitions(sources, historian, [key], layout, "test")
        counts.setdefault(key, []).append((result.rows_in, result.rows_out, result.rows_quarantined, result.rules))
        assert result.balanced
    assert counts["2024-03-31"][0] == counts["2024-03-31"][1] and counts["2024-03-31"][0][:3] == (5, 1, 4)
    assert len(read_output(layout, "hist")) == 4
    assert len(read_output(layout, "hist", "quarantine")) == 5


def test_a_quoted_line_break_declines_the_typed_pass(write: Callable[..., Path], layout: Layout) -> None:
    """Records that are not the raw lines one to one: the staged scan is thrown away, the file is read record by
    record, and nothing is lost."""
    write("reg.csv", REGISTER)
    write("hist/1.csv", 'timestamp,tag,value,quality\n2024-03-30 10:00:00,T1,1,"19\n2"\n2024-03-30 11:00:00,T1,2,192\n')
    path = write("sources.yaml", SOURCES)
    [result] = ingest_all(path, layout)["hist"]
    [entry] = cached_entries(layout, load_sources(path).get("hist"))
    assert entry.reader == "records" and entry.lines == 3
    assert result.rows_out == 1 and result.balanced
    assert not list(layout.staged("hist").iterdir())


def test_the_balance_fails_when_a_files_rows_do_not_add_up_to_its_raw_lines(sources_path: Path, layout: Layout) -> None:
    ingest_all(sources_path, layout)
    historian = load_sources(sources_path).get("hist")
    cache = layout.index_file("hist")
    raw = json.loads(cache.read_text())
    [entry] = raw.values()
    assert entry["lines"] == 9 and sum(entry["partitions"].values()) == 9
    assert recount(historian, cached_entries(layout, historian), "2024-03-30", layout).ok
    entry["lines"] = 10  # a row the typed pass never saw
    cache.write_text(json.dumps(raw))
    broken = recount(historian, cached_entries(layout, historian), "2024-03-30", layout)
    assert not broken.ok and broken.unbalanced_files == ("1.csv",)


def test_a_partly_taken_scan_is_not_trusted(sources_path: Path, layout: Layout) -> None:
    """A run that crashed while moving a partition's pieces leaves the scan short of what its counts say: the
    standardiser scans the file again rather than publish counts the pieces do not hold."""
    sources = load_sources(sources_path)
    ingest_partitions(sources, sources.get("register"), None, layout, "test")
    historian = sources.get("hist")
    discovery = discover_source(sources, historian, layout)
    [piece] = list(layout.staged("hist").glob("*/good/_part=2024-03-31/*.parquet"))
    piece.unlink()
    results = standardise(
        historian, discovery.files, discovery.partitions, layout, register_for(sources, historian, layout)
    )
    assert [(r.key, r.rows_in, r.rows_out, r.rows_quarantined) for r in results] == [
        ("2024-03-30", 3, 2, 1),
        ("2024-03-31", 5, 1, 4),
        ("2024-04-01", 1, 1, 0),
    ]
    assert len(read_output(layout, "hist")) == 4
    assert all(recount(historian, discovery.files, r.key, layout).ok for r in results)


NUMERIC_QUALITY = (
    "timestamp,tag,value,quality\n"
    "2024-03-30 10:00:00,T1,1,192\n"  # OPC DA good
    "2024-03-30 11:00:00,T1,2,2147483648\n"  # OPC UA bad
    "2024-03-30 12:00:00,T1,3,-2147483648\n"  # OPC UA bad, written signed
    "2024-03-30 13:00:00,T1,4,\n"  # no quality: stays empty
    "2024-03-30 14:00:00,T1,5,4294967296\n"  # above 32 bits: no code
    "2024-03-30 15:00:00,T1,6,64\n"  # OPC DA uncertain
)


@pytest.mark.parametrize("word", [None, "Good", "0x80000000", "0x40"])
def test_quality_typed_by_the_reader_decodes_as_text_does(
    write: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, word: str | None
) -> None:
    """Whole-number qualities are typed by the reader (no text copy per reading); one that is not (a word, hex)
    has the file scanned again with quality as text. Either way the rows are those of the text reading."""
    write("reg.csv", REGISTER)
    export = NUMERIC_QUALITY + (f"2024-03-30 16:00:00,T1,7,{word}\n" if word else "")
    write("hist/1.csv", export)
    path = write("sources.yaml", SOURCES)
    typed = _outcome(path, Layout(tmp_path / "typed"))
    [entry] = cached_entries(Layout(tmp_path / "typed"), load_sources(path).get("hist"))
    assert entry.numeric_quality is (word is None) and entry.reader == "csv"
    with monkeypatch.context() as patched:  # every quality read as text, as before the typed reading
        patched.setattr(ingest.stage, "_rejected_in", lambda *args: True)
        text = _outcome(path, Layout(tmp_path / "text"))
    assert typed == text
    _, good, bad = typed
    qualities = sorted((json.loads(g)["value"], json.loads(g)["quality"], json.loads(g)["quality_class"]) for g in good)
    expected = [(1.0, 192, "good"), (2.0, 2147483648, "bad"), (3.0, 2147483648, "bad"), (4.0, None, None)]
    expected.append((6.0, 64, "uncertain"))
    if word == "Good":
        expected.append((7.0, 0, "good"))
    if word == "0x80000000":
        expected.append((7.0, 2147483648, "bad"))
    if word == "0x40":  # hex is an OPC UA code: good, where the byte 64 in OPC DA is uncertain
        expected.append((7.0, 64, "good"))
    assert qualities == sorted(expected)
    assert [json.loads(b)["rule"] for b in bad] == ["unknown_quality_code"] and "4294967296" in bad[0]
