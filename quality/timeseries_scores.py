"""Time-series scores of a readings partition, per tag, from the small tables the row pass leaves behind.

`tag_stats` (one row per tag: rows, usable values, first and last reading, level, spread, mean period) and `flags`
(failing rows only, with their window columns) hold everything needed, so no new pass over the partition is made.

- Completeness: the share of expected readings present with a usable value. A tag's expected period is the
  register's `sampling_period_s` (then every reading the period asks for over the covered time is expected), else
  inferred from its own readings with the long gaps taken out (gaps of more than `gap_periods` periods, as the
  gap_before rule flags them). Missing readings are those in such gaps, those without
  a value and, on a side where the partition's period is known (a day with data on both sides of it), those before
  the tag's first or after its last reading by as much; a tag seen in earlier partitions and absent from such a day
  misses all of its readings. At the ends of the data a tag's own first and last readings bound what is expected.
  Shorter hiccups count as jitter.
- Accuracy: the tag-time affected by stuck, spiking, out-of-range or duplicated readings, in readings: a stuck
  run counts from the instant the value stopped changing, the other findings one reading each.
- Consistency: tags whose values are in another unit than the register's (quality.unit_check) lose all their time.

Severity: each tag gets a score per dimension, and a dimension's score is 3/4 the mean over tags plus 1/4 the worst
tag. A tag lost for the whole partition (flat all day, missing all day, in the wrong unit) so costs its dimension at
least a quarter, however many healthy tags surround it; with the overall at most 10 points above the weakest
dimension (quality.dimensions.overall), such a partition cannot be graded A.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from config.quality import QualityOptions
from config.sql import quote_ident
from quality.errors import MissingColumnsError
from quality.export_latency import export_latency
from quality.unit_check import HISTORY_PARTITIONS, Finding, Level, combine, judge

WORST_TAG_WEIGHT = 0.25
ACCURACY_RULES = ("duplicate_reading", "spike", "stuck_signal", "physical_range")
COVERED_RULES = {  # row rules whose findings a time-series score counts in tag-time (they still flag and quarantine)
    "tag_completeness": ("gap_before", "value_present", "values_usable"),
    "tag_accuracy": ACCURACY_RULES,
}


@dataclass(frozen=True)
class TagFacts:
    """One tag in one partition, from tag_stats, the register and the flags."""

    tag: str
    rows: int
    values: int  # readings with a usable (finite) value, duplicates not counted
    empty: int  # rows without a usable value
    first: datetime | None
    last: datetime | None
    median: float | None
    sigma: float | None
    period: float | None  # expected sampling period, s (register, else inferred)
    unit: str | None
    low: float | None
    high: float | None
    gap_readings: float = 0.0  # readings missing in flagged gaps
    declared: bool = False  # the period is the register's: the readings expected are counted from it


@dataclass
class SeriesMetric:
    """What a time-series score found: readings evaluated and unexpected, the severity-weighted score, and the
    worst tags for the report."""

    evaluated: int
    unexpected: int
    score: float
    detail: str
    worst: list[tuple[str, float]] = field(default_factory=list)


def weighted(per_tag: dict[str, float]) -> float:
    """3/4 the mean tag score plus 1/4 the worst tag's (1.0 when there are no tags)."""
    if not per_tag:
        return 1.0
    scores = [min(max(s, 0.0), 1.0) for s in per_tag.values()]
    return (1 - WORST_TAG_WEIGHT) * sum(scores) / len(scores) + WORST_TAG_WEIGHT * min(scores)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {str(row[0]) for row in con.execute(f"DESCRIBE {table}").fetchall()}


def _flag(columns: set[str], rule: str, needs: tuple[str, ...] = ("tag", "ts", "value")) -> str | None:
    """The flag column of `rule` in the flags table (None when the rule did not run); raises when the rule ran
    but the window columns its score needs are not kept."""
    name = "flag_" + rule
    if name not in columns:
        return None
    missing = [c for c in needs if c not in columns]
    if missing:
        raise MissingColumnsError(rule, missing)
    return quote_ident(name)


