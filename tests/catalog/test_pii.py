"""The PII scanner: planted personal data found on and off the roster, consistent keyed pseudonyms, and
equipment codes left alone. Offline: the NER model comes from the installed package."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from catalog.pii.recognizers import is_name_shaped
from catalog.pii.scanner import PiiScanner, ScannerSettings
from catalog.release import scan, write_release
from config.kinds import SourceKind
from demo_plant import generate


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pii") / "demo"
    generate(out, days=1, tags=40, min_period_s=30, max_period_s=60)
    return out


def _roster(demo: Path) -> tuple[str, ...]:
    with (demo / "cmms" / "personnel_roster.csv").open(encoding="utf-8") as handle:
        return tuple(row["name"] for row in csv.DictReader(handle))


def _gated_file(tmp_path: Path, select: str) -> Path:
    """The rows of `select` as a gated partition's Parquet file."""
    path = tmp_path / "gated" / "day=1" / "part-0.parquet"
    path.parent.mkdir(parents=True)
    duckdb.sql(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
    return path


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return PiiScanner(ScannerSettings(roster_names=(), secret="test"))


def test_every_planted_value_is_gone_from_the_released_work_orders(demo: Path, tmp_path: Path) -> None:
    source = demo / "cmms" / "work_orders.jsonl"
    orders = _gated_file(
        tmp_path, f"SELECT * FROM read_json('{source}', format = 'newline_delimited', ignore_errors = true)"
    )
    gated = orders.parent.parent
    report, replacements = scan([orders], ScannerSettings(_roster(demo), "test"), SourceKind.WORK_ORDERS, workers=1)
    write_release([orders], gated, tmp_path / "release", replacements)
    released = duckdb.sql(f"SELECT technician, description FROM '{tmp_path}/release/*/*.parquet'").fetchall()
    text = "\n".join(f"{t} {d}" for t, d in released)
    planted = json.loads((demo / "ground_truth" / "personal_data.json").read_text(encoding="utf-8"))
    for kind, values in planted.items():
        assert values, f"the demo plants {kind}"
        assert [v for v in values if v in text] == [], f"{kind} left in the clear"
    by_column = {c.column: c for c in report.columns}
    named = sum(t is not None for t, _ in released)
    assert by_column["technician"].name_column and by_column["technician"].rows_affected == named
    assert {"PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "EMPLOYEE_ID"} <= set(by_column["description"].entities)
    assert report.distinct_texts < report.texts, "repeated texts are scanned once"


@pytest.mark.parametrize(
    "text, name",
    [
        ("Priya Nair replaced the coupling on M-302.", "Priya Nair"),
        ("Coupling on M-302 replaced; Dieter Krause will send the invoice.", "Dieter Krause"),
        ("Mike O'Connor from the service team checked the gearbox.", "Mike O'Connor"),
        ("Spoke to Hans-Jürgen Vogel about the motor.", "Hans-Jürgen Vogel"),
    ],
)
def test_names_off_the_roster_are_found_by_the_ner_model(scanner: PiiScanner, text: str, name: str) -> None:
    [finding] = scanner.find(text)
    assert (text[finding.start : finding.end], finding.entity_type) == (name, "PERSON")
    assert (finding.recognition_metadata or {})["recognizer_name"] == "SpacyRecognizer"


def test_names_after_cues_are_found_without_the_model() -> None:
    patterns_only = PiiScanner(ScannerSettings(roster_names=(), secret="test", ner=False))
    masked, found = patterns_only.mask("Replaced DE bearing on M-205. Called Lukas Schneider for alignment.")
    assert "Lukas Schneider" not in masked and found["PERSON"] == 1


def test_pseudonyms_are_consistent_and_keyed(scanner: PiiScanner) -> None:
    first, _ = scanner.mask("Called Jonas Weber (+49 171 5550142).")
    second, _ = scanner.mask("Jonas Weber confirmed, +49 171 5550142 unreachable.")
    token = scanner.pseudonym("PERSON", "Jonas Weber")
    assert token in first and token in second and "5550142" not in first + second
    other = PiiScanner(ScannerSettings(("Jonas Weber",), secret="another key", ner=False))
    assert other.pseudonym("PERSON", "Jonas Weber") != token


def test_equipment_codes_and_tags_are_not_taken_for_people(scanner: PiiScanner) -> None:
    text = "Pump C-3 and P-101 checked on line L-21; valve V-202 replaced. Tag P103.BRG_TEMP_DE OK."
    assert scanner.mask(text) == (text, {})
    assert not is_name_shaped("C-3") and not is_name_shaped("Tel") and is_name_shaped("Mehmet Yılmaz")


def test_a_name_off_the_roster_next_to_one_on_it_still_reaches_the_model() -> None:
    scanner = PiiScanner(ScannerSettings(roster_names=("Sophie Becker",), secret="test"))
    masked, found = scanner.mask("Called Sophie Becker; the coupling was replaced by Priya Nair from the service team.")
    assert "Sophie Becker" not in masked and "Priya Nair" not in masked and found["PERSON"] == 2


@pytest.mark.parametrize("threads", [1, 2], ids=["forked", "spawned"])
def test_workers_mask_exactly_as_one_process_does(
    scanner: PiiScanner, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    from bench.pii import distinct_texts
    from catalog.pii import parallel

    monkeypatch.setattr(parallel.threading, "active_count", lambda: threads)  # 2: a caller with other threads

    texts = distinct_texts(60)
    alone, _ = parallel.mask_distinct(texts, scanner, workers=1)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 10)
    monkeypatch.setattr(parallel, "CHUNK", 7)
    fresh = PiiScanner(scanner.settings)  # an empty cache: the workers must do the scanning themselves
    shared, _ = parallel.mask_distinct(texts, fresh, workers=2)
    assert shared == alone and any(found for _, found in shared.values())
    assert fresh.texts_through_ner == 0, "the workers scanned, not this process"


def test_code_and_equipment_name_columns_look_for_roster_names_only(tmp_path: Path) -> None:
    register = _gated_file(
        tmp_path,
        "SELECT * FROM (VALUES ('S1', 'Werk Nord'), ('P-101', 'Feed Pump'), ('X', 'Jonas Weber')) t(node_id, name)",
    )
    settings = ScannerSettings(roster_names=("Jonas Weber",), secret="test")
    report, replacements = scan([register], settings, SourceKind.ASSET_REGISTER, workers=1)
    assert list(replacements) == ["name"] and list(replacements["name"]) == ["Jonas Weber"]
    assert report.texts_through_ner == 0


def test_identifiers_are_never_taken_for_phone_numbers(tmp_path: Path) -> None:
    orders = _gated_file(tmp_path, "SELECT 'WO-' || i AS wo_id, 'P-101' AS equipment_id FROM range(1600, 1700) t(i)")
    settings = ScannerSettings(roster_names=(), secret="test")
    report, replacements = scan([orders], settings, SourceKind.WORK_ORDERS, workers=1)
    assert replacements == {} and not report.found, "Presidio's phone matcher reads WO-1640 as a number"
