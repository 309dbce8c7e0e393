"""Column profiles: exact counts and ranges, histograms over finite values, approximate quartiles."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import catalog.profile
from catalog.pii.text_columns import text_value_counts
from catalog.profile import profile
from config.kinds import SourceKind


def test_counts_ranges_histograms_and_quartiles_of_a_readings_file(tmp_path: Path) -> None:
    start = datetime(2024, 3, 30, tzinfo=UTC)
    values = [float(i) for i in range(1000)] + [None, float("inf"), float("nan")]
    table = pa.table(
        {
            "ts": [start + timedelta(seconds=i) for i in range(len(values))],
            "tag": ["P-101.PT"] * len(values),
            "value": values,
            "quality": [192] * (len(values) - 1) + [None],
        }
    )
    pq.write_table(table, tmp_path / "part-0.parquet")
    by_name = {c.name: c for c in profile([str(tmp_path / "part-0.parquet")], SourceKind.HISTORIAN_LONG)}

    value = by_name["value"]
    assert (value.rows, value.nulls) == (1003, 1)
    histogram = json.loads(value.histogram or "{}")
    assert len(histogram) == 10 and sum(histogram.values()) == 1000, "finite values only, each counted once"
    quartiles = [float(q) for q in (value.q25, value.q50, value.q75) if q is not None]
    assert len(quartiles) == 3 and 0 <= quartiles[0] < quartiles[1] < quartiles[2] <= 999
    assert abs(quartiles[1] - 500) < 60, quartiles

    ts = by_name["ts"]
    assert (ts.min, ts.max) == ("2024-03-30 00:00:00+00", "2024-03-30 00:16:42+00")
    assert ts.q50 is not None and ts.q50.endswith("+00") and ts.min <= ts.q50 <= ts.max, "same text form as min"
    assert (by_name["tag"].min, by_name["tag"].distinct_approx) == ("P-101.PT", 1), "a tag is a code: shown"
    assert (by_name["quality"].nulls, by_name["quality"].max) == (1, "192")


def test_nested_columns_are_profiled_too(tmp_path: Path) -> None:
    table = pa.table({"spans": [[1, 2], [3], None], "meta": [{"a": 1}, {"a": 2}, {"a": None}], "n": [1, 2, 3]})
    pq.write_table(table, tmp_path / "part-0.parquet")
    by_name = {c.name: c for c in profile([str(tmp_path / "part-0.parquet")])}
    assert set(by_name) == {"spans", "meta", "n"}
    assert (by_name["spans"].nulls, by_name["n"].max, by_name["n"].rows) == (1, "3", 3)


@pytest.mark.parametrize("few_values", [100_000, 0])
def test_text_ranges_are_the_columns_min_and_max_however_many_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, few_values: int
) -> None:
    """Text ranges come from distinct values when a column has few, compared row by row when it has many: the same
    min and max either way, NULLs left out, and none at all for a column that may name people."""
    monkeypatch.setattr(catalog.profile, "FEW_VALUES", few_values)
    equipment = [f"P-{i % 37:03d}" for i in range(5000)] + [None]
    orders = [f"WO-{(i * 7919) % 5001:05d}" for i in range(5001)]
    table = pa.table({"equipment_id": equipment, "wo_id": orders, "description": ["Müller called"] * 5001})
    pq.write_table(table, tmp_path / "part-0.parquet")
    by_name = {c.name: c for c in profile([str(tmp_path / "part-0.parquet")], SourceKind.WORK_ORDERS)}
    assert (by_name["equipment_id"].min, by_name["equipment_id"].max, by_name["equipment_id"].nulls) == (
        "P-000",
        "P-036",
        1,
    )
    assert (by_name["wo_id"].min, by_name["wo_id"].max) == ("WO-00000", "WO-05000")
    assert (by_name["description"].min, by_name["description"].max) == (None, None)


def test_text_columns_known_from_the_personal_data_scan_profile_as_read(tmp_path: Path) -> None:
    """The personal-data scan counts every text value of a column released unchanged: its profile takes them (an
    exact distinct count) and gives what reading the column gives."""
    equipment = [f"P-{i % 37:03d}" for i in range(5000)] + [None]
    table = pa.table({"equipment_id": equipment, "description": ["Müller called"] * 5001, "n": list(range(5001))})
    path = tmp_path / "part-0.parquet"
    pq.write_table(table, path)
    known = dict(text_value_counts([path]))
    assert set(known) == {"equipment_id", "description"}
    read = {c.name: c for c in profile([str(path)], SourceKind.WORK_ORDERS)}
    given = {c.name: c for c in profile([str(path)], SourceKind.WORK_ORDERS, known)}
    assert {n: replace(c, distinct_approx=0) for n, c in given.items()} == {
        n: replace(c, distinct_approx=0) for n, c in read.items()
    }
    assert abs(read["equipment_id"].distinct_approx - 37) <= 2, "read: approximate; given: exact"
    assert (given["equipment_id"].distinct_approx, given["equipment_id"].nulls) == (37, 1)
    assert (given["equipment_id"].min, given["equipment_id"].max) == ("P-000", "P-036")


def test_one_scan_when_the_statistics_tell_the_ranges_and_the_same_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files whose footers hold exact ranges (DuckDB's, without NaN) are profiled in one scan, histograms
    included; the profile is the one two scans give. NaN or infinity in a column sends it back to two scans."""
    path = tmp_path / "part-0.parquet"
    duckdb.execute(
        f"COPY (SELECT i::DOUBLE / 7 AS value, i % 5 AS code FROM range(5000) t(i)) TO '{path}' (FORMAT parquet)"
    )
    assert catalog.profile._finite_ranges_from_statistics(duckdb.connect(), [str(path)], ["value", "code"]) == {
        "value": (0.0, 4999 / 7),
        "code": (0.0, 4.0),
    }
    one = {c.name: c for c in profile([str(path)])}
    monkeypatch.setattr(catalog.profile, "_finite_ranges_from_statistics", lambda *args: {})
    two = {c.name: c for c in profile([str(path)])}
    strip = {"q25": None, "q50": None, "q75": None}  # a reservoir sample: approximate, not compared
    assert {n: replace(c, **strip) for n, c in one.items()} == {n: replace(c, **strip) for n, c in two.items()}
    assert sum(json.loads(one["value"].histogram or "{}").values()) == 5000
    odd = tmp_path / "odd.parquet"
    duckdb.execute(f"COPY (SELECT * FROM (VALUES (1.0), ('nan'::DOUBLE), ('inf'::DOUBLE)) t(v)) TO '{odd}'")
    assert catalog.profile._finite_ranges_from_statistics(duckdb.connect(), [str(odd)], ["v"]) == {}
