"""Plant identifiers that point at people are configurable patterns (`privacy.identifiers`), checked when the
sources file is loaded; `employee_id_prefixes` keeps working as one such pattern."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog.pii.keys import PseudonymKey
from catalog.pii.recognizers import Identifier
from catalog.pii.scanner import PiiScanner, ScannerSettings, Treatment
from catalog.pii.settings import scanner_settings
from config.errors import ConfigError
from config.sources import load_sources

KEY = PseudonymKey(b"test key for plant identifiers, at least 32 bytes")
SOURCE = """
sources:
  - name: orders
    kind: work_orders
    system: CMMS
    owner: Maintenance
    location: wo/*.jsonl
    format: jsonl
"""


def _sources(write: Callable[..., Path], privacy: str) -> Path:
    return write("sources.yaml", textwrap.dedent(privacy).lstrip("\n") + SOURCE)


def test_a_configured_identifier_is_found_in_a_shape_the_prefix_cannot_express(
    write: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLANTDATA_PSEUDONYM_KEY", raising=False)
    sources = load_sources(
        _sources(
            write,
            """
            privacy:
              identifiers:
                - {name: employee_id, pattern: '\\bMA\\d{6}\\b', example: MA204711}
                - {name: badge, pattern: '\\bAW-\\d{5}-[A-Z]\\b', example: AW-20471-K}
            """,
        )
    )
    settings = scanner_settings(sources, tmp_path, Treatment.PSEUDONYMISE)
    scanner = PiiScanner(settings)
    text = "Hot work permit issued to personnel number MA204711, badge AW-20471-K, and to EMP-004711; 工号MA204712。"
    masked, found, _ = scanner.mask(text)
    assert found == {"EMPLOYEE_ID": 3, "BADGE": 1}, "the prefix setting still finds EMP-004711"
    assert all(value not in masked for value in ("MA204711", "AW-20471-K", "EMP-004711", "MA204712"))
    assert "P-101" in scanner.mask("Seal on P-101 replaced, order 4500012345.").text


def test_employee_id_prefixes_still_work_and_accept_ids_without_the_dash() -> None:
    scanner = PiiScanner(ScannerSettings((), KEY, ner=False))
    for text in ("reported as EMP-004711", "reported as EMP004711", "reported as EMP 004711"):
        assert scanner.mask(text).found == {"EMPLOYEE_ID": 1}, text
    assert scanner.mask("Pump EMPTY, refilled 2024").found == {}


def test_without_the_configured_pattern_the_other_shape_is_not_an_employee_id() -> None:
    """What the configuration adds: the prefix pattern alone cannot express `MA204711`."""
    plain = PiiScanner(ScannerSettings((), KEY, ner=False))
    configured = PiiScanner(
        ScannerSettings((), KEY, ner=False, identifiers=(Identifier("employee_id", r"\bMA\d{6}\b"),))
    )
    assert plain.mask("personnel number MA204711").found == {}
    assert configured.mask("personnel number MA204711").found == {"EMPLOYEE_ID": 1}


@pytest.mark.parametrize(
    "entry, problem, fix",
    [
        ("{name: badge, pattern: '\\bAW-(\\d{5}', example: AW-20471}", "not a valid regular expression", "fix the"),
        ("{name: badge, pattern: '\\bAW-\\d{5}\\b', example: AW-2047}", "does not match its example", "fix the"),
        ("{name: badge, pattern: 'AW-\\d{3}', example: AW-20471}", "matches only 'AW-204' of its example", "fix"),
        ("{name: badge, pattern: '\\d*', example: '12'}", "matches empty text", "require at least one"),
        ("{name: Badge-No, pattern: 'B\\d+', example: B1}", "should match pattern", "correct the value"),
    ],
)
def test_an_identifier_is_checked_when_the_sources_file_is_loaded(
    write: Callable[..., Path], entry: str, problem: str, fix: str
) -> None:
    path = _sources(write, f"privacy:\n  identifiers:\n    - {entry}\n")
    with pytest.raises(ConfigError) as raised:
        load_sources(path)
    error = raised.value
    assert error.file == str(path) and error.key.startswith(
        "privacy.identifiers[badge]" if "badge" in entry else "privacy.identifiers"
    )
    assert problem in error.problem and fix in str(error)


def test_an_employee_id_prefix_that_is_not_a_word_is_refused(write: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError) as raised:
        load_sources(_sources(write, "privacy:\n  employee_id_prefixes: ['EMP-(']\n"))
    assert raised.value.key == "privacy.employee_id_prefixes" and "privacy.identifiers" in raised.value.problem
