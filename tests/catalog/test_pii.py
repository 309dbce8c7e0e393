"""Personal data planted in the demo plant's work orders is masked by consistent pseudonyms, offline."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from catalog.pii.scanner import PiiScanner, ScanReport
from ingest.demo_plant import generate


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pii") / "demo"
    generate(out, days=1, tags=40, min_period_s=30, max_period_s=60)
    return out


def _scanner(demo: Path) -> PiiScanner:
    with (demo / "cmms" / "personnel_roster.csv").open(encoding="utf-8") as handle:
        names = [row["name"] for row in csv.DictReader(handle)]
    return PiiScanner(names, secret="test")


def test_planted_personal_data_on_the_roster_is_masked(demo: Path) -> None:
    scanner = _scanner(demo)
    planted = json.loads((demo / "ground_truth" / "personal_data.json").read_text(encoding="utf-8"))
    orders = []
    for line in (demo / "cmms" / "work_orders.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            orders.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the planted broken line is the standardiser's business (quarantined there)
    report = ScanReport()
    texts = [o.get("description") for o in orders]
    masked = scanner.mask_column("description", texts, report)
    technicians = scanner.mask_column("technician", [o.get("technician") for o in orders], report)
    published = "\n".join(t for t in [*masked, *technicians] if t)
    for kind in ("names", "phones", "emails", "employee_ids"):
        for value in planted[kind]:
            assert value not in published, f"{kind}: {value!r} left in the clear"
    assert report.entities["PHONE_NUMBER"] and report.entities["EMAIL_ADDRESS"] and report.entities["EMPLOYEE_ID"]
    assert report.columns["technician"]["PERSON"] > 0
    assert report.distinct_texts < report.texts, "repeated texts are scanned once"


def test_pseudonyms_are_consistent_and_keyed(demo: Path) -> None:
    scanner = _scanner(demo)
    first, _ = scanner.mask("Called Jonas Weber (+49 171 5550142).")
    second, _ = scanner.mask("Jonas Weber confirmed, +49 171 5550142 unreachable.")
    assert scanner.pseudonym("PERSON", "Jonas Weber") in first and scanner.pseudonym("PERSON", "Jonas Weber") in second
    other = PiiScanner(["Jonas Weber"], secret="another key")
    assert other.pseudonym("PERSON", "Jonas Weber") != scanner.pseudonym("PERSON", "Jonas Weber")


def test_equipment_codes_are_not_taken_for_people(demo: Path) -> None:
    text = "Pump C-3 and P-101 checked on line L-21; valve V-202 replaced."
    masked, found = _scanner(demo).mask(text)
    assert masked == text and not found
