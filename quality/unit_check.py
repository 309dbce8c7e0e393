"""Unit mix-ups: a tag exported in another unit than the register's (degF for degC, psi for bar), undeclared.

How it decides, per tag and partition, from the tag's level (median) and spread (1.4826 x MAD) of the partition:

1. The register gives the tag's unit; the candidates are the units an exporter commonly sends instead that make the
   numbers clearly larger (degF or K for degC, psi or kPa for bar, l/min for m3/h, W for kW), converted with pint
   (config.units). A level that falls is usually the process (a pump stops, a vessel is vented), so conversions that
   shrink the numbers (MPa for bar) are not looked for: they cannot be told apart from the process.
2. Limits: a level outside the register's limits (by more than a tenth of the span) that a candidate conversion
   brings back inside them is a mix-up on its own.
3. References: the tag's own history (the median of its levels in up to seven earlier partitions, leaving out
   partitions where it was found mixed up) and its peers (tags on the register with the same unit and limits, in
   this partition). A reference says "mix-up" when the candidate-converted reference explains the level at least
   five times better than the unconverted one, within the reference's tolerance scaled by the conversion, and (for
   its history) the spread grew like the conversion says; it says "consistent" when the level is within
   the tolerance of the reference (4 spreads, a twentieth of the span or of the level, whichever is largest).
4. A tag is mixed up when the limits say so, or when some reference says mix-up and none says consistent: a tag
   whose history agrees with today is never flagged because a peer runs at another level.

A clean plant gives no finding: every level is in its register unit, near its history or at least not five times
closer to a converted reference.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from functools import cache

from config.units import UnitConversionError, canonical_unit, conversion

CANDIDATE_UNITS = ("degF", "K", "psi", "kPa", "l/min", "W")
MIN_SCALE, MIN_OFFSET = 1.5, 30.0  # a candidate must make values clearly larger: scale >= 1.5 or offset >= 30
EXPLAINS = 5.0  # the converted reference must be this many times closer than the unconverted one
HISTORY_PARTITIONS = 7


@dataclass(frozen=True)
class Level:
    """A tag's level and spread in one partition (or the reference made from several)."""

    median: float
    sigma: float


@dataclass(frozen=True)
class Finding:
    tag: str
    unit: str  # the register's unit
    exported_as: str  # the unit the values look like
    evidence: str  # "limits", "history" or "peers"
    median: float


@cache
def candidates(unit: str) -> tuple[tuple[str, float, float], ...]:
    """(unit, scale, offset) of the units an exporter may send instead of `unit`: wrong = right * scale + offset."""
    found = []
    for other in CANDIDATE_UNITS:
        try:
            if canonical_unit(other) == canonical_unit(unit):
                continue
            scale, offset = conversion(unit, other)
        except UnitConversionError:
            continue
        if scale >= MIN_SCALE or offset >= MIN_OFFSET:
            found.append((other, scale, offset))
    return tuple(found)


def judge(
    level: Level,
    unit: str | None,
    low: float | None,
    high: float | None,
    history: Level | None,
    peers: Level | None,
) -> tuple[str, str] | None:
    """(wrong unit, evidence) when the tag's level looks like its register unit converted to another one."""
    if unit is None or not math.isfinite(level.median):
        return None
    # the candidates (pint, imported on first use) are looked at only when a level does not fit: a clean plant
    # never needs them
    span = high - low if low is not None and high is not None and high > low else None
    if span is not None and low is not None and high is not None:
        outside = level.median < low - 0.1 * span or level.median > high + 0.1 * span
        back_inside = [o for o, a, b in candidates(unit) if low <= (level.median - b) / a <= high] if outside else []
        if back_inside:
            return back_inside[0], "limits"
    verdicts = {
        name: _against(level, reference, unit, span, same_tag=name == "history")
        for name, reference in (("history", history), ("peers", peers))
        if reference is not None
    }
    if "consistent" in verdicts.values():
        return None
    for name, verdict in verdicts.items():
        if verdict is not None:
            return verdict, name
    return None


def _against(
    level: Level,
    reference: Level,
    unit: str,
    span: float | None,
    same_tag: bool,
) -> str | None:
    """'consistent', a candidate unit, or None (cannot say) for a level against one reference (spreads are compared
    against the tag's own history only: peers vary each in their own way)."""
    tolerance = max(4.0 * reference.sigma, 0.05 * (span or 0.0), 0.05 * abs(reference.median), 1e-9)
    raw = abs(level.median - reference.median)
    if raw <= tolerance:
        return "consistent"
    for name, scale, offset in candidates(unit):
        converted = abs(level.median - (scale * reference.median + offset))
        spread = _spread_agrees(level, reference, scale) if same_tag else True
        if converted <= scale * tolerance and converted * EXPLAINS < raw and spread:
            return name
    return None


def _spread_agrees(level: Level, reference: Level, scale: float) -> bool:
    """The spread grew by about `scale` (closer to it than to no change); unknown spreads do not object."""
    if scale <= 1.0 or level.sigma <= 0 or reference.sigma <= 0:
        return True
    ratio = math.log(level.sigma / reference.sigma)
    return abs(ratio - math.log(scale)) < abs(ratio)


def combine(levels: list[Level]) -> Level | None:
    """One reference from several levels: the median level and the median spread."""
    if not levels:
        return None
    return Level(statistics.median(x.median for x in levels), statistics.median(x.sigma for x in levels))
