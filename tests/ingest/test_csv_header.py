"""Reading an export's header from its first lines only, however long they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.sources import CsvOptions
from ingest.csv_scan import HEAD_BYTES, read_header
from ingest.errors import SourceFileError


def test_a_header_longer_than_the_first_read_is_read_whole(tmp_path: Path) -> None:
    """A wide export (thousands of tags as columns) has a header line longer than the first read."""
    names = ["ts", *(f"PLANT.AREA.UNIT.TAG{i:05d}.PV" for i in range(6000))]
    header = ",".join(names)
    assert len(header) > 2 * HEAD_BYTES
    export = tmp_path / "wide.csv"
    export.write_text(header + "\n" + ",".join(["2024-03-30 00:00:00", *["1.5"] * 6000]) + "\n", encoding="utf-8")

    assert read_header(str(export), CsvOptions(), "wide.csv") == names


def test_a_header_further_down_than_the_first_read_is_found(tmp_path: Path) -> None:
    """A preamble of long lines: the header further down is still pointed out, past the first read."""
    preamble = [f"# note {i}: " + "x" * 8000 for i in range(12)]
    export = tmp_path / "preamble.csv"
    export.write_text("\n".join([*preamble, "ts,tag,value", "2024-03-30 00:00:00,T1,1.0"]) + "\n", encoding="utf-8")
    assert sum(len(line) + 1 for line in preamble) > HEAD_BYTES

    with pytest.raises(SourceFileError) as raised:
        read_header(str(export), CsvOptions(), "preamble.csv")
    assert "set csv.skip_rows: 12" in str(raised.value)
    assert read_header(str(export), CsvOptions(skip_rows=12), "preamble.csv") == ["ts", "tag", "value"]


def test_a_line_longer_than_max_line_bytes_is_read_no_further(tmp_path: Path) -> None:
    export = tmp_path / "one_line.csv"
    export.write_bytes(b"a,b," + b"c" * 300_000)
    options = CsvOptions(max_line_bytes=100_000)

    names = read_header(str(export), options, "one_line.csv")
    assert names[:2] == ["a", "b"] and len(names[2]) == 100_000 - 4
