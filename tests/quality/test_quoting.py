"""Names from configuration (columns, value sets, keys) and the data root reach SQL quoted, whatever they hold."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from config.layout import Layout
from config.sources import load_sources
from quality.gate import evaluate_source, publish_gated
from tests.conftest import ingest_all

SOURCES = """
sources:
  - name: orders
    kind: table
    system: MES
    owner: production
    location: orders.csv
    schema: {"order's id": VARCHAR, 'st"atus': VARCHAR}
    quality:
      unique: ["order's id"]
      value_sets: {'st"atus': [OPEN, DONE]}
"""


@pytest.fixture
def quoted_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    root = tmp_path / 'plant\'s "data" root'
    monkeypatch.setenv("PLANTDATA_HOME", str(root))
    return Layout(root)


def test_quotes_in_configured_names_and_paths(write: Callable[..., Path], quoted_root: Layout) -> None:
    write("orders.csv", 'order\'s id,"st""atus"\nA-1,OPEN\nA-2,LOST\nA-1,DONE\n')
    path = write("sources.yaml", SOURCES)
    [result] = ingest_all(path, quoted_root)["orders"]
    assert result.rows_out == 3
    source = load_sources(path).get("orders")
    [evaluation] = evaluate_source(source, [result.key], quoted_root, "run")
    unexpected = {r.name: r.unexpected for r in evaluation.results}
    assert unexpected['value_set_st"atus'] == 1 and unexpected["unique_key"] == 1
    outcome = publish_gated(source, [result.key], quoted_root)
    assert [p.rows_gated for p in outcome.published] == [2], "the repeated key is quarantined"
