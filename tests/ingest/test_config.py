from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from config.errors import ConfigError
from config.kinds import SourceKind
from config.sources import load_sources
from tests.conftest import REPO

MINIMAL = """
sources:
  - name: hist
    kind: historian_long
    system: historian
    owner: process
    location: data/*.csv
"""


def test_the_shipped_sources_files_are_valid() -> None:
    demo = load_sources(REPO / "demo_plant" / "sources.yaml")
    skab = load_sources(REPO / "examples" / "skab" / "sources.yaml")
    assert {s.kind for s in demo.sources} >= {
        SourceKind.ASSET_REGISTER,
        SourceKind.HISTORIAN_LONG,
        SourceKind.EVENT_LOG,
        SourceKind.WORK_ORDERS,
        SourceKind.TABLE,
    }
    assert skab.sources[0].kind is SourceKind.HISTORIAN_WIDE


def test_relative_locations_resolve_from_the_sources_file(write: Callable[..., Path]) -> None:
    path = write("conf/sources.yaml", MINIMAL)
    sources = load_sources(path)
    assert sources.resolve_location(sources.sources[0]) == str(path.parent / "data" / "*.csv")


@pytest.mark.parametrize(
    ("patch", "key", "fix"),
    [
        ("    delimter: ';'\n", "sources[hist].delimter", "remove it or correct its spelling"),
        ("    timestamp: {timezone: Mars/Olympus}\n", "sources[hist].timestamp.timezone", "IANA name"),
        ("    register: nowhere\n", "sources[hist].register", "no asset_register source has that name"),
        ("    csv: {header: false}\n", "sources[hist].csv", "column_names"),
        ("    csv: {delimiter: ',', decimal: ','}\n", "sources[hist].csv", "another delimiter"),
        ("    units: {T1: xyz/h}\n", "sources[hist].units", "is not a unit"),
        ("    columns: {temperature: T}\n", "sources[hist]", "map onto"),
        ("    partition: weekly\n", "sources[hist].partition", "one of the listed values"),
    ],
)
def test_mistakes_name_file_key_and_fix(write: Callable[..., Path], patch: str, key: str, fix: str) -> None:
    path = write("sources.yaml", MINIMAL + patch)
    with pytest.raises(ConfigError) as caught:
        load_sources(path)
    message = str(caught.value)
    assert str(path) in message
    assert key in message
    assert fix in message


def test_unknown_kind_lists_the_kinds(write: Callable[..., Path]) -> None:
    path = write("sources.yaml", MINIMAL.replace("historian_long", "historian"))
    with pytest.raises(ConfigError, match=r"sources\[hist\]\.kind.*historian_long"):
        load_sources(path)


def test_table_kind_needs_a_schema(write: Callable[..., Path]) -> None:
    path = write("sources.yaml", MINIMAL.replace("historian_long", "table"))
    with pytest.raises(ConfigError, match="schema"):
        load_sources(path)


def test_duplicate_source_names_are_refused(write: Callable[..., Path]) -> None:
    body = MINIMAL + MINIMAL.split("sources:\n", 1)[1]
    with pytest.raises(ConfigError, match="unique"):
        load_sources(write("sources.yaml", body))


def test_yaml_syntax_error_names_the_line(write: Callable[..., Path]) -> None:
    path = write("sources.yaml", "sources:\n  - name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line \d+"):
        load_sources(path)


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--sources"):
        load_sources(tmp_path / "absent.yaml")


def test_unset_environment_variable_in_location(write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLANT_EXPORTS", raising=False)
    path = write("sources.yaml", MINIMAL.replace("data/*.csv", "${PLANT_EXPORTS}/*.csv"))
    with pytest.raises(ConfigError, match="PLANT_EXPORTS"):
        load_sources(path)
    monkeypatch.setenv("PLANT_EXPORTS", "/exports")
    sources = load_sources(path)
    assert sources.resolve_location(sources.sources[0]) == "/exports/*.csv"


SECOND = MINIMAL.split("sources:\n", 1)[1].replace("name: hist", "name: line2")


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (MINIMAL + "    csv: {header: false}\n", "sources[hist].csv"),
        (MINIMAL + "    csv: {delimiter: ',', decimal: ','}\n", "sources[hist].csv"),
        (MINIMAL + "    csv: semicolon\n", "sources[hist].csv"),
        (MINIMAL + "    csv: {delimiter: ';;'}\n", "sources[hist].csv.delimiter"),
        (MINIMAL + "    csv: {header: false, column_names: [a, [b]]}\n", "sources[hist].csv.column_names[1]"),
        (MINIMAL + "    quality: {gap_periods: 1}\n", "sources[hist].quality.gap_periods"),
        (MINIMAL + "    units: {1: degC}\n", "sources[hist].units.1 (key)"),
        (MINIMAL + SECOND + "    csv: {header: false}\n", "sources[line2].csv"),
        (MINIMAL + "    register: nowhere\n", "sources[hist].register"),
        (MINIMAL + MINIMAL.split("sources:\n", 1)[1], "sources[hist].name"),
        (MINIMAL + SECOND.replace("  - name: line2\n    kind", "  - kind"), "sources[1].name"),
        (MINIMAL.replace("name: hist", "name: 12"), "sources[0].name"),
    ],
    ids=[
        "header-without-names",
        "decimal-comma-delimiter",
        "csv-not-a-mapping",
        "nested-field",
        "nested-list-item",
        "nested-model",
        "mapping-key",
        "second-source",
        "unknown-register",
        "duplicate-name",
        "entry-without-name",
        "name-not-a-string",
    ],
)
def test_every_key_path_names_the_source(write: Callable[..., Path], body: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_sources(write("sources.yaml", body))
    assert caught.value.key == key


def test_header_false_without_names_says_what_to_add(write: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_sources(write("sources.yaml", MINIMAL + "    csv: {header: false}\n"))
    assert "header: false needs column_names: [...]" in str(caught.value)
