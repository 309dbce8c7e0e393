"""Suggest a dataset's classification and security grade from YAML rules over facts about the data.

Every grade is stored with the reasons of the rules that produced it; a steward's or CDO's override wins
and is audited (see `overrides`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import yaml

from catalog.vocabulary import AXES, SecurityGrade

RULES_FILE = Path(__file__).with_name("rules.yaml")
FREE_TEXT_MIN_AVERAGE = 30  # characters: longer strings are free text (descriptions, notes), not codes


@dataclass(frozen=True)
class Facts:
    kind: str
    system: str
    has_free_text: bool
    safety_related: bool
    rows: int
    equipment: int
    personal_data: bool = False


@dataclass(frozen=True)
class Suggestion:
    classes: dict[str, tuple[str, str]]  # axis -> (value, reason)
    grade: SecurityGrade
    reasons: list[str]


SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, when PyYAML was built with it: far faster


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> dict[str, Any]:
    rules: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    for rule in rules["classification"]:
        for axis, value in rule["set"].items():
            AXES[axis](value)  # an unknown axis or value fails here, naming it
    for rule in rules["grading"]:
        SecurityGrade(rule["grade"])
    SecurityGrade(rules["personal_data"]["raw_allowed_from_grade"])
    for grade in rules["access"]:
        SecurityGrade(grade)
    return rules


def facts_for(
    paths: list[str],
    kind: str,
    system: str,
    register_files: list[str],
    personal_data: bool = False,
    text_average_length: float | None = None,
) -> Facts:
    """What the classification and grading rules ask of a dataset. `text_average_length`: the highest average
    length of its text columns when already known (the personal-data scan counts every text value), else measured.
    """
    con = duckdb.connect()
    try:
        relation = "read_parquet(?, hive_partitioning = false)"
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}", [paths]).fetchall()
        measured = text_average_length is None  # else the text lengths are known: not read again
        texts = ['"' + str(n).replace('"', '""') + '"' for n, type_, *_ in described if measured and type_ == "VARCHAR"]
        has_equipment = any(name == "equipment_id" for name, *_ in described)
        # one scan: rows, each text column's average length, and the equipment the rows are about
        measures = ["count(*)", *(f"avg(length({ident}))" for ident in texts)]
        measures.append("count(DISTINCT equipment_id)" if has_equipment else "0")
        found = list(con.execute(f"SELECT {', '.join(measures)} FROM {relation}", [paths]).fetchone() or ())
        longest = max((float(length or 0) for length in found[1:-1]), default=text_average_length or 0.0)
        equipment, safety = int(found[-1] or 0), False
        if has_equipment:
            if register_files:
                hit = con.execute(
                    f"SELECT count(*) FROM (SELECT DISTINCT equipment_id FROM {relation}) d JOIN "
                    "read_parquet(?, hive_partitioning = false) g ON g.node_id = d.equipment_id "
                    "WHERE g.safety_related",
                    [paths, register_files],
                ).fetchone()
                safety = bool(hit and hit[0])
        elif kind == "asset_register":
            flagged = con.execute(f"SELECT count_if(safety_related) FROM {relation}", [paths]).fetchone()
            safety = bool(flagged and flagged[0])
    finally:
        con.close()
    rows = int(found[0] or 0) if found else 0
    return Facts(kind, system, longest >= FREE_TEXT_MIN_AVERAGE, safety, rows, equipment, personal_data)


def suggest(facts: Facts, rules: dict[str, Any] | None = None) -> Suggestion:
    rules = rules or load_rules()
    classes: dict[str, tuple[str, str]] = {}
    for rule in rules["classification"]:
        if _matches(rule["when"], facts):
            for axis, value in rule["set"].items():
                classes.setdefault(axis, (value, f"rule when {rule['when'] or 'always'}"))
    grade, reasons = SecurityGrade.GRADE_1, []
    for rule in rules["grading"]:
        if _matches(rule["when"], facts):
            grade = max(grade, SecurityGrade(rule["grade"]))
            reasons.append(f"grade {rule['grade']}: {rule['reason']}")
    return Suggestion(classes, grade, reasons)


def _matches(when: dict[str, Any], facts: Facts) -> bool:
    for key, expected in when.items():
        if key.endswith("_at_least"):
            if getattr(facts, key.removesuffix("_at_least")) < expected:
                return False
        elif getattr(facts, key) != expected:
            return False
    return True
