"""The fixed vocabularies of ingestion: source kinds, source systems and canonical schemas."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SourceKind(StrEnum):
    """What a source export holds; each kind has one canonical schema."""

    HISTORIAN_LONG = "historian_long"
    HISTORIAN_WIDE = "historian_wide"
    EVENT_LOG = "event_log"
    WORK_ORDERS = "work_orders"
    ASSET_REGISTER = "asset_register"
    TABLE = "table"


class SourceSystem(StrEnum):
    """The kind of plant system an export comes from."""

    SCADA = "SCADA"
    HISTORIAN = "historian"
    MES = "MES"
    CMMS = "CMMS"
    QMS = "QMS"
    LIMS = "LIMS"
    ERP = "ERP"


class FileFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl"


class QuarantineRule(StrEnum):
    """Why a row was quarantined; each row names exactly one rule."""

    UNPARSEABLE_VALUE = "unparseable_value"
    MISSING_COLUMNS = "missing_columns"
    TOO_MANY_COLUMNS = "too_many_columns"
    UNQUOTED_VALUE = "unquoted_value"
    LINE_TOO_LONG = "line_too_long"
    INVALID_ENCODING = "invalid_encoding"
    INVALID_JSON = "invalid_json"
    INVALID_TIMESTAMP = "invalid_timestamp"
    NONEXISTENT_LOCAL_TIME = "nonexistent_local_time"
    AMBIGUOUS_LOCAL_TIME = "ambiguous_local_time"
    UNKNOWN_TAG = "unknown_tag"
    MISSING_REQUIRED = "missing_required"
    OFFSET_MISMATCH = "offset_mismatch"
    UNKNOWN_QUALITY_CODE = "unknown_quality_code"
    UNREADABLE_FILE = "unreadable_file"


@dataclass(frozen=True)
class Field:
    """One canonical column: its DuckDB type, whether a row without it is quarantined, and whether it may
    carry personal data (names, contact details in free text): such values stay out of logs and samples.

    `default` is SQL for rows whose export has no such column; `{tag}` stands for the row's tag.
    """

    name: str
    type: str
    required: bool = False
    personal: bool = False
    default: str | None = None

    @property
    def is_key(self) -> bool:
        """A text code (id, tag, state), whose surrounding blanks are noise: trimmed unless the source keeps them."""
        return self.type == "VARCHAR" and not self.personal


READING_FIELDS = (
    Field("ts", "TIMESTAMP", required=True),
    Field("tag", "VARCHAR", required=True),
    Field("value", "DOUBLE"),
    Field("quality", "BIGINT"),
    Field("quality_class", "VARCHAR"),
)

CANONICAL_FIELDS: dict[SourceKind, tuple[Field, ...]] = {
    SourceKind.HISTORIAN_LONG: READING_FIELDS,
    SourceKind.HISTORIAN_WIDE: (Field("ts", "TIMESTAMP", required=True),),
    SourceKind.EVENT_LOG: (
        Field("ts", "TIMESTAMP", required=True),
        Field("tag", "VARCHAR"),
        Field("equipment_id", "VARCHAR"),
        Field("event_type", "VARCHAR", required=True),
        Field("priority", "INTEGER"),
        Field("state", "VARCHAR"),
        Field("message", "VARCHAR", personal=True),
    ),
    SourceKind.WORK_ORDERS: (
        Field("wo_id", "VARCHAR", required=True),
        Field("equipment_id", "VARCHAR", required=True),
        Field("ts", "TIMESTAMP", required=True),
        Field("closed_at", "TIMESTAMP"),
        Field("wo_type", "VARCHAR"),
        Field("priority", "VARCHAR"),
        Field("status", "VARCHAR"),
        Field("failure_mode", "VARCHAR"),
        Field("technician", "VARCHAR", personal=True),
        Field("description", "VARCHAR", personal=True),
    ),
    SourceKind.ASSET_REGISTER: (
        Field("node_id", "VARCHAR", required=True),
        Field("parent_id", "VARCHAR"),
        Field("level", "VARCHAR", default="CASE WHEN {tag} IS NULL THEN 'equipment' ELSE 'measurement_point' END"),
        Field("name", "VARCHAR"),
        Field("equipment_type", "VARCHAR"),
        Field("tag", "VARCHAR"),
        Field("unit", "VARCHAR"),
        Field("low_limit", "DOUBLE"),
        Field("high_limit", "DOUBLE"),
        Field("safety_related", "BOOLEAN", default="false"),
        Field("sampling_period_s", "DOUBLE"),  # the tag's nominal sampling period: the gate's expected readings
    ),
    SourceKind.TABLE: (),
}

TIMED_KINDS = frozenset(
    {SourceKind.HISTORIAN_LONG, SourceKind.HISTORIAN_WIDE, SourceKind.EVENT_LOG, SourceKind.WORK_ORDERS}
)
READING_KINDS = frozenset({SourceKind.HISTORIAN_LONG, SourceKind.HISTORIAN_WIDE})

ALLOWED_TYPES = frozenset(
    {"VARCHAR", "DOUBLE", "BIGINT", "INTEGER", "SMALLINT", "BOOLEAN", "DATE", "TIMESTAMP", "DECIMAL(18,6)"}
)


WITHHELD = "<withheld: may hold personal data>"
ADDED_BY_PLANTDATA = frozenset({"source_file", "source_line"})  # the export file's name and line: not personal
ADDED_FROM_REGISTER = frozenset({"equipment_id", "unit"})  # a reading's equipment and unit, codes from the register


def sample_safe(kind: SourceKind, column: str, type_: str) -> bool:
    """Whether a column's values may appear in samples (quality checks, Dagster metadata): not text, or a
    canonical code column (ids, tags, states). Free text, names and any unknown text column are withheld."""
    if type_.upper() != "VARCHAR" and not type_.upper().startswith("ENUM"):
        return True
    return not may_name_people(kind, column)


def may_name_people(kind: SourceKind, column: str) -> bool:
    """A text column that may hold people's names: canonical free text and name fields, or any column the
    kind does not define (a `table` source's columns, extra columns). Codes, tags and equipment names do not."""
    if column in ADDED_BY_PLANTDATA or (kind in READING_KINDS and column in ADDED_FROM_REGISTER):
        return False
    fields = {f.name: f for f in CANONICAL_FIELDS.get(kind, ())}
    if kind in READING_KINDS:
        fields.update({f.name: f for f in READING_FIELDS})
    return column not in fields or fields[column].personal
