"""How one source's export becomes canonical rows: the SQL that types, maps and checks each row.

A `ScanPlan` is pure description (column types, select expressions, the rule a row breaks); the
`standardise` module runs it. Keeping the mapping here lets every kind share one execution path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from config.kinds import CANONICAL_FIELDS, READING_KINDS, Field, QuarantineRule, SourceKind
from config.sources import SourceConfig
from config.units import conversion
from ingest.csv_scan import quote_ident
from ingest.errors import SourceFileError
from ingest.register import Register
from ingest.timezones import local_time_problem_sql, local_to_utc_sql

TAG_ENUM = "plantdata_tag"
EQUIPMENT_ENUM = "plantdata_equipment"
UNIT_ENUM = "plantdata_unit"


@dataclass(frozen=True)
class ScanPlan:
    """Everything needed to read one file of a source and produce canonical rows."""

    read_types: dict[str, str]  # file column -> DuckDB type, in file order
    timestamp_column: str | None  # file column holding time (None: file-partitioned)
    tag_column: str | None  # file column whose parse failure means an unknown tag
    output: list[tuple[str, str]]  # (canonical column, SQL over the scanned row named `s`)
    rule_sql: str  # SQL: NULL for a good row, else the QuarantineRule value
    partition_sql: str  # SQL: the partition key of a good row
    unpivot: list[str] | None  # historian_wide: file columns that become readings
    tag_enum: tuple[str, ...] | None  # when set, the scan types the tag column as this ENUM
    enums: dict[str, tuple[str, ...]]  # ENUM types the SQL uses (name -> values), declared before the scan
    utc_sql: str  # SQL over `s`: the row's time as naive UTC, computed once as `s._utc`

    @property
    def readings_per_row(self) -> int:
        return len(self.unpivot) if self.unpivot else 1


def _fields(source: SourceConfig) -> tuple[Field, ...]:
    if source.kind is SourceKind.TABLE:
        return tuple(Field(name, type_, required=name == source.time_column) for name, type_ in source.schema_.items())
    return CANONICAL_FIELDS[source.kind]


def _timestamp_type(source: SourceConfig) -> str:
    has_offset = source.timestamp.format is not None and "%z" in source.timestamp.format.lower()
    return "TIMESTAMPTZ" if has_offset or source.timestamp.timezone == "data" else "TIMESTAMP"


def utc_sql(source: SourceConfig, column_sql: str, column_type: str) -> str:
    """Naive UTC from a parsed timestamp column (TIMESTAMPTZ: by its offset; TIMESTAMP: by the source's zone)."""
    if column_type == "TIMESTAMPTZ":
        return f"({column_sql})::TIMESTAMP"
    return local_to_utc_sql(column_sql, source.timestamp.timezone, source.timestamp.ambiguous)


def _time_rule(source: SourceConfig, column_sql: str, column_type: str) -> str:
    if column_type == "TIMESTAMPTZ":
        return f"CASE WHEN {column_sql} IS NULL THEN '{QuarantineRule.MISSING_REQUIRED}' END"
    why = local_time_problem_sql(column_sql, source.timestamp.timezone)
    return (
        f"CASE WHEN {column_sql} IS NULL THEN '{QuarantineRule.MISSING_REQUIRED}' "
        f"WHEN s._utc IS NULL THEN "
        f"CASE {why} WHEN 'nonexistent' THEN '{QuarantineRule.NONEXISTENT_LOCAL_TIME}' "
        f"ELSE '{QuarantineRule.AMBIGUOUS_LOCAL_TIME}' END END"
    )


def build_plan(source: SourceConfig, header: list[str], register: Register, file_key: str) -> ScanPlan:
    """The plan for one file with `header`; a missing mapped column is a clear file-level error."""
    fields = _fields(source)
    if source.kind in READING_KINDS:
        return _readings_plan(source, header, register, file_key)
    read_types = {name: "VARCHAR" for name in header}
    output: list[tuple[str, str]] = []
    rules: list[str] = []
    ts_column: str | None = None
    ts_type = _timestamp_type(source)
    for field in fields:
        column = source.source_column(field.name)
        if column not in read_types:
            if field.required or field.name in source.columns:
                raise SourceFileError(file_key, _missing_column(source, field.name, column, header))
            output.append((field.name, f"NULL::{field.type}"))
            continue
        ref = f"s.{quote_ident(column)}"
        is_time = field.type == "TIMESTAMP"
        read_types[column] = ts_type if is_time else field.type
        if is_time and field.name in {"ts", source.time_column}:
            output.append((field.name, "make_timestamptz(epoch_us(s._utc))"))
        elif is_time:
            output.append((field.name, f"make_timestamptz(epoch_us({utc_sql(source, ref, ts_type)}))"))
        else:
            output.append((field.name, ref))
        if is_time and field.name in {"ts", source.time_column}:
            ts_column = column
            rules.append(_time_rule(source, ref, ts_type))
        elif field.required:
            rules.append(f"CASE WHEN {ref} IS NULL THEN '{QuarantineRule.MISSING_REQUIRED}' END")
    if source.kind is SourceKind.EVENT_LOG and register.tags and source.equipment is None:
        tag_ref = f"s.{quote_ident(source.source_column('tag'))}"
        lookup = _map_lookup(tag_ref, [t.tag for t in register.tags], [t.equipment_id for t in register.tags])
        output = [(name, f"COALESCE({sql}, {lookup})" if name == "equipment_id" else sql) for name, sql in output]
    if source.equipment is not None:
        output = [(n, f"'{_sql_str(source.equipment)}'" if n == "equipment_id" else s) for n, s in output]
    output.append(("source_file", f"'{_sql_str(file_key)}'"))
    partitioned_by_time = source.partitioning == "day" and ts_column is not None
    partition_sql = "s._utc::DATE" if partitioned_by_time else "NULL"
    utc = utc_sql(source, f"s.{quote_ident(ts_column)}", ts_type) if ts_column is not None else "NULL::TIMESTAMP"
    return ScanPlan(
        read_types=read_types,
        timestamp_column=ts_column if partitioned_by_time else None,
        tag_column=None,
        output=output,
        rule_sql=_first_rule(rules),
        partition_sql=partition_sql,
        unpivot=None,
        tag_enum=None,
        utc_sql=utc,
        enums={},
    )


def _readings_plan(source: SourceConfig, header: list[str], register: Register, file_key: str) -> ScanPlan:
    ts_column = source.source_column("ts")
    if ts_column not in header:
        raise SourceFileError(file_key, _missing_column(source, "ts", ts_column, header))
    ts_type = _timestamp_type(source)
    ts_ref = f"s.{quote_ident(ts_column)}"
    read_types = {name: "VARCHAR" for name in header}
    read_types[ts_column] = ts_type
    rules = [_time_rule(source, ts_ref, ts_type)]
    unpivot: list[str] | None = None
    tag_enum: tuple[str, ...] | None = None
    if source.kind is SourceKind.HISTORIAN_LONG:
        for name in ("tag", "value", "quality"):
            column = source.source_column(name)
            if column not in header and (name != "quality" or name in source.columns):
                raise SourceFileError(file_key, _missing_column(source, name, column, header))
        tag_column = source.source_column("tag")
        value_column = source.source_column("value")
        quality_column = source.source_column("quality")
        read_types[value_column] = "DOUBLE"
        if quality_column in header:
            read_types[quality_column] = "SMALLINT"
        if register.tags:
            tag_enum = tuple(t.tag for t in register.tags)
            read_types[tag_column] = TAG_ENUM
        rules.append(f"CASE WHEN s.{quote_ident(tag_column)} IS NULL THEN '{QuarantineRule.MISSING_REQUIRED}' END")
        tag_sql = f"s.{quote_ident(tag_column)}"
        value_sql = f"s.{quote_ident(value_column)}"
        quality_sql = f"s.{quote_ident(quality_column)}" if quality_column in header else "NULL::SMALLINT"
        tags_in_units = list(source.units)
    else:
        excluded = {ts_column, *source.exclude_columns}
        unpivot = source.value_columns or [c for c in header if c not in excluded]
        missing = [c for c in unpivot if c not in header]
        if missing:
            raise SourceFileError(file_key, f"value_columns {missing} are not in the header {header}")
        for column in unpivot:
            read_types[column] = "DOUBLE"
        prefix = source.tag_prefix
        if register.tags:
            unknown = [prefix + c for c in unpivot if register.get(prefix + c) is None]
            if unknown:
                raise SourceFileError(
                    file_key,
                    f"columns {unknown} are not tags of the asset register; add them to the register "
                    f"or list them under exclude_columns",
                )
        tag_sql = f"'{_sql_str(prefix)}' || s.tag" if prefix else "s.tag"
        value_sql, quality_sql = "s.value", "NULL::SMALLINT"
        tags_in_units = [prefix + c for c in source.units]
    tag_names = [t.tag for t in register.tags]
    equipment_sql, unit_sql, value_sql, enums = _link_sql(
        source, register, tag_sql, value_sql, tags_in_units, tag_names
    )
    if tag_enum is not None:
        enums = {TAG_ENUM: tag_enum, **enums}
    output = [
        ("ts", "make_timestamptz(epoch_us(s._utc))"),
        ("tag", tag_sql),  # an ENUM is written to Parquet as a dictionary-encoded string
        ("value", value_sql),
        ("quality", quality_sql),
        ("equipment_id", equipment_sql),
        ("unit", unit_sql),
        ("source_file", f"'{_sql_str(file_key)}'"),
    ]
    partitioned_by_time = source.partitioning == "day"
    return ScanPlan(
        read_types=read_types,
        timestamp_column=ts_column if partitioned_by_time else None,
        tag_column=source.source_column("tag") if tag_enum is not None else None,
        output=output,
        rule_sql=_first_rule(rules),
        partition_sql="s._utc::DATE" if partitioned_by_time else "NULL",
        unpivot=unpivot,
        tag_enum=tag_enum,
        utc_sql=utc_sql(source, ts_ref, ts_type),
        enums=enums,
    )


def _link_sql(
    source: SourceConfig, register: Register, tag_sql: str, value_sql: str, unit_tags: list[str], tag_names: list[str]
) -> tuple[str, str, str, dict[str, tuple[str, ...]]]:
    """Equipment, unit and (unit-converted) value expressions for a reading, and the ENUM types they use.

    With a register, equipment and unit are looked up by the tag's ENUM code in ENUM-typed lists: one
    byte per row instead of a string copy, which keeps the scan near raw CSV speed.
    """
    exported_units = {tag: source.units[tag.removeprefix(source.tag_prefix)] for tag in unit_tags}
    enums: dict[str, tuple[str, ...]] = {}
    if register.tags:
        equipment_values = [t.equipment_id for t in register.tags]
        unit_values = [t.unit for t in register.tags]
        if source.kind is SourceKind.HISTORIAN_LONG:
            index = f"enum_code({tag_sql})::INTEGER + 1"
            enums = {
                EQUIPMENT_ENUM: tuple(sorted({v for v in equipment_values if v is not None})),
                UNIT_ENUM: tuple(sorted({v for v in unit_values if v is not None})),
            }
            equipment = _enum_lookup(index, equipment_values, EQUIPMENT_ENUM)
            unit = _enum_lookup(index, unit_values, UNIT_ENUM)
        else:
            equipment = _map_lookup(tag_sql, tag_names, equipment_values)
            unit = _map_lookup(tag_sql, tag_names, unit_values)
        conversions = []
        for tag, exported in exported_units.items():
            info = register.get(tag)
            if info is None or info.unit is None or info.unit == exported:
                continue
            scale, offset = conversion(exported, info.unit)
            conversions.append(f"WHEN {tag_sql} = '{_sql_str(tag)}' THEN {value_sql} * {scale!r} + {offset!r}")
        if conversions:
            value_sql = f"CASE {' '.join(conversions)} ELSE {value_sql} END"
        return equipment, unit, value_sql, enums
    equipment = f"'{_sql_str(source.equipment)}'" if source.equipment else "NULL::VARCHAR"
    if exported_units:
        cases = " ".join(f"WHEN '{_sql_str(t)}' THEN '{_sql_str(u)}'" for t, u in exported_units.items())
        unit = f"CASE {tag_sql} {cases} END"
    else:
        unit = "NULL::VARCHAR"
    return equipment, unit, value_sql, enums


def _enum_lookup(index_sql: str, values: Sequence[str | None], enum: str) -> str:
    literal = "[" + ", ".join(_literal(v) for v in values) + f"]::{enum}[]"
    return f"({literal})[{index_sql}]"


def _map_lookup(tag_sql: str, tags: Sequence[str], values: Sequence[str | None]) -> str:
    mapping = ", ".join(f"'{_sql_str(t)}': {_literal(v)}" for t, v in zip(tags, values, strict=True))
    return f"MAP {{{mapping}}}[{tag_sql}]"


def _first_rule(rules: list[str]) -> str:
    return f"COALESCE({', '.join(rules)})" if rules else "NULL"


def _missing_column(source: SourceConfig, canonical: str, column: str, header: list[str]) -> str:
    return (
        f"column {column!r} (for {canonical!r}) is not in the header {header}; "
        f"map it under sources[{source.name}].columns: {{{canonical}: <column>}}"
    )


def _sql_str(value: str) -> str:
    """A constant from configuration or the register as the body of a SQL string literal."""
    return value.replace("'", "''")


def _literal(value: str | None) -> str:
    return "NULL" if value is None else f"'{_sql_str(value)}'"


def parse_time_text_sql(source: SourceConfig, raw_sql: str) -> str:
    """The timestamp parsed from its text exactly as the CSV reader parses it; NULL when it is not a time."""
    fmt = source.timestamp.format
    if fmt:
        return f"TRY_STRPTIME({raw_sql}, '{_sql_str(fmt)}')"
    return f"TRY_CAST({raw_sql} AS {_timestamp_type(source)})"


def partition_of_parsed_sql(source: SourceConfig, parsed_column: str) -> str:
    """The day partition (text) of an already parsed timestamp column; NULL when it cannot be mapped to UTC.

    Used by the index and for rejected lines, so both attribute a row to the same partition.
    """
    return f"({utc_sql(source, parsed_column, _timestamp_type(source))})::DATE::VARCHAR"
