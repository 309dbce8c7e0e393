"""The PII scanner: planted personal data found on and off the roster, consistent keyed pseudonyms, and
equipment codes left alone. Offline: the NER model comes from the installed package.

The texts are the independent evaluation set's (`bench.pii_corpus`) or written here, never the demo plant's:
its templates hold the very cue words (`called`, `by`, `Tel.`) the recognizers look for.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench.pii_corpus import generate
from bench.pii_eval import scanner_settings
from catalog.pii.keys import PseudonymKey
from catalog.pii.recognizers import is_name_shaped
from catalog.pii.scanner import PiiScanner, ScannerSettings
from catalog.release import scan, write_release
from config.kinds import SourceKind

KEY = PseudonymKey(b"test key for the pii scanner, 32 bytes or more")


def _gated_file(tmp_path: Path, select: str) -> Path:
    """The rows of `select` as a gated partition's Parquet file."""
    path = tmp_path / "gated" / "day=1" / "part-0.parquet"
    path.parent.mkdir(parents=True)
    duckdb.sql(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
    return path


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return PiiScanner(ScannerSettings(roster_names=(), key=KEY))


def test_planted_values_are_gone_from_a_release_of_unseen_texts(tmp_path: Path) -> None:
    """The evaluation set as one work-order history: every contact detail and id is gone from the release, and
    names as far as the targets say (a few Han names lie outside the surname and given-name lists)."""
    corpus = generate(320, seed=7)
    path = tmp_path / "gated" / "day=1" / "part-0.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table({"description": [s.text for s in corpus.samples]}), path)
    report, replacements = scan([path], scanner_settings(corpus), SourceKind.WORK_ORDERS, workers=1)
    write_release([path], tmp_path / "gated", tmp_path / "release", replacements)
    released = pq.read_table(tmp_path / "release" / "day=1" / "part-0.parquet").column("description").to_pylist()
    left: dict[str, list[str]] = {}
    total: dict[str, int] = {}
    for sample, text in zip(corpus.samples, released, strict=True):
        for value in sample.planted:
            raw = sample.text[value.start : value.end]
            kind = "PERSON" if value.entity == "PERSON" else "other"
            total[kind] = total.get(kind, 0) + 1
            if raw in text:
                left.setdefault(kind, []).append(raw)
    assert left.get("other", []) == [], "contact details and ids left in the clear"
    assert len(left.get("PERSON", [])) <= 0.05 * total["PERSON"], left.get("PERSON")
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
    patterns_only = PiiScanner(ScannerSettings(roster_names=(), key=KEY, ner=False))
    masked, found, _ = patterns_only.mask("Replaced DE bearing on M-205. Called Lukas Schneider for alignment.")
    assert "Lukas Schneider" not in masked and found["PERSON"] == 1


def test_pseudonyms_are_consistent_and_keyed(scanner: PiiScanner) -> None:
    first = scanner.mask("Jonas Weber (+49 171 5550142) checked the seal on P-101.").text
    second = scanner.mask("Jonas Weber confirmed, +49 171 5550142 unreachable.").text
    token = scanner.pseudonym("PERSON", "Jonas Weber")
    assert token in first and token in second and "5550142" not in first + second
    other = PiiScanner(ScannerSettings(("Jonas Weber",), key=PseudonymKey.generate(), ner=False))
    assert other.pseudonym("PERSON", "Jonas Weber") != token


def test_equipment_codes_and_tags_are_not_taken_for_people(scanner: PiiScanner) -> None:
    text = "Pump C-3 and P-101 checked on line L-21; valve V-202 replaced. Tag P103.BRG_TEMP_DE OK."
    assert scanner.mask(text) == (text, {}, ())
    assert not is_name_shaped("C-3") and not is_name_shaped("Tel") and is_name_shaped("Mehmet Yılmaz")


def test_a_name_off_the_roster_next_to_one_on_it_still_reaches_the_model() -> None:
    scanner = PiiScanner(ScannerSettings(roster_names=("Sophie Becker",), key=KEY))
    text = "Sophie Becker and Priya Nair replaced the coupling on P-101."
    masked, found, _ = scanner.mask(text)
    assert "Sophie Becker" not in masked and "Priya Nair" not in masked and found["PERSON"] == 2
    [model] = [f for f in scanner.find(text) if text[f.start : f.end] == "Priya Nair"]
    assert (model.recognition_metadata or {})["recognizer_name"] == "SpacyRecognizer"


def test_a_roster_surname_does_not_keep_the_model_from_the_whole_name() -> None:
    """`Coleman` is on the roster (as Emily Coleman); Grace Coleman is not: her given name must not survive."""
    scanner = PiiScanner(ScannerSettings(roster_names=("Emily Coleman",), key=KEY))
    masked, found, _ = scanner.mask("Late shift: Grace Coleman found oil under K-7 and cleaned up.")
    assert "Grace" not in masked and "Coleman" not in masked and found["PERSON"] == 1


@pytest.mark.parametrize("threads", [1, 2], ids=["forked", "spawned"])
def test_workers_mask_exactly_as_one_process_does(
    scanner: PiiScanner, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    from catalog.pii import parallel

    monkeypatch.setattr(parallel.threading, "active_count", lambda: threads)  # 2: a caller with other threads

    texts = [s.text for s in generate(60, seed=3).samples]
    alone, _ = parallel.mask_distinct(texts, scanner, workers=1)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 10)
    monkeypatch.setattr(parallel, "CHUNK", 7)
    fresh = PiiScanner(scanner.settings)  # an empty cache: the workers must do the scanning themselves
    shared, _ = parallel.mask_distinct(texts, fresh, workers=2)
    assert shared == alone and any(m.found for m in shared.values())
    assert fresh.texts_through_ner == 0, "the workers scanned, not this process"


def test_code_and_equipment_name_columns_look_for_roster_names_only(tmp_path: Path) -> None:
    register = _gated_file(
        tmp_path,
        "SELECT * FROM (VALUES ('S1', 'Werk Nord'), ('P-101', 'Feed Pump'), ('X', 'Jonas Weber')) t(node_id, name)",
    )
    settings = ScannerSettings(roster_names=("Jonas Weber",), key=KEY)
    report, replacements = scan([register], settings, SourceKind.ASSET_REGISTER, workers=1)
    assert list(replacements) == ["name"] and list(replacements["name"]) == ["Jonas Weber"]
    assert report.texts_through_ner == 0


def test_identifiers_are_never_taken_for_phone_numbers(tmp_path: Path) -> None:
    orders = _gated_file(tmp_path, "SELECT 'WO-' || i AS wo_id, 'P-101' AS equipment_id FROM range(1600, 1700) t(i)")
    settings = ScannerSettings(roster_names=(), key=KEY)
    report, replacements = scan([orders], settings, SourceKind.WORK_ORDERS, workers=1)
    assert replacements == {} and not report.found, "Presidio's phone matcher reads WO-1640 as a number"


def test_the_ner_model_is_loaded_only_for_a_text_that_needs_it() -> None:
    """Code columns (tags, equipment) never need the model: a historian's release does not pay for loading it."""
    fresh = PiiScanner(ScannerSettings(roster_names=(), key=KEY))
    codes = fresh.mask_many(["P-101.PT", "TAG0001.PV", "degC"], names=False)
    assert all(m.found == {} for m in codes.values()) and not fresh.model_loaded
    masked = fresh.mask("Zygmunt Brzęczyszczykiewicz replaced the seal.").text
    assert fresh.model_loaded and "Zygmunt" not in masked
