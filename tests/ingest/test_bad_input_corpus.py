"""The bad-input corpus: every malformed export under tests/corpus/ through the real ingest, with its outcome.

Each case is a folder `tests/corpus/<case>/` holding the input file(s) and a `case.yaml`:

- `source`: one entry as in a sources file (kind, format, csv, timestamp, columns, ...); `location` is relative
  to the case folder; `name`, `system` and `owner` are filled in when absent.
- `register` (optional): an asset register CSV in the case folder; it becomes source `register` and the
  case's source links through it.
- `expect`: either the rows: `rows` (data rows in the file), `published` (input rows written),
  `quarantined` ({rule: count}), `lines` ({line: rule}), optionally `partitions` ({key: [rows_in, rows_out,
  rows_quarantined]}), `raw` and `detail` ({line: substring of the quarantined row's text}), `readings`
  (readings written, when not one per row), `values` ({column: output values, in any order}) and `records`
  (the published rows as [{column: value}], in any order: every row, projected on the columns the entries
  name, so values that belong together are checked together); or a file quarantined whole: `unreadable` (a
  substring of the cause and fix its quarantine record gives), `rows` (its raw lines, which the record stands
  for) and optionally `file_name` (the file the record names); or a run error (retry may help): `error` (a
  substring of the message), `file` (the file whose full path the message names) or `file_name` (named by its
  name only), optionally `type` (default SourceFileError) and `retryable`. Also under `expect`, optionally:
  `encoding`, the encoding the index records for the file.
- `xfail` (optional): the reason a case is a known, unfixed problem (strict: it must fail).
- `vanish: true`: discovery finds the file, then it is deleted before standardising.

Every case runs on a copy of its folder, so nothing is written into the repository.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.errors import PlantdataError
from config.layout import Layout
from config.sources import load_sources
from ingest.runner import discover_source, register_for
from ingest.standardise import PartitionResult, standardise
from tests.conftest import ingest_all, read_output

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SOURCE = "case"
REGISTER = "register"


@dataclass(frozen=True)
class Case:
    name: str
    spec: dict[str, Any]

    @property
    def expect(self) -> dict[str, Any]:
        expect: dict[str, Any] = self.spec["expect"]
        return expect


def _cases() -> list[Case]:
    found = []
    for folder in sorted(CORPUS.iterdir()):
        if (folder / "case.yaml").is_file():
            found.append(Case(folder.name, yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))))
    return found


CASES = _cases()


def _param(case: Case) -> Any:
    xfail = case.spec.get("xfail")
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(case, id=case.name, marks=marks)


def _prepare(case: Case, tmp_path: Path) -> Path:
    """Copy the case folder and write a sources file next to the copy; return the sources file."""
    folder = tmp_path / case.name
    shutil.copytree(CORPUS / case.name, folder, ignore=shutil.ignore_patterns("case.yaml"))
    source = {"name": SOURCE, "system": "historian", "owner": "corpus", **case.spec["source"]}
    sources = [source]
    if "register" in case.spec:
        source["register"] = REGISTER
        sources.insert(
            0,
            {
                "name": REGISTER,
                "kind": "asset_register",
                "system": "ERP",
                "owner": "corpus",
                "location": case.spec["register"],
            },
        )
    path = folder / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": sources}, sort_keys=False), encoding="utf-8")
    return path


def _run(case: Case, sources_path: Path, layout: Layout) -> list[PartitionResult]:
    if not case.spec.get("vanish"):
        return ingest_all(sources_path, layout)[SOURCE]
    sources = load_sources(sources_path)
    source = sources.get(SOURCE)
    discovery = discover_source(sources, source, layout)
    for file in discovery.files:
        Path(file.uri).unlink()
    register = register_for(sources, source, layout)
    return standardise(source, discovery.files, discovery.partitions, layout, register)


def _render(value: Any) -> Any:
    """An output value as written in case.yaml: UTC times as text, floats rounded, inf and nan as text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return round(value, 9) if math.isfinite(value) else str(value)
    return value


def _sorted(values: list[Any]) -> list[Any]:
    return sorted(values, key=lambda v: (v is None, type(v).__name__, v if v is not None else 0))


