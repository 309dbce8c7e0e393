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


def test_a_comment_holding_the_delimiter_is_not_taken_for_the_header(tmp_path: Path) -> None:
    """Historian exports open with '# ...' lines; one holding the delimiter splits into columns all the same."""
    export = tmp_path / "commented.csv"
    lines = ["# Export from WinCC OA; archive 3", "# Columns: ts;T1;T2", "Zeit;T1;T2", "06.05.2024 08:00:00;1,5;2,5"]
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = CsvOptions(delimiter=";", decimal=",")

    with pytest.raises(SourceFileError) as raised:
        read_header(str(export), options, "commented.csv")
    assert "line 1, where the header should be, is '# Export from WinCC OA; archive 3'" in str(raised.value)
    assert "set csv.skip_rows: 2 (the header looks like line 3)" in str(raised.value)
    assert read_header(str(export), CsvOptions(delimiter=";", skip_rows=2), "commented.csv") == ["Zeit", "T1", "T2"]


def test_a_missing_column_quotes_a_wide_header_short() -> None:
    from config.sources import SourceConfig
    from ingest.columns import SHOWN_NAMES, missing_columns_problem

    source = SourceConfig.model_validate(
        {
            "name": "wide",
            "kind": "historian_wide",
            "system": "SCADA",
            "owner": "x",
            "location": "w.csv",
            "columns": {"ts": "Zeit"},
        }
    )
    header = ["Time", *(f"LINE3.ZONE_A.EXTRUDER_BARREL_HEATER.TEMPERATURE_PV_{i:04d}_{'x' * 40}" for i in range(3000))]
    problem = missing_columns_problem(source, header)
    assert problem is not None
    cause, fix = problem
    assert cause.startswith("column 'Zeit' (for 'ts') is not in the header ['Time', 'LINE3.ZONE_A.")
    assert cause.endswith("(3001 columns)") and len(cause) < 100 * SHOWN_NAMES
    assert "..." in cause and "sources[wide].columns" in fix
    short = missing_columns_problem(source, ["Time", "T1"])
    assert short is not None and short[0] == "column 'Zeit' (for 'ts') is not in the header ['Time', 'T1']"
