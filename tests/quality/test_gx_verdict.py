"""Great Expectations decides the gate: its verdict comes from each result, and it fails closed."""

from __future__ import annotations

from pathlib import Path

from quality.dimensions import Dimension
from quality.evaluate import PartitionEvaluation, RuleResult
from quality.gx_assert import assert_with_gx


def _evaluation(key: str, rules: dict[str, tuple[int, int]]) -> PartitionEvaluation:
    results = [
        RuleResult(name, Dimension.ACCURACY.value, "partition", "error", name, evaluated, unexpected, passed=False)
        for name, (evaluated, unexpected) in rules.items()
    ]
    return PartitionEvaluation("src", key, "run", "2024-01-01T00:00:00", 10, results)


def test_each_partition_and_rule_gets_gx_verdict(tmp_path: Path) -> None:
    first = _evaluation("2024-01-01", {"clean": (10, 0), "dirty": (10, 3)})
    second = _evaluation("2024-01-02", {"clean": (10, 0), "dirty": (10, 0)})
    assert_with_gx([first, second], tmp_path / "gx", "src")
    assert {(e.key, r.name): r.passed for e in (first, second) for r in e.results} == {
        ("2024-01-01", "clean"): True,
        ("2024-01-01", "dirty"): False,
        ("2024-01-02", "clean"): True,
        ("2024-01-02", "dirty"): True,
    }


def test_an_expectation_that_raises_fails_its_rule_everywhere(tmp_path: Path) -> None:
    """A rule name with a quote breaks GX's row condition: the expectation raises, so nothing may pass on it."""
    broken = 'value_set_o"clock'
    first = _evaluation("2024-01-01", {"clean": (10, 0), broken: (10, 0)})
    second = _evaluation("2024-01-02", {"clean": (10, 0), broken: (10, 0)})
    assert_with_gx([first, second], tmp_path / "gx", "src")
    verdicts = {(e.key, r.name): r.passed for e in (first, second) for r in e.results}
    assert verdicts[("2024-01-01", broken)] is False and verdicts[("2024-01-02", broken)] is False
    assert verdicts[("2024-01-01", "clean")] is True, "the other rules are still judged"
