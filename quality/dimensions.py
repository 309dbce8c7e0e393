"""GB/T 36344-2018 quality dimensions, per-dimension scores and the quality grade.

Score of a rule: the share of what it evaluated that is sound (rows for row rules; for partition rules 1 or 0, or a
measured share: expected readings present, tag-time unaffected, export rows on time). Score of a dimension: 100 x the
product of its rules' scores (independent defects compound: one rule that finds everything wrong zeroes its
dimension, where a mean would have hidden it among passing rules). Overall: the mean of the dimensions that have rules
and the weakest of them, averaged (the weakest dimension weighs as much as all of them together: a dataset is only as
good as its weakest side lets it be, and every dimension still moves the score).
Grade: A >= 95, B >= 85, C >= 70, else D. The catalog computes the same in SQL (catalog.listing.SCORES).
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
    """100 x the product of the rule scores per dimension, for the dimensions that have rules."""
    grouped: dict[Dimension, float] = {}
    for dimension, score in rule_scores:
        grouped[dimension] = grouped.get(dimension, 1.0) * min(max(score, 0.0), 1.0)
    return {d.value: round(100.0 * product, 2) for d, product in grouped.items()}


def overall(scores: dict[str, float]) -> float:
    """The average of the dimensions' mean and the weakest dimension (severity: one poor dimension is enough to keep
    a dataset from grade A, however good the others are)."""
    if not scores:
        return 0.0
    return round((sum(scores.values()) / len(scores) + min(scores.values())) / 2, 2)
