"""Encoding detection looks at a sample; a legacy-encoded line the sample missed still decodes right."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from config.layout import Layout
from tests.conftest import ingest_all, read_output

SOURCES = """
sources:
  - name: alarms
    kind: event_log
    system: SCADA
    owner: control room
    location: alarms.csv
    columns: {ts: timestamp}
"""


def test_cp1252_lines_between_the_sampled_chunks_are_decoded(write: Callable[..., Path], layout: Layout) -> None:
    rows = [
        f"2024-05-02 08:{i // 3600 % 60:02d}:{i % 60:02d},P1.TEMP,HI,plain ascii message number {i}"
        for i in range(120_000)
    ]
    rows[27_000] = "2024-05-02 09:00:00,P1.TEMP,HI,Kühlmittel prüfen – 5 °C"  # mid-file, between the sampled chunks
    content = ("timestamp,tag,event_type,message\n" + "\n".join(rows) + "\n").encode("cp1252")
    assert len(content) > 6 << 20, "large enough that detection samples it"
    write("alarms.csv", content)
    [result] = ingest_all(write("sources.yaml", SOURCES), layout)["alarms"]
    assert result.rows_quarantined == 0
    assert result.files[0]["encoding"] == "cp1252" and "whole file" in result.files[0]["encoding_how"]
    messages = {r["message"] for r in read_output(layout, "alarms") if r["message"].startswith("K")}
    assert messages == {"Kühlmittel prüfen – 5 °C"}
