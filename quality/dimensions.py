"""GB/T 36344-2018 quality dimensions, per-dimension scores and the quality grade.

Score of a rule: the share of what it evaluated that passed (rows for row rules; for partition rules
1 or 0, or the share of intervals without a gap). Score of a dimension: 100 x the mean of its rules'
scores. Overall: the mean of the dimensions that have rules. Grade: A >= 95, B >= 85, C >= 70, else D.
"""

from __future__ import annotations

from enum import StrEnum


class Dimension(StrEnum):
    """The six indicators of GB/T 36344-2018 (uniqueness and duplicates belong to accuracy)."""

    CONFORMITY = "conformity"  # 规范性
    COMPLETENESS = "completeness"  # 完整性
    ACCURACY = "accuracy"  # 准确性
    CONSISTENCY = "consistency"  # 一致性
    TIMELINESS = "timeliness"  # 时效性
    ACCESSIBILITY = "accessibility"  # 可访问性

    @property
    def chinese(self) -> str:
        return _CHINESE[self]


_CHINESE = {
    Dimension.CONFORMITY: "规范性",
    Dimension.COMPLETENESS: "完整性",
    Dimension.ACCURACY: "准确性",
    Dimension.CONSISTENCY: "一致性",
    Dimension.TIMELINESS: "时效性",
    Dimension.ACCESSIBILITY: "可访问性",
}

GRADE_THRESHOLDS: tuple[tuple[str, float], ...] = (("A", 95.0), ("B", 85.0), ("C", 70.0), ("D", 0.0))


def grade(score: float) -> str:
    """The quality grade of an overall score (0-100)."""
    for letter, threshold in GRADE_THRESHOLDS:
        if score >= threshold:
            return letter
    return "D"


def dimension_scores(rule_scores: list[tuple[Dimension, float]]) -> dict[str, float]:
    """100 x the mean rule score per dimension, for the dimensions that have rules."""
    grouped: dict[Dimension, list[float]] = {}
    for dimension, score in rule_scores:
        grouped.setdefault(dimension, []).append(score)
    return {d.value: round(100.0 * sum(s) / len(s), 2) for d, s in grouped.items()}


def overall(scores: dict[str, float]) -> float:
    return round(sum(scores.values()) / len(scores), 2) if scores else 0.0
