"""The pre-label of an inspection record: does its recorded result agree with its measurement and limits?

An inspection record is accepted when the result the inspector recorded (pass or fail) is what the measured
value says against the specification [lower, upper] (inside, limits included: pass; outside: fail). It is
rejected when they disagree, or when the value, a limit or the result is missing or unreadable.

Confidence comes from the distance between the value and its nearest limit, relative to the tolerance band:
a value at a limit is a coin toss (rounding, gauge error), one a tenth of the band away or more is clear.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from config.errors import PlantdataError

Decision = Literal["accept", "reject"]  # the choices of annotation.labeling.inspection_config
ACCEPT: Decision = "accept"
REJECT: Decision = "reject"

PASS_WORDS = frozenset({"pass", "passed", "ok", "i.o.", "io", "good", "accepted", "conforming"})
FAIL_WORDS = frozenset({"fail", "failed", "nok", "not ok", "n.i.o.", "nio", "bad", "rejected", "nonconforming"})


class SpecRuleError(PlantdataError):
    """A rule's settings make no sense (the message names the setting and the allowed range)."""


@dataclass(frozen=True)
class Verdict:
    """The rule's decision on one record, its confidence in [0.5, 1] and why, in words."""

    decision: Decision
    score: float
    reason: str

    @property
    def uncertainty(self) -> float:
        """1 - the probability of the decided class: 0.5 at a limit or when the rule cannot judge."""
        return 1.0 - self.score


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class SpecRule:
    """Accept a record whose recorded result agrees with its value against its limits, reject it otherwise.

    Args:
        near_share: the distance to the nearest limit, as a share of the band (upper - lower), from which the
            rule is sure (score 1); closer, the score falls linearly to 0.5 at the limit.
        unjudged_score: the score of a reject for a missing or unreadable value, limit or result: the rule
            cannot judge such a record, so by default it is as uncertain as a value at a limit.
        pass_words, fail_words: recorded results (compared case-insensitively) meaning pass and fail.
    """

    near_share: float = 0.1
    unjudged_score: float = 0.5
    pass_words: frozenset[str] = PASS_WORDS
    fail_words: frozenset[str] = FAIL_WORDS

    def __post_init__(self) -> None:
        if not self.near_share > 0:
            raise SpecRuleError(f"near_share must be > 0, got {self.near_share}")
        if not 0.5 <= self.unjudged_score <= 1:
            raise SpecRuleError(f"unjudged_score must be in [0.5, 1], got {self.unjudged_score}")
        overlap = {w.casefold() for w in self.pass_words} & {w.casefold() for w in self.fail_words}
        if overlap:
            raise SpecRuleError(f"{sorted(overlap)} are both pass and fail words")

    @property
    def model_version(self) -> str:
        return f"spec-rule-1:near={self.near_share:g}:unjudged={self.unjudged_score:g}"

    def _recorded(self, result: object) -> bool | None:
        if not isinstance(result, str):
            return None
        word = result.strip().casefold()
        if word in {w.casefold() for w in self.pass_words}:
            return True
        if word in {w.casefold() for w in self.fail_words}:
            return False
        return None

    def judge(self, value: object, lower: object, upper: object, result: object) -> Verdict:
        """The verdict on one record from its measured value, limits and recorded result."""
        measured, low, high, passed = _number(value), _number(lower), _number(upper), self._recorded(result)
        if measured is None or low is None or high is None:
            missing = [
                n for n, got in (("value", measured), ("lower limit", low), ("upper limit", high)) if got is None
            ]
            return Verdict(REJECT, self.unjudged_score, f"{' and '.join(missing)} missing: the rule cannot judge")
        if low > high:
            return Verdict(REJECT, self.unjudged_score, f"lower limit {low:g} above upper limit {high:g}")
        if passed is None:
            return Verdict(REJECT, self.unjudged_score, f"recorded result {result!r} is neither pass nor fail")
        inside = low <= measured <= high
        band = high - low
        distance = min(abs(measured - low), abs(measured - high))
        relative = distance / band if band > 0 else (0.0 if distance == 0 else math.inf)
        score = 0.5 + 0.5 * min(1.0, relative / self.near_share)
        where = "inside" if inside else "outside"
        said = "pass" if passed else "fail"
        if passed == inside:
            return Verdict(ACCEPT, score, f"recorded {said}, value {measured:g} {where} [{low:g}, {high:g}]")
        return Verdict(REJECT, score, f"recorded {said} but value {measured:g} is {where} [{low:g}, {high:g}]")

    def judge_all(self, rows: Iterable[tuple[object, object, object, object]]) -> list[Verdict]:
        """Verdicts for (value, lower, upper, result) rows, in order."""
        return [self.judge(*row) for row in rows]
