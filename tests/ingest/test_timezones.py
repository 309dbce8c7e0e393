from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from config.timezones import parse_timezone
from ingest import timezones
from ingest.timezones import local_time_problem_sql, local_to_utc_sql


def _utc(local: str, zone: str, ambiguous: str = "earliest") -> datetime | None:
    sql = f"SELECT {local_to_utc_sql('x', zone, ambiguous)} FROM (SELECT TIMESTAMP '{local}' AS x)"  # type: ignore[arg-type]
    row = duckdb.execute(sql).fetchone()
    return row[0] if row else None


def _problem(local: str, zone: str) -> str:
    row = duckdb.execute(
        f"SELECT {local_time_problem_sql('x', zone)} FROM (SELECT TIMESTAMP '{local}' AS x)"
    ).fetchone()
    assert row is not None
    return str(row[0])


def test_spring_forward_gap_does_not_exist() -> None:
    assert _utc("2024-03-31 02:30:00", "Europe/Berlin") is None
    assert _problem("2024-03-31 02:30:00", "Europe/Berlin") == "nonexistent"
    assert _utc("2024-03-31 01:59:59", "Europe/Berlin") == datetime(2024, 3, 31, 0, 59, 59)
    assert _utc("2024-03-31 03:00:00", "Europe/Berlin") == datetime(2024, 3, 31, 1, 0, 0)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("earliest", datetime(2024, 10, 27, 0, 30)), ("latest", datetime(2024, 10, 27, 1, 30)), ("quarantine", None)],
)
def test_fall_back_hour_follows_the_policy(policy: str, expected: datetime | None) -> None:
    assert _utc("2024-10-27 02:30:00", "Europe/Berlin", policy) == expected
    assert _problem("2024-10-27 02:30:00", "Europe/Berlin") == "ambiguous"


def test_fixed_offsets_and_utc() -> None:
    assert _utc("2020-03-09 10:14:33", "+03:00") == datetime(2020, 3, 9, 7, 14, 33)
    assert _utc("2020-03-09 10:14:33", "UTC-05:30") == datetime(2020, 3, 9, 15, 44, 33)
    assert _utc("2020-03-09 10:14:33", "UTC") == datetime(2020, 3, 9, 10, 14, 33)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Shanghai"])
def test_agrees_with_zoneinfo_on_random_instants(zone: str) -> None:
    rng = random.Random(zone)
    tz = ZoneInfo(zone)
    cases: list[tuple[datetime, datetime]] = []
    while len(cases) < 500:
        instant = datetime(1975, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(0, 60 * 365 * 86400))
        local = instant.astimezone(tz).replace(tzinfo=None)
        if tz.utcoffset(local.replace(fold=1)) != tz.utcoffset(local.replace(fold=0)):
            continue  # ambiguous: covered by the policy tests
        cases.append((local, instant.replace(tzinfo=None)))
    rows = duckdb.execute(
        f"SELECT x, {local_to_utc_sql('x', zone)} FROM (SELECT unnest(?::TIMESTAMP[]) AS x)", [[c[0] for c in cases]]
    ).fetchall()
    assert [r[1] for r in rows] == [c[1] for c in cases]


def test_unknown_zone_is_explained() -> None:
    with pytest.raises(ValueError, match="IANA"):
        parse_timezone("Mars/Olympus")


def test_zone_transitions_are_cached_per_tz_file_and_a_bad_cache_is_recomputed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding a zone's transitions day by day is a fixed cost of every ingest process: they are kept in this
    machine's cache, keyed by the zone's tz database file, and read back as computed."""
    monkeypatch.setenv("PLANTDATA_CACHE", str(tmp_path))
    timezones._zone_transitions.cache_clear()
    computed = tuple(timezones._transitions(ZoneInfo("Europe/Berlin")))
    assert timezones._zone_transitions("Europe/Berlin") == computed
    [cached] = (tmp_path / "zones").glob("*.json")
    timezones._zone_transitions.cache_clear()
    monkeypatch.setattr(timezones, "_transitions", lambda zone: pytest.fail("computed again"))
    assert timezones._zone_transitions("Europe/Berlin") == computed
    cached.write_text("[[", encoding="utf-8")  # a torn or foreign file: computed again, not trusted
    timezones._zone_transitions.cache_clear()
    monkeypatch.undo()
    monkeypatch.setenv("PLANTDATA_CACHE", str(tmp_path))
    assert timezones._zone_transitions("Europe/Berlin") == computed
    assert timezones._zone_transitions("+03:00") == () == timezones._zone_transitions("UTC")
    timezones._zone_transitions.cache_clear()
