"""Timestamps from their text, to UTC, without ever dropping an offset the export wrote.

A timestamp that states its offset (`2024-05-02T08:00:02+08:00`, `...Z`) names an instant: it is converted
with that offset. When the source configures a zone, the stated offset must be the zone's offset at that
wall time (either one, for a wall time that happens twice), else the row breaks `offset_mismatch`: the
export and the configuration disagree about the clock, and guessing would publish a shifted time. With
`timezone: data` every timestamp must state its offset. Naive timestamps follow the configured zone
(UTC when unset), through the CASE tree of `ingest.timezones`.

The index (counting rows per day), the standardiser and the quarantine all use this one definition, so a
row lands in the same partition whichever of them looks at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from config.kinds import QuarantineRule
from config.sources import SourceConfig
from config.sql import sql_literal
from ingest.timezones import local_time_problem_sql, local_to_utc_sql

# a time of day followed by anything that names its clock: Z, a numeric offset ('08:00:02+08:00',
# '08:00:02.5 -0500') or a zone name ('08:00 UTC', '08:00 Asia/Shanghai'). DuckDB's TIMESTAMP cast drops such a
# suffix silently (even '08:00 PM'), so whatever follows a time is either converted with it or quarantined.
OFFSET_PATTERN = r"\d:\d{2}(:\d{2}([.,]\d+)?)?\s*([zZ]|[+-]\d{2}(:?\d{2})?|[A-Za-z][A-Za-z0-9_/+-]*)\s*$"
_SPACED_OFFSET = r"\s+([zZ]|[+-]\d{2}(:?\d{2})?)\s*$"


class TimeReading(StrEnum):
    """How a file's time column is read: typed by the CSV reader (fast), or as text (offsets checked)."""

    NAIVE = "naive"  # typed TIMESTAMP: no timestamp of the file states an offset
    INSTANT = "instant"  # typed TIMESTAMPTZ: every timestamp states its offset and no zone is configured
    TEXT = "text"  # VARCHAR, parsed by `text_time_sql`


@dataclass(frozen=True)
class TimeSql:
    """SQL over one timestamp's text: naive UTC (NULL when unusable) and the rule it breaks (NULL when fine)."""

    utc: str
    rule: str
    check: str = ""  # SQL NULL exactly when `rule` is, cheaper (it skips naming the rule): what filters good rows

    @property
    def filter(self) -> str:
        return self.check or self.rule


def format_literal(formats: list[str]) -> str:
    """strptime formats as a SQL literal: one string, or a list (DuckDB tries each in turn)."""
    return sql_literal(formats[0]) if len(formats) == 1 else "[" + ", ".join(sql_literal(f) for f in formats) + "]"


def has_offset_sql(raw_sql: str) -> str:
    return f"regexp_matches({raw_sql}, {sql_literal(OFFSET_PATTERN)})"


def instant_sql(raw_sql: str) -> str:
    """The instant a timestamp text with its offset or zone names (blanks before a numeric offset allowed)."""
    return f"TRY_CAST(regexp_replace(trim({raw_sql}), {sql_literal(_SPACED_OFFSET)}, '\\1') AS TIMESTAMPTZ)::TIMESTAMP"


def time_reading(source: SourceConfig, with_offset: int, naive: int, castable: int | None = None) -> TimeReading:
    """The fastest reading that is still exact for a file whose time texts were counted by kind (`castable`: of
    those with an offset, how many DuckDB's reader takes as they are)."""
    configured = source.timestamp.timezone
    if isinstance(source.timestamp.format, list) or len(source.source_columns(source.time_column or "ts")) > 1:
        return TimeReading.TEXT  # the CSV reader takes a single format
    if source.timestamp.format_has_offset:
        return TimeReading.INSTANT
    if source.timestamp.format is not None:
        return TimeReading.NAIVE if configured != "data" else TimeReading.TEXT
    if with_offset == 0 and configured != "data":
        return TimeReading.NAIVE
    if naive == 0 and configured in {None, "data"} and castable == with_offset:
        return TimeReading.INSTANT
    return TimeReading.TEXT


def configured_reading(source: SourceConfig, header: list[str]) -> TimeReading | None:
    """The reading the configuration alone decides (a format, several time columns, or none in the file); None
    when it depends on whether the file's timestamps state offsets."""
    columns = source.source_columns(source.time_column or "ts")
    decided = isinstance(source.timestamp.format, list) or len(columns) > 1 or source.timestamp.format is not None
    if decided or not source.is_timed or not columns or any(c not in header for c in columns):
        return time_reading(source, 0, 0, 0)
    return None


def typed_type(reading: TimeReading) -> str:
    """The DuckDB type the CSV reader gives a time column under `reading`."""
    return {TimeReading.NAIVE: "TIMESTAMP", TimeReading.INSTANT: "TIMESTAMPTZ", TimeReading.TEXT: "VARCHAR"}[reading]


