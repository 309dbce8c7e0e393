"""Phone numbers from regions nobody configured, international or written without separators, are found in free
text by default; code columns still never take identifiers for phone numbers (WO-1640)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog.pii.keys import PseudonymKey
from catalog.pii.scanner import PiiScanner, ScannerSettings
from catalog.release import scan
from config.kinds import SourceKind

KEY = PseudonymKey(b"test key for phone numbers, 32 bytes at the least")


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    """Configured for Germany only, as the default is."""
    return PiiScanner(ScannerSettings((), KEY, ner=False, phone_regions=("DE",)))


@pytest.mark.parametrize(
    "number",
    [
        "+8613812345678",  # China, international, unseparated
        "+86 138 1234 5678",
        "13812345678",  # Chinese mobile, national, unseparated
        "138-1234-5678",
        "+447700900123",  # United Kingdom
        "07700900123",
        "+33 6 12 34 56 78",  # France
        "06.12.34.56.78",
        "0612345678",
        "+90 532 123 45 67",  # Turkey
        "+48601234567",  # Poland
        "+1 (415) 555-0142",  # United States
        "0049 171 5550142",  # Germany, 00 prefix
        "01715550142",  # German mobile, unseparated
        "(0171) 5550142",
    ],
)
def test_phone_numbers_of_any_region_are_found_in_free_text(scanner: PiiScanner, number: str) -> None:
    for text in (f"Reachable on {number} until Friday.", f"值班电话{number}，请复查P-101。"):
        masked, found, _ = scanner.mask(text)
        assert found == {"PHONE_NUMBER": 1} and number not in masked, text


@pytest.mark.parametrize(
    "text",
    [
        "Order 4500012345 released on 2024-03-30 at 08:15.",
        "Vibration 2.1 mm/s at 1450 rpm; ISO 10816-3 zone B; checked on 30.03.2024.",
        "Material 000000000010045678, serial SN 23-04711-B, IP 10.12.4.31, WO-1640.",
    ],
)
def test_numbers_that_are_not_phones_stay(scanner: PiiScanner, text: str) -> None:
    assert scanner.mask(text).found == {}


def test_unseparated_digits_in_code_columns_are_left_alone(tmp_path: Path) -> None:
    """In a code column a run of digits is an order or material number: only free text reads it as a phone."""
    path = tmp_path / "gated" / "day=1" / "part-0.parquet"
    path.parent.mkdir(parents=True)
    ids = ["0171555014", "13812345678", "07700900123", "WO-1640"]
    pq.write_table(pa.table({"wo_id": ids, "description": [f"Reachable on {i}." for i in ids]}), path)
    _, replacements = scan([path], ScannerSettings((), KEY, ner=False), SourceKind.WORK_ORDERS, workers=1)
    assert "wo_id" not in replacements
    assert sorted(replacements["description"]) == sorted(f"Reachable on {i}." for i in ids[:3])
