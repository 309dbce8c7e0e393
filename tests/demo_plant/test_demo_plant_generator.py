"""The embedded demo plant: determinism, register validity, planted defects, faults and personal data."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import statistics
from functools import cache
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from demo_plant import DemoPlant, generate
from demo_plant.errors import DemoArgumentError

TINY = {"days": 2, "tags": 40, "min_period_s": 30, "max_period_s": 60}
TZ = ZoneInfo("Europe/Berlin")
EXPECTED_DEFECTS = {
    "gap_tag", "gap_plant", "duplicate_row", "out_of_order_row", "stuck_sensor", "spike", "unit_mixup",
    "dst_nonexistent_time", "malformed_non_numeric", "malformed_missing_column", "unknown_tag", "truncated_file",
    "unknown_equipment_id", "broken_json", "undeclared_unit", "late_export",
}  # fmt: skip


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> DemoPlant:
    return generate(tmp_path_factory.mktemp("demo") / "plant", **TINY)


def _register(root: Path) -> list[dict[str, str]]:
    with (root / "asset_register" / "asset_register.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def _lines(path: Path) -> list[str]:
    """Physical lines; line number n is index n - 1."""
    return path.read_text(encoding="utf-8").split("\n")


def _ts(line: str) -> dt.datetime:
    return dt.datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S")


def _local(iso_utc: str) -> dt.datetime:
    utc = dt.datetime.strptime(iso_utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return utc.astimezone(TZ).replace(tzinfo=None)


def _series(root: Path, tag: str) -> list[tuple[dt.datetime, float]]:
    out = []
    for path in sorted((root / "historian").glob("historian_*.csv")):
        for line in _lines(path)[1:]:
            f = line.split(",")
            if len(f) == 4 and f[1] == tag:
                try:
                    out.append((_ts(line), float(f[2])))
                except ValueError:
                    continue
    return out


def _between(series: list[tuple[dt.datetime, float]], a: dt.datetime, b: dt.datetime) -> list[float]:
    return [v for t, v in series if a <= t < b]


def _jitter(values: list[float]) -> float:
    """Sample-to-sample noise (insensitive to slow process changes)."""
    return statistics.stdev(b - a for a, b in pairwise(values))


def test_same_arguments_give_byte_identical_files(plant: DemoPlant, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", **TINY)
    rel = [p.relative_to(plant.out_dir) for p in plant.files]
    assert rel == [p.relative_to(again.out_dir) for p in again.files]
    for r in rel:
        assert (plant.out_dir / r).read_bytes() == (again.out_dir / r).read_bytes(), r
    assert again.historian_rows == plant.historian_rows


def test_output_layout(plant: DemoPlant) -> None:
    root = plant.out_dir
    expected = [
        "asset_register/asset_register.csv", "historian/historian_2024-03-30.csv",
        "historian/historian_2024-03-31.csv", "mes/production_orders.csv", "alarms/alarms_2024-03-30.csv",
        "alarms/alarms_2024-03-31.csv", "quality/inspections.csv", "cmms/work_orders.jsonl",
        "cmms/personnel_roster.csv", "ground_truth/faults.json", "ground_truth/defects.json",
        "ground_truth/personal_data.json",
    ]  # fmt: skip
    assert sorted(p.relative_to(root).as_posix() for p in plant.files) == sorted(expected)
    assert all((root / e).is_file() for e in expected)


def test_register_hierarchy_is_valid(plant: DemoPlant) -> None:
    rows = _register(plant.out_dir)
    assert list(rows[0]) == [
        "node_id", "parent_id", "level", "name", "equipment_type", "tag", "unit", "low_limit", "high_limit",
        "safety_related",
    ]  # fmt: skip
    by_id = {r["node_id"]: r for r in rows}
    assert len(by_id) == len(rows)
    parent_level = {"site": "enterprise", "area": "site", "line": "area", "unit": "line", "equipment": "unit",
                    "measurement_point": "equipment"}  # fmt: skip
    for r in rows:
        if r["level"] == "enterprise":
            assert r["parent_id"] == ""
            continue
        assert by_id[r["parent_id"]]["level"] == parent_level[r["level"]], r
    levels = [r["level"] for r in rows]
    assert levels.count("site") == 1
    assert 2 <= levels.count("area") <= 3
    assert levels.count("equipment") >= 30
    points = [r for r in rows if r["level"] == "measurement_point"]
    assert len(points) == TINY["tags"] == plant.tags
    assert len({p["tag"] for p in points}) == len(points)
    for p in points:
        assert p["unit"] in {"m3/h", "bar", "A", "degC", "mm/s", "rpm", "kW", "%"}
        assert float(p["low_limit"]) < float(p["high_limit"])
    for r in rows:
        assert r["safety_related"] in {"true", "false"}
        if r["level"] != "measurement_point":
            assert r["tag"] == r["unit"] == r["low_limit"] == ""
    assert any(r["safety_related"] == "true" and r["level"] == "equipment" for r in rows)


def test_default_tag_count_builds_a_large_register(tmp_path: Path) -> None:
    from demo_plant import register
    from demo_plant.generator import required_kinds
    from demo_plant.rng import stream

    for tags in (40, 200, 300):
        plant = register.build_plant(tags, stream(7, "layout"), required_kinds())
        assert len(plant.points) == tags
        assert len(plant.equipment) >= 30
    with pytest.raises(ValueError, match="too small"):
        register.build_plant(39, stream(7, "layout"), required_kinds())


def test_historian_tags_exist_in_register(plant: DemoPlant) -> None:
    register_tags = {r["tag"] for r in _register(plant.out_dir) if r["tag"]}
    seen: set[str] = set()
    for path in sorted((plant.out_dir / "historian").glob("*.csv")):
        lines = _lines(path)
        assert lines[0] == "timestamp,tag,value,quality"
        seen |= {line.split(",")[1] for line in lines[1:] if line.count(",") >= 2}
    defects = json.loads((plant.out_dir / "ground_truth" / "defects.json").read_text())
    unknown = {d["tag"] for d in defects if d["defect"] == "unknown_tag"}
    assert unknown and not unknown & register_tags
    assert seen - unknown <= register_tags
    assert len(seen & register_tags) == len(register_tags)


def test_historian_rows_sorted_except_planted_defects(plant: DemoPlant) -> None:
    defects = json.loads((plant.out_dir / "ground_truth" / "defects.json").read_text())
    total = 0
    for path in sorted((plant.out_dir / "historian").glob("*.csv")):
        rel = path.relative_to(plant.out_dir).as_posix()
        planted = {n for d in defects if d["file"] == rel and d["lines"] for n in d["lines"]}
        lines = _lines(path)
        body = [(n, line) for n, line in enumerate(lines, start=1) if n > 1 and line]
        total += len(body)
        clean = [(n, line) for n, line in body if n not in planted]
        for (_, a), (_, b) in pairwise(clean):
            assert a[:19] <= b[:19], (a, b)
        for n, line in clean:
            f = line.split(",")
            assert len(f) == 4 and f[3] in {"192", "64", "0"}, (n, line)
            float(f[2])
            assert not line.startswith("2024-03-31 02:"), "non-existent local time outside the planted rows"
    assert total == plant.historian_rows


def test_each_planted_defect_is_at_its_stated_lines(plant: DemoPlant) -> None:
    root = plant.out_dir
    defects = json.loads((root / "ground_truth" / "defects.json").read_text())
    assert {d["defect"] for d in defects} == EXPECTED_DEFECTS
    limits = {r["tag"]: (float(r["low_limit"]), float(r["high_limit"])) for r in _register(root) if r["tag"]}
    units = {r["tag"]: r["unit"] for r in _register(root) if r["tag"]}
    equipment = {r["node_id"] for r in _register(root) if r["level"] == "equipment"}
    for d in defects:
        assert set(d) == {"defect", "file", "lines", "tag", "detail"}
        lines = _lines(root / d["file"])
        got = [lines[n - 1] for n in d["lines"]] if d["lines"] else []
        kind = d["defect"]
        if kind == "duplicate_row":
            n = d["lines"][0]
            assert lines[n - 1] == lines[n - 2] and lines[n - 1].split(",")[1] == d["tag"]
        elif kind == "out_of_order_row":
            n = d["lines"][0]
            assert _ts(lines[n - 1]) > _ts(lines[n]), (lines[n - 1], lines[n])
        elif kind == "stuck_sensor":
            assert {g.split(",")[1] for g in got} == {d["tag"]}
            assert len({g.split(",")[2] for g in got}) == 1
            assert (_ts(got[-1]) - _ts(got[0])).total_seconds() >= 3600
        elif kind == "spike":
            n = d["lines"][0]
            tag, value = got[0].split(",")[1], float(got[0].split(",")[2])
            assert tag == d["tag"]
            prev = next(x for x in reversed(lines[1 : n - 1]) if x.split(",")[1] == tag)
            nxt = next(x for x in lines[n:] if x.split(",")[1] == tag)
            lo, hi = limits[tag]
            for neighbour in (prev, nxt):
                assert abs(value - float(neighbour.split(",")[2])) > 0.3 * (hi - lo)
            assert (lo <= value <= hi) == ("inside" in d["detail"])
        elif kind in {"gap_tag", "gap_plant"}:
            a, b = got
            assert d["lines"][1] > d["lines"][0]
            need = 20 * 60 if kind == "gap_tag" else 5 * 60
            assert (_ts(b) - _ts(a)).total_seconds() >= need
            if kind == "gap_tag":
                assert a.split(",")[1] == b.split(",")[1] == d["tag"]
            else:
                assert d["lines"][1] == d["lines"][0] + 1
        elif kind == "dst_nonexistent_time":
            assert len(got) == 3
            assert all(g.startswith("2024-03-31 02:") for g in got)
        elif kind == "malformed_non_numeric":
            with pytest.raises(ValueError):
                float(got[0].split(",")[2])
        elif kind == "malformed_missing_column":
            assert len(got[0].split(",")) == 3 and got[0].split(",")[1] == d["tag"]
        elif kind == "unknown_tag":
            assert got[0].split(",")[1] == d["tag"] and d["tag"] not in limits
        elif kind == "truncated_file":
            assert d["lines"] == [len(lines)] and len(got[0].split(",")) < 4
        elif kind == "unit_mixup":
            # fixed tag: the demo sources file declares it as degF
            assert d["tag"] == "P103.BRG_TEMP_DE" and d["lines"] is None and units[d["tag"]] == "degC"
            values = [v for _, v in _series(root, d["tag"])]
            median = statistics.median(values)
            assert 50 < median < 250 and 10 < (median - 32) / 1.8 < 120
        elif kind == "undeclared_unit":  # a whole local day of a degC or bar tag, in degF or psi
            day = d["file"].removeprefix("historian/historian_").removesuffix(".csv")
            values = [v for t, v in _series(root, d["tag"]) if t.date().isoformat() == day]
            others = [v for t, v in _series(root, d["tag"]) if t.date().isoformat() != day]
            assert units[d["tag"]] in {"degC", "bar"} and values
            if others:  # the same tag on another day, in the register's unit, sits far below
                assert statistics.median(values) > 1.5 * statistics.median(others) + 1
        elif kind == "late_export":
            path = root / d["file"]
            day = dt.date.fromisoformat(d["file"].removeprefix("historian/historian_").removesuffix(".csv"))
            day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=TZ).timestamp()
            assert path.stat().st_mtime - day_end == 12 * 3600 + 20 * 60
        elif kind == "unknown_equipment_id":
            assert json.loads(got[0])["equipment_id"] not in equipment
        elif kind == "broken_json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(got[0])
        else:  # pragma: no cover
            pytest.fail(f"unexpected defect {kind}")


def test_defect_intensity_scales_every_kind_and_zero_plants_none(tmp_path: Path) -> None:
    """The dose of the quality scores' dose-response test: x0 a clean plant, x5 five times the planted defects."""
    from collections import Counter

    counts = {}
    for intensity in (0, 1, 5):
        plant = generate(tmp_path / f"x{intensity}", **TINY, defects=intensity)
        planted = json.loads((plant.out_dir / "ground_truth" / "defects.json").read_text())
        counts[intensity] = Counter(d["defect"] for d in planted)
        files = sorted((plant.out_dir / "historian").glob("*.csv"))
        for path in files:  # each export written 20 min after its local day, unless planted late
            day = dt.date.fromisoformat(path.stem.removeprefix("historian_"))
            day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=TZ).timestamp()
            late = any(d["defect"] == "late_export" and d["file"].endswith(path.name) for d in planted)
            assert path.stat().st_mtime - day_end == 20 * 60 + (12 * 3600 if late else 0)
    assert set(counts[0]) == {"unit_mixup"}, "x0: only the degF export the sources file declares"
    for kind in ("spike", "duplicate_row", "stuck_sensor", "gap_tag", "gap_plant", "out_of_order_row"):
        assert counts[5][kind] >= 4 * counts[1][kind] > 0, kind
    with pytest.raises(DemoArgumentError, match="defects"):
        generate(tmp_path / "bad", **TINY, defects=-1)


