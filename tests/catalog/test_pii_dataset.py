"""What the scan does across a whole dataset: a value found as personal data in one row is masked in every row,
and column profiles never show values of free-text or name columns (min/max)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog.pii.keys import PseudonymKey
from catalog.pii.known_values import KnownValues
from catalog.pii.scanner import PiiScanner, ScannerSettings, Span
from catalog.profile import profile
from catalog.queries import show_dataset
from catalog.release import scan, write_release
from catalog.store import CatalogStore
from config.kinds import SourceKind
from config.layout import Layout
from pipelines.run import run_all

KEY = PseudonymKey(b"test key for dataset-wide masking, 32 bytes or more")
FOUND = "Emily Novak replaced the mechanical seal on P-101."
MISSED = "Schichtübergabe: Emily Novak übernimmt, P-101 läuft."  # the model misses her here


def _release(tmp_path: Path, columns: dict[str, list[str]], settings: ScannerSettings) -> dict[str, list[str]]:
    gated = tmp_path / "gated"
    path = gated / "day=1" / "part-0.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table(columns), path)
    _, replacements = scan([path], settings, SourceKind.WORK_ORDERS, workers=1)
    write_release([path], gated, tmp_path / "release", replacements)
    return pq.read_table(tmp_path / "release" / "day=1" / "part-0.parquet").to_pydict()


def test_a_name_found_in_one_row_is_masked_in_the_rows_where_the_model_missed_it(tmp_path: Path) -> None:
    settings = ScannerSettings((), KEY)
    assert "Emily Novak" in PiiScanner(settings).mask(MISSED).text, "premise: the model alone misses her here"
    released = _release(tmp_path, {"description": [FOUND, MISSED, "Novak, Emily signed off."]}, settings)
    token = PiiScanner(settings).pseudonym("PERSON", "Emily Novak")
    assert [token in text and "Novak" not in text for text in released["description"][:2]] == [True, True]
    assert "Novak" not in released["description"][2], "family name first, as sign-offs write it"


def test_the_second_pass_leaves_code_columns_alone(tmp_path: Path) -> None:
    """A model's finding in free text must never rewrite an identifier that happens to look the same."""
    settings = ScannerSettings((), KEY)
    released = _release(tmp_path, {"wo_id": ["Emily Novak", "WO-2"], "description": [FOUND, MISSED]}, settings)
    assert released["wo_id"] == ["Emily Novak", "WO-2"]


def test_known_values_match_whole_words_only_except_in_han_script() -> None:
    known = KnownValues({"Jonas Weber": "PERSON", "王伟": "PERSON", "555-0142": "PHONE_NUMBER"})
    text = "Jonas Webers Bericht; Jonas Weber, 555-01423 and 555-0142; 值班王伟负责"
    found = [text[s.start : s.end] for s in known.find(text)]
    assert found == ["Jonas Weber", "555-0142", "王伟"]
    assert known.find("Jonas Weber", [Span(0, 5, "PERSON")]) == [], "never overlaps a finding already there"


def test_profiles_withhold_min_and_max_of_free_text_and_name_columns(tmp_path: Path) -> None:
    path = tmp_path / "part-0.parquet"
    table = {
        "wo_id": ["WO-1", "WO-2"],
        "technician": ["Jonas Weber", "Anna Fischer"],
        "description": ["Anna Fischer replaced the seal.", "Zygmunt checked P-101."],
        "priority": [1, 3],
    }
    pq.write_table(pa.table(table), path)
    by_kind = {c.name: c for c in profile([str(path)], SourceKind.WORK_ORDERS)}
    assert (by_kind["wo_id"].min, by_kind["wo_id"].max) == ("WO-1", "WO-2"), "codes keep their range"
    assert (by_kind["priority"].min, by_kind["priority"].max) == ("1", "3")
    for column in ("technician", "description"):
        assert (by_kind[column].min, by_kind[column].max) == (None, None), column
    without_kind = {c.name: c for c in profile([str(path)])}
    assert [(c.min, c.max) for n, c in without_kind.items() if n != "priority"] == [(None, None)] * 3
    assert without_kind["priority"].max == "3"


@pytest.fixture
def orders(write: Callable[..., Path]) -> Path:
    row = (
        '{"wo_id": "WO-1", "equipment_id": "P-101", "ts": "2024-03-30 10:00:00", "technician": "Zygmunt", '
        '"description": "zygmunt ok"}'
    )
    write("wo/1.jsonl", row + "\n")
    return write(
        "sources.yaml",
        """
        sources:
          - name: orders
            kind: work_orders
            system: CMMS
            owner: Maintenance
            location: wo/*.jsonl
            format: jsonl
            timestamp: {timezone: UTC}
        """,
    )


def test_the_catalog_keeps_no_value_of_a_free_text_column_in_its_profile(orders: Path, layout: Layout) -> None:
    """A name the scan cannot see (lower case, off the roster) must not reach the catalog through min/max."""
    assert all(o.success for o in run_all(orders, layout.root))
    columns = show_dataset(CatalogStore(layout.catalog()), "orders")["columns"]
    description = next(c for c in columns if c["name"] == "description")
    assert (description["min"], description["max"]) == (None, None)
    assert "zygmunt" not in str(columns)
