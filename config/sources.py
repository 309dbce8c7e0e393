"""The sources file: what a data engineer writes to point plantdata at a plant's exports.

Validated by pydantic; every mistake becomes a `ConfigError` naming the file, the key and the fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.errors import ConfigError
from config.kinds import ALLOWED_TYPES, CANONICAL_FIELDS, TIMED_KINDS, FileFormat, SourceKind, SourceSystem
from config.layout import data_root
from config.privacy import PrivacyOptions
from config.quality import QualityOptions
from config.timezones import parse_timezone
from config.units import known_unit

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_ENV = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


WHITESPACE = "whitespace"  # csv.delimiter for columns separated by runs of blanks (fixed-width-like exports)


class CsvOptions(_Strict):
    """How to read a delimited text export."""

    delimiter: str = ","
    encoding: str = "auto"  # auto: detected per file (charset-normalizer); a declared encoding always wins
    header: bool = True
    column_names: list[str] | None = None
    decimal: Literal[".", ","] = "."
    thousands: Literal[".", ",", " ", "'"] | None = None  # digit grouping in numbers: '1.234,5' has '.'
    quote: str = '"'
    skip_rows: int = Field(default=0, ge=0)
    null_values: list[str] = Field(default_factory=lambda: ["", "NULL", "null", "NaN", "nan"])
    max_line_bytes: int = Field(default=2_000_000, ge=1024)

    @field_validator("delimiter", "quote")
    @classmethod
    def _one_char(cls, value: str) -> str:
        if len(value) != 1 and value != WHITESPACE:
            raise ValueError(
                "must be exactly one character, e.g. ',' or ';' (use '\\t' for tab), or 'whitespace' for columns "
                "separated by runs of blanks"
            )
        return value

    @property
    def field_delimiter(self) -> str:
        """The one character between fields once the file is read: a tab for whitespace-separated exports, whose
        runs of blanks are turned into single tabs as the file is made readable."""
        return "\t" if self.delimiter == WHITESPACE else self.delimiter

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        if value == "auto":
            return value
        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(
                f"unknown encoding {value!r}; use auto (detected per file) or e.g. utf-8, cp1252, gb18030, "
                "shift_jis, utf-16"
            ) from exc
        return value

    @model_validator(mode="after")
    def _names_without_header(self) -> CsvOptions:
        if not self.header and not self.column_names:
            raise ValueError("header: false needs column_names: [...] listing the file's columns in order")
        if self.decimal == "," and self.delimiter == ",":
            raise ValueError("decimal ',' needs another delimiter, e.g. delimiter: ';'")
        if self.thousands is not None and self.thousands in {self.decimal, self.delimiter}:
            raise ValueError(f"thousands {self.thousands!r} must differ from the decimal mark and the delimiter")
        return self


class TimestampOptions(_Strict):
    """How timestamps are written in the export and which clock they follow.

    `timezone` is the clock of timestamps written without an offset: an IANA zone, UTC or a fixed offset, or
    `data` when every timestamp states its own offset. A timestamp that states its offset (`+08:00`, `Z`) is
    converted with it; when a zone is configured, the stated offset must be the zone's offset at that time,
    else the row is quarantined as `offset_mismatch` (never published shifted). Unset: UTC for naive times.
    """

    format: str | list[str] | None = None  # strptime specifiers; a list: the first that fits each value
    timezone: str | None = None
    ambiguous: Literal["earliest", "latest", "quarantine"] = "earliest"

    @field_validator("format")
    @classmethod
    def _valid_format(cls, value: str | list[str] | None) -> str | list[str] | None:
        import duckdb

        if value is None:
            return value
        if isinstance(value, list) and not value:
            raise ValueError("give at least one format, e.g. '%Y-%m-%d %H:%M:%S'")
        for one in [value] if isinstance(value, str) else value:
            try:
                duckdb.execute("SELECT try_strptime('', ?)", [one]).fetchall()
            except duckdb.Error as exc:
                raise ValueError(
                    f"{one!r} is not a format DuckDB can read ({str(exc).split(': ')[-1]}); use strptime "
                    "specifiers such as '%Y-%m-%d %H:%M:%S', '%d.%m.%Y %H:%M' or '%d-%b-%Y %H:%M:%S.%f', or a list "
                    "of them when values come in several shapes"
                ) from exc
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str | None) -> str | None:
        if value is not None and value != "data":
            parse_timezone(value)
        return value

    @property
    def zone(self) -> str:
        """The zone naive timestamps are read in ('UTC' when unset; 'data' when each must state its offset)."""
        return self.timezone or "UTC"

    @property
    def formats(self) -> list[str]:
        return [] if self.format is None else [self.format] if isinstance(self.format, str) else list(self.format)

    @property
    def single_format(self) -> str | None:
        """The format when there is exactly one (DuckDB's CSV reader takes one; a list is parsed as text)."""
        return self.format if isinstance(self.format, str) else None

    @property
    def format_has_offset(self) -> bool:
        return any("%z" in f.lower() for f in self.formats)


QualityClass = Literal["good", "uncertain", "bad"]


class QualityCode(_Strict):
    """A historian's quality word with the numeric code and class it stands for."""

    code: int
    quality_class: QualityClass = Field(alias="class")


class QualityCodeOptions(_Strict):
    """How the export writes reading quality, mapped to a numeric code and a good/uncertain/bad class.

    Numbers and hex (`192`, `0x80000000`, `2147483648`) are OPC status codes: `auto` reads values above 255 and
    hex as OPC UA status codes and 0-255 as OPC DA quality bytes (192 good, 64 uncertain, 0 bad); an OPC UA
    export written in decimal must say `numeric: opc_ua` (0 is Good in OPC UA but Bad in OPC DA). OPC UA
    status names (`Good`, `BadSensorFailure`, `UncertainLastUsableValue`) and the usual historian words
    (`Questionable`, `Substituted`, ...) are known; `map` adds or overrides words (case and blanks ignored).
    """

    numeric: Literal["auto", "opc_da", "opc_ua"] = "auto"
    map: dict[str, QualityClass | QualityCode] = Field(default_factory=dict)


class ColumnSource(_Strict):
    """Where a canonical column comes from when it is not simply an export column.

    `{column: X}` is the same as `X`; `{column: X, default: D}` fills empty values with D; `{value: V}` is a
    constant for every row; `{line_number: true}` is the physical line the row starts on in its file (for
    exports whose rows are keyed by position, such as one value per line); `{columns: [Date, Time]}` joins
    export columns with a blank, for a timestamp exported as a date and a time of day.
    """

    column: str | None = None
    columns: list[str] | None = Field(default=None, min_length=2)
    default: str | None = None
    value: str | int | float | bool | None = None
    line_number: bool = False

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnSource:
        origins = [
            self.column is not None,
            self.columns is not None,
            "value" in self.model_fields_set,
            self.line_number,
        ]
        if sum(origins) != 1:
            raise ValueError(
                "give exactly one of column: <export column>, columns: [<date column>, <time column>], "
                "value: <constant> or line_number: true"
            )
        if self.default is not None and self.column is None:
            raise ValueError("default: applies to column: <export column> only")
        return self


class SequenceOptions(_Strict):
    """A counter axis instead of time: run-to-failure cycles, batch steps, test runs.

    Rows are ordered per `entity` by `counter`; the gate checks per entity that counters are unique, that
    they do not go backwards in file order and that they have no gaps beyond `max_step` (default: the
    entity's usual step).
    """

    entity: str | list[str]  # several columns when one alone repeats (unit numbers restarting in each file)
    counter: str
    max_step: float | None = Field(default=None, gt=0)

    @property
    def entities(self) -> list[str]:
        return [self.entity] if isinstance(self.entity, str) else list(self.entity)


class SourceConfig(_Strict):
    """One source: where its files are, how to read them and how they map onto the canonical schema."""

    name: str
    kind: SourceKind
    system: SourceSystem
    owner: str
    location: str
    format: FileFormat = FileFormat.CSV
    description: str = ""
    csv: CsvOptions = Field(default_factory=CsvOptions)
    columns: dict[str, str | ColumnSource] = Field(default_factory=dict)
    schema_: dict[str, str] = Field(default_factory=dict, alias="schema")
    time_column: str | None = None
    timestamp: TimestampOptions = Field(default_factory=TimestampOptions)
    value_columns: list[str] | None = None
    tag_prefix: str = ""
    exclude_columns: list[str] = Field(default_factory=list)
    register_source: str | None = Field(default=None, alias="register")
    equipment: str | None = None
    units: dict[str, str] = Field(default_factory=dict)
    partition: Literal["day", "file", "entity"] | None = None
    sequence: SequenceOptions | None = None
    quality_codes: QualityCodeOptions = Field(default_factory=QualityCodeOptions)
    trim_keys: bool = True  # strip blanks around ids, tags, codes and states (never around free text)
    quality: QualityOptions = Field(default_factory=QualityOptions)
    steward: str | None = None
    personal_data: Literal["pseudonymise", "redact", "keep"] = "pseudonymise"

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use lower-case letters, digits and '_' starting with a letter, e.g. 'historian_line1'")
        return value

    @field_validator("units")
    @classmethod
    def _known_units(cls, value: dict[str, str]) -> dict[str, str]:
        for column, unit in value.items():
            if not known_unit(unit):
                raise ValueError(
                    f"tag {column!r}: {unit!r} is not a unit pint or the plant aliases (config/units.py) know; "
                    "use a spelling such as 'degC', '°C', 'bar', 'barg', 'kPa', 'm3/h', 'Nm3/h', 'l/min', 'mm/s', "
                    "'rpm', 'kW', '%' or 'pcs'"
                )
        return value

    @field_validator("schema_")
    @classmethod
    def _known_types(cls, value: dict[str, str]) -> dict[str, str]:
        for column, type_ in value.items():
            if type_.upper() not in ALLOWED_TYPES:
                raise ValueError(f"type {type_!r} of {column!r} is not one of {sorted(ALLOWED_TYPES)}")
        return {column: type_.upper() for column, type_ in value.items()}

    @model_validator(mode="after")
    def _consistent(self) -> SourceConfig:
        canonical = {f.name for f in CANONICAL_FIELDS[self.kind]}
        if self.kind is SourceKind.TABLE:
            if not self.schema_:
                raise ValueError("kind 'table' needs schema: {column: TYPE, ...} listing its output columns")
            canonical = set(self.schema_)
            if self.time_column is not None and self.schema_.get(self.time_column) != "TIMESTAMP":
                raise ValueError(f"time_column {self.time_column!r} must be in schema with type TIMESTAMP")
        joined = [name for name, m in self.columns.items() if isinstance(m, ColumnSource) and m.columns]
        time_fields = {"ts", "closed_at", *(c for c, t in self.schema_.items() if t == "TIMESTAMP")}
        if any(name not in time_fields for name in joined):
            raise ValueError(
                f"columns: [...] joins a date and a time into a timestamp; {sorted(set(joined) - time_fields)} "
                "are not timestamp columns"
            )
        unknown = sorted(set(self.columns) - canonical)
        if unknown:
            raise ValueError(
                f"columns maps {unknown} which the {self.kind.value} schema does not have; "
                f"map onto {sorted(canonical)} (canonical name: source column)"
            )
        if self.kind is not SourceKind.HISTORIAN_WIDE and (
            self.value_columns or self.exclude_columns or self.tag_prefix
        ):
            raise ValueError("value_columns, exclude_columns and tag_prefix apply to kind historian_wide only")
        if self.register_source is not None and self.equipment is not None:
            raise ValueError("give either register (tags linked through the asset register) or equipment, not both")
        if self.partition == "day" and not self.is_timed:
            raise ValueError("partition: day needs time in the data (a timed kind, or time_column for kind table)")
        self._check_sequence()
        return self

    def _check_sequence(self) -> None:
        if self.partition == "entity" and self.sequence is None:
            raise ValueError("partition: entity needs sequence: {entity: <column>, counter: <column>}")
        if self.sequence is None:
            return
        if self.kind is not SourceKind.TABLE:
            raise ValueError("sequence applies to kind table (declare its columns under schema)")
        if self.time_column is not None:
            raise ValueError("give either time_column (a time axis) or sequence (a counter axis), not both")
        roles = [*(("entity", e) for e in self.sequence.entities), ("counter", self.sequence.counter)]
        for role, column in roles:
            if column not in self.schema_ and not (role == "entity" and column == "source_file"):
                raise ValueError(
                    f"sequence.{role} {column!r} is not in schema {sorted(self.schema_)} (an entity may also "
                    "include source_file, when ids restart in each file)"
                )
        if self.partition == "entity" and (len(self.sequence.entities) != 1 or "source_file" in self.sequence.entities):
            raise ValueError("partition: entity needs a single entity column; use partition: file for composite ones")
        if self.schema_[self.sequence.counter] not in {"BIGINT", "INTEGER", "SMALLINT", "DOUBLE", "DECIMAL(18,6)"}:
            raise ValueError(
                f"sequence.counter {self.sequence.counter!r} must be numeric in schema (BIGINT, INTEGER or DOUBLE), "
                f"not {self.schema_[self.sequence.counter]}"
            )

    @property
    def is_timed(self) -> bool:
        return self.kind in TIMED_KINDS or (self.kind is SourceKind.TABLE and self.time_column is not None)

    @property
    def partitioning(self) -> Literal["day", "file", "entity"]:
        if self.partition is not None:
            return self.partition
        return "day" if self.is_timed else "file"

    def source_column(self, canonical: str) -> str | None:
        """The export's column that feeds canonical column `canonical` (None: a constant or the line number; the
        first one when several are joined)."""
        mapped = self.columns.get(canonical, canonical)
        if isinstance(mapped, str):
            return mapped
        return mapped.columns[0] if mapped.columns else mapped.column

    def source_columns(self, canonical: str) -> list[str]:
        """Every export column that feeds canonical column `canonical` (several for a joined date and time)."""
        origin = self.column_source(canonical)
        return list(origin.columns) if origin.columns else [origin.column] if origin.column else []

    def column_source(self, canonical: str) -> ColumnSource:
        """How canonical column `canonical` is filled: an export column (maybe with a default), a constant, a line."""
        mapped = self.columns.get(canonical, canonical)
        return ColumnSource(column=mapped) if isinstance(mapped, str) else mapped

    @property
    def needs_line_numbers(self) -> bool:
        """Some column is the row's line number, or the sequence rules need file order."""
        return self.sequence is not None or any(
            isinstance(m, ColumnSource) and m.line_number for m in self.columns.values()
        )


class SourcesFile(_Strict):
    """The whole sources file, with its own location kept to resolve relative globs."""

    version: Literal[1] = 1
    plant: str = "plant"
    privacy: PrivacyOptions = Field(default_factory=PrivacyOptions)
    sources: list[SourceConfig]
    annotation: str | None = Field(
        None, description="the annotation file (people and Label Studio projects), relative to this file"
    )
    path: Path = Path("sources.yaml")

    @model_validator(mode="after")
    def _references(self) -> SourcesFile:
        names = [s.name for s in self.sources]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"source names must be unique; {duplicated} appear more than once")
        registers = {s.name for s in self.sources if s.kind is SourceKind.ASSET_REGISTER}
        for source in self.sources:
            if source.register_source is not None and source.register_source not in registers:
                raise ValueError(
                    f"source {source.name!r} names register {source.register_source!r} but no asset_register "
                    f"source has that name; asset_register sources: {sorted(registers)}"
                )
        return self

    def get(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(f"no source {name!r} in {self.path}; sources: {[s.name for s in self.sources]}")

    def resolve_location(self, source: SourceConfig) -> str:
        """The source's glob with ${VAR} expanded and relative paths taken from the sources file's folder."""
        return self.resolve(source.location)

    def resolve(self, location: str) -> str:
        """A location with ${VAR} expanded and a relative path taken from the sources file's folder."""
        location = expand_env(location, {"PLANTDATA_HOME": str(data_root()), **os.environ})
        if "://" in location or os.path.isabs(location):
            return location
        return str((self.path.parent / location).resolve())


def expand_env(text: str, env: Mapping[str, str] | None = None) -> str:
    """Expand ${VAR} and ${VAR:-default}; an unset variable without default is an error."""
    values = os.environ if env is None else env

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group("name"), match.group("default")
        if name in values:
            return values[name]
        if default is not None:
            return default
        raise KeyError(name)

    return _ENV.sub(substitute, text)


def load_sources(path: str | Path) -> SourcesFile:
    """Read and validate a sources file; raise `ConfigError` naming the file, key and fix."""
    path = Path(path)
    raw = read_mapping(path, "pass an existing file with --sources", "start the file with 'sources:'")
    try:
        sources_file = SourcesFile.model_validate({**raw, "path": path.resolve()})
    except ValidationError as exc:
        raise _to_config_error(path, raw, exc) from None
    for source in sources_file.sources:
        try:
            expand_env(source.location, {"PLANTDATA_HOME": "", **os.environ})
        except KeyError as missing:
            raise ConfigError(
                str(path),
                f"sources[{source.name}].location",
                f"environment variable {missing} is not set",
                f"set {missing} or write ${{{missing.args[0]}:-default}}",
            ) from None
    return sources_file


def read_mapping(path: Path, missing_fix: str, start_fix: str) -> dict[str, Any]:
    """A YAML file that must hold a mapping; ConfigError naming the file (and line) and the fix otherwise."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "(file)", "file not found", missing_fix) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise ConfigError(str(path), where, f"not valid YAML ({exc})", "fix the YAML syntax") from exc
    if not isinstance(raw, dict):
        raise ConfigError(str(path), "(top level)", "expected a mapping", start_fix)
    return raw


def key_path(raw: Any, loc: tuple[int | str, ...]) -> str:
    """The key path of a pydantic error location in a configuration file (see `_key_path`)."""
    return _key_path(raw, loc)


def _to_config_error(path: Path, raw: dict[str, Any], exc: ValidationError) -> ConfigError:
    error = exc.errors()[0]
    kind, message = error["type"], error["msg"].removeprefix("Value error, ")
    key = _key_path(raw, error["loc"] or _whole_file_rule_location(raw, message))
    if kind == "extra_forbidden":
        return ConfigError(str(path), key, "unknown key", "remove it or correct its spelling")
    if kind == "missing":
        return ConfigError(str(path), key, "required key is missing", "add it")
    if kind in {"enum", "literal_error"}:
        return ConfigError(str(path), key, message, "use one of the listed values")
    return ConfigError(str(path), key, message, "correct the value as described")


def _key_path(raw: Any, loc: tuple[int | str, ...]) -> str:
    """Render a pydantic location with source names instead of list indexes: sources[historian].csv.delimiter.

    A source is named by its `name` as written; only an entry without a usable name (none, or not a string) is
    named by its index, sources[2]. A bad mapping key (pydantic's `[key]` marker) is marked `(key)`.
    """
    parts: list[str] = []
    node = raw
    for item in loc:
        if item == "[key]":
            parts[-1] += " (key)"
            node = None
        elif isinstance(item, int) and isinstance(node, list) and parts:
            parts[-1] += f"[{_entry_label(node[item], item)}]"
            node = node[item]
        else:
            parts.append("schema" if item == "schema_" else str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def _entry_label(entry: Any, index: int) -> str:
    """What names a list entry in a key path: its `name` if it has one, else its index."""
    name = entry.get("name") if isinstance(entry, dict) else None
    return name if isinstance(name, str) and name.strip() else str(index)


def _whole_file_rule_location(raw: dict[str, Any], message: str) -> tuple[int | str, ...]:
    """The source behind an error of a rule across sources (unique names, register references).

    Pydantic reports such a rule at the top level of the file, but its fix belongs to one source: the entry that
    repeats a name, or whose `register` names no asset_register source. The entry must also be named in the
    message, so an error from any other whole-file rule keeps its top-level location.
    """
    entries = raw.get("sources")
    if not isinstance(entries, list):
        return ()
    named = [(i, e, e.get("name")) for i, e in enumerate(entries) if isinstance(e, dict)]
    seen: set[str] = set()
    for index, _, name in named:
        if isinstance(name, str) and name in seen and repr(name) in message:
            return ("sources", index, "name")
        seen.add(str(name))
    registers = {name for _, entry, name in named if entry.get("kind") == "asset_register"}
    for index, entry, name in named:
        register = entry.get("register")
        if register is not None and register not in registers and repr(name) in message:
            return ("sources", index, "register")
    return ()