def test_last_historian_file_is_truncated(plant: DemoPlant) -> None:
    files = sorted((plant.out_dir / "historian").glob("*.csv"))
    assert not files[-1].read_bytes().endswith(b"\n")
    assert all(f.read_bytes().endswith(b"\n") for f in files[:-1])


def test_faults_are_visible_in_the_signals(plant: DemoPlant) -> None:
    root = plant.out_dir
    faults = {f["fault_type"]: f for f in json.loads((root / "ground_truth" / "faults.json").read_text())}
    assert set(faults) == {"bearing_wear", "cavitation", "motor_overload"}
    hour = dt.timedelta(hours=1)

    f = faults["bearing_wear"]
    start, end = _local(f["start_utc"]), _local(f["end_utc"])
    for tag, factor in (("P101.VIB_RMS", 2.5), ("P101.BRG_TEMP_DE", 1.2)):
        s = _series(root, tag)
        before = statistics.mean(_between(s, start - 2 * hour, start))
        late = statistics.mean(_between(s, end - hour, end))
        assert late > factor * before, (tag, before, late)

    f = faults["cavitation"]
    start, end = _local(f["start_utc"]), _local(f["end_utc"])
    mid = start + (end - start) / 2
    suct = _series(root, "P103.SUCT_PRESS")
    assert statistics.mean(_between(suct, mid - hour / 2, mid + hour / 2)) < 0.5 * statistics.mean(
        _between(suct, start - 2 * hour, start)
    )
    flow = _series(root, "P103.FLOW")
    assert _jitter(_between(flow, mid - hour / 2, mid + hour / 2)) > 3 * _jitter(
        _between(flow, start - 2 * hour, start - hour / 2)
    )

    f = faults["motor_overload"]
    start, end = _local(f["start_utc"]), _local(f["end_utc"])
    current = _series(root, "M201.CURRENT")
    assert max(_between(current, start, end)) > 1.5 * statistics.median(_between(current, start - hour, start))

    alarms = [row for p in sorted((root / "alarms").glob("*.csv")) for row in csv.DictReader(p.open())]
    for fault in faults.values():
        start, end = _local(fault["start_utc"]), _local(fault["end_utc"])
        hits = [
            a for a in alarms
            if a["tag"] in fault["tags"] and a["state"] == "ACTIVE" and start <= _ts(a["timestamp"]) <= end + hour
        ]  # fmt: skip
        assert hits, f"no alarm during {fault['fault_id']}"


