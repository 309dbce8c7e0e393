"""Time-series scores on hand-made days: a flat tag, an all-missing day, a tag in degF for degC, the register's
sampling period. Each is something the old mean of rule scores graded A or B (and published)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from config.layout import Layout
from config.sources import load_sources
from quality.evaluate import PartitionEvaluation
from quality.gate import evaluate_source, publish_gated
from quality.unit_check import Level, judge
from tests.conftest import ingest_all

PERIOD_S = 60
Signal = Callable[[int], float | None]  # value of the i-th reading of a day (None: empty)


def _register(tags: dict[str, str], period_s: int | None = None) -> str:
    """A register with one pump and `tags` (tag -> unit); temperatures 0-150, pressures 0-16."""
    lines = [
        "node_id,parent_id,level,name,equipment_type,tag,unit,low_limit,high_limit,safety_related"
        + (",sampling_period_s" if period_s else ""),
        "P-1,,equipment,Pump,pump,,,,,false" + ("," if period_s else ""),
    ]
    for tag, unit in tags.items():
        high = 150 if unit == "degC" else 16
        period = f",{period_s}" if period_s else ""
        lines.append(f"MP-{tag},P-1,measurement_point,{tag},,{tag},{unit},0,{high},false{period}")
    return "\n".join(lines) + "\n"


def _sources(extra: str = "") -> str:
    return (
        "sources:\n"
        "  - {name: register, kind: asset_register, system: ERP, owner: m, location: reg.csv}\n"
        "  - name: hist\n"
        "    kind: historian_long\n"
        "    system: historian\n"
        "    owner: process\n"
        "    location: hist/*.csv\n"
        "    register: register\n"
        "    columns: {ts: timestamp}\n" + extra
    )


def _day(day: str, signals: dict[str, Signal], period_s: int = PERIOD_S) -> str:
    """One whole UTC day of readings for each tag, every `period_s` seconds."""
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    lines = []
    for i in range(86400 // period_s):
        ts = (start + timedelta(seconds=i * period_s)).strftime("%Y-%m-%d %H:%M:%S")
        for tag, signal in signals.items():
            value = signal(i)
            lines.append(f"{ts},{tag},{'' if value is None else round(value, 3)}")
    return "timestamp,tag,value\n" + "\n".join(lines) + "\n"


def _wave(level: float, swing: float = 5.0) -> Signal:
    """A live temperature: a daily swing plus a little deterministic noise."""
    return lambda i: level + swing * math.sin(i / 229.0) + 0.3 * math.sin(i * 1.7)


def _evaluate(write: Callable[..., Path], layout: Layout, days: dict[str, dict[str, Signal]], **config: str) -> list:
    write("reg.csv", config.get("register", _register({t: "degC" for t in next(iter(days.values()))})))
    for day, signals in days.items():
        write(f"hist/{day}.csv", _day(day, signals))
    path = write("sources.yaml", _sources(config.get("extra", "")))
    ingest_all(path, layout)
    return evaluate_source(load_sources(path).get("hist"), sorted(days), layout, "run-1")


def _result(evaluation: PartitionEvaluation, rule: str) -> tuple[int, int, str]:
    [found] = [r for r in evaluation.results if r.name == rule]
    return found.evaluated, found.unexpected, found.detail


def test_a_tag_flat_all_day_keeps_the_day_from_grade_a(write: Callable[..., Path], layout: Layout) -> None:
    tags = {"T1": _wave(50), "T2": _wave(60), "T3": _wave(45), "T4": lambda i: 42.0}
    [evaluation] = _evaluate(write, layout, {"2024-03-30": tags})
    _, affected, detail = _result(evaluation, "tag_accuracy")
    assert affected == 1440 and "T4 0% sound" in detail, "the whole flat day counts, not only after stuck_after_s"
    assert evaluation.scores["accuracy"] <= 75.0 and evaluation.grade != "A", (evaluation.scores, evaluation.overall)


def test_a_lone_flat_tag_grades_d(write: Callable[..., Path], layout: Layout) -> None:
    [evaluation] = _evaluate(write, layout, {"2024-03-30": {"T4": lambda i: 42.0}})
    assert evaluation.scores["accuracy"] == 0.0 and evaluation.grade == "D", (evaluation.scores, evaluation.overall)


def test_a_day_whose_values_are_all_missing_is_graded_d_and_held_back(
    write: Callable[..., Path], layout: Layout
) -> None:
    [evaluation] = _evaluate(write, layout, {"2024-03-30": {"T1": lambda i: None, "T2": lambda i: None}})
    assert _result(evaluation, "tag_completeness")[:2] == (2880, 2880)
    assert evaluation.scores["completeness"] == 0.0 and evaluation.grade == "D", (evaluation.scores, evaluation.overall)
    assert [r.name for r in evaluation.blocking_failures] == ["values_usable"], "fail closed: not published"
    source = load_sources(layout.root.parent / "sources.yaml").get("hist")
    outcome = publish_gated(source, ["2024-03-30"], layout)
    assert outcome.blocked == {"2024-03-30": ["values_usable"]} and not outcome.published


def test_a_tag_exported_in_degf_for_degc_is_found_against_its_history(
    write: Callable[..., Path], layout: Layout
) -> None:
    day_one = {"T1": _wave(50), "T2": _wave(60), "T3": _wave(45)}
    day_two = {"T1": _wave(52), "T2": lambda i: _wave(61)(i) * 1.8 + 32, "T3": _wave(70)}  # T3 warms up: no mix-up
    first, second = _evaluate(write, layout, {"2024-03-30": day_one, "2024-03-31": day_two})
    assert _result(first, "unit_consistency")[1] == 0
    _, rows, detail = _result(second, "unit_consistency")
    assert rows == 1440 and detail.startswith("T2 looks like degF, the register says degC"), detail
    assert "T3" not in detail and second.grade != "A"
    assert second.profile["T2"][0] is None, "a mixed-up day leaves no level for later days to compare with"


def test_a_tag_in_degf_is_found_against_its_peers_and_a_declared_unit_is_not(
    write: Callable[..., Path], layout: Layout
) -> None:
    day = {"T1": _wave(50), "T2": lambda i: _wave(55)(i) * 1.8 + 32, "T3": _wave(45), "T4": _wave(58)}
    [evaluation] = _evaluate(write, layout, {"2024-03-30": day})
    assert "T2 looks like degF" in _result(evaluation, "unit_consistency")[2]
    [declared] = _evaluate(write, layout, {"2024-03-30": day}, extra="    units: {T2: degF}\n")
    assert _result(declared, "unit_consistency")[1] == 0, "converted at ingest: the values are in degC"


def test_unit_check_decisions() -> None:
    """The rules of quality.unit_check on single levels (median, spread)."""
    history = Level(50.0, 2.0)
    assert judge(Level(122.0, 3.6), "degC", 0, 150, history, None) == ("degF", "history")
    assert judge(Level(80.0, 2.0), "degC", 0, 150, history, None) is None, "a warmer day is not a unit"
    assert judge(Level(22.0, 0.5), "degC", 0, 150, history, None) is None, "a falling level is never a mix-up"
    assert judge(Level(101.5, 1.0), "bar", 0, 16, None, None) == ("psi", "limits"), "7 bar in psi, out of limits"
    assert judge(Level(122.0, 3.6), "degC", 0, 150, Level(121.0, 3.0), Level(50.0, 2.0)) is None, (
        "its own history agrees: a peer at another level does not make it a mix-up"
    )
    assert judge(Level(50.0, 1.0), "%", 0, 100, Level(5.0, 1.0), None) is None, "no unit to confuse % with"


def test_the_registers_sampling_period_sets_the_readings_expected(write: Callable[..., Path], layout: Layout) -> None:
    """Every other reading is missing: the data alone looks complete at 120 s, the register says 60 s."""
    tags = {"T1": _wave(50), "T2": _wave(60)}
    write("reg.csv", _register(dict.fromkeys(tags, "degC"), period_s=60))
    write("hist/2024-03-30.csv", _day("2024-03-30", tags, period_s=120))
    path = write("sources.yaml", _sources())
    ingest_all(path, layout)
    [evaluation] = evaluate_source(load_sources(path).get("hist"), ["2024-03-30"], layout, "run-1")
    expected, missing, _ = _result(evaluation, "tag_completeness")
    assert (expected, missing) == (2 * 1438, 2 * 718), "720 readings of the 1438 that 60 s fit in 23 h 58 min"
    assert 45 < evaluation.scores["completeness"] < 55


def test_a_score_that_lacks_the_window_columns_fails_instead_of_counting_nothing() -> None:
    import duckdb
    import pytest

    from quality.errors import MissingColumnsError
    from quality.timeseries_scores import accuracy

    con = duckdb.connect()
    con.execute("CREATE TABLE flags AS SELECT 'T1' AS tag, now() AS ts, 1.0 AS value, true AS flag_stuck_signal")
    with pytest.raises(MissingColumnsError, match="_since"):
        accuracy(con, {})
