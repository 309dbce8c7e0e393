"""Stated offsets against the configured clock: every timestamp style under every `timestamp.timezone`.

One wall time, 2024-01-15 08:00, written four ways (naive, `+08:00`, `+01:00`, `Z`), is ingested under each
configuration: an IANA zone (Asia/Shanghai, +08:00 in January; Europe/Berlin, +01:00), a fixed offset,
UTC, `data` and unset. Each cell of `EXPECTED` is either the UTC instant the row is published at, or
`offset_mismatch`: the export and the configuration disagree about the clock, so the row is quarantined and
never published shifted.

Each cell runs through the real ingest along three paths, because each reads time differently: a CSV holding
only that style (the typed reader where it is exact: TIMESTAMP for naive files, TIMESTAMPTZ for offsets without
a zone), a CSV mixing all styles (every time read as text), and work orders as JSON lines (the row path).

A zone written as a name after the time (`08:00:00 UTC`, `08:00:00 Asia/Shanghai`) states the instant as
much as an offset does: it must be converted with that zone or quarantined, never read as a naive time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.layout import Layout
from tests.conftest import ingest_all, read_output

MISMATCH = "offset_mismatch"
STYLES = {
    "naive": "2024-01-15 08:00:00",
    "+08:00": "2024-01-15T08:00:00+08:00",
    "+01:00": "2024-01-15T08:00:00+01:00",
    "Z": "2024-01-15T08:00:00Z",
}
ZONES: tuple[str | None, ...] = ("Asia/Shanghai", "Europe/Berlin", "+08:00", "UTC", "data", None)

# the UTC time on 2024-01-15 each style is published at under each timestamp.timezone, or the rule
# fmt: off
EXPECTED: dict[str, tuple[str, ...]] = {
    #            Asia/Shanghai  Europe/Berlin  "+08:00"   UTC        data       unset
    "naive":    ("00:00",       "07:00",       "00:00",   "08:00",   MISMATCH,  "08:00"),
    "+08:00":   ("00:00",       MISMATCH,      "00:00",   MISMATCH,  "00:00",   "00:00"),
    "+01:00":   (MISMATCH,      "07:00",       MISMATCH,  MISMATCH,  "07:00",   "07:00"),
    "Z":        (MISMATCH,      MISMATCH,      MISMATCH,  "08:00",   "08:00",   "08:00"),
}
# fmt: on
PATHS = ("csv, one style", "csv, styles mixed", "jsonl, styles mixed")


def _cells() -> list[Any]:
    cells = []
    for style, outcomes in EXPECTED.items():
        for zone, expected in zip(ZONES, outcomes, strict=True):
            for path in PATHS:
                cells.append(pytest.param(style, zone, path, expected, id=f"{style}-{zone or 'unset'}-{path}"))
    return cells


def _timestamp_options(zone: str | None) -> dict[str, str]:
    return {} if zone is None else {"timezone": zone}


def _write_csv(tmp_path: Path, texts: list[str], zone: str | None) -> Path:
    """A historian export with one row per timestamp text (value n for the n-th); its sources file."""
    lines = ["timestamp,tag,value", *(f"{text},P1.FLOW,{n}" for n, text in enumerate(texts, start=1))]
    (tmp_path / "hist.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    source = {
        "name": "hist",
        "kind": "historian_long",
        "system": "historian",
        "owner": "process",
        "location": "hist.csv",
        "columns": {"ts": "timestamp"},
        "timestamp": _timestamp_options(zone),
    }
    return _write_sources(tmp_path, source)


def _write_jsonl(tmp_path: Path, texts: list[str], zone: str | None) -> Path:
    """Work orders as JSON lines, one per timestamp text (wo_id WO-n for the n-th); its sources file."""
    records = [
        {"wo_id": f"WO-{n}", "equipment_id": "P-1", "created_at": text, "status": "open"}
        for n, text in enumerate(texts, start=1)
    ]
    (tmp_path / "wo.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    source = {
        "name": "wo",
        "kind": "work_orders",
        "system": "CMMS",
        "owner": "maintenance",
        "location": "wo.jsonl",
        "format": "jsonl",
        "columns": {"ts": "created_at"},
        "timestamp": _timestamp_options(zone),
    }
    return _write_sources(tmp_path, source)


def _write_sources(tmp_path: Path, source: dict[str, Any]) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": [source]}, sort_keys=False), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Outcome:
    """What became of the n-th timestamp text: its published row, or its quarantine record."""

    published: dict[str, Any] | None
    quarantined: dict[str, Any] | None


def _ingest(tmp_path: Path, layout: Layout, texts: list[str], zone: str | None, jsonl: bool) -> list[Outcome]:
    """Ingest one file holding `texts` (CSV or JSON lines); the outcome of each text, in order."""
    write = _write_jsonl if jsonl else _write_csv
    name = "wo" if jsonl else "hist"
    results = ingest_all(write(tmp_path, texts, zone), layout)[name]
    assert all(r.balanced for r in results), "every row is published or quarantined"

    def number(row: dict[str, Any]) -> int:
        return int(str(row["wo_id"]).removeprefix("WO-")) if jsonl else int(row["value"])

    published = {number(row): row for row in read_output(layout, name)}
    quarantined = {}
    for row in read_output(layout, name, "quarantine"):
        if row["raw"] is None:  # a file quarantined whole: no row of its own
            continue
        fields = json.loads(str(row["raw"])) if jsonl else {"value": str(row["raw"]).rsplit(",", 1)[1]}
        quarantined[number(fields)] = row
    return [Outcome(published.get(n), quarantined.get(n)) for n in range(1, len(texts) + 1)]


@pytest.mark.parametrize(("style", "zone", "path", "expected"), _cells())
def test_stated_offset_against_configured_zone(
    tmp_path: Path, layout: Layout, style: str, zone: str | None, path: str, expected: str
) -> None:
    texts = [STYLES[style]] if path == "csv, one style" else list(STYLES.values())
    outcome = _ingest(tmp_path, layout, texts, zone, jsonl=path.startswith("jsonl"))[texts.index(STYLES[style])]
    if expected == MISMATCH:
        assert outcome.published is None, f"{STYLES[style]!r} must not be published under timezone {zone}"
        assert outcome.quarantined is not None, "the row is quarantined on its own"
        assert outcome.quarantined["rule"] == MISMATCH
        assert STYLES[style] in outcome.quarantined["detail"], "the detail quotes the timestamp"
    else:
        assert outcome.quarantined is None, outcome.quarantined
        assert outcome.published is not None
        assert outcome.published["ts"] == _utc(expected)


def _utc(hh_mm: str) -> datetime:
    hour, minute = map(int, hh_mm.split(":"))
    return datetime(2024, 1, 15, hour, minute, tzinfo=UTC)


def test_the_table_covers_every_style_and_zone() -> None:
    assert all(len(outcomes) == len(ZONES) for outcomes in EXPECTED.values())
    assert set(EXPECTED) == set(STYLES)


# (text, configured timezone, the UTC time the text states): converted with the zone it names, or quarantined as
# offset_mismatch when that is not the configured zone
NAMED_ZONES = [
    pytest.param("2024-01-15 08:00:00 UTC", None, "08:00", id="UTC-unset"),
    pytest.param("2024-01-15 08:00:00 Asia/Shanghai", "Asia/Shanghai", "00:00", id="Shanghai-Shanghai"),
    pytest.param(
        "2024-01-15 08:00:00 UTC",
        "Europe/Berlin",
        "08:00",
        id="UTC-Berlin",
    ),
    pytest.param(
        "2024-01-15 08:00:00 Asia/Shanghai",
        None,
        "00:00",
        id="Shanghai-unset",
    ),
    pytest.param(
        "2024-01-15 08:00:00 CET",
        "Asia/Shanghai",
        "07:00",
        id="CET-Shanghai",
    ),
]


@pytest.mark.parametrize("jsonl", [False, True], ids=["csv", "jsonl"])
@pytest.mark.parametrize(("text", "zone", "stated"), NAMED_ZONES)
def test_a_named_zone_is_never_dropped(
    tmp_path: Path, layout: Layout, text: str, zone: str | None, stated: str, jsonl: bool
) -> None:
    """Converted with the zone it names, or quarantined; never read as a naive time of the configured zone."""
    outcome, _ = _ingest(tmp_path, layout, [text, "2024-01-15 09:00:00"], zone, jsonl)
    if outcome.published is not None:
        assert outcome.published["ts"] == _utc(stated), f"{text!r} published shifted under timezone {zone}"
    else:
        assert outcome.quarantined is not None
