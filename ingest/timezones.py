"""Local wall-clock time to UTC, as one SQL expression DuckDB evaluates at scan speed.

DuckDB's ICU `timezone()` costs about 40 % of a CSV scan, and it silently shifts local times that do
not exist (spring forward) and picks one side of ambiguous ones (fall back). Instead we read the zone's
transitions from the system tz database (zoneinfo) and emit a balanced CASE tree over local time:
each leaf is a fixed UTC offset, NULL for a non-existent local time, and for an ambiguous one the
offset the source's `ambiguous` policy chooses (or NULL to quarantine it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from config.commit import commit_bytes
from config.storage import cache_root
from config.timezones import parse_timezone

Ambiguous = Literal["earliest", "latest", "quarantine"]
_FIRST_YEAR, _LAST_YEAR = 1970, 2100


@dataclass(frozen=True)
class _Segment:
    """Local times from `start` (inclusive) to the next segment's start share one outcome."""

    start: datetime | None
    offset: timedelta | None  # None: not representable under the policy
    why: Literal["ok", "nonexistent", "ambiguous"]


Transition = tuple[datetime, timedelta, timedelta]  # (UTC instant, offset before, offset after)
_CACHE_VERSION = 1


@lru_cache(maxsize=32)
def _zone_transitions(zone_name: str) -> tuple[Transition, ...]:
    """A zone's transitions, computed once per process whatever the policy asked for, and kept in this machine's
    cache under the hash of the zone's tz database file (finding them day by day takes about 0.1 s: a fixed cost of
    every ingest process)."""
    zone = parse_timezone(zone_name)
    if not isinstance(zone, ZoneInfo):  # UTC or a fixed offset: nothing changes
        return ()
    data = _zone_file(zone_name)
    if data is None:
        return tuple(_transitions(zone))
    key = hashlib.sha256(f"{_CACHE_VERSION}|{_FIRST_YEAR}|{_LAST_YEAR}|{zone_name}|".encode() + data).hexdigest()
    cached = cache_root() / "zones" / f"{key[:32]}.json"
    try:
        return tuple(
            (datetime.fromisoformat(at), timedelta(seconds=before), timedelta(seconds=after))
            for at, before, after in json.loads(cached.read_text(encoding="utf-8"))
        )
    except (OSError, ValueError, TypeError):
        pass
    found = tuple(_transitions(zone))
    rows = [[at.isoformat(), before.total_seconds(), after.total_seconds()] for at, before, after in found]
    with contextlib.suppress(OSError):  # a cache that cannot be written is only slower
        commit_bytes(cached, json.dumps(rows).encode("utf-8"))
    return found


def _zone_file(zone_name: str) -> bytes | None:
    """The bytes of the tz database file `ZoneInfo` reads for the zone: the first under TZPATH, else the tzdata
    package's (None when neither has it)."""
    for root in zoneinfo.TZPATH:
        path = Path(root) / zone_name
        if path.is_file():
            return path.read_bytes()
    try:
        return resources.files("tzdata.zoneinfo").joinpath(*zone_name.split("/")).read_bytes()
    except (ImportError, OSError):
        return None


def _transitions(zone: tzinfo) -> list[Transition]:
    """(UTC instant, offset before, offset after) for every change of UTC offset in the covered years."""
    found: list[tuple[datetime, timedelta, timedelta]] = []
    day = datetime(_FIRST_YEAR, 1, 1, tzinfo=UTC)
    end = datetime(_LAST_YEAR, 1, 1, tzinfo=UTC)
    before = day.astimezone(zone).utcoffset() or timedelta(0)
    while day < end:
        nxt = day + timedelta(days=1)
        after = nxt.astimezone(zone).utcoffset() or timedelta(0)
        if after != before:
            lo, hi = day, nxt  # bisect to the second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if (mid.astimezone(zone).utcoffset() or timedelta(0)) == before:
                    lo = mid
                else:
                    hi = mid
            found.append((hi.replace(microsecond=0), before, after))
            before = after
        day = nxt
    return found


@lru_cache(maxsize=32)
def _segments_for(zone_name: str, ambiguous: Ambiguous) -> tuple[_Segment, ...]:
    """Segments of a zone, computed once per process and policy."""
    return tuple(_segments(zone_name, ambiguous))


def _segments(zone_name: str, ambiguous: Ambiguous) -> list[_Segment]:
    zone = parse_timezone(zone_name)
    first = datetime(_FIRST_YEAR, 1, 1, tzinfo=UTC).astimezone(zone).utcoffset() or timedelta(0)
    segments = [_Segment(None, first, "ok")]
    for instant, before, after in _zone_transitions(zone_name):
        naive = instant.replace(tzinfo=None)
        if after > before:  # clocks jump forward: local [instant+before, instant+after) does not exist
            segments.append(_Segment(naive + before, None, "nonexistent"))
            segments.append(_Segment(naive + after, after, "ok"))
        else:  # clocks go back: local [instant+after, instant+before) happens twice
            chosen = {"earliest": before, "latest": after, "quarantine": None}[ambiguous]
            segments.append(_Segment(naive + after, chosen, "ambiguous"))
            segments.append(_Segment(naive + before, after, "ok"))
    return segments


def _tree(segments: Sequence[_Segment], column: str, leaf: str) -> str:
    if len(segments) == 1:
        segment = segments[0]
        if leaf == "offset":
            if segment.offset is None:
                return "NULL"
            return f"INTERVAL ({int(segment.offset.total_seconds())}) SECOND"
        return f"'{segment.why}'"
    mid = len(segments) // 2
    boundary = segments[mid].start
    return (
        f"CASE WHEN {column} < TIMESTAMP '{boundary:%Y-%m-%d %H:%M:%S}' "
        f"THEN {_tree(segments[:mid], column, leaf)} ELSE {_tree(segments[mid:], column, leaf)} END"
    )


@lru_cache(maxsize=64)
def local_to_utc_sql(column: str, zone_name: str, ambiguous: Ambiguous = "earliest") -> str:
    """SQL turning naive local TIMESTAMP `column` into naive UTC; NULL where the local time cannot be mapped."""
    segments = _segments_for(zone_name, ambiguous)
    if len(segments) == 1:
        offset = segments[0].offset or timedelta(0)
        return f"({column} - INTERVAL ({int(offset.total_seconds())}) SECOND)"
    return f"({column} - ({_tree(segments, column, 'offset')}))"


@lru_cache(maxsize=64)
def local_time_problem_sql(column: str, zone_name: str) -> str:
    """SQL naming why a local time did not map: 'nonexistent', 'ambiguous' or 'ok'."""
    segments = _segments_for(zone_name, "quarantine")
    if len(segments) == 1:
        return "'ok'"
    return _tree(segments, column, "why")
