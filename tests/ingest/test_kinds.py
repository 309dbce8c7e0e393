"""Each source kind, end to end from export files to canonical Parquet and quarantine."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import fsspec
import pytest

from config.layout import Layout
from tests.conftest import ingest_all, read_output

REGISTER = """
node_id,parent_id,level,name,equipment_type,tag,unit,low_limit,high_limit,safety_related
S1,,site,Site,,,,,,false
P-1,S1,equipment,Pump 1,pump,,,,,true
MP1,P-1,measurement_point,Flow,,P1.FLOW,m3/h,0,100,false
MP2,P-1,measurement_point,Bearing temperature,,P1.TEMP,degC,0,120,false
"""
REGISTER_SOURCE = """
  - {name: register, kind: asset_register, system: ERP, owner: maintenance, location: reg.csv}
"""


def _sources(write: Callable[..., Path], body: str, register: bool = True) -> Path:
    if register:
        write("reg.csv", REGISTER)
    return write("sources.yaml", "sources:\n" + (REGISTER_SOURCE if register else "") + body)


def test_historian_long_links_equipment_converts_units_and_maps_time(
    write: Callable[..., Path], layout: Layout
) -> None:
    write(
        "hist/h_2024-03-31.csv",
        """
        timestamp,tag,value,quality
        2024-03-31 01:59:59,P1.FLOW,10.5,192
        2024-03-31 03:00:00,P1.TEMP,212,192
        """,
    )
    path = _sources(
        write,
        """
  - name: hist
    kind: historian_long
    system: historian
    owner: process
    location: hist/*.csv
    register: register
    columns: {ts: timestamp}
    units: {P1.TEMP: degF}
    timestamp: {format: "%Y-%m-%d %H:%M:%S", timezone: Europe/Berlin}
""",
    )
    results = ingest_all(path, layout)
    rows = sorted(read_output(layout, "hist"), key=lambda r: str(r["ts"]))
    assert [(r["ts"], r["tag"], r["equipment_id"], r["unit"]) for r in rows] == [
        (datetime(2024, 3, 31, 0, 59, 59, tzinfo=UTC), "P1.FLOW", "P-1", "m3/h"),
        (datetime(2024, 3, 31, 1, 0, 0, tzinfo=UTC), "P1.TEMP", "P-1", "degC"),
    ]
    assert rows[1]["value"] == pytest.approx(100.0)  # 212 °F
    assert [r.key for r in results["hist"]] == ["2024-03-31"]
    assert (layout.standardised("hist") / "day=2024-03-31").is_dir()


def test_historian_long_quarantines_with_file_line_rule_and_raw_text(
    write: Callable[..., Path], layout: Layout
) -> None:
    write(
        "hist/h.csv",
        """
        timestamp,tag,value,quality
        2024-03-31 01:00:00,P1.FLOW,1.0,192
        2024-03-31 02:30:00,P1.FLOW,2.0,192
        2024-03-31 03:00:01,P1.NOPE,3.0,192
        2024-03-31 03:00:02,P1.FLOW,#N/A,192
        2024-03-31 03:00:03,P1.FLOW,4.0,192,extra
        not a time,P1.FLOW,5.0,192
        2024-03-31 03:00:04,P1.FLOW,6.0,192
        2024-03-31 03:00:05,P1.FL""",
    )
    path = _sources(
        write,
        """
  - name: hist
    kind: historian_long
    system: historian
    owner: process
    location: hist/*.csv
    register: register
    columns: {ts: timestamp}
    timestamp: {timezone: Europe/Berlin}
""",
    )
    results = ingest_all(path, layout)["hist"]
    quarantined = {
        r["line"]: (r["rule"], r["raw"], r["source_file"]) for r in read_output(layout, "hist", "quarantine")
    }
    assert {line: rule for line, (rule, _, _) in quarantined.items()} == {
        3: "nonexistent_local_time",
        4: "unknown_tag",
        5: "unparseable_value",
        6: "too_many_columns",
        7: "invalid_timestamp",
        9: "missing_columns",
    }
    assert quarantined[4][1] == "2024-03-31 03:00:01,P1.NOPE,3.0,192"
    assert all(file == "h.csv" for _, _, file in quarantined.values())
    assert sum(r.rows_in for r in results) == 8
    assert sum(r.rows_out for r in results) == 2
    assert all(r.balanced for r in results)


def test_historian_wide_unpivots_every_value_column(write: Callable[..., Path], layout: Layout) -> None:
    write(
        "skab/a/1.csv",
        """
        datetime;Current;Pressure;anomaly
        2020-03-09 10:14:33;1,5;0,05;0
        2020-03-09 10:14:34;1,6;;1
        2020-03-09 10:14:35;oops;0,07;0
        """,
    )
    write(
        "skab/b/1.csv",
        """
        datetime;Current;Pressure
        2020-03-09 23:59:59;1,7;0,08
        """,
    )
    path = _sources(
        write,
        """
  - name: skab
    kind: historian_wide
    system: SCADA
    owner: lab
    location: skab/**/*.csv
    csv: {delimiter: ";", decimal: ","}
    columns: {ts: datetime}
    timestamp: {timezone: "+03:00"}
    tag_prefix: "bed."
    equipment: testbed
    units: {Current: A, Pressure: bar}