def tag_facts(con: duckdb.DuckDBPyConnection, history: dict[str, TagProfile]) -> dict[str, TagFacts]:
    """Per-tag facts of the partition in `tag_stats`, with the register's unit, limits and period."""
    rows = con.execute(
        "SELECT s.tag::VARCHAR, s._rows, coalesce(s._values, 0), s._first, s._last, s._median, s._sigma, s._period, "
        "g.unit, g.low_limit, g.high_limit, g.sampling_period_s FROM tag_stats s LEFT JOIN (SELECT DISTINCT ON (tag) "
        "tag, unit, low_limit, high_limit, sampling_period_s FROM register WHERE tag IS NOT NULL) g "
        "ON g.tag = s.tag::VARCHAR WHERE s.tag IS NOT NULL"
    ).fetchall()
    columns = _columns(con, "flags")
    gaps: dict[str, tuple[int, float]] = {}
    if gap := _flag(columns, "gap_before", ("tag", "ts", "_prev_ts")):
        for tag, count, seconds in con.execute(
            f"SELECT tag::VARCHAR, count(*), sum(epoch(ts - _prev_ts)) FROM flags WHERE {gap} GROUP BY 1"
        ).fetchall():
            gaps[tag] = (int(count), float(seconds or 0.0))
    duplicates: dict[str, int] = {}
    if dup := _flag(columns, "duplicate_reading"):
        duplicates = dict(con.execute(f"SELECT tag::VARCHAR, count(*) FROM flags WHERE {dup} GROUP BY 1").fetchall())
    facts = {}
    for tag, n, values, first, last, median, sigma, mean_period, unit, low, high, register_period in rows:
        distinct = int(n) - int(duplicates.get(tag, 0))
        gap_count, gap_seconds = gaps.get(tag, (0, 0.0))
        period = _period(register_period, first, last, distinct, gap_count, gap_seconds, mean_period, history.get(tag))
        missing_in_gaps = max(0.0, gap_seconds / period - gap_count) if period else 0.0
        facts[tag] = TagFacts(
            tag, int(n), max(int(values) - int(duplicates.get(tag, 0)), 0), int(n) - int(values), first, last,
            None if median is None else float(median), None if sigma is None else float(sigma),
            period, unit, low, high, missing_in_gaps, register_period is not None and register_period > 0,
        )  # fmt: skip
    return facts


def _period(
    register: float | None,
    first: datetime | None,
    last: datetime | None,
    distinct: int,
    gap_count: int,
    gap_seconds: float,
    mean_period: float | None,
    profile: TagProfile | None,
) -> float | None:
    """The register's period, else the mean interval outside the long gaps, else the tag's history."""
    if register is not None and register > 0:
        return float(register)
    intervals = distinct - 1 - gap_count
    if first is not None and last is not None and intervals > 0:
        inside = (last - first).total_seconds() - gap_seconds
        if inside > 0:
            return inside / intervals
    if profile is not None and profile.period:
        return profile.period
    return float(mean_period) if mean_period else None


@dataclass(frozen=True)
class TagProfile:
    """What a partition leaves for the next ones to compare with: the tag's level, spread and period."""

    median: float | None
    sigma: float | None
    period: float | None

    def as_list(self) -> list[float | None]:
        return [self.median, self.sigma, self.period]

    @classmethod
    def from_list(cls, values: list[float | None]) -> TagProfile:
        median, sigma, period = [*values, None, None, None][:3]
        return cls(median, sigma, period)


