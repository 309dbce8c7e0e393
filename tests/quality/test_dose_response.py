"""Issue 12 item 6's done-when: scores respond to the dose of defects.

The demo plant is generated at defect intensity x0, x1, x5 and x20, standardised and judged by the gate (the quality
library, as `plantdata run` calls it); the historian's score must fall strictly with the dose and reach grade C or
worse at x20, and at x0 no rule of any source may flag anything.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from config.layout import Layout
from config.sources import load_sources
from demo_plant import generate
from ingest.manifest import read_manifests
from ingest.runner import ordered_sources
from quality.evaluate import PartitionEvaluation
from quality.gate import evaluate_source
from quality.report import source_report
from tests.conftest import REPO, ingest_all

SOURCES = REPO / "demo_plant" / "sources.yaml"
DOSES = (0, 1, 5, 20)


def _judge(
    root: Path, dose: float, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, list[PartitionEvaluation]], dict]:
    """Generate the demo at `dose`, standardise and evaluate every source; the historian's quality report."""
    monkeypatch.setenv("PLANTDATA_HOME", str(root))
    layout = Layout(root)
    generate(root / "demo", days=1, tags=40, min_period_s=30, max_period_s=60, defects=dose)
    ingest_all(SOURCES, layout)
    sources = load_sources(SOURCES)
    evaluations = {}
    for source in ordered_sources(sources):
        keys = sorted(m["key"] for m in read_manifests(layout, source.name))
        evaluations[source.name] = evaluate_source(source, keys, layout, f"dose-{dose}")
    return evaluations, source_report(layout, "historian", "day")


def test_scores_fall_strictly_with_the_dose_of_defects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reports = {}
    for dose in DOSES:
        evaluations, reports[dose] = _judge(tmp_path / f"x{dose}", dose, monkeypatch)
        if dose == 0:  # a clean plant: nothing flagged anywhere, every partition of every source graded A
            flagged = [
                (name, e.key, r.name, r.unexpected, r.detail)
                for name, found in evaluations.items()
                for e in found
                for r in e.results
                if r.unexpected or not r.passed
            ]
            assert flagged == []
            assert {
                (name, e.key): e.grade for name, found in evaluations.items() for e in found if e.grade != "A"
            } == {}
        if dose == 20:
            assert all(e.grade in {"C", "D"} for e in evaluations["historian"]), [
                (e.key, e.scores, e.overall) for e in evaluations["historian"]
            ]
    overall = [reports[dose]["overall"] for dose in DOSES]
    assert all(a > b for a, b in pairwise(overall)), dict(zip(DOSES, overall, strict=True))
    assert reports[0]["grade"] == "A" and reports[20]["grade"] in {"C", "D"}, {d: reports[d]["grade"] for d in DOSES}
    consistency = [reports[dose]["scores"]["consistency"] for dose in DOSES]
    assert consistency[0] == 100.0 > consistency[1], "undeclared unit mix-ups are found from x1 on"