def test_alarm_and_inspection_formats(plant: DemoPlant) -> None:
    root = plant.out_dir
    register_tags = {r["tag"] for r in _register(root) if r["tag"]}
    for path in sorted((root / "alarms").glob("*.csv")):
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        assert rows and list(rows[0]) == ["timestamp", "tag", "alarm_type", "priority", "state", "message"]
        day = path.stem.removeprefix("alarms_")
        for r in rows:
            assert r["timestamp"].startswith(day) and len(r["timestamp"]) == 19
            assert r["tag"] in register_tags
            assert r["alarm_type"] in {"HI", "HIHI", "LO", "LOLO", "DEV"}
            assert r["priority"] in {"1", "2", "3", "4"} and r["state"] in {"ACTIVE", "ACK", "RTN"}
    rows = list(csv.DictReader((root / "quality" / "inspections.csv").open(encoding="utf-8")))
    assert rows
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
    for r in rows:
        assert iso.match(r["timestamp"])
        ok = float(r["lower_spec"]) <= float(r["measured_value"]) <= float(r["upper_spec"])
        assert r["result"] == ("PASS" if ok else "FAIL")
        assert (r["defect_code"] == "") == ok
    assert any(r["timestamp"].endswith("+01:00") for r in rows) and any(r["timestamp"].endswith("+02:00") for r in rows)