def completeness(
    facts: dict[str, TagFacts],
    window: tuple[datetime | None, datetime | None],
    history: dict[str, TagProfile],
    options: QualityOptions,
) -> SeriesMetric:
    """Expected readings present with a value, per tag; tags of the history missing here count as all missing."""
    start, end = window
    present: dict[str, float] = {}
    missing: dict[str, float] = {}
    for tag, f in facts.items():
        edges = 0.0
        if f.period and f.first is not None and f.last is not None:
            for span in (
                (f.first - start).total_seconds() if start is not None else 0.0,
                (end - f.last).total_seconds() if end is not None else 0.0,
            ):
                if span > options.gap_periods * f.period:
                    edges += span / f.period - 1
        present[tag] = float(max(f.values, 0))
        missing[tag] = float(f.empty) + f.gap_readings + edges
        if f.declared and f.period and f.first is not None and f.last is not None:
            covered = ((end or f.last) - (start or f.first)).total_seconds()
            missing[tag] = max(missing[tag], math.floor(covered / f.period) - present[tag])  # at least that many fit
    if start is not None and end is not None:
        seconds = (end - start).total_seconds()
        for tag, profile in history.items():
            if tag not in facts and profile.period and seconds > options.gap_periods * profile.period:
                present[tag], missing[tag] = 0.0, seconds / profile.period
    per_tag = {t: present[t] / (present[t] + missing[t]) if present[t] + missing[t] else 1.0 for t in present}
    expected = round(sum(present.values()) + sum(missing.values()))
    unexpected = min(expected, round(sum(missing.values())))
    return _metric(per_tag, expected, unexpected, "expected readings missing", "present")


def accuracy(con: duckdb.DuckDBPyConnection, facts: dict[str, TagFacts]) -> SeriesMetric:
    """Readings affected by stuck, spiking, out-of-range or duplicated values, per tag (a stuck run from its start)."""
    columns = _columns(con, "flags")
    affected: dict[str, float] = {}
    stuck = _flag(columns, "stuck_signal", ("tag", "ts", "_since"))
    if stuck:
        for tag, seconds in con.execute(
            f"SELECT tag::VARCHAR, sum(run) FROM (SELECT tag, epoch(max(ts) - _since) AS run FROM flags "
            f"WHERE {stuck} GROUP BY tag, _since) GROUP BY 1"
        ).fetchall():
            period = facts[tag].period if tag in facts else None
            affected[tag] = affected.get(tag, 0.0) + (float(seconds or 0.0) / period + 1 if period else 0.0)
    others = [flag for rule in ACCURACY_RULES if rule != "stuck_signal" and (flag := _flag(columns, rule))]
    if others:
        not_stuck = f" AND NOT {stuck}" if stuck else ""
        for tag, count in con.execute(
            f"SELECT tag::VARCHAR, count(*) FROM flags WHERE ({' OR '.join(others)}){not_stuck} GROUP BY 1"
        ).fetchall():
            affected[tag] = affected.get(tag, 0.0) + float(count)
    per_tag = {t: 1.0 - min(affected.get(t, 0.0) / f.rows, 1.0) if f.rows else 1.0 for t, f in facts.items()}
    evaluated = sum(f.rows for f in facts.values())
    unexpected = min(evaluated, round(sum(min(affected.get(t, 0.0), f.rows) for t, f in facts.items())))
    return _metric(per_tag, evaluated, unexpected, "readings stuck, spiking, out of range or duplicated", "sound")


def _metric(per_tag: dict[str, float], evaluated: int, unexpected: int, finding: str, sound: str) -> SeriesMetric:
    """A metric with its severity-weighted score and a detail naming the three worst tags (share `sound`)."""
    worst = sorted(per_tag.items(), key=lambda item: item[1])[:3]
    tags = ", ".join(f"{t} {s:.0%} {sound}" for t, s in worst)
    detail = f"{unexpected} of {evaluated} {finding}; worst tags {tags}" if unexpected else ""
    return SeriesMetric(evaluated, unexpected, weighted(per_tag), detail, worst)