def naive_text_sql(source: SourceConfig, raw_sql: str) -> str:
    """A timestamp text parsed as the CSV reader types a naive time column (its format, or ISO 8601)."""
    if source.timestamp.formats:
        return f"TRY_STRPTIME({raw_sql}, {format_literal(source.timestamp.formats)})"
    return f"TRY_CAST({raw_sql} AS TIMESTAMP)"


def typed_time_sql(source: SourceConfig, column_sql: str, reading: TimeReading, utc_ref: str | None = None) -> TimeSql:
    """UTC and rule for a column the reader already typed (NAIVE or INSTANT); NULL means the cell was empty.

    `utc_ref` names where the UTC value is computed once (a derived column), for the rule to reuse.
    """
    missing = f"WHEN {column_sql} IS NULL THEN '{QuarantineRule.MISSING_REQUIRED}'"
    if reading is TimeReading.INSTANT:
        return TimeSql(f"({column_sql})::TIMESTAMP", f"CASE {missing} END")
    zone, ambiguous = source.timestamp.zone, source.timestamp.ambiguous
    utc = local_to_utc_sql(column_sql, zone, ambiguous)
    rule = f"CASE {missing} WHEN {utc_ref or utc} IS NULL THEN {_local_problem(column_sql, zone)} END"
    return TimeSql(utc, rule, f"CASE {missing} WHEN {utc_ref or utc} IS NULL THEN 'local_time' END")


def text_time_sql(source: SourceConfig, raw_sql: str) -> TimeSql:
    """UTC and rule for a timestamp given as text (any mix of naive, offset and Z)."""
    options = source.timestamp
    missing = f"WHEN {raw_sql} IS NULL OR trim({raw_sql}) = '' THEN '{QuarantineRule.MISSING_REQUIRED}'"
    invalid = f"'{QuarantineRule.INVALID_TIMESTAMP}'"
    mismatch = f"'{QuarantineRule.OFFSET_MISMATCH}'"
    if options.format_has_offset:
        instant = f"TRY_STRPTIME({raw_sql}, {format_literal(options.formats)})::TIMESTAMP"
        return TimeSql(instant, f"CASE {missing} WHEN {instant} IS NULL THEN {invalid} END")
    if options.format is not None:
        wall = f"TRY_STRPTIME({raw_sql}, {format_literal(options.formats)})"
        stated, instant = "false", "NULL::TIMESTAMP"
    else:
        wall = f"TRY_CAST({raw_sql} AS TIMESTAMP)"  # the wall time as written: DuckDB drops the offset here
        stated = has_offset_sql(raw_sql)
        instant = instant_sql(raw_sql)
    if options.timezone == "data":
        utc = f"CASE WHEN {stated} THEN {instant} END"
        rule = (
            f"CASE {missing} WHEN {wall} IS NULL OR ({stated} AND {instant} IS NULL) THEN {invalid} "
            f"WHEN NOT {stated} THEN {mismatch} END"
        )
        return TimeSql(utc, rule)
    zone = options.zone
    local = local_to_utc_sql(wall, zone, options.ambiguous)
    if options.timezone is None:  # no zone configured: a stated offset decides, naive times are UTC
        agrees = "true"
    else:
        earliest, latest = local_to_utc_sql(wall, zone, "earliest"), local_to_utc_sql(wall, zone, "latest")
        agrees = f"COALESCE({instant} = {earliest} OR {instant} = {latest}, false)"
    utc = f"CASE WHEN {stated} THEN CASE WHEN {agrees} THEN {instant} END ELSE {local} END"
    rule = (
        f"CASE {missing} WHEN {wall} IS NULL OR ({stated} AND {instant} IS NULL) THEN {invalid} "
        f"WHEN {stated} THEN CASE WHEN NOT {agrees} THEN {mismatch} END "
        f"WHEN {local} IS NULL THEN {_local_problem(wall, zone)} END"
    )
    return TimeSql(utc, rule)


def _local_problem(wall_sql: str, zone: str) -> str:
    nonexistent, ambiguous = QuarantineRule.NONEXISTENT_LOCAL_TIME, QuarantineRule.AMBIGUOUS_LOCAL_TIME
    return (
        f"CASE {local_time_problem_sql(wall_sql, zone)} WHEN 'nonexistent' THEN '{nonexistent}' ELSE '{ambiguous}' END"
    )


def offset_detail(raw: str | None, zone: str | None) -> str:
    """Why a row broke `offset_mismatch`, with the fix."""
    if zone == "data":
        return f"timestamp {raw!r} states no offset, but timestamp.timezone is 'data'; set the zone of naive times"
    return (
        f"timestamp {raw!r} states an offset that is not {zone}'s at that time; if the export's own offsets are "
        "right, set timestamp.timezone: data (or remove it)"
    )
