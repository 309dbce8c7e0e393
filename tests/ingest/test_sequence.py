"""Counters as the axis: run-to-failure data keyed by entity and cycle, and a file keyed by its line numbers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from config.errors import ConfigError
from config.layout import Layout
from config.sources import load_sources
from quality.gate import evaluate_source, publish_gated
from tests.conftest import ingest_all, read_output

SOURCES = """
sources:
  - name: train
    kind: table
    system: LIMS
    owner: reliability
    location: train_*.txt
    csv: {delimiter: " ", header: false, column_names: [unit, cycle, setting, sensor]}
    schema: {unit: BIGINT, cycle: BIGINT, setting: DOUBLE, sensor: DOUBLE}
    sequence: {entity: unit, counter: cycle}
    partition: entity
  - name: rul
    kind: table
    system: LIMS
    owner: reliability
    location: RUL_*.txt
    csv: {header: false, column_names: [rul]}
    schema: {unit: BIGINT, rul: BIGINT}
    columns: {unit: {line_number: true}}
"""
# unit 1: cycles 1-4; unit 2: cycle 3 missing (a gap); unit 3: cycles 1-3 and then cycle 2 again (backwards, twice)
TRAIN = "".join(
    f"{unit} {cycle} 0.5 {10 * unit + cycle}.0\n"
    for unit, cycle in [(1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 2), (2, 4), (2, 5), (3, 1), (3, 2), (3, 3), (3, 2)]
)


@pytest.fixture
def plant(write: Callable[..., Path], layout: Layout) -> Path:
    write("train_FD001.txt", TRAIN)
    write("RUL_FD001.txt", "112\n98\n69\n")
    return write("sources.yaml", SOURCES)


def test_a_sequence_source_is_partitioned_by_entity_and_keeps_lines(plant: Path, layout: Layout) -> None:
    results = ingest_all(plant, layout)
    assert {r.key: r.rows_in for r in results["train"]} == {"1": 4, "2": 4, "3": 4}
    rows = read_output(layout, "train")
    assert sorted((r["unit"], r["cycle"], r["source_line"]) for r in rows if r["unit"] == 3) == [
        (3, 1, 9),
        (3, 2, 10),
        (3, 2, 12),
        (3, 3, 11),
    ]


def test_a_file_keyed_by_line_number_joins_by_entity(plant: Path, layout: Layout) -> None:
    ingest_all(plant, layout)
    rul = {r["unit"]: r["rul"] for r in read_output(layout, "rul")}
    assert rul == {1: 112, 2: 98, 3: 69}
    files = [str(p) for p in layout.standardised("train").rglob("*.parquet")]
    rul_files = [str(p) for p in layout.standardised("rul").rglob("*.parquet")]
    joined = duckdb.execute(
        "SELECT t.unit, max(t.cycle), any_value(r.rul) FROM read_parquet(?) t JOIN read_parquet(?) r USING (unit) "
        "GROUP BY t.unit ORDER BY t.unit",
        [files, rul_files],
    ).fetchall()
    assert joined == [(1, 4, 112), (2, 5, 98), (3, 3, 69)]


def test_per_entity_rules_flag_duplicates_gaps_and_counters_going_back(plant: Path, layout: Layout) -> None:
    ingest_all(plant, layout)
    source = load_sources(plant).get("train")
    evaluations = {e.key: e for e in evaluate_source(source, ["1", "2", "3"], layout, "run-1")}
    unexpected = {key: {r.name: r.unexpected for r in e.results if r.level == "row"} for key, e in evaluations.items()}
    assert unexpected["1"] == {"duplicate_counter": 0, "counter_backwards": 0, "counter_gap": 0}
    assert unexpected["2"] == {"duplicate_counter": 0, "counter_backwards": 0, "counter_gap": 1}
    assert unexpected["3"] == {"duplicate_counter": 1, "counter_backwards": 1, "counter_gap": 0}
    outcome = publish_gated(source, ["1", "2", "3"], layout)
    assert {p.key: p.rows_gated for p in outcome.published} == {"1": 4, "2": 4, "3": 3}
    [removed] = [q for q in read_output(layout, "train", "quarantine") if q["rule"] == "duplicate_counter"]
    assert (removed["source_file"], removed["line"]) == ("train_FD001.txt", 12), "the later copy, with its line"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("kind: event_log\n    sequence: {entity: a, counter: b}", "sequence applies to kind table"),
        ("kind: table\n    schema: {a: VARCHAR, b: VARCHAR}\n    sequence: {entity: a, counter: b}", "must be numeric"),
        ("kind: table\n    schema: {a: VARCHAR, b: BIGINT}\n    sequence: {entity: x, counter: b}", "is not in schema"),
        ("kind: table\n    schema: {a: VARCHAR}\n    partition: entity", "partition: entity needs sequence"),
    ],
)
def test_sequence_mistakes_are_named(write: Callable[..., Path], entry: str, message: str) -> None:
    path = write(
        "sources.yaml",
        f"sources:\n  - name: s\n    system: LIMS\n    owner: o\n    location: x.csv\n    {entry}\n",
    )
    with pytest.raises(ConfigError, match=message) as caught:
        load_sources(path)
    assert "sources[s]" in str(caught.value)


def test_an_entity_of_several_columns_keeps_restarting_ids_apart(write: Callable[..., Path], layout: Layout) -> None:
    """C-MAPSS numbers engines from 1 in every file: the entity is the file and the unit, not the unit alone."""
    write("train_FD001.txt", "1 1 0.5 1.0\n1 2 0.5 1.0\n2 1 0.5 1.0\n")
    write("train_FD002.txt", "1 1 0.5 2.0\n1 2 0.5 2.0\n1 2 0.5 2.0\n")
    composite = SOURCES.replace(
        "sequence: {entity: unit, counter: cycle}\n    partition: entity",
        "sequence: {entity: [source_file, unit], counter: cycle}",
    )
    path = write("sources.yaml", composite)
    ingest_all(path, layout)
    source = load_sources(path).get("train")
    keys = ["train_FD001.txt", "train_FD002.txt"]
    evaluations = {e.key: {r.name: r.unexpected for r in e.results} for e in evaluate_source(source, keys, layout, "r")}
    assert evaluations["train_FD001.txt"]["duplicate_counter"] == 0
    assert evaluations["train_FD002.txt"]["duplicate_counter"] == 1, "only the real repeat in FD002"