def unit_consistency(facts: dict[str, TagFacts], history: dict[str, TagProfile]) -> tuple[SeriesMetric, list[Finding]]:
    """Tags in another unit than the register's (quality.unit_check), judged against their history and peers."""
    levels = {
        t: Level(f.median, f.sigma or 0.0) for t, f in facts.items() if f.median is not None and math.isfinite(f.median)
    }
    groups: dict[tuple[str, float, float], list[str]] = {}
    for t, f in facts.items():
        if t in levels and f.unit is not None and f.low is not None and f.high is not None:
            groups.setdefault((f.unit, f.low, f.high), []).append(t)
    findings = []
    for t, level in levels.items():
        f = facts[t]
        peers = [levels[p] for p in groups.get((f.unit or "", f.low or 0.0, f.high or 0.0), []) if p != t]
        profile = history.get(t)
        past = None
        if profile is not None and profile.median is not None:
            past = Level(profile.median, profile.sigma or 0.0)
        verdict = judge(level, f.unit, f.low, f.high, past, combine(peers))
        if verdict is not None and f.unit is not None:
            findings.append(Finding(t, f.unit, verdict[0], verdict[1], level.median))
    wrong = {x.tag for x in findings}
    per_tag = {t: 0.0 if t in wrong else 1.0 for t in facts}
    evaluated = sum(f.rows for f in facts.values())
    unexpected = sum(facts[t].rows for t in wrong)
    detail = "; ".join(
        f"{x.tag} looks like {x.exported_as}, the register says {x.unit} (median {x.median:.4g}; by its {x.evidence})"
        for x in findings
    )
    return SeriesMetric(evaluated, unexpected, weighted(per_tag), detail), findings


def profiles(facts: dict[str, TagFacts], findings: list[Finding]) -> dict[str, TagProfile]:
    """The partition's per-tag profile for later partitions; a tag found in the wrong unit leaves no level."""
    wrong = {x.tag for x in findings}
    return {
        t: TagProfile(None if t in wrong else f.median, None if t in wrong else f.sigma, f.period)
        for t, f in facts.items()
    }


def reference(earlier: list[dict[str, TagProfile]]) -> dict[str, TagProfile]:
    """One profile per tag from the profiles of earlier partitions (nearest first): the median level and spread of
    up to HISTORY_PARTITIONS of them that have a level, and the nearest period."""
    found: dict[str, TagProfile] = {}
    tags = {t for profile in earlier for t in profile}
    for tag in tags:
        seen = [p[tag] for p in earlier if tag in p]
        levels = [Level(p.median, p.sigma or 0.0) for p in seen if p.median is not None][:HISTORY_PARTITIONS]
        level = combine(levels)
        period = next((p.period for p in seen if p.period), None)
        found[tag] = TagProfile(level.median if level else None, level.sigma if level else None, period)
    return found


SERIES_RULES = frozenset({"values_usable", "tag_completeness", "tag_accuracy", "unit_consistency", "export_latency"})


@dataclass
class SeriesEvaluation:
    """The time-series rules' metrics of a partition (name -> metric, with its allowed percent) and its profile."""

    metrics: dict[str, tuple[SeriesMetric, float]]
    profile: dict[str, TagProfile]


def evaluate_series(
    con: duckdb.DuckDBPyConnection,
    names: set[str],
    options: QualityOptions,
    history: dict[str, TagProfile],
    window: tuple[datetime | None, datetime | None],
    exported: dict[str, float],
) -> SeriesEvaluation:
    """Every time-series rule in `names`, after the row pass (tables tag_stats, register and flags exist)."""
    facts = tag_facts(con, history)
    metrics: dict[str, tuple[SeriesMetric, float]] = {}
    if "values_usable" in names:  # the blocking floor: a plain share of rows, no inference about what is expected
        rows, empty = sum(f.rows for f in facts.values()), sum(f.empty for f in facts.values())
        detail = f"{empty} of {rows} readings without a usable value" if empty else ""
        usable = (
            SeriesMetric(rows, empty, 1 - empty / rows if rows else 1.0, detail),
            100 * (1 - options.min_completeness),
        )
        metrics["values_usable"] = usable
    if "tag_completeness" in names:
        metrics["tag_completeness"] = (completeness(facts, window, history, options), 0.0)
    if "tag_accuracy" in names:
        metrics["tag_accuracy"] = (accuracy(con, facts), 0.0)
    findings: list[Finding] = []
    if "unit_consistency" in names:
        metric, findings = unit_consistency(facts, history)
        metrics["unit_consistency"] = (metric, 0.0)
    if "export_latency" in names and options.max_export_latency_hours is not None:
        evaluated, late, score, detail = export_latency(con, exported, options.max_export_latency_hours)
        metrics["export_latency"] = (SeriesMetric(evaluated, late, score, detail), 0.0)
    return SeriesEvaluation(metrics, profiles(facts, findings))