""",
        register=False,
    )
    results = ingest_all(path, layout)["skab"]
    rows = read_output(layout, "skab")
    assert len(rows) == 2 * 3 + 1 * 2  # input rows x value columns, empty cells kept as NULL readings
    assert {r["tag"] for r in rows} == {"bed.Current", "bed.Pressure", "bed.anomaly"}
    assert {r["equipment_id"] for r in rows} == {"testbed"}
    assert {r["source_file"] for r in rows} == {"a/1.csv", "b/1.csv"}
    current = [r for r in rows if r["tag"] == "bed.Current" and r["source_file"] == "a/1.csv"]
    assert sorted(r["value"] for r in current) == [1.5, 1.6]
    assert min(r["ts"] for r in rows) == datetime(2020, 3, 9, 7, 14, 33, tzinfo=UTC)
    assert sum(r.rows_in for r in results) == 4
    assert sum(r.rows_out for r in results) == 3
    assert [q["rule"] for q in read_output(layout, "skab", "quarantine")] == ["unparseable_value"]


def test_event_log_links_alarms_to_equipment(write: Callable[..., Path], layout: Layout) -> None:
    write(
        "alarms/a.csv",
        """
        timestamp,tag,alarm_type,priority,state,message
        2024-03-30 10:00:00,P1.TEMP,HI,2,ACTIVE,Bearing temperature high
        2024-03-30 10:05:00,,SYS,4,ACTIVE,Historian link restored
        2024-03-30 10:06:00,P1.FLOW,LO,x,ACTIVE,Flow low
        """,
    )
    path = _sources(
        write,
        """
  - name: alarms
    kind: event_log
    system: SCADA
    owner: control room
    location: alarms/*.csv
    register: register
    columns: {ts: timestamp, event_type: alarm_type}
    timestamp: {timezone: Europe/Berlin}
""",
    )
    ingest_all(path, layout)
    rows = sorted(read_output(layout, "alarms"), key=lambda r: str(r["ts"]))
    assert [(r["tag"], r["equipment_id"], r["event_type"]) for r in rows] == [
        ("P1.TEMP", "P-1", "HI"),
        (None, None, "SYS"),
    ]
    assert [(q["line"], q["rule"]) for q in read_output(layout, "alarms", "quarantine")] == [(4, "unparseable_value")]


def test_work_orders_jsonl_keep_line_numbers_for_bad_records(write: Callable[..., Path], layout: Layout) -> None:
    good = {
        "wo_id": "WO-1",
        "equipment_id": "P-1",
        "created_at": "2024-03-30T08:00:00Z",
        "description": "Replaced seal",
    }
    write(
        "cmms/wo.jsonl",
        "\n".join(
            [
                json.dumps(good),
                '{"wo_id": "WO-2", "equipment_id": "P-1", "created_at": "2024-03-30T09:00:00Z", "description": "broken',
                "",
                json.dumps({**good, "wo_id": "WO-3", "created_at": "yesterday"}),
                json.dumps({**good, "wo_id": "WO-4", "equipment_id": None}),
                json.dumps({**good, "wo_id": "WO-5", "created_at": "2024-03-31T23:30:00+02:00", "priority": 2}),
            ]
        )
        + "\n",
    )
    path = _sources(
        write,
        """
  - name: work_orders
    kind: work_orders
    system: CMMS
    owner: maintenance
    location: cmms/*.jsonl
    format: jsonl
    columns: {ts: created_at}
    timestamp: {timezone: data}
""",
        register=False,
    )
    results = ingest_all(path, layout)["work_orders"]
    rows = read_output(layout, "work_orders")
    assert sorted(r["wo_id"] for r in rows) == ["WO-1", "WO-5"]
    wo5 = next(r for r in rows if r["wo_id"] == "WO-5")
    assert wo5["ts"] == datetime(2024, 3, 31, 21, 30, tzinfo=UTC)
    assert wo5["priority"] == "2"
    quarantine = {q["line"]: q["rule"] for q in read_output(layout, "work_orders", "quarantine")}
    assert quarantine == {2: "invalid_json", 4: "invalid_timestamp", 5: "missing_required"}
    assert sum(r.rows_in for r in results) == 5
    assert all(r.balanced for r in results)


def test_asset_register_is_file_partitioned(write: Callable[..., Path], layout: Layout) -> None:
    path = _sources(write, "")
    results = ingest_all(path, layout)["register"]
    assert [(r.key, r.rows_in, r.rows_out) for r in results] == [("reg.csv", 4, 4)]
    rows = read_output(layout, "register")
    assert {r["level"] for r in rows} == {"site", "equipment", "measurement_point"}
    assert next(r for r in rows if r["node_id"] == "P-1")["safety_related"] is True


def test_generic_table_with_decimal_comma_cp1252_and_no_header(write: Callable[..., Path], layout: Layout) -> None:
    write(
        "mes/orders.csv",
        "FA-1;L-1;Kühlmittel;100;98,5;01.03.2024 06:00\nFA-2;L-1;Öl;50;;01.03.2024 07:00\n",
        encoding="cp1252",
    )
    path = _sources(
        write,
        """
  - name: orders
    kind: table
    system: MES
    owner: planning
    location: mes/*.csv
    csv: {delimiter: ";", decimal: ",", encoding: cp1252, header: false,
          column_names: [order_id, line_id, product, planned_qty, produced_qty, start_time]}
    timestamp: {format: "%d.%m.%Y %H:%M", timezone: Europe/Berlin}
    time_column: start_time
    schema: {order_id: VARCHAR, product: VARCHAR, planned_qty: BIGINT, produced_qty: DOUBLE, start_time: TIMESTAMP}
""",
        register=False,
    )
    ingest_all(path, layout)
    rows = sorted(read_output(layout, "orders"), key=lambda r: str(r["order_id"]))
    assert [(r["order_id"], r["product"], r["planned_qty"], r["produced_qty"]) for r in rows] == [
        ("FA-1", "Kühlmittel", 100, 98.5),
        ("FA-2", "Öl", 50, None),
    ]
    assert rows[0]["start_time"] == datetime(2024, 3, 1, 5, 0, tzinfo=UTC)


def test_parquet_exports_are_read_with_row_numbers(write: Callable[..., Path], layout: Layout, tmp_path: Path) -> None:
    import duckdb

    (tmp_path / "pq").mkdir()
    duckdb.execute(
        f"COPY (SELECT * FROM (VALUES ('I-1', '2024-03-30T08:00:00Z', '1.5'), ('I-2', 'garbage', '2.5')) "
        f"t(inspection_id, ts, measured_value)) TO '{tmp_path / 'pq' / 'part.parquet'}' (FORMAT parquet)"
    )
    path = _sources(
        write,
        """
  - name: inspections
    kind: table
    system: QMS
    owner: quality
    location: pq/*.parquet
    format: parquet
    timestamp: {timezone: data}
    time_column: ts
    schema: {inspection_id: VARCHAR, ts: TIMESTAMP, measured_value: DOUBLE}
""",
        register=False,
    )
    ingest_all(path, layout)
    assert [r["inspection_id"] for r in read_output(layout, "inspections")] == ["I-1"]
    assert [(q["line"], q["rule"]) for q in read_output(layout, "inspections", "quarantine")] == [
        (2, "invalid_timestamp")
    ]


def test_locations_on_other_filesystems_go_through_fsspec(write: Callable[..., Path], layout: Layout) -> None:
    memory = fsspec.filesystem("memory")
    memory.pipe(
        "/plant/cmms/wo.jsonl", b'{"wo_id": "W1", "equipment_id": "P-1", "created_at": "2024-03-30T08:00:00Z"}\n'
    )
    memory.pipe("/plant/hist/h.csv", b"ts,tag,value\n2024-03-30 08:00:00,T1,1.5\n2024-03-30 08:00:01,T1,x\n")
    path = write(
        "sources.yaml",
        """
sources:
  - {name: wo, kind: work_orders, system: CMMS, owner: m, location: "memory://plant/cmms/*.jsonl", format: jsonl,
     columns: {ts: created_at}, timestamp: {timezone: data}}
  - {name: hist, kind: historian_long, system: historian, owner: p, location: "memory://plant/hist/*.csv"}
""",
    )
    results = ingest_all(path, layout)
    assert [(r.key, r.rows_out) for r in results["wo"]] == [("2024-03-30", 1)]
    assert results["wo"][0].files[0]["uri"].endswith("plant/cmms/wo.jsonl")
    assert results["wo"][0].files[0]["uri"].startswith("memory://")
    assert [(r.rows_in, r.rows_out, r.rows_quarantined) for r in results["hist"]] == [(2, 1, 1)]