def test_mes_export_is_cp1252_with_decimal_comma(plant: DemoPlant) -> None:
    raw = (plant.out_dir / "mes" / "production_orders.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert "Kühl" in text
    rows = list(csv.DictReader(text.splitlines(), delimiter=";"))
    assert list(rows[0]) == [
        "order_id", "line_id", "product", "planned_qty", "produced_qty", "scrap_rate", "start_time", "end_time",
        "status",
    ]  # fmt: skip
    lines = {r["node_id"] for r in _register(plant.out_dir) if r["level"] == "line"}
    assert 20 <= len(rows) <= 60
    for r in rows:
        assert r["line_id"] in lines
        assert re.fullmatch(r"\d+,\d\d", r["scrap_rate"])
        assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", r["start_time"])
        assert r["end_time"] == "" or re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", r["end_time"])


def test_work_orders_carry_planted_personal_data(plant: DemoPlant) -> None:
    root = plant.out_dir
    text = (root / "cmms" / "work_orders.jsonl").read_text(encoding="utf-8")
    personal = json.loads((root / "ground_truth" / "personal_data.json").read_text(encoding="utf-8"))
    assert set(personal) == {"names", "names_off_roster", "phones", "emails", "employee_ids"}
    for key, values in personal.items():
        assert values, key
        for v in values:
            assert v in text, (key, v)
    roster = list(csv.DictReader((root / "cmms" / "personnel_roster.csv").open(encoding="utf-8")))
    names = {r["name"] for r in roster}
    assert set(personal["names"]) == names
    assert not set(personal["names_off_roster"]) & names
    assert "+49 171 5550142" in personal["phones"]
    assert any(p.count("-") == 1 and len(p) == 8 for p in personal["phones"])  # short local 555-0142
    assert any("/" in p for p in personal["phones"])
    assert any(e.endswith(".local") for e in personal["emails"])
    assert any(e.endswith("@gmail.com") for e in personal["emails"])
    assert all(re.fullmatch(r"EMP-\d{6}", e) for e in personal["employee_ids"])

    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    assert 50 <= len(text.splitlines()) <= 150
    descriptions = [r["description"] for r in records]
    assert len(set(descriptions)) < len(descriptions)  # template texts repeat verbatim
    for r in records:
        assert r["created_at"].endswith("Z")
        assert (r["closed_at"] is None) == (r["status"] != "CLOSED")
        assert r["wo_type"] in {"corrective", "preventive", "inspection"}


def test_single_day_without_dst(tmp_path: Path) -> None:
    small = generate(tmp_path / "one", days=1, tags=40, min_period_s=30, max_period_s=60, seed=3)
    historian = sorted((small.out_dir / "historian").glob("*.csv"))
    assert [p.name for p in historian] == ["historian_2024-03-30.csv"]
    assert not historian[0].read_bytes().endswith(b"\n")
    defects = json.loads((small.out_dir / "ground_truth" / "defects.json").read_text())
    assert {d["defect"] for d in defects} == EXPECTED_DEFECTS - {"dst_nonexistent_time"}