def outcome(case: Case, tmp_path: Path, layout: Layout) -> dict[str, Any]:
    """What the ingest really does with a case, in the shape of `expect` (handy to print when adding a case)."""
    sources_path = _prepare(case, tmp_path)
    try:
        results = _run(case, sources_path, layout)
    except PlantdataError as exc:
        return {"error": str(exc), "type": type(exc).__name__, "retryable": exc.retryable}
    published = read_output(layout, SOURCE)
    quarantined = read_output(layout, SOURCE, "quarantine")
    rules: dict[str, int] = {}
    unreadable = {}
    for row in quarantined:
        rules[str(row["rule"])] = rules.get(str(row["rule"]), 0) + 1
        if row["rule"] == "unreadable_file":
            unreadable[row["source_file"]] = {
                "detail": row["detail"],
                "rows": row["rows"],
                "sha256": row["file_sha256"],
            }
    encodings = {f["name"]: f.get("encoding") for r in results for f in r.files}
    return {
        "unreadable": unreadable,
        "encodings": encodings,
        "partitions": {r.key: [r.rows_in, r.rows_out, r.rows_quarantined] for r in results},
        "rows": sum(r.rows_in for r in results),
        "published": sum(r.rows_out for r in results),
        "readings": len(published),
        "quarantined": rules,
        "lines": {row["line"]: row["rule"] for row in quarantined},
        "raw": {row["line"]: row["raw"] for row in quarantined},
        "detail": {row["line"]: row["detail"] for row in quarantined},
        "values": {c: _sorted([_render(row[c]) for row in published]) for c in case.expect.get("values", {})},
        "records": _records(published, case.expect.get("records", [])),
    }


def _records(rows: list[dict[str, Any]], expected: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows projected on the columns `expected` names, as sorted tuples of rendered values."""
    columns = sorted({c for entry in expected for c in entry})
    return sorted((tuple(_render(row.get(c)) for c in columns) for row in rows), key=repr)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, layout: Layout) -> None:
    expect = case.expect
    got = outcome(case, tmp_path, layout)
    if "error" in expect:
        assert "error" in got, f"expected a file error, got {got}"
        assert got["type"] == expect.get("type", "SourceFileError"), got["error"]
        assert expect["error"] in got["error"]
        if "file" in expect:
            assert str(tmp_path / case.name / expect["file"]) in got["error"], "the message names the file"
        if "file_name" in expect:
            assert expect["file_name"] in got["error"], "the message names the file"
        assert got["retryable"] == expect.get("retryable", False)
        return
    assert "error" not in got, got.get("error")
    for key, (rows_in, rows_out, rows_quarantined) in got["partitions"].items():
        assert rows_in == rows_out + rows_quarantined, f"partition {key} does not balance"
    assert got["rows"] == expect["rows"], "rows_in is the number of data rows in the file"
    if "encoding" in expect:
        assert set(got["encodings"].values()) == {expect["encoding"]}
    if "unreadable" in expect:
        [(name, record)] = got["unreadable"].items()
        assert expect["unreadable"] in record["detail"]
        assert name == expect.get("file_name", name), "the record names the file"
        assert record["rows"] == expect["rows"], "the record stands for the file's raw lines"
        assert len(record["sha256"]) == 64
        assert got["published"] == 0
        return
    assert got["published"] == expect["published"]
    assert got["readings"] == expect.get("readings", expect["published"])
    assert got["quarantined"] == expect.get("quarantined", {})
    assert got["lines"] == expect.get("lines", {})
    assert len(got["lines"]) == sum(got["quarantined"].values()), "each quarantined row has its own line"
    assert None not in got["lines"], "every quarantined row names its line"
    if "partitions" in expect:
        assert got["partitions"] == expect["partitions"]
    for line, text in expect.get("raw", {}).items():
        assert text in got["raw"][line], f"the raw text of line {line} keeps {text!r}"
    for line, text in expect.get("detail", {}).items():
        assert text in got["detail"][line], f"the detail of line {line} says {text!r}"
    for column, values in expect.get("values", {}).items():
        assert got["values"][column] == _sorted([_render(v) for v in values]), column
    if "records" in expect:
        assert got["records"] == _records(expect["records"], expect["records"])


def test_the_corpus_is_large_enough_and_small() -> None:
    assert len(CASES) >= 25
    for path in CORPUS.rglob("*"):
        if path.is_file():
            assert path.stat().st_size < 20_000, f"{path} is too big for the corpus"
